"""The report's queries on sessions, participation and topics (no commits).

Part of `storage.report_repository.ReportRepository`; the definitions (a
*held* session, *participation*, a *topic*) are in that module's docstring.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select

from storage.models import (
    AgendaItem,
    AgendaStatus,
    Meeting,
    Occurrence,
    OccurrenceStatus,
    Rsvp,
    RsvpAnswer,
)
from storage.repositories import _Repository


@dataclass(frozen=True)
class SessionRow:
    """A held session with its number of Zusagen."""

    group_id: int
    occurrence_id: int
    starts_at: datetime
    title: str
    location: str | None
    confirmations: int


@dataclass(frozen=True)
class SessionTotals:
    group_id: int
    held: int
    cancelled: int
    confirmations: int
    people: int
    """Distinct people with at least one Zusage to a held session."""


@dataclass(frozen=True)
class TopicLineRow:
    """An agenda item the report names: handled by a held session of the period, or
    submitted in the period (whatever became of it)."""

    group_id: int
    text: str
    created_at: datetime
    status: str
    late: bool
    handled: bool
    """Accepted on a session held in the period."""
    session_at: datetime | None
    """The start of the session it is on (None: it waits for one)."""
    session_status: str | None
    session_title: str | None
    listed: int
    """How many items of its group the report names in all (the limit cuts the list)."""


@dataclass(frozen=True)
class TopicTotals:
    group_id: int
    discussed: int
    """Accepted items of held sessions."""
    submitted: int
    """Items proposed in the period, whatever became of them (the next four)."""
    accepted: int
    rejected: int
    withdrawn: int
    undecided: int


def _held(start: datetime, until: datetime) -> ColumnElement[bool]:
    """The session was not cancelled and started in the period."""
    return and_(
        Occurrence.status == OccurrenceStatus.SCHEDULED,
        Occurrence.starts_at >= start,
        Occurrence.starts_at < until,
    )


class SessionQueries(_Repository):
    """Held and cancelled sessions, their Zusagen, and the topics of their agendas."""

    async def sessions(self, start: datetime, until: datetime) -> list[SessionRow]:
        """Every held session with its Zusagen, by group, then in time order."""
        result = await self.session.execute(
            select(
                Meeting.group_id,
                Occurrence.id,
                Occurrence.starts_at,
                Meeting.title,
                Meeting.location,
                func.count(Rsvp.id),
            )
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .outerjoin(Rsvp, and_(Rsvp.occurrence_id == Occurrence.id, Rsvp.answer == RsvpAnswer.YES))
            .where(_held(start, until))
            .group_by(Meeting.group_id, Occurrence.id, Occurrence.starts_at, Meeting.title, Meeting.location)
            .order_by(Meeting.group_id, Occurrence.starts_at, Occurrence.id)
        )
        return [SessionRow(g, o, s, t, loc, int(c)) for g, o, s, t, loc, c in result.all()]

    async def session_totals(self, start: datetime, until: datetime) -> dict[int, SessionTotals]:
        """Per group: sessions held and cancelled, Zusagen, and distinct people who said yes."""
        in_period = and_(Occurrence.starts_at >= start, Occurrence.starts_at < until)
        counts = await self.session.execute(
            select(
                Meeting.group_id,
                func.count(Occurrence.id).filter(Occurrence.status == OccurrenceStatus.SCHEDULED),
                func.count(Occurrence.id).filter(Occurrence.status == OccurrenceStatus.CANCELLED),
            )
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .where(in_period)
            .group_by(Meeting.group_id)
        )
        yes = await self.session.execute(
            select(Meeting.group_id, func.count(Rsvp.id), func.count(distinct(Rsvp.person_id)))
            .join(Occurrence, Occurrence.id == Rsvp.occurrence_id)
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .where(Rsvp.answer == RsvpAnswer.YES, _held(start, until))
            .group_by(Meeting.group_id)
        )
        by_group = {g: (int(c), int(p)) for g, c, p in yes.all()}
        return {
            g: SessionTotals(g, int(held), int(cancelled), *by_group.get(g, (0, 0)))
            for g, held, cancelled in counts.all()
        }

    async def people_confirmed(self, start: datetime, until: datetime) -> int:
        """Distinct people with at least one Zusage to a held session of any group."""
        count = await self.session.scalar(
            select(func.count(distinct(Rsvp.person_id)))
            .join(Occurrence, Occurrence.id == Rsvp.occurrence_id)
            .where(Rsvp.answer == RsvpAnswer.YES, _held(start, until))
        )
        return int(count or 0)

    async def topic_lines(self, start: datetime, until: datetime, per_group: int) -> list[TopicLineRow]:
        """Every topic of the half-year, at most `per_group` per group: first the items
        handled by the group's held sessions (in session and agenda order), then the
        other items submitted in the period (in the order they came)."""
        handled = and_(AgendaItem.status == AgendaStatus.ACCEPTED, _held(start, until))
        submitted = and_(AgendaItem.created_at >= start, AgendaItem.created_at < until)
        order = (
            case((handled, 0), else_=1),
            case((handled, Occurrence.starts_at), else_=AgendaItem.created_at),
            case((handled, AgendaItem.position), else_=0),
            AgendaItem.id,
        )
        ranked = (
            select(
                AgendaItem.group_id.label("group_id"),
                AgendaItem.text.label("text"),
                AgendaItem.created_at.label("created_at"),
                AgendaItem.status.label("status"),
                AgendaItem.late.label("late"),
                case((handled, True), else_=False).label("handled"),
                Occurrence.starts_at.label("session_at"),
                Occurrence.status.label("session_status"),
                Meeting.title.label("session_title"),
                func.row_number().over(partition_by=AgendaItem.group_id, order_by=order).label("rank"),
                func.count(AgendaItem.id).over(partition_by=AgendaItem.group_id).label("listed"),
            )
            .outerjoin(Occurrence, Occurrence.id == AgendaItem.occurrence_id)
            .outerjoin(Meeting, Meeting.id == Occurrence.meeting_id)
            .where(or_(handled, submitted))
            .subquery()
        )
        result = await self.session.execute(
            select(
                ranked.c.group_id,
                ranked.c.text,
                ranked.c.created_at,
                ranked.c.status,
                ranked.c.late,
                ranked.c.handled,
                ranked.c.session_at,
                ranked.c.session_status,
                ranked.c.session_title,
                ranked.c.listed,
            )
            .where(ranked.c.rank <= per_group)
            .order_by(ranked.c.group_id, ranked.c.rank)
        )
        return [
            TopicLineRow(g, text, created, str(status), bool(late), bool(done), at, state and str(state), title, n)
            for g, text, created, status, late, done, at, state, title, n in result.all()
        ]

    async def topic_totals(self, start: datetime, until: datetime) -> dict[int, TopicTotals]:
        """Per group: topics of held sessions, and what became of the items proposed in the period."""
        discussed = await self.session.execute(
            select(AgendaItem.group_id, func.count(AgendaItem.id))
            .join(Occurrence, Occurrence.id == AgendaItem.occurrence_id)
            .where(AgendaItem.status == AgendaStatus.ACCEPTED, _held(start, until))
            .group_by(AgendaItem.group_id)
        )
        counts = dict(discussed.all())
        submitted = await self.session.execute(
            select(AgendaItem.group_id, AgendaItem.status, func.count(AgendaItem.id))
            .where(AgendaItem.created_at >= start, AgendaItem.created_at < until)
            .group_by(AgendaItem.group_id, AgendaItem.status)
        )
        by_status: dict[int, Counter[AgendaStatus]] = {}
        for group_id, status, count in submitted.all():
            by_status.setdefault(group_id, Counter())[AgendaStatus(status)] = int(count)
        totals = {}
        for group_id in set(counts) | set(by_status):
            statuses = by_status.get(group_id, Counter())
            totals[group_id] = TopicTotals(
                group_id,
                int(counts.get(group_id, 0)),
                sum(statuses.values()),
                statuses[AgendaStatus.ACCEPTED],
                statuses[AgendaStatus.REJECTED],
                statuses[AgendaStatus.WITHDRAWN],
                statuses[AgendaStatus.PROPOSED],
            )
        return totals
