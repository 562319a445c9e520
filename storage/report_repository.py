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
- *Participation* is the number of Zusagen (RSVP "yes") of a session.
- A *topic* is an accepted agenda item of a held session.
- A person *was a member* of a group when the membership was approved
  (`decided_at` set) and is still approved, or left only later.
- Stances and comments count when given before `until`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, distinct, func, or_, select, text, union_all

from storage.models import (
    AgendaItem,
    AgendaStatus,
    Comment,
    Group,
    Meeting,
    Membership,
    MembershipStatus,
    Occurrence,
    OccurrenceStatus,
    Person,
    Recommendation,
    RecommendationStatus,
    Rsvp,
    RsvpAnswer,
    Stance,
    StanceValue,
    recommendation_groups,
)
from storage.repositories import _Repository

_rg = recommendation_groups


@dataclass(frozen=True)
class GroupRow:
    id: int
    slug: str
    name: str
    note: str | None
    created_at: datetime
    archived_at: datetime | None


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
class TopicRow:
    group_id: int
    starts_at: datetime
    text: str


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


@dataclass(frozen=True)
class RecommendationRow:
    id: int
    text: str
    created_at: datetime
    deadline: datetime | None
    closed_at: datetime | None
    outcome: str | None


@dataclass(frozen=True)
class CommentRow:
    recommendation_id: int
    created_at: datetime
    text: str
    organisation: str | None


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


def _held(start: datetime, until: datetime):  # type: ignore[no-untyped-def]
    return and_(
        Occurrence.status == OccurrenceStatus.SCHEDULED,
        Occurrence.starts_at >= start,
        Occurrence.starts_at < until,
    )


def _was_member(until: datetime):  # type: ignore[no-untyped-def]
    """The membership was approved before `until` and had not ended by then."""
    return and_(
        Membership.decided_at.is_not(None),
        Membership.decided_at < until,
        or_(
            Membership.status == MembershipStatus.APPROVED,
            and_(Membership.status == MembershipStatus.LEFT, Membership.left_at >= until),
        ),
    )


class ReportRepository(_Repository):
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

    # --- sessions and participation ---------------------------------------

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

    # --- topics --------------------------------------------------------------

    async def topics(self, start: datetime, until: datetime, per_group: int) -> list[TopicRow]:
        """The first `per_group` topics of each group's held sessions, in agenda order."""
        ranked = (
            select(
                AgendaItem.group_id.label("group_id"),
                Occurrence.starts_at.label("starts_at"),
                AgendaItem.text.label("text"),
                func.row_number()
                .over(
                    partition_by=AgendaItem.group_id,
                    order_by=(Occurrence.starts_at, Occurrence.id, AgendaItem.position, AgendaItem.id),
                )
                .label("rank"),
            )
            .join(Occurrence, Occurrence.id == AgendaItem.occurrence_id)
            .where(AgendaItem.status == AgendaStatus.ACCEPTED, _held(start, until))
            .subquery()
        )
        result = await self.session.execute(
            select(ranked.c.group_id, ranked.c.starts_at, ranked.c.text)
            .where(ranked.c.rank <= per_group)
            .order_by(ranked.c.group_id, ranked.c.rank)
        )
        return [TopicRow(*row) for row in result.all()]

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

    # --- recommendations and feedback ------------------------------------------

    def _current(self, start: datetime, until: datetime):  # type: ignore[no-untyped-def]
        """Published before `until` and not closed before `start`."""
        return and_(
            Recommendation.created_at < until,
            or_(Recommendation.closed_at.is_(None), Recommendation.closed_at >= start),
        )

    async def recommendations(
        self, start: datetime, until: datetime, limit: int
    ) -> tuple[list[RecommendationRow], int]:
        """Recommendations under way in the period, oldest first: the first `limit` and how many in all.

        `closed_at` and `outcome` are only given when it was closed before `until`.
        """
        condition = self._current(start, until)
        total = await self.session.scalar(select(func.count(Recommendation.id)).where(condition))
        closed = and_(Recommendation.status == RecommendationStatus.CLOSED, Recommendation.closed_at < until)
        result = await self.session.execute(
            select(
                Recommendation.id,
                Recommendation.text,
                Recommendation.created_at,
                Recommendation.deadline,
                case((closed, Recommendation.closed_at)),
                case((closed, Recommendation.outcome)),
            )
            .where(condition)
            .order_by(Recommendation.created_at, Recommendation.id)
            .limit(limit)
        )
        return [RecommendationRow(*row) for row in result.all()], int(total or 0)

    async def target_groups(self, recommendation_ids: Iterable[int]) -> dict[int, list[int]]:
        ids = list(recommendation_ids)
        found: dict[int, list[int]] = {i: [] for i in ids}
        if ids:
            result = await self.session.execute(
                select(_rg.c.recommendation_id, _rg.c.group_id)
                .where(_rg.c.recommendation_id.in_(ids))
                .order_by(_rg.c.recommendation_id, _rg.c.group_id)
            )
            for recommendation_id, group_id in result.all():
                found[recommendation_id].append(group_id)
        return found

    async def tallies(self, recommendation_ids: Iterable[int], until: datetime) -> dict[int, Counter[StanceValue]]:
        """Stances per value, per recommendation (each person once: the latest stance counts)."""
        ids = list(recommendation_ids)
        found: dict[int, Counter[StanceValue]] = {i: Counter() for i in ids}
        if ids:
            result = await self.session.execute(
                select(Stance.recommendation_id, Stance.value, func.count(Stance.id))
                .where(Stance.recommendation_id.in_(ids), Stance.answered_at < until)
                .group_by(Stance.recommendation_id, Stance.value)
            )
            for recommendation_id, value, count in result.all():
                found[recommendation_id][StanceValue(value)] = int(count)
        return found

    async def group_tallies(
        self, recommendation_ids: Iterable[int], until: datetime
    ) -> dict[tuple[int, int], Counter[StanceValue]]:
        """Stances per (recommendation, target group) of the people who were members of that group.

        A person in two target groups counts in both; a person whose
        membership is gone (left before `until`, data erased) in none.
        """
        ids = list(recommendation_ids)
        found: dict[tuple[int, int], Counter[StanceValue]] = {}
        if ids:
            result = await self.session.execute(
                select(Stance.recommendation_id, _rg.c.group_id, Stance.value, func.count(Stance.id))
                .join(_rg, _rg.c.recommendation_id == Stance.recommendation_id)
                .join(Membership, and_(Membership.group_id == _rg.c.group_id, Membership.person_id == Stance.person_id))
                .where(Stance.recommendation_id.in_(ids), Stance.answered_at < until, _was_member(until))
                .group_by(Stance.recommendation_id, _rg.c.group_id, Stance.value)
            )
            for recommendation_id, group_id, value, count in result.all():
                found.setdefault((recommendation_id, group_id), Counter())[StanceValue(value)] = int(count)
        return found

    async def comment_counts(self, recommendation_ids: Iterable[int], until: datetime) -> dict[int, int]:
        ids = list(recommendation_ids)
        found = dict.fromkeys(ids, 0)
        if ids:
            result = await self.session.execute(
                select(Comment.recommendation_id, func.count(Comment.id))
                .where(Comment.recommendation_id.in_(ids), Comment.created_at < until)
                .group_by(Comment.recommendation_id)
            )
            found.update({r: int(c) for r, c in result.all()})
        return found

    async def group_comment_counts(
        self, recommendation_ids: Iterable[int], until: datetime
    ) -> dict[tuple[int, int], int]:
        """Comments per (recommendation, target group), attributed as stances are."""
        ids = list(recommendation_ids)
        if not ids:
            return {}
        result = await self.session.execute(
            select(Comment.recommendation_id, _rg.c.group_id, func.count(Comment.id))
            .join(_rg, _rg.c.recommendation_id == Comment.recommendation_id)
            .join(Membership, and_(Membership.group_id == _rg.c.group_id, Membership.person_id == Comment.person_id))
            .where(Comment.recommendation_id.in_(ids), Comment.created_at < until, _was_member(until))
            .group_by(Comment.recommendation_id, _rg.c.group_id)
        )
        return {(r, g): int(c) for r, g, c in result.all()}

    async def respondents(self, recommendation_ids: Iterable[int], until: datetime) -> dict[int, int]:
        """Per recommendation: distinct people who gave a stance or a comment."""
        ids = list(recommendation_ids)
        found = dict.fromkeys(ids, 0)
        if ids:
            answers = union_all(
                select(Stance.recommendation_id.label("rid"), Stance.person_id.label("pid")).where(
                    Stance.recommendation_id.in_(ids), Stance.answered_at < until, Stance.person_id.is_not(None)
                ),
                select(Comment.recommendation_id, Comment.person_id).where(
                    Comment.recommendation_id.in_(ids), Comment.created_at < until, Comment.person_id.is_not(None)
                ),
            ).subquery()
            result = await self.session.execute(
                select(answers.c.rid, func.count(distinct(answers.c.pid))).group_by(answers.c.rid)
            )
            found.update({r: int(c) for r, c in result.all()})
        return found

    async def latest_comments(
        self, recommendation_ids: Iterable[int], until: datetime, per_recommendation: int
    ) -> list[CommentRow]:
        """The newest `per_recommendation` comments of each, newest first, with the author's organisation."""
        ids = list(recommendation_ids)
        if not ids:
            return []
        ranked = (
            select(
                Comment.recommendation_id.label("rid"),
                Comment.created_at.label("created_at"),
                Comment.text.label("text"),
                Comment.person_id.label("pid"),
                func.row_number()
                .over(partition_by=Comment.recommendation_id, order_by=(Comment.created_at.desc(), Comment.id.desc()))
                .label("rank"),
            )
            .where(Comment.recommendation_id.in_(ids), Comment.created_at < until)
            .subquery()
        )
        result = await self.session.execute(
            select(ranked.c.rid, ranked.c.created_at, ranked.c.text, Person.organisation)
            .outerjoin(Person, Person.id == ranked.c.pid)
            .where(ranked.c.rank <= per_recommendation)
            .order_by(ranked.c.rid, ranked.c.rank)
        )
        return [CommentRow(*row) for row in result.all()]

    async def feedback_totals(self, start: datetime, until: datetime) -> tuple[int, int]:
        """Stances and comments given in the period, on any recommendation."""
        stances = await self.session.scalar(
            select(func.count(Stance.id)).where(Stance.answered_at >= start, Stance.answered_at < until)
        )
        comments = await self.session.scalar(
            select(func.count(Comment.id)).where(Comment.created_at >= start, Comment.created_at < until)
        )
        return int(stances or 0), int(comments or 0)

    async def open_recommendations(self, at: datetime) -> int:
        """Recommendations published before `at` and not closed by then."""
        count = await self.session.scalar(
            select(func.count(Recommendation.id)).where(
                Recommendation.created_at < at,
                or_(
                    Recommendation.status == RecommendationStatus.OPEN,
                    Recommendation.closed_at >= at,
                ),
            )
        )
        return int(count or 0)

    # --- the groups ------------------------------------------------------------------

    async def member_totals(self, start: datetime, until: datetime) -> dict[int, MemberTotals]:
        """Per group: members at `until`, joined and left in the period, organisations, requests waiting now."""
        approved_once = and_(
            Membership.decided_at.is_not(None),
            Membership.status.in_((MembershipStatus.APPROVED, MembershipStatus.LEFT)),
        )
        counts = await self.session.execute(
            select(
                Membership.group_id,
                func.count(Membership.id).filter(_was_member(until)),
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
            .where(_was_member(until), Person.organisation.is_not(None), func.trim(Person.organisation) != "")
            .group_by(Membership.group_id)
        )
        named = {g: int(c) for g, c in organisations.all()}
        return {
            g: MemberTotals(g, int(members), int(joined), int(left), named.get(g, 0), int(pending))
            for g, members, joined, left, pending in counts.all()
        }

    # --- what comes next ------------------------------------------------------------

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
                AgendaItem.status.in_((AgendaStatus.PROPOSED, AgendaStatus.ACCEPTED)),
                AgendaItem.created_at < at,
                or_(AgendaItem.occurrence_id.is_(None), Occurrence.starts_at >= at),
                Occurrence.status.is_distinct_from(OccurrenceStatus.CANCELLED),
            )
        )
        return int(count or 0)
