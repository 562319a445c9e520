"""Updates: what holds for the handling of one update from Telegram.

Its effects and its "handled" mark in the inbox are saved in one transaction:
a crash before the commit leaves the update to be handled again; after it, it
is never handled again, and of two processes that handled the same update only
the first to mark it keeps its work. The mark comes first, with the caller's
row (`begin`); a transaction that was rolled back since marks again at the end
(`mark_handled`).

Whether a request that failed is done again is the database's to say
(`storage.database.again_later`).
"""

from __future__ import annotations

from datetime import datetime

from storage.models import Person
from storage.uow import UnitOfWork


async def mark_handled(uow: UnitOfWork, update_id: int, now: datetime) -> bool:
    """Mark the update handled in the transaction of its effects; False when another
    process marked it first (then this transaction must not be committed)."""
    return await uow.inbox.handled(update_id, now)


async def begin(uow: UnitOfWork, update_id: int, telegram_id: int, now: datetime) -> tuple[bool, Person | None]:
    """First in the update's transaction: `mark_handled`, and the caller's row, locked
    until the transaction ends (None before their first contact), in one trip to the
    database where it can. Marked first, a second process that handles the same update
    waits for the first one's commit and then learns that it must not go on."""
    return await uow.inbox.handled_with_caller(update_id, now, telegram_id)
