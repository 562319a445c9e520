"""Database: the engine, its URL mapping, and the migrations runner.

`Database(url)` owns one async engine and a session factory; `db.uow()` opens
a unit of work (see `storage.uow`). `async_url()` maps the URLs operators
write (`sqlite:///kimbot.db`, `postgresql://…`) to the async drivers
(aiosqlite, asyncpg). On SQLite every connection uses WAL, a busy timeout and
`BEGIN IMMEDIATE`, so concurrent handlers queue for the write lock instead of
failing with "database is locked"; within the process they queue before they
take a connection (`WriteLock`), and only other processes meet the busy
timeout. `upgrade()` applies the Alembic migrations
in `storage/migrations` to head; it is safe to call at every start.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from storage.uow import UnitOfWork, WriteLock

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "kimbot_read_only"


def async_url(url: str) -> URL:
    """The URL with the async driver of its database."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database: {backend}")


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url`, with SQLite made safe for concurrent use."""
    target = async_url(url)
    if target.get_backend_name() != "sqlite":
        return create_async_engine(target, pool_pre_ping=True)
    engine = create_async_engine(target, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if target.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A read-only unit of work reads a WAL snapshot and never waits for the writer.
        deferred = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    return engine


class Database:
    """One engine and its session factory; closed with `dispose()`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._readers = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        sqlite = self.engine.dialect.name == "sqlite"
        self._write_lock = WriteLock() if sqlite else None

    def uow(self) -> UnitOfWork:
        """A unit of work that may write (on SQLite: one at a time in this process)."""
        return UnitOfWork(self._sessions, self._write_lock)

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads: on SQLite it does not take the write lock."""
        return UnitOfWork(self._readers)

    async def upgrade(self) -> None:
        """Apply every migration not applied yet (and seed the groups)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade)

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")
