"""The report's queries on the groups' members and on what comes next (no commits).

Part of `storage.report_repository.ReportRepository`; what *was a member*
means is `was_member` (also used to attribute feedback to a group).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, distinct, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from storage.agenda_repository import item_is_open
from storage.models import (
    AgendaItem,
    Meeting,
    Membership,
    MembershipStatus,
    Occurrence,
    OccurrenceStatus,
    Person,
)
from storage.repositories import _Repository


@dataclass(frozen=True)
class MemberTotals:
    group_id: int
    members: int
    """Members at `until`."""
    joined: int
    left: int
    organisations: int
    """Distinct organisations named by the members at `until` (case-insensitive)."""
    pending: int
    """Join requests waiting now."""


@dataclass(frozen=True)
class UpcomingRow:
    group_id: int
    starts_at: datetime
    title: str


def was_member(until: datetime | InstrumentedAttribute[datetime]) -> ColumnElement[bool]:
    """The membership was approved before `until` and had not ended by then (`until`
    may be a column: a member when a session began, `storage.report_attendance`)."""
    return and_(
        Membership.decided_at.is_not(None),
        Membership.decided_at < until,
        or_(
            Membership.status == MembershipStatus.APPROVED,
            and_(Membership.status == MembershipStatus.LEFT, Membership.left_at >= until),
        ),
    )


class GroupQueries(_Repository):
    """Members, joins, departures and requests per group; the sessions and items still to come."""

    async def member_totals(self, start: datetime, until: datetime) -> dict[int, MemberTotals]:
        """Per group: members at `until`, joined and left in the period, organisations, requests waiting now."""
        approved_once = and_(
            Membership.decided_at.is_not(None),
            Membership.status.in_((MembershipStatus.APPROVED, MembershipStatus.LEFT)),
        )
        counts = await self.session.execute(
            select(
                Membership.group_id,
                func.count(Membership.id).filter(was_member(until)),
                func.count(Membership.id).filter(
                    approved_once, Membership.decided_at >= start, Membership.decided_at < until
                ),
                func.count(Membership.id).filter(
                    approved_once,
                    Membership.status == MembershipStatus.LEFT,
                    Membership.left_at >= start,
                    Membership.left_at < until,
                ),
                func.count(Membership.id).filter(Membership.status == MembershipStatus.PENDING),
            ).group_by(Membership.group_id)
        )
        organisation = func.lower(func.trim(Person.organisation))
        organisations = await self.session.execute(
            select(Membership.group_id, func.count(distinct(organisation)))
            .join(Person, Person.id == Membership.person_id)
            .where(was_member(until), Person.organisation.is_not(None), func.trim(Person.organisation) != "")
            .group_by(Membership.group_id)
        )
        named = {g: int(c) for g, c in organisations.all()}
        return {
            g: MemberTotals(g, int(members), int(joined), int(left), named.get(g, 0), int(pending))
            for g, members, joined, left, pending in counts.all()
        }

    async def member_people(self, until: datetime, group_ids: list[int]) -> tuple[int, int]:
        """Distinct people who were members of any of `group_ids` at `until`, and their
        distinct organisations (a person in several groups counts once)."""
        if not group_ids:
            return 0, 0
        organisation = func.lower(func.trim(Person.organisation))
        row = (
            await self.session.execute(
                select(func.count(distinct(Membership.person_id)), func.count(distinct(organisation)))
                .join(Person, Person.id == Membership.person_id)
                .where(was_member(until), Membership.group_id.in_(group_ids))
            )
        ).one()
        return int(row[0] or 0), int(row[1] or 0)

    async def upcoming(self, after: datetime, per_group: int) -> tuple[list[UpcomingRow], dict[int, int]]:
        """The next `per_group` scheduled sessions of each group from `after` on, and how many each has."""
        condition = and_(Occurrence.status == OccurrenceStatus.SCHEDULED, Occurrence.starts_at >= after)
        ranked = (
            select(
                Meeting.group_id.label("group_id"),
                Occurrence.starts_at.label("starts_at"),
                Meeting.title.label("title"),
                func.row_number()
                .over(partition_by=Meeting.group_id, order_by=(Occurrence.starts_at, Occurrence.id))
                .label("rank"),
            )
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .where(condition)
            .subquery()
        )
        rows = await self.session.execute(
            select(ranked.c.group_id, ranked.c.starts_at, ranked.c.title)
            .where(ranked.c.rank <= per_group)
            .order_by(ranked.c.group_id, ranked.c.rank)
        )
        counts = await self.session.execute(
            select(Meeting.group_id, func.count(Occurrence.id))
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .where(condition)
            .group_by(Meeting.group_id)
        )
        return [UpcomingRow(*row) for row in rows.all()], {g: int(c) for g, c in counts.all()}

    async def items_waiting(self, at: datetime) -> int:
        """Agenda items proposed before `at` and still open (proposed or accepted), waiting
        for a session that starts at `at` or later (or for one to be planned)."""
        count = await self.session.scalar(
            select(func.count(AgendaItem.id))
            .outerjoin(Occurrence, Occurrence.id == AgendaItem.occurrence_id)
            .where(
                item_is_open(),
                AgendaItem.created_at < at,
                or_(AgendaItem.occurrence_id.is_(None), Occurrence.starts_at >= at),
                Occurrence.status.is_distinct_from(OccurrenceStatus.CANCELLED),
            )
        )
        return int(count or 0)
