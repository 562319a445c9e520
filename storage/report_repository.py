"""The queries of the half-yearly report: aggregates grouped in SQL (no commits).

Every figure is a COUNT ... GROUP BY in the database and every list is
limited in the database (ROW_NUMBER() OVER (PARTITION BY ...)), so the work
left to Python grows with the number of groups and of lines shown, not with
the rows stored. The one list that is not limited is the participation per
held session (one row per session, for the chart).

Times are UTC; a period is `start` (inclusive) to `until` (exclusive), where
`until` is the end of the half-year or, while it runs, the moment of the
report. Definitions used throughout:

- A session is *held* when it was not cancelled and started in the period.
- *Participation* is the number of Zusagen (RSVP "yes") of a session and,
  where attendance was taken, the members recorded present
  (`storage.report_attendance`).
- A topic is *handled* when it was accepted on a held session; the report
  names every handled topic and every item submitted in the period.
- A *topic* is an accepted agenda item of a held session.
- A person *was a member* of a group when the membership was approved
  (`decided_at` set) and is still approved, or left only later.
- Stances and comments count when given before `until`.

The queries are grouped by the part of the report they serve, one module
each, and `ReportRepository` (`uow.reports`) combines them:

- `storage.report_sessions`: sessions, participation, topics;
- `storage.report_recommendations`: recommendations, stances, comments;
- `storage.report_groups`: members per group, upcoming sessions, waiting items;
- `storage.report_notes`: the coordinator's notes on the groups;
- `storage.report_attendance`: invitations, Zusagen and attendance per held session;
- `storage.report_minutes`: the approved minutes of the held sessions;
- `storage.report_tracking`: the state of the adopted recommendations (SPEC 14);
- this module: the preparation of the transaction, the first record, the groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text

from storage.models import (
    AgendaItem,
    Group,
    Meeting,
    Membership,
    Occurrence,
    Person,
    Recommendation,
)
from storage.report_attendance import AttendanceQueries
from storage.report_groups import GroupQueries
from storage.report_minutes import MinutesQueries
from storage.report_notes import NoteQueries
from storage.report_recommendations import RecommendationQueries
from storage.report_sessions import SessionQueries
from storage.report_tracking import TrackingQueries


@dataclass(frozen=True)
class GroupRow:
    id: int
    slug: str
    name: str
    note: str | None
    created_at: datetime
    archived_at: datetime | None


class ReportRepository(
    SessionQueries, RecommendationQueries, GroupQueries, NoteQueries, AttendanceQueries, MinutesQueries, TrackingQueries
):
    """Sessions, participation, topics, recommendations and members of one half-year."""

    async def for_aggregates(self) -> None:
        """Prepare the transaction for the report's grouped queries.

        On PostgreSQL, nested-loop joins are switched off for this transaction
        (`SET LOCAL`): right after a bulk load, before autovacuum has analysed
        the tables, the planner takes tables of thousands of rows for a few
        and loops over one join side per row of the other, which made the
        per-group tallies take seconds instead of milliseconds. Hash and merge
        joins cost about the same either way. SQLite needs nothing.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("SET LOCAL enable_nestloop = off"))

    async def earliest(self) -> datetime | None:
        """When the first thing the report could be about was recorded."""
        found: list[datetime] = []
        for column in (
            Group.created_at,
            Person.created_at,
            Membership.requested_at,
            Meeting.created_at,
            Occurrence.starts_at,
            AgendaItem.created_at,
            Recommendation.created_at,
        ):
            value = await self.session.scalar(select(func.min(column)))
            if value is not None:
                found.append(value)
        return min(found, default=None)

    async def groups(self) -> list[GroupRow]:
        """Every group, archived ones too, in id order."""
        result = await self.session.execute(
            select(Group.id, Group.slug, Group.name, Group.note, Group.created_at, Group.archived_at).order_by(Group.id)
        )
        return [GroupRow(*row) for row in result.all()]
