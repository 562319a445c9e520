"""The inbox of updates from Telegram (see `InboxUpdate`).

`handling` names the update whose handler runs in the current task. Its one
transaction marks it handled (`handled`) together with its effects: a crash
before that commit leaves the update waiting, to be handled again (by this
process after a restart, or by another one: `take_orphans`); after it, the
effects are in and the update is not handled again. The mark only succeeds
for an update not yet marked, so of two processes that handled the same
update, one commits and the other's work is rolled back. A crash never makes
a change twice; at most the answer to an update in flight is missing.

Each waiting row is claimed by the process that received it (`claimed_by`);
rows claimed by a process that is no longer alive are taken over.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.cluster import Cluster
from storage.inbox_models import InboxUpdate
from storage.models import Person, UTCDateTime
from storage.repositories import LOCKED_PERSON, rowcount


@dataclass
class Handling:
    update_id: int
    marked: bool = False
    """Its transaction committed, with the mark."""
    again: bool = False
    """The database failed while it was handled: handle it again later."""
    tries: int = 0
    """Earlier runs that ended `again`."""


handling: ContextVar[Handling | None] = ContextVar("handling", default=None)


_HANDLED = (
    update(InboxUpdate)
    .where(InboxUpdate.update_id == bindparam("id", type_=BigInteger()), InboxUpdate.handled_at.is_(None))
    .values(handled_at=bindparam("now", type_=UTCDateTime()), payload=None, user_id=None)
)
"""`InboxRepository.handled`, at the end of every update: built once (building it
costs more than running it)."""

_HANDLED_WITH_CALLER = select(Person).from_statement(
    text(
        """
            WITH caller AS (SELECT * FROM people WHERE telegram_id = :telegram_id FOR NO KEY UPDATE)
            UPDATE inbox SET handled_at = :now, payload = NULL, user_id = NULL
            FROM (SELECT 1) AS one LEFT JOIN caller ON true
            WHERE inbox.update_id = :id AND inbox.handled_at IS NULL
            RETURNING caller.*
            """
    ).bindparams(
        bindparam("telegram_id", type_=BigInteger()),
        bindparam("id", type_=BigInteger()),
        bindparam("now", type_=UTCDateTime()),
    )
)
"""`InboxRepository.handled_with_caller` on PostgreSQL: the mark and the caller's row,
locked, in one statement (one trip to the server instead of two); the lock as
`repositories.LOCKED_PERSON` takes it."""


class InboxRepository:
    def __init__(self, session: AsyncSession, cluster: Cluster) -> None:
        self.session = session
        self.cluster = cluster

    async def add_many(self, updates: list[tuple[int, int | None, str]], now: datetime) -> set[int]:
        """Record a batch of (update_id, user_id, payload) in one statement, claimed by
        this process; the ids that were new (the others were received before)."""
        if not updates:
            return set()
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(InboxUpdate)
            .values(
                [
                    {
                        "update_id": i,
                        "user_id": user,
                        "payload": payload,
                        "received_at": now,
                        "claimed_by": self.cluster.process_id,
                    }
                    for i, user, payload in updates
                ]
            )
            .on_conflict_do_nothing(index_elements=[InboxUpdate.update_id])
            .returning(InboxUpdate.update_id)
        )
        return set((await self.session.execute(statement)).scalars())

    async def handled(self, update_id: int, now: datetime) -> bool:
        """Mark handled and drop what the update said. False when it was marked
        before (another process handled it): then this transaction must not commit."""
        # On the transaction's connection, past the ORM's execution of a bulk UPDATE
        # (which looks for the rows among the objects it holds: none are inbox rows).
        connection = await self.session.connection()
        result = await connection.execute(_HANDLED, {"id": update_id, "now": now})
        return rowcount(result) == 1

    async def handled_with_caller(self, update_id: int, now: datetime, telegram_id: int) -> tuple[bool, Person | None]:
        """`handled`, and the row of the person with this Telegram id, locked until the
        transaction ends (None before their first contact; None too when the update
        was marked before, since this transaction must not commit then)."""
        if self.session.get_bind().dialect.name != "postgresql":
            if not await self.handled(update_id, now):
                return False, None
            found = await self.session.execute(LOCKED_PERSON, {"telegram_id": telegram_id})
            return True, found.scalar_one_or_none()
        params = {"id": update_id, "now": now, "telegram_id": telegram_id}
        rows = (await self.session.execute(_HANDLED_WITH_CALLER, params)).scalars().all()
        return (True, rows[0]) if rows else (False, None)

    async def take_orphans(self, limit: int = 100) -> list[tuple[int, str]]:
        """Claim the waiting updates of processes that died (or of none), oldest
        first, with their payload. Rows another process claims at the same moment
        are skipped, so each is taken by one."""
        rows = (
            await self.session.execute(
                select(InboxUpdate.update_id, InboxUpdate.payload)
                .where(
                    InboxUpdate.handled_at.is_(None),
                    InboxUpdate.payload.is_not(None),
                    self.cluster.unclaimed_or_dead(InboxUpdate.claimed_by),
                )
                .order_by(InboxUpdate.update_id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if rows:
            await self.session.execute(
                update(InboxUpdate)
                .where(InboxUpdate.update_id.in_([u for u, _ in rows]))
                .values(claimed_by=self.cluster.process_id)
            )
        return [(update_id, payload) for update_id, payload in rows if payload is not None]

    async def prune(self, before: datetime) -> None:
        """Forget the records handled before `before`, and those of a forgotten person
        received before it that were never handled (nothing is left to handle)."""
        await self.session.execute(
            delete(InboxUpdate).where(
                (InboxUpdate.handled_at < before)
                | (
                    InboxUpdate.handled_at.is_(None)
                    & InboxUpdate.payload.is_(None)
                    & (InboxUpdate.received_at < before)
                )
            )
        )

    async def forget_user(self, user_id: int) -> None:
        """/forget: what the person's updates said goes, also of those still waiting.
        A waiting one is still handled by the process that has it in memory (a second
        press of "erase" finds nothing to erase), but never taken over after a crash."""
        await self.session.execute(
            update(InboxUpdate).where(InboxUpdate.user_id == user_id).values(payload=None, user_id=None)
        )
