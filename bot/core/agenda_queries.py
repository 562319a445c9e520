"""What the notes about an agenda item show, read for the delivery timer."""

from __future__ import annotations

from storage.models import AgendaItem
from storage.uow import UnitOfWork


async def noted_item(uow: UnitOfWork, item_id: int | None) -> AgendaItem | None:
    """The item a note to its author is about (rejected, deferred), with its group
    and session; None when it is gone."""
    return await uow.agenda.get(item_id or 0)
