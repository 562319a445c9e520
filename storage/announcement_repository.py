"""The queries of announcements (/announce): add one, read one with its groups,
who receives it, and which announcement a due delivery is about (no commits;
the unit of work commits)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from storage.admin_models import Announcement
from storage.models import Delivery, DeliveryKind, DeliveryStatus
from storage.repositories import _Repository, is_id


class AnnouncementRepository(_Repository):
    """Announcements with their groups."""

    async def get(self, announcement_id: int) -> Announcement | None:
        if not is_id(announcement_id):
            return None
        result = await self.session.execute(
            select(Announcement).where(Announcement.id == announcement_id).options(selectinload(Announcement.groups))
        )
        return result.scalar_one_or_none()

    async def pending_deliveries(self) -> dict[int, int]:
        """Announcement id by delivery id, for the announcement messages not sent yet
        (the timer renders a whole fan-out with this one query)."""
        result = await self.session.execute(
            select(Delivery.id, Delivery.announcement_id).where(
                Delivery.kind == DeliveryKind.ANNOUNCEMENT,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.announcement_id.is_not(None),
            )
        )
        return {delivery_id: announcement_id for delivery_id, announcement_id in result.all() if announcement_id}

    async def of_delivery(self, delivery_id: int) -> int | None:
        """The announcement one delivery is about."""
        return await self.session.scalar(select(Delivery.announcement_id).where(Delivery.id == delivery_id))
