"""The queries of attendance (SPEC 13): who attended which session, check-ins,
guests (no commits; the unit of work commits).

When attendance counts as *taken* for a session, in one place (`taken`): the
coordination recorded at least one row of it (`recorded_by_id` set). A
member's own check-in alone does not make it taken; the report's attendance
rate counts only sessions where it was taken (SPEC 7, 13).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select

from storage.followup_models import Attendance
from storage.models import Occurrence
from storage.repositories import _Repository


def taken() -> ColumnElement[bool]:
    """True for an `Occurrence` whose attendance the coordination recorded."""
    return exists(
        select(Attendance.id).where(Attendance.occurrence_id == Occurrence.id, Attendance.recorded_by_id.is_not(None))
    )


class AttendanceRepository(_Repository):
    """Attendance rows of sessions."""
