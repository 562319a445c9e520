"""The queries of minutes (SPEC 13): the minutes of a session with their items
and decisions, the agenda items they start from, who was present, who got
the draft, and which minutes a due delivery is about (no commits; the unit
of work commits). Everything used after a query is loaded eagerly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from storage.followup_models import (
    Attendance,
    Minutes,
    MinutesCorrection,
    MinutesItem,
    MinutesStatus,
    Task,
)
from storage.models import (
    AgendaItem,
    AgendaStatus,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Meeting,
    Occurrence,
    OccurrenceStatus,
)
from storage.repositories import _Repository, is_id


class MinutesRepository(_Repository):
    """Minutes with their session (meeting, group), items and decisions."""

    _eager = (
        selectinload(Minutes.occurrence).selectinload(Occurrence.meeting).selectinload(Meeting.group),
        selectinload(Minutes.items).selectinload(MinutesItem.decisions),
    )

    async def get(self, minutes_id: int) -> Minutes | None:
        if not is_id(minutes_id):
            return None
        result = await self.session.execute(select(Minutes).where(Minutes.id == minutes_id).options(*self._eager))
        return result.scalar_one_or_none()

    async def of_session(self, occurrence_id: int) -> Minutes | None:
        if not is_id(occurrence_id):
            return None
        result = await self.session.execute(
            select(Minutes).where(Minutes.occurrence_id == occurrence_id).options(*self._eager)
        )
        return result.scalar_one_or_none()

    async def accepted_items(self, occurrence_id: int) -> Sequence[AgendaItem]:
        """The accepted agenda items of a session, in agenda order."""
        result = await self.session.execute(
            select(AgendaItem)
            .where(AgendaItem.occurrence_id == occurrence_id, AgendaItem.status == AgendaStatus.ACCEPTED)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
        return result.scalars().all()

    async def last_position(self, minutes_id: int) -> int:
        value = await self.session.scalar(
            select(func.max(MinutesItem.position)).where(MinutesItem.minutes_id == minutes_id)
        )
        return int(value or 0)

    async def tasks_of(self, item_ids: Iterable[int]) -> Sequence[Task]:
        """The tasks recorded under these items, with their owners, in order of creation."""
        ids = list(item_ids)
        if not ids:
            return []
        result = await self.session.execute(
            select(Task).where(Task.minutes_item_id.in_(ids)).options(selectinload(Task.owner)).order_by(Task.id)
        )
        return result.scalars().all()

    async def attendance(self, occurrence_id: int) -> Sequence[Attendance]:
        """Every attendance row of a session, with the person and the deputy."""
        result = await self.session.execute(
            select(Attendance)
            .where(Attendance.occurrence_id == occurrence_id)
            .options(selectinload(Attendance.person), selectinload(Attendance.deputy))
            .order_by(Attendance.id)
        )
        return result.scalars().all()

    async def corrections(self, minutes_id: int) -> Sequence[MinutesCorrection]:
        result = await self.session.execute(
            select(MinutesCorrection)
            .where(MinutesCorrection.minutes_id == minutes_id)
            .options(selectinload(MinutesCorrection.person))
            .order_by(MinutesCorrection.id)
        )
        return result.scalars().all()

    async def got_draft(self, minutes_id: int, person_id: int) -> bool:
        """Whether the draft of these minutes was circulated to this person."""
        found = await self.session.scalar(
            select(Delivery.id).where(
                Delivery.minutes_id == minutes_id,
                Delivery.person_id == person_id,
                Delivery.kind == DeliveryKind.MINUTES_DRAFT,
            )
        )
        return found is not None

    async def held_sessions(self, since: datetime, now: datetime, limit: int = 10) -> Sequence[Occurrence]:
        """Sessions that started between `since` and `now`, not cancelled, latest first."""
        result = await self.session.execute(
            select(Occurrence)
            .where(
                Occurrence.starts_at >= since,
                Occurrence.starts_at <= now,
                Occurrence.status != OccurrenceStatus.CANCELLED,
            )
            .options(selectinload(Occurrence.meeting).selectinload(Meeting.group))
            .order_by(Occurrence.starts_at.desc(), Occurrence.id.desc())
            .limit(limit)
        )
        return result.scalars().all()

    async def approved_of_sessions_between(self, start: datetime, end: datetime) -> Sequence[Minutes]:
        """Approved minutes of the sessions that started in [start, end), in order of the sessions."""
        result = await self.session.execute(
            select(Minutes)
            .join(Occurrence, Occurrence.id == Minutes.occurrence_id)
            .where(
                Minutes.status == MinutesStatus.APPROVED,
                Occurrence.starts_at >= start,
                Occurrence.starts_at < end,
            )
            .options(*self._eager)
            .order_by(Occurrence.starts_at, Minutes.id)
        )
        return result.scalars().all()

    async def pending_deliveries(self) -> dict[int, int]:
        """Minutes id by delivery id, for the minutes messages not sent yet (one
        query renders a whole fan-out)."""
        result = await self.session.execute(
            select(Delivery.id, Delivery.minutes_id).where(
                Delivery.kind.in_([DeliveryKind.MINUTES_DRAFT, DeliveryKind.MINUTES_FINAL]),
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.minutes_id.is_not(None),
            )
        )
        return {delivery_id: minutes_id for delivery_id, minutes_id in result.all() if minutes_id}

    async def statuses(self, minutes_ids: Iterable[int]) -> dict[int, MinutesStatus]:
        """The status of each of these minutes (one query)."""
        ids = list(set(minutes_ids))
        if not ids:
            return {}
        result = await self.session.execute(select(Minutes.id, Minutes.status).where(Minutes.id.in_(ids)))
        return {minutes_id: status for minutes_id, status in result.all()}

    async def of_delivery(self, delivery_id: int) -> int | None:
        """The minutes one delivery is about."""
        return await self.session.scalar(select(Delivery.minutes_id).where(Delivery.id == delivery_id))
