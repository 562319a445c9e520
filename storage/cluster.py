"""Cluster: the processes that serve one bot from one database (SPEC 12).

Every `kimbot run` is a *process* with an id of its own. Two things depend on
which processes are alive:

- a waiting update (the inbox) or a due delivery record is *claimed* by the
  process that handles or sends it; when that process dies, another one takes
  the claim over (`unclaimed_or_dead`);
- exactly one process, the *leader*, runs the timer: reminders, digests and
  every other broadcast, so that Telegram's 30 messages per second hold for
  the bot as a whole.

PostgreSQL (`PostgresCluster`): each process holds a session-level advisory
lock (`PROCESS_LOCKS`, its id) on a connection of its own, outside the pool.
A process is alive while PostgreSQL lists that lock in `pg_locks`; PostgreSQL
drops a session's locks the moment its connection ends, so a process killed
with SIGKILL is dead for the others at once. The leader holds one more
advisory lock (`LEADER_LOCK`) on the same connection; the others try to take
it every `CHECK_EVERY` seconds, so a follower leads within a few seconds of
the leader's death. The leader checks its connection as often (and asyncpg
reports a closed connection at once): when the connection drops, the lock
is gone, so the process stops leading at once and says so, then reconnects.
`wake()` tells the leader that something became due (a NOTIFY on
`WAKE_CHANNEL`, which every process listens to). `tell_leader(note)` passes
a short note to the leader the same way (`NOTES_CHANNEL`): the followers say
which chats they answered, so that the leader's broadcasts leave room for
those answers within Telegram's limits, which hold for the bot as a whole.

SQLite (`SoleProcess`): one process only. `kimbot run` holds an exclusive
lock on a file beside the database (`SingleProcessLock`), so a second one
refuses to start; the one process is alive and always leads.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import random
import socket
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from sqlalchemy import BigInteger, ColumnElement, or_, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

PROCESS_LOCKS = 0x4B494D01
"""Advisory lock class of the process locks: (PROCESS_LOCKS, process id)."""
LEADER_LOCK = (0x4B494D02, 0)
MIGRATION_LOCK = 0x4B494D03
"""Advisory lock (one key) held by the transaction that applies the migrations."""
WAKE_CHANNEL = "kimbot_wake"
NOTES_CHANNEL = "kimbot_notes"
CHECK_EVERY = 2.0
"""Seconds between two checks of the own connection, and between two tries to lead."""
CONNECT_TIMEOUT = 5.0


def new_process_id() -> int:
    return random.randint(1, 2**31 - 1)


class Cluster:
    """The processes of one bot: this one's id, whether it leads, wake-ups.

    `on_leading(callback)`: called with True when this process starts leading
    and with False when it stops. `on_wake(callback)`: called in the leader
    when any process asked it to look for due records (`wake`).
    `on_note(callback)`: called in the leader with each note another process
    sent it (`tell_leader`)."""

    def __init__(self, process_id: int | None = None) -> None:
        self.process_id = process_id or new_process_id()
        self._leading = False
        self._on_leading: list[Callable[[bool], None]] = []
        self._on_wake: list[Callable[[], None]] = []
        self._on_note: list[Callable[[str], None]] = []

    @property
    def leading(self) -> bool:
        return self._leading

    @property
    def dialect(self) -> str:
        raise NotImplementedError

    def on_leading(self, callback: Callable[[bool], None]) -> None:
        self._on_leading.append(callback)

    def on_wake(self, callback: Callable[[], None]) -> None:
        self._on_wake.append(callback)

    def on_note(self, callback: Callable[[str], None]) -> None:
        self._on_note.append(callback)

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        self._set_leading(False)

    async def wake(self) -> None:
        """Ask the leader (this process or another) to send what became due."""
        if self._leading:
            self._woken()

    async def tell_leader(self, note: str) -> None:
        """Pass `note` to the leader, when that is another process; best effort:
        while the database is away, the note is lost."""

    def _woken(self) -> None:
        if self._leading:
            for callback in self._on_wake:
                callback()

    def _noted(self, note: str) -> None:
        if self._leading:
            for callback in self._on_note:
                callback(note)

    def _set_leading(self, leading: bool) -> None:
        if leading == self._leading:
            return
        self._leading = leading
        for callback in self._on_leading:
            callback(leading)

    def unclaimed_or_dead(self, claimed_by: Any) -> ColumnElement[bool]:
        """Rows nobody claimed, or claimed by a process that is no longer alive."""
        raise NotImplementedError


class SoleProcess(Cluster):
    """SQLite: the only process; it is alive and it leads."""

    @property
    def dialect(self) -> str:
        return "sqlite"

    async def start(self) -> None:
        self._set_leading(True)

    def unclaimed_or_dead(self, claimed_by: Any) -> ColumnElement[bool]:
        return or_(claimed_by.is_(None), claimed_by != self.process_id)


class PostgresCluster(Cluster):
    """PostgreSQL: liveness and leadership by advisory locks (see the module docstring)."""

    def __init__(self, url: str, engine: AsyncEngine, process_id: int | None = None) -> None:
        super().__init__(process_id)
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._engine = engine
        self._conn: Any = None
        self._using = asyncio.Lock()
        """Held for each call on `_conn`: asyncpg runs one operation at a time on a connection."""
        self._task: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._down_since_logged = False

    @property
    def dialect(self) -> str:
        return "postgresql"

    async def start(self) -> None:
        """Connect and take this process's lock (waits until the database answers);
        then lead or follow in the background."""
        await self._connect()
        await self._try_to_lead()
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="kimbot-cluster")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        was_leading = self._leading
        self._set_leading(False)
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                # Released now, not when the server has noticed the closed connection:
                # a process started right after this one may lead at once.
                async with self._using:
                    await asyncio.wait_for(conn.execute("SELECT pg_advisory_unlock_all()"), CONNECT_TIMEOUT)
                await asyncio.wait_for(conn.close(), CONNECT_TIMEOUT)
            except Exception:  # noqa: BLE001 - closing anyway
                conn.terminate()
        if was_leading:
            log.info("process %s stopped; it no longer leads", self.process_id)

    async def wake(self) -> None:
        if self._leading:
            self._woken()
            return
        async with self._engine.connect() as conn:
            await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": WAKE_CHANNEL})
            await conn.commit()

    async def tell_leader(self, note: str) -> None:
        if self._leading or self._conn is None:
            return
        conn = self._conn
        try:
            async with self._using:
                await conn.execute("SELECT pg_notify($1, $2)", NOTES_CHANNEL, note, timeout=CHECK_EVERY)
        except Exception as error:  # noqa: BLE001 - a lost note costs at most a 429, retried
            log.debug("a note to the leader was lost: %s", type(error).__name__)

    def unclaimed_or_dead(self, claimed_by: Any) -> ColumnElement[bool]:
        alive = text(
            "SELECT objid::bigint AS process FROM pg_locks WHERE locktype = 'advisory'"
            f" AND classid = {PROCESS_LOCKS} AND objsubid = 2 AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).columns(process=BigInteger)
        return or_(claimed_by.is_(None), claimed_by.not_in(alive.scalar_subquery()))

    async def _connect(self) -> None:
        import asyncpg  # only needed with PostgreSQL

        while True:
            try:
                conn = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT)
                break
            except (TimeoutError, OSError, asyncpg.PostgresError) as error:
                self._report_down(error)
                await asyncio.sleep(CHECK_EVERY)
        try:
            # Keep the id across a reconnect, so the claims made under it stay ours.
            while not await conn.fetchval(
                "SELECT pg_try_advisory_lock($1::int, $2::int)", _int4(PROCESS_LOCKS), self.process_id
            ):
                self.process_id = new_process_id()
            await conn.add_listener(WAKE_CHANNEL, self._notified)
            await conn.add_listener(NOTES_CHANNEL, self._note_heard)
        except BaseException:
            conn.terminate()
            raise
        conn.add_termination_listener(self._terminated)
        self._conn = conn
        if self._down_since_logged:
            self._down_since_logged = False
            log.warning("the database answers again; process %s is back", self.process_id)

    async def _try_to_lead(self) -> None:
        if self._conn is None or self._leading:
            return
        async with self._using:
            leads = await self._conn.fetchval(
                "SELECT pg_try_advisory_lock($1::int, $2::int)", _int4(LEADER_LOCK[0]), LEADER_LOCK[1]
            )
        if leads:
            log.info(
                "process %s (%s) leads now: it sends reminders, digests and broadcasts",
                self.process_id,
                _where(),
            )
            self._set_leading(True)

    async def _watch(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._kick.wait(), CHECK_EVERY)
            except TimeoutError:
                pass
            self._kick.clear()
            try:
                if self._conn is None or self._conn.is_closed():
                    self._lost("its database connection closed")
                    await self._connect()
                if self._leading:
                    async with self._using:
                        await self._conn.fetchval("SELECT 1", timeout=CHECK_EVERY)
                else:
                    await self._try_to_lead()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - whatever broke, the connection is gone
                self._lost(f"{type(error).__name__}")
                if self._conn is not None:
                    self._conn.terminate()
                    self._conn = None

    def _terminated(self, conn: Any) -> None:
        if conn is self._conn:
            self._conn = None
            self._lost("its database connection closed")
            self._kick.set()

    def _lost(self, why: str) -> None:
        if self._leading:
            log.warning(
                "process %s lost the leader lock (%s): it stops sending at once; another process takes over",
                self.process_id,
                why,
            )
            self._set_leading(False)

    def _report_down(self, error: BaseException) -> None:
        if not self._down_since_logged:
            self._down_since_logged = True
            log.warning(
                "the database is not reachable (%s); process %s tries again every %.0f s",
                type(error).__name__,
                self.process_id,
                CHECK_EVERY,
            )

    def _notified(self, *_: object) -> None:
        self._woken()

    def _note_heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._noted(payload)


def _int4(value: int) -> int:
    """An advisory lock key as PostgreSQL's signed 32-bit integer."""
    return value - 2**32 if value >= 2**31 else value


def _where() -> str:
    return f"{socket.gethostname()}, pid {os.getpid()}"


def cluster_for(url: str, engine: AsyncEngine) -> Cluster:
    if engine.dialect.name == "postgresql":
        return PostgresCluster(url, engine)
    return SoleProcess()


class AnotherProcess(Exception):
    """A second `kimbot run` on the same SQLite database."""


class SingleProcessLock:
    """An exclusive lock on `<database>.lock`, held while `kimbot run` runs on SQLite.

    The kernel releases it when the process ends in any way (SIGKILL included),
    so a stale lock file never blocks a restart."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise AnotherProcess(holder or "another process") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
