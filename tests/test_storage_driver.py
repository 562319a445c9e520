"""SQLite with one trip per statement (storage.sqlite_driver): what KIM-Bot needs
of a cursor holds, on a real database file through `Database`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.database import Database
from storage.models import Person
from storage.sqlite_driver import OneTripCursor

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'kimbot.db'}")
    await database.upgrade()
    yield database
    await database.dispose()


async def test_statements_go_through_the_one_trip_cursor(db: Database) -> None:
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)  # type: ignore[union-attr]
        assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert await connection.scalar(text("PRAGMA foreign_keys")) == 1


async def test_rows_counts_and_returning(db: Database) -> None:
    async with db.uow() as uow:
        session = uow.session
        created = (
            await session.execute(
                insert(Person).returning(Person.telegram_id),
                [{"telegram_id": 100 + n, "created_at": NOW, "is_coordinator": False} for n in range(5)],
            )
        ).scalars()
        assert sorted(created) == [100, 101, 102, 103, 104]
        session.add(Person(telegram_id=200, created_at=NOW, is_coordinator=False, display_name="Ana"))
        await session.flush()
        changed = await session.execute(
            update(Person).where(Person.telegram_id >= 102).values(organisation="Caritas"),
            execution_options={"synchronize_session": False},
        )
        assert changed.rowcount == 4  # type: ignore[attr-defined]
        await uow.commit()
    async with db.reader() as uow:
        rows = (await uow.session.execute(select(Person.telegram_id, Person.organisation).order_by(Person.id))).all()
        assert [tuple(r) for r in rows] == [
            (100, None),
            (101, None),
            (102, "Caritas"),
            (103, "Caritas"),
            (104, "Caritas"),
            (200, "Caritas"),
        ]
        assert await uow.session.scalar(select(func.count()).select_from(Person)) == 6


async def test_a_failed_statement_rolls_back_and_the_connection_goes_on(db: Database) -> None:
    async with db.uow() as uow:
        uow.session.add(Person(telegram_id=300, created_at=NOW, is_coordinator=False))
        await uow.commit()
    with pytest.raises(IntegrityError):
        async with db.uow() as uow:
            uow.session.add(Person(telegram_id=301, created_at=NOW, is_coordinator=False))
            await uow.flush()
            uow.session.add(Person(telegram_id=300, created_at=NOW, is_coordinator=False))
            await uow.flush()
    with pytest.raises(OperationalError):
        async with db.uow() as uow:
            await uow.session.execute(text("SELECT * FROM no_such_table"))
    async with db.reader() as uow:
        ids = (await uow.session.execute(select(Person.telegram_id))).scalars().all()
        assert ids == [300]  # 301 went with its transaction


async def test_writers_at_once_each_commit_once(db: Database) -> None:
    async def write(n: int) -> None:
        async with db.uow() as uow:
            uow.session.add(Person(telegram_id=1000 + n, created_at=NOW, is_coordinator=False))
            await uow.flush()
            await uow.commit()

    await asyncio.gather(*(write(n) for n in range(40)))
    async with db.reader() as uow:
        ids = (await uow.session.execute(select(Person.telegram_id))).scalars().all()
        assert sorted(ids) == [1000 + n for n in range(40)]
