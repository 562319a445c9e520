"""The report's queries on invitations and attendance per held session (no commits).

Part of `storage.report_repository.ReportRepository`. Definitions:

- The *invited members* of a session are the members of its group when it
  began (`storage.report_groups.was_member` at its start): every member is
  invited (SPEC 4). Their Zusagen are counted beside, so the rate "x von n
  eingeladenen Mitgliedern" never counts someone outside its denominator.
- Attendance counts only for a session where it was *taken*
  (`storage.attendance_repository.taken`). Its denominator is the members the
  coordination's list holds (member rows: no guest name; a forgotten member's
  row stays and counts); a member represented by a deputy is present.
  Guests are counted beside, never in the rate.
- A *no-show*: a member row recorded absent whose person had said Zusage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select

from storage.attendance_repository import taken
from storage.followup_models import Attendance, AttendanceStatus
from storage.models import Meeting, Membership, Occurrence, Rsvp, RsvpAnswer
from storage.report_groups import was_member
from storage.report_sessions import _held
from storage.repositories import _Repository


@dataclass(frozen=True)
class ParticipationRow:
    """Invitations, Zusagen and (where taken) attendance of one held session."""

    occurrence_id: int
    invited: int
    """Members of the group when the session began."""
    confirmed: int
    """Zusagen of those members."""
    taken: bool
    present: int = 0
    """Member rows recorded present (in person or by a deputy)."""
    recorded: int = 0
    """Member rows recorded (present, excused or absent): the attendance denominator."""
    excused: int = 0
    absent: int = 0
    guests: int = 0
    no_shows: int = 0
    """Zusage, aber abwesend."""


class AttendanceQueries(_Repository):
    """Invitations, Zusagen and attendance per held session (part of `ReportRepository`)."""

    async def participation(self, start: datetime, until: datetime) -> dict[int, ParticipationRow]:
        """Every held session of the period, by occurrence id."""
        held = _held(start, until)
        invited = await self.session.execute(
            select(Occurrence.id, func.count(Membership.id), func.count(Rsvp.id), taken())
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .outerjoin(
                Membership,
                and_(Membership.group_id == Meeting.group_id, was_member(Occurrence.starts_at)),
            )
            .outerjoin(
                Rsvp,
                and_(
                    Rsvp.occurrence_id == Occurrence.id,
                    Rsvp.person_id == Membership.person_id,
                    Rsvp.answer == RsvpAnswer.YES,
                ),
            )
            .where(held)
            .group_by(Occurrence.id)
        )
        member_row = Attendance.guest_name.is_(None)
        recorded = await self.session.execute(
            select(
                Attendance.occurrence_id,
                func.count(Attendance.id).filter(member_row, Attendance.status == AttendanceStatus.PRESENT),
                func.count(Attendance.id).filter(member_row),
                func.count(Attendance.id).filter(member_row, Attendance.status == AttendanceStatus.EXCUSED),
                func.count(Attendance.id).filter(member_row, Attendance.status == AttendanceStatus.ABSENT),
                func.count(Attendance.id).filter(
                    Attendance.guest_name.is_not(None), Attendance.status == AttendanceStatus.PRESENT
                ),
                func.count(Rsvp.id).filter(member_row, Attendance.status == AttendanceStatus.ABSENT),
            )
            .join(Occurrence, Occurrence.id == Attendance.occurrence_id)
            .outerjoin(
                Rsvp,
                and_(
                    Rsvp.occurrence_id == Attendance.occurrence_id,
                    Rsvp.person_id == Attendance.person_id,
                    Rsvp.answer == RsvpAnswer.YES,
                ),
            )
            .where(held)
            .group_by(Attendance.occurrence_id)
        )
        figures = {row[0]: [int(n) for n in row[1:]] for row in recorded.all()}  # used where taken only
        rows = {}
        for occurrence_id, members, confirmed, was_taken in invited.all():
            counted = figures.get(occurrence_id, [0] * 6) if was_taken else [0] * 6
            rows[occurrence_id] = ParticipationRow(
                occurrence_id, int(members), int(confirmed), bool(was_taken), *counted
            )
        return rows
