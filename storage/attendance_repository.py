"""The queries of attendance (SPEC 13): who attended which session, check-ins,
guests (no commits; the unit of work commits).

When attendance counts as *taken* for a session, in one place (`taken`): the
coordination recorded at least one row of it (`recorded_by_id` set). A
member's own check-in alone does not make it taken; the report's attendance
rate counts only sessions where it was taken (SPEC 7, 13).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import selectinload

from storage.followup_models import Attendance
from storage.models import Meeting, Occurrence, OccurrenceStatus
from storage.repositories import _Repository


def taken() -> ColumnElement[bool]:
    """True for an `Occurrence` whose attendance the coordination recorded."""
    return exists(
        select(Attendance.id).where(Attendance.occurrence_id == Occurrence.id, Attendance.recorded_by_id.is_not(None))
    )


class AttendanceRepository(_Repository):
    """Attendance rows of sessions."""

    async def of_occurrence(self, occurrence_id: int) -> list[Attendance]:
        """Every row of one session (members and guests), with person and deputy loaded."""
        result = await self.session.execute(
            select(Attendance)
            .where(Attendance.occurrence_id == occurrence_id)
            .options(selectinload(Attendance.person), selectinload(Attendance.deputy))
            .order_by(Attendance.id)
        )
        return list(result.scalars())

    async def of_member(self, occurrence_id: int, person_id: int) -> Attendance | None:
        """One member's row of one session."""
        result = await self.session.execute(
            select(Attendance).where(Attendance.occurrence_id == occurrence_id, Attendance.person_id == person_id)
        )
        return result.scalar_one_or_none()

    async def sessions_between(
        self, after: datetime, before: datetime, group_ids: Iterable[int] | None = None, limit: int = 20
    ) -> list[Occurrence]:
        """Scheduled sessions starting in [after, before] (of these groups; None: all), earliest first."""
        query = (
            select(Occurrence)
            .join(Occurrence.meeting)
            .where(
                Occurrence.starts_at >= after,
                Occurrence.starts_at <= before,
                Occurrence.status == OccurrenceStatus.SCHEDULED,
            )
            .options(selectinload(Occurrence.meeting).selectinload(Meeting.group))
            .order_by(Occurrence.starts_at, Occurrence.id)
            .limit(limit)
        )
        if group_ids is not None:
            query = query.where(Meeting.group_id.in_(list(group_ids)))
        result = await self.session.execute(query)
        return list(result.scalars())
