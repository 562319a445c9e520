"""A row inserted at once (`_Repository.insert`, a proposal's path) is what `add`
and `flush` would have made of it: on both databases, read back from the rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import AgendaItem, AgendaStatus, Person

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def _person(db: Database) -> int:
    async with db.uow() as uow:
        person = await uow.people.create(4242, NOW)
        await uow.commit()
        return person.id


async def test_the_row_is_there_with_its_defaults_and_stays_in_the_session(db: Database) -> None:
    author_id = await _person(db)
    async with db.uow() as uow:
        group = await uow.groups.by_slug("ak-eu")
        author = await uow.people.get(author_id)
        assert group is not None and author is not None
        item = AgendaItem(
            group_id=group.id,
            group=group,
            author_id=author.id,
            author=author,
            text="Sprachkurse am Abend",
            status=AgendaStatus.PROPOSED,
            created_at=NOW,
        )
        await uow.agenda.insert(item)
        assert item.id is not None
        assert (item.position, item.late, item.group, item.author) == (0, False, group, author)
        # As if read: found by its key without a query, and a change is an UPDATE.
        assert await uow.session.get(AgendaItem, item.id) is item
        item.text = "Sprachkurse am Abend, mit Kinderbetreuung"
        await uow.commit()
    async with db.reader() as uow:
        rows = (await uow.session.execute(select(AgendaItem))).scalars().all()
        assert [(r.id, r.text, r.position, r.late, r.group_id, r.author_id, r.occurrence_id) for r in rows] == [
            (item.id, "Sprachkurse am Abend, mit Kinderbetreuung", 0, False, group.id, author_id, None)
        ]


async def test_two_in_one_transaction_get_their_own_ids_and_a_rollback_keeps_neither(db: Database) -> None:
    author_id = await _person(db)
    async with db.uow() as uow:
        group = await uow.groups.by_slug("ak-eu")
        assert group is not None
        items = [
            AgendaItem(
                group_id=group.id, author_id=author_id, text=f"Punkt {n}", status=AgendaStatus.PROPOSED, created_at=NOW
            )
            for n in (1, 2)
        ]
        for item in items:
            await uow.agenda.insert(item)
        assert items[0].id != items[1].id
        await uow.rollback()
    async with db.reader() as uow:
        assert (await uow.session.execute(select(AgendaItem))).first() is None
        assert (await uow.session.execute(select(Person.id))).scalars().all() == [author_id]
