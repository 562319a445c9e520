"""Database: the engine, its URL mapping, and the migrations runner.

`Database(url)` owns one async engine and a session factory; `db.uow()` opens
a unit of work (see `storage.uow`). `async_url()` maps the URLs operators
write (`sqlite:///kimbot.db`, `postgresql://…`) to the async drivers
(aiosqlite, asyncpg). On SQLite every connection uses WAL, a busy timeout and
`BEGIN IMMEDIATE`, so concurrent handlers queue for the write lock instead of
failing with "database is locked"; within the process they queue before they
take a connection (`WriteLock`), and only other processes meet the busy
timeout. A statement on SQLite is one trip to aiosqlite's thread
(`storage.sqlite_driver`). `upgrade()` applies the Alembic migrations in
`storage/migrations` to head; it is safe to call at every start, and on
PostgreSQL from several processes at the same moment (one transaction under
an advisory lock: the first applies them, the others then find them applied).
`db.cluster` knows this process among the others (storage.cluster).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InvalidatePoolError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from storage import sqlite_driver
from storage.cluster import MIGRATION_LOCK, Cluster, cluster_for
from storage.uow import UnitOfWork, WriteLock

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "kimbot_read_only"
CONNECT_TIMEOUT = 10


def async_url(url: str) -> URL:
    """The URL with the async driver of its database."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database: {backend}")


def create_engine(url: str, *, plain_sqlite_driver: bool = False) -> AsyncEngine:
    """An async engine for `url`, with SQLite made safe for concurrent use.
    `plain_sqlite_driver`: SQLAlchemy's own aiosqlite adapter instead of
    `storage.sqlite_driver` (the benchmarks' durable peer, as a plain bot has it)."""
    target = async_url(url)
    if target.get_backend_name() != "sqlite":
        # A connection attempt to a database that does not answer gives up after
        # CONNECT_TIMEOUT; one that went away is noticed by `_ping_when_idle`.
        engine = create_async_engine(target, connect_args={"timeout": CONNECT_TIMEOUT})
        _ping_when_idle(engine)
        return engine
    driver = {} if plain_sqlite_driver else {"module": sqlite_driver.dbapi()}
    engine = create_async_engine(target, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **driver)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]  # SQLAlchemy's event callback, untyped there
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
        statement = "BEGIN" if deferred else "BEGIN IMMEDIATE"
        adapted = connection.connection.dbapi_connection
        if isinstance(adapted, sqlite_driver.Connection):
            adapted.begin(statement)  # sent with the transaction's first statement, in its trip
        else:
            connection.exec_driver_sql(statement)

    return engine


class Health:
    """Whether the database answers, as the work of this process finds it: an
    outage is logged once when it starts and once when it ends, not per retry."""

    def __init__(self) -> None:
        self.down = False

    def failed(self, error: BaseException) -> None:
        if not self.down:
            self.down = True
            log.warning(
                "the database is not reachable (%s); updates and deliveries wait and are done when it is back",
                _describe(error),
            )

    def fine(self) -> None:
        if self.down:
            self.down = False
            log.warning("the database is reachable again; what waited is done now")


PING_AFTER_IDLE = 1.0
"""Seconds a pooled PostgreSQL connection may rest before it is pinged when taken again."""


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use only when it rested for `PING_AFTER_IDLE`
    seconds: a database that restarted during a quiet time is noticed before an
    update meets it. SQLAlchemy's `pool_pre_ping` pings at every checkout, and with
    asyncpg a ping is three trips to the server (BEGIN, a statement, ROLLBACK): as
    many as the rest of a short update's transaction. A connection that breaks while
    in use fails its statement; SQLAlchemy then discards the pool's connections and
    the update is handled again (`again_later`), as after a failed ping."""
    pool_events = engine.sync_engine

    @event.listens_for(pool_events, "checkin")
    def _rests(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]  # SQLAlchemy's event callback, untyped there
        record.info["rests_since"] = time.monotonic()

    @event.listens_for(pool_events, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]  # as above
        rests_since = record.info.get("rests_since")
        if rests_since is None or time.monotonic() - rests_since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards its connections and connects anew (SQLAlchemy's
            # "pessimistic" disconnect handling, as the pre-ping does).
            raise InvalidatePoolError(str(error)) from error


def _describe(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error.__cause__
    return type(error).__name__ + (f" / {type(cause).__name__}" if cause is not None else "")


class Database:
    """One engine and its session factory; closed with `dispose()`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._readers = async_sessionmaker(self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
        sqlite = self.engine.dialect.name == "sqlite"
        self._write_lock = WriteLock() if sqlite else None
        self.cluster: Cluster = cluster_for(url, self.engine)
        self.health = Health()

    def uow(self, *, lazy: bool = False) -> UnitOfWork:
        """A unit of work that may write (on SQLite: one at a time in this process).
        A `lazy` one begins at its first `open()`, not when its block is entered."""
        return UnitOfWork(self._sessions, self.cluster, self._write_lock, lazy=lazy)

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads: on SQLite it does not take the write lock."""
        return UnitOfWork(self._readers, self.cluster)

    async def upgrade(self) -> None:
        """Apply every migration not applied yet (and seed the groups)."""
        async with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Held until this transaction ends: a second process waits here,
                # then finds every migration applied.
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            await connection.run_sync(_upgrade)

    async def dispose(self) -> None:
        await self.engine.dispose()


_PASSING_ASYNCPG = {
    "PostgresConnectionError",
    "OperatorInterventionError",
    "TransactionRollbackError",
    "InterfaceError",
}


def unavailable(error: BaseException | None) -> bool:
    """Whether `error` means the database cannot do the work *now*: it went away,
    refuses connections, restarts, is locked, or a transaction lost a deadlock. Such
    work is done again later, never given up (a bug in a query is not one of these)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OperationalError | SAInterfaceError | OSError | TimeoutError):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        kind = type(error)
        if kind.__module__.startswith("asyncpg") and any(base.__name__ in _PASSING_ASYNCPG for base in kind.__mro__):
            return True
        error = getattr(error, "orig", None) or error.__cause__
    return False


# A request is done again when the database could not do it *now* (`unavailable`:
# gone, restarting, locked), and when its transaction collided with another one:
# two processes wrote the same unique key at once (the same person's first
# contact, say). Done again, the request finds the other's row. A collision that
# keeps coming back is a fault after `MAX_CONFLICT_TRIES`.

MAX_CONFLICT_TRIES = 3
"""An update whose transaction keeps colliding with another one is handled again
this often, then treated as a fault."""


def collided(error: BaseException) -> bool:
    """Whether the transaction collided with another one (a unique key written twice)."""
    return isinstance(error, IntegrityError) and not unavailable(error)


def worth_again(error: BaseException) -> bool:
    """Whether `error` may be worth doing the request again (decided by `again_later`)."""
    return unavailable(error) or isinstance(error, IntegrityError)


def again_later(error: BaseException, tries: int) -> bool:
    """Whether a request that failed with `error` after `tries` earlier runs is
    done again later (True) or given up as a fault (False)."""
    if collided(error):
        return tries + 1 < MAX_CONFLICT_TRIES
    return unavailable(error)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")
