"""The inbox of updates from Telegram (see `InboxUpdate`).

`handling` names the update whose handler runs in the current task. The first
commit of its unit of work marks the update handled in the same transaction
(`UnitOfWork.commit`): a crash before that commit leaves the update waiting, to
be handled after the restart; after it, the update's changes are in and it is
not handled again. So a crash never makes a change twice; at most the answer
to an update in flight at that moment is missing.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxUpdate


@dataclass
class Handling:
    update_id: int
    marked: bool = False
    """Its first commit marked it handled."""
    unanswered: bool = False
    """Telegram did not take the answer (see bot.updates.answer_failed)."""


handling: ContextVar[Handling | None] = ContextVar("handling", default=None)


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_many(self, updates: list[tuple[int, int | None, str]], now: datetime) -> set[int]:
        """Record a batch of (update_id, user_id, payload) in one statement; the ids
        that were new (the others were received before)."""
        if not updates:
            return set()
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(InboxUpdate)
            .values(
                [
                    {"update_id": i, "user_id": user, "payload": payload, "received_at": now}
                    for i, user, payload in updates
                ]
            )
            .on_conflict_do_nothing(index_elements=[InboxUpdate.update_id])
            .returning(InboxUpdate.update_id)
        )
        return set((await self.session.execute(statement)).scalars())

    async def handled(self, update_id: int, now: datetime) -> None:
        """Mark handled and drop what the update said."""
        await self.session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == update_id)
            .values(handled_at=now, payload=None, user_id=None)
        )

    async def waiting(self) -> list[tuple[int, str]]:
        """Updates received but not handled, oldest first, with their payload."""
        rows = await self.session.execute(
            select(InboxUpdate.update_id, InboxUpdate.payload)
            .where(InboxUpdate.handled_at.is_(None), InboxUpdate.payload.is_not(None))
            .order_by(InboxUpdate.update_id)
        )
        return [(update_id, payload) for update_id, payload in rows if payload is not None]

    async def prune(self, handled_before: datetime) -> None:
        await self.session.execute(
            delete(InboxUpdate).where(InboxUpdate.handled_at < handled_before)
        )

    async def forget_user(self, user_id: int, now: datetime) -> None:
        """/forget: what the person's updates said goes, also of those still waiting
        (they count as handled: after a crash they are not handled again)."""
        await self.session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.user_id == user_id)
            .values(
                payload=None, user_id=None, handled_at=func.coalesce(InboxUpdate.handled_at, now)
            )
        )
