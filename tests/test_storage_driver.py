"""SQLite with one trip per statement (storage.sqlite_driver): what KIM-Bot needs
of a cursor holds, on a real database file through `Database`."""

from __future__ import annotations

import asyncio
import sqlite3
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


def _other_writer_is_locked_out(path: Path) -> bool:
    """Whether another connection (as another process would have) finds the write lock taken."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    else:
        other.execute("ROLLBACK")
        return False
    finally:
        other.close()


async def test_a_transaction_holds_the_write_lock_from_its_first_statement(db: Database, tmp_path: Path) -> None:
    """BEGIN IMMEDIATE goes with the first statement, in its trip: a writer that
    only read so far already keeps other writers out; a reader never does, and a
    transaction without a statement commits and rolls back as an empty one."""
    path = tmp_path / "kimbot.db"
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Person)) == 0
        assert _other_writer_is_locked_out(path)
        uow.session.add(Person(telegram_id=400, created_at=NOW, is_coordinator=False))
        await uow.commit()
    assert not _other_writer_is_locked_out(path)
    async with db.reader() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Person)) == 1
        assert not _other_writer_is_locked_out(path)
    async with db.uow() as uow:
        await uow.commit()  # nothing was said: nothing to commit
    with pytest.raises(RuntimeError):
        async with db.uow() as uow:
            await uow.session.execute(update(Person).values(organisation="Caritas"))
            raise RuntimeError("the handler failed")
    async with db.reader() as uow:
        assert await uow.session.scalar(select(Person.organisation)) is None  # rolled back
