"""Updates: what holds for the handling of one update from Telegram.

Its effects and its "handled" mark in the inbox are saved in one transaction
(`mark_handled`): a crash before the commit leaves the update to be handled
again; after it, it is never handled again, and of two processes that handled
the same update only the first to mark it keeps its work.

Whether a request that failed is done again is the database's to say
(`storage.database.again_later`).
"""

from __future__ import annotations

from datetime import datetime

from storage.uow import UnitOfWork


async def mark_handled(uow: UnitOfWork, update_id: int, now: datetime) -> bool:
    """Mark the update handled in the transaction of its effects; False when another
    process marked it first (then this transaction must not be committed)."""
    return await uow.inbox.handled(update_id, now)
