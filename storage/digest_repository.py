"""The queries of the digest: counts and tallies grouped in SQL (no commits).

Every number is a COUNT with GROUP BY in the database; every list is a
LIMITed query per group (one UNION ALL statement for all groups), so the
cost of a digest grows with what it shows, not with the size of the tables.
Nothing returns ORM objects: rows come back as small frozen dataclasses.
A period is (start, end]: consecutive weekly digests neither overlap nor
leave a gap, and `/digest` includes what happened at the very moment asked.

Indexes these queries rely on (models and migration 0004):
`memberships (group_id, status)`, `agenda_items (group_id, created_at)`,
`agenda_items (occurrence_id, status)`, `comments (recommendation_id,
created_at)`, `stances (recommendation_id, value)` and `rsvps (occurrence_id,
answer)`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, union_all
from sqlalchemy.orm import aliased

from storage.models import (
    AgendaItem,
    AgendaStatus,
    Comment,
    Delivery,
    DeliveryKind,
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
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OPEN_ITEMS = (AgendaStatus.PROPOSED, AgendaStatus.ACCEPTED)
"""Items on an agenda."""


@dataclass(frozen=True)
class PersonRow:
    """A person as the digest names them: display name (else @username) and organisation."""

    display_name: str | None
    username: str | None
    organisation: str | None
    forgotten: bool = False

    @property
    def name(self) -> str:
        if self.display_name:
            return self.display_name
        return f"@{self.username}" if self.username else "?"


@dataclass(frozen=True)
class SessionRow:
    id: int
    group_id: int
    title: str
    starts_at: datetime
    timezone: str


@dataclass(frozen=True)
class ItemRow:
    id: int
    group_id: int
    text: str
    status: AgendaStatus
    created_at: datetime
    author: PersonRow | None
    """None: the author's row is gone; `author.forgotten`: erased with /forget."""


@dataclass(frozen=True)
class RecommendationRow:
    id: int
    text: str
    deadline: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class CommentRow:
    text: str
    created_at: datetime
    author: PersonRow


@dataclass(frozen=True)
class FeedbackCounts:
    """The feedback on one recommendation."""

    tally: Counter[StanceValue]
    comments: int
    new: int
    """Stances given and comments written in the period."""


def _aware(value: datetime | str | None) -> datetime | None:
    """Raw columns in a UNION bypass the column type: SQLite returns naive UTC (or text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _by_time(group_id: Any) -> Any:
    """`group_id + 0`: sessions are found by their time (the index on `starts_at`),
    not by going through every session a group ever had; SQLite, without
    statistics, would otherwise start from the groups."""
    return group_id + 0


def _person(display_name: str | None, username: str | None, organisation: str | None, telegram_id: int | None) -> PersonRow:
    return PersonRow(display_name, username, organisation, forgotten=telegram_id is None)


class DigestRepository(_Repository):
    """Aggregates per group over a period, for /digest and `kimbot digest`."""

    async def _top(self, group_ids: Sequence[int], query: Callable[[int], Select[*tuple[Any, ...]]]) -> list[Any]:
        """The rows of `query(group_id)` (ordered and LIMITed) for every group, in one statement."""
        if not group_ids:
            return []
        # SQLite allows LIMIT in a compound SELECT only inside a subquery.
        parts = [select(*query(g).subquery().c) for g in group_ids]
        statement = parts[0] if len(parts) == 1 else union_all(*parts)
        return list((await self.session.execute(statement)).all())

    async def _counts(self, query: Select[Any, Any]) -> dict[int, int]:
        return {key: int(count) for key, count in (await self.session.execute(query)).all()}

    async def planned(self, scheduled_for: datetime) -> set[int]:
        """Ids of the people who have a scheduled digest record for this time (any status)."""
        result = await self.session.execute(
            select(Delivery.person_id).where(
                Delivery.scheduled_for == scheduled_for, Delivery.kind == DeliveryKind.DIGEST
            )
        )
        return set(result.scalars().all())

    # --- members ---------------------------------------------------------------

    async def member_counts(self, group_ids: Sequence[int]) -> dict[int, int]:
        """Approved members now, per group."""
        return await self._counts(
            select(Membership.group_id, func.count())
            .where(Membership.group_id.in_(group_ids), Membership.status == MembershipStatus.APPROVED)
            .group_by(Membership.group_id)
        )

    async def _people(
        self,
        group_ids: Sequence[int],
        condition: Any,
        key: Any,
        descending: bool,
        limit: int,
    ) -> tuple[dict[int, int], dict[int, list[PersonRow]]]:
        """Memberships matching `condition`: how many per group, and per group the
        first `limit` people by the datetime column `key`."""
        counts = await self._counts(
            select(Membership.group_id, func.count())
            .where(Membership.group_id.in_(group_ids), condition)
            .group_by(Membership.group_id)
        )

        def per_group(group_id: int) -> Select[*tuple[Any, ...]]:
            # The first `limit` memberships first, then their people (not all people, then sorted).
            chosen = (
                select(Membership.group_id, key.label("key"), Membership.person_id)
                .where(Membership.group_id == group_id, condition)
                .order_by(key.desc() if descending else key.asc(), Membership.person_id)
                .limit(limit)
                .subquery()
            )
            return select(
                chosen.c.group_id,
                chosen.c.key,
                Person.id,
                Person.display_name,
                Person.username,
                Person.organisation,
                Person.telegram_id,
            ).join(Person, Person.id == chosen.c.person_id)

        found: dict[int, list[tuple[datetime, int, PersonRow]]] = {g: [] for g in group_ids}
        for group_id, at, person_id, name, username, organisation, telegram_id in await self._top(
            [g for g in group_ids if counts.get(g)], per_group
        ):
            moment = _aware(at) or datetime.min.replace(tzinfo=UTC)
            found[group_id].append((moment, person_id, _person(name, username, organisation, telegram_id)))
        lists: dict[int, list[PersonRow]] = {}
        for group_id, rows in found.items():
            rows.sort(key=lambda row: (row[0], -row[1] if descending else row[1]), reverse=descending)
            lists[group_id] = [person for _, _, person in rows]
        return counts, lists

    async def joined(
        self, group_ids: Sequence[int], start: datetime, end: datetime, limit: int
    ) -> tuple[dict[int, int], dict[int, list[PersonRow]]]:
        """Members approved in (start, end] (also those who left since), newest first."""
        condition = and_(
            Membership.status.in_((MembershipStatus.APPROVED, MembershipStatus.LEFT)),
            Membership.decided_at > start,
            Membership.decided_at <= end,
        )
        return await self._people(group_ids, condition, Membership.decided_at, True, limit)

    async def departed(
        self, group_ids: Sequence[int], start: datetime, end: datetime, limit: int
    ) -> tuple[dict[int, int], dict[int, list[PersonRow]]]:
        """Members who left in (start, end], newest first."""
        condition = and_(
            Membership.status == MembershipStatus.LEFT, Membership.left_at > start, Membership.left_at <= end
        )
        return await self._people(group_ids, condition, Membership.left_at, True, limit)

    async def pending(self, group_ids: Sequence[int], limit: int) -> tuple[dict[int, int], dict[int, list[PersonRow]]]:
        """Open join requests, the longest waiting first."""
        return await self._people(
            group_ids, Membership.status == MembershipStatus.PENDING, Membership.requested_at, False, limit
        )

    async def unreachable(self, group_ids: Sequence[int], limit: int) -> tuple[dict[int, int], dict[int, list[PersonRow]]]:
        """Approved members Telegram does not deliver to (they blocked the bot), the
        newest members first. (`> epoch` rather than IS NOT NULL: SQLite then takes the
        few unreachable people from their index.)"""
        unreachable = select(Person.id).where(Person.unreachable_since > _EPOCH)
        condition = and_(Membership.status == MembershipStatus.APPROVED, Membership.person_id.in_(unreachable))
        return await self._people(group_ids, condition, Membership.decided_at, True, limit)

    # --- sessions -------------------------------------------------------------

    async def sessions(
        self, group_ids: Sequence[int], after: datetime, before: datetime, limit: int, latest_first: bool
    ) -> tuple[dict[int, int], dict[int, list[SessionRow]]]:
        """Scheduled sessions starting in (after, before]: how many per group, and
        `limit` per group (the latest or the earliest first)."""
        condition = and_(
            Occurrence.status == OccurrenceStatus.SCHEDULED,
            Occurrence.starts_at > after,
            Occurrence.starts_at <= before,
        )
        counts = await self._counts(
            select(Meeting.group_id, func.count())
            .join(Occurrence, Occurrence.meeting_id == Meeting.id)
            .where(_by_time(Meeting.group_id).in_(group_ids), condition)
            .group_by(Meeting.group_id)
        )
        order = (Occurrence.starts_at.desc(), Occurrence.id.desc()) if latest_first else (Occurrence.starts_at, Occurrence.id)

        def per_group(group_id: int) -> Select[*tuple[Any, ...]]:
            return (
                select(Occurrence.id, Meeting.group_id, Meeting.title, Occurrence.starts_at, Meeting.timezone)
                .join(Meeting, Meeting.id == Occurrence.meeting_id)
                .where(_by_time(Meeting.group_id) == group_id, condition)
                .order_by(*order)
                .limit(limit)
            )

        lists: dict[int, list[SessionRow]] = {g: [] for g in group_ids}
        for row in await self._top([g for g in group_ids if counts.get(g)], per_group):
            lists[row[1]].append(SessionRow(row[0], row[1], row[2], _aware(row[3]), row[4]))  # type: ignore[arg-type]
        for rows in lists.values():
            rows.sort(key=lambda s: (s.starts_at, s.id), reverse=latest_first)
        return counts, lists

    async def rsvp_counts(self, occurrence_ids: Iterable[int]) -> dict[int, Counter[RsvpAnswer]]:
        ids = list(occurrence_ids)
        found: dict[int, Counter[RsvpAnswer]] = {i: Counter() for i in ids}
        if ids:
            result = await self.session.execute(
                select(Rsvp.occurrence_id, Rsvp.answer, func.count())
                .where(Rsvp.occurrence_id.in_(ids))
                .group_by(Rsvp.occurrence_id, Rsvp.answer)
            )
            for occurrence_id, answer, count in result.all():
                found[occurrence_id][RsvpAnswer(answer)] = int(count)
        return found

    async def agenda_counts(self, occurrence_ids: Iterable[int]) -> dict[int, int]:
        """Items on each session's agenda (proposed or accepted)."""
        ids = list(occurrence_ids)
        found = dict.fromkeys(ids, 0)
        if ids:
            found.update(
                await self._counts(
                    select(AgendaItem.occurrence_id, func.count())
                    .where(AgendaItem.occurrence_id.in_(ids), AgendaItem.status.in_(OPEN_ITEMS))
                    .group_by(AgendaItem.occurrence_id)
                )
            )
        return found

    def _no_agenda(self) -> Any:
        return ~(
            select(AgendaItem.id)
            .where(AgendaItem.occurrence_id == Occurrence.id, AgendaItem.status.in_(OPEN_ITEMS))
            .exists()
        )

    async def without_agenda(
        self, group_ids: Sequence[int], after: datetime, until: datetime, limit: int
    ) -> tuple[int, list[SessionRow]]:
        """Scheduled sessions starting in (after, until] with nothing on their agenda: how many, the first `limit`."""
        condition = and_(
            _by_time(Meeting.group_id).in_(group_ids),
            Occurrence.status == OccurrenceStatus.SCHEDULED,
            Occurrence.starts_at > after,
            Occurrence.starts_at <= until,
            self._no_agenda(),
        )
        query = (
            select(
                Occurrence.id,
                Meeting.group_id,
                Meeting.title,
                Occurrence.starts_at,
                Meeting.timezone,
                func.count().over().label("total"),
            )
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .where(condition)
            .order_by(Occurrence.starts_at, Occurrence.id)
            .limit(limit)
        )
        rows = (await self.session.execute(query)).all()
        sessions = [SessionRow(r[0], r[1], r[2], _aware(r[3]), r[4]) for r in rows]  # type: ignore[arg-type]
        return (int(rows[0][5]) if rows else 0), sessions

    async def few_confirmations(
        self, group_ids: Sequence[int], after: datetime, until: datetime, limit: int
    ) -> tuple[int, list[tuple[SessionRow, int, int]]]:
        """Scheduled sessions starting in (after, until] with fewer Zusagen than a third of
        their group's approved members (and at least one): how many, and the first `limit`
        with (session, Zusagen, members)."""
        members = (
            select(Membership.group_id.label("group_id"), func.count().label("members"))
            .where(Membership.group_id.in_(group_ids), Membership.status == MembershipStatus.APPROVED)
            .group_by(Membership.group_id)
            .subquery()
        )
        yes = (
            select(func.count())
            .where(Rsvp.occurrence_id == Occurrence.id, Rsvp.answer == RsvpAnswer.YES)
            .correlate(Occurrence)
            .scalar_subquery()
        )
        sessions = (
            select(
                Occurrence.id.label("id"),
                Meeting.group_id.label("group_id"),
                Meeting.title.label("title"),
                Occurrence.starts_at.label("starts_at"),
                Meeting.timezone.label("timezone"),
                yes.label("yes"),
                func.coalesce(members.c.members, 0).label("members"),
            )
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .outerjoin(members, members.c.group_id == Meeting.group_id)
            .where(
                _by_time(Meeting.group_id).in_(group_ids),
                Occurrence.status == OccurrenceStatus.SCHEDULED,
                Occurrence.starts_at > after,
                Occurrence.starts_at <= until,
            )
            .subquery()
        )
        query = (
            select(sessions, func.count().over().label("total"))
            .where(or_(sessions.c.yes * 3 < sessions.c.members, sessions.c.yes < 1))
            .order_by(sessions.c.starts_at, sessions.c.id)
            .limit(limit)
        )
        rows = (await self.session.execute(query)).all()
        found = [
            (SessionRow(r.id, r.group_id, r.title, _aware(r.starts_at), r.timezone), int(r.yes), int(r.members))  # type: ignore[arg-type]
            for r in rows
        ]
        return (int(rows[0].total) if rows else 0), found

    # --- agenda items -----------------------------------------------------------

    async def new_items(
        self, group_ids: Sequence[int], start: datetime, end: datetime, limit: int
    ) -> tuple[dict[int, int], dict[int, list[ItemRow]]]:
        """Items proposed in (start, end] and not withdrawn: how many per group, the newest `limit`."""
        condition = and_(
            AgendaItem.created_at > start,
            AgendaItem.created_at <= end,
            AgendaItem.status != AgendaStatus.WITHDRAWN,
        )
        counts = await self._counts(
            select(AgendaItem.group_id, func.count())
            .where(AgendaItem.group_id.in_(group_ids), condition)
            .group_by(AgendaItem.group_id)
        )

        def per_group(group_id: int) -> Select[*tuple[Any, ...]]:
            return (
                select(
                    AgendaItem.id,
                    AgendaItem.group_id,
                    AgendaItem.text,
                    AgendaItem.status,
                    AgendaItem.created_at,
                    AgendaItem.author_id,
                    Person.display_name,
                    Person.username,
                    Person.organisation,
                    Person.telegram_id,
                )
                .outerjoin(Person, Person.id == AgendaItem.author_id)
                .where(AgendaItem.group_id == group_id, condition)
                .order_by(AgendaItem.created_at.desc(), AgendaItem.id.desc())
                .limit(limit)
            )

        lists: dict[int, list[ItemRow]] = {g: [] for g in group_ids}
        for r in await self._top([g for g in group_ids if counts.get(g)], per_group):
            author = None if r[5] is None else _person(r[6], r[7], r[8], r[9])
            lists[r[1]].append(ItemRow(r[0], r[1], r[2], AgendaStatus(r[3]), _aware(r[4]), author))  # type: ignore[arg-type]
        for rows in lists.values():
            rows.sort(key=lambda i: (i.created_at, i.id), reverse=True)
        return counts, lists

    # --- recommendations ----------------------------------------------------------

    async def open_recommendations(
        self, group_ids: Sequence[int], limit: int
    ) -> tuple[dict[int, int], dict[int, list[RecommendationRow]]]:
        """Open recommendations to each group: how many, and `limit` of them (the nearest
        deadline first, those without one last, then the newest)."""
        is_open = Recommendation.status == RecommendationStatus.OPEN
        counts = await self._counts(
            select(_rg.c.group_id, func.count())
            .join(Recommendation, Recommendation.id == _rg.c.recommendation_id)
            .where(_rg.c.group_id.in_(group_ids), is_open)
            .group_by(_rg.c.group_id)
        )

        def per_group(group_id: int) -> Select[*tuple[Any, ...]]:
            return (
                select(
                    _rg.c.group_id,
                    Recommendation.id,
                    Recommendation.text,
                    Recommendation.deadline,
                    Recommendation.created_at,
                )
                .join(Recommendation, Recommendation.id == _rg.c.recommendation_id)
                .where(_rg.c.group_id == group_id, is_open)
                .order_by(Recommendation.deadline.is_(None), Recommendation.deadline, Recommendation.id.desc())
                .limit(limit)
            )

        lists: dict[int, list[RecommendationRow]] = {g: [] for g in group_ids}
        for group_id, rid, text, deadline, created_at in await self._top(
            [g for g in group_ids if counts.get(g)], per_group
        ):
            lists[group_id].append(RecommendationRow(rid, text, _aware(deadline), _aware(created_at)))  # type: ignore[arg-type]
        far = datetime.max.replace(tzinfo=UTC)
        for rows in lists.values():
            rows.sort(key=lambda r: (r.deadline is None, r.deadline or far, -r.id))
        return counts, lists

    async def feedback(
        self, recommendation_ids: Iterable[int], start: datetime, end: datetime
    ) -> dict[int, FeedbackCounts]:
        """Per recommendation: the stances per value and the comments (as /feedback
        counts them), and how many of both came in (start, end]."""
        ids = sorted(set(recommendation_ids))
        if not ids:
            return {}
        tallies: dict[int, Counter[StanceValue]] = {i: Counter() for i in ids}
        new: Counter[int] = Counter()
        stances = await self.session.execute(
            select(
                Stance.recommendation_id,
                Stance.value,
                func.count(),
                func.count().filter(Stance.answered_at > start, Stance.answered_at <= end),
            )
            .where(Stance.recommendation_id.in_(ids))
            .group_by(Stance.recommendation_id, Stance.value)
        )
        for rid, value, count, fresh in stances.all():
            tallies[rid][StanceValue(value)] = int(count)
            new[rid] += int(fresh)
        written: Counter[int] = Counter()
        comments = await self.session.execute(
            select(
                Comment.recommendation_id,
                func.count(),
                func.count().filter(Comment.created_at > start, Comment.created_at <= end),
            )
            .where(Comment.recommendation_id.in_(ids))
            .group_by(Comment.recommendation_id)
        )
        for rid, count, fresh in comments.all():
            written[rid] = int(count)
            new[rid] += int(fresh)
        return {i: FeedbackCounts(tallies[i], written[i], new[i]) for i in ids}

    async def any_new_feedback(self, group_ids: Sequence[int], start: datetime, end: datetime) -> bool:
        """Whether a stance was given or a comment written in (start, end] on an open
        recommendation to one of these groups (EXISTS: stops at the first one)."""
        if not group_ids:
            return False
        for model, at in ((Stance, Stance.answered_at), (Comment, Comment.created_at)):
            found = await self.session.scalar(
                select(
                    select(model.id)
                    .join(Recommendation, Recommendation.id == model.recommendation_id)
                    .where(
                        at > start,
                        at <= end,
                        Recommendation.status == RecommendationStatus.OPEN,
                        Recommendation.id.in_(
                            select(_rg.c.recommendation_id).where(_rg.c.group_id.in_(group_ids))
                        ),
                    )
                    .exists()
                )
            )
            if found:
                return True
        return False

    async def latest_comments(self, recommendation_ids: Iterable[int], limit: int) -> dict[int, list[CommentRow]]:
        """Per recommendation: the newest `limit` comments with their authors."""
        ids = sorted(set(recommendation_ids))
        if not ids:
            return {}
        parts = []
        for rid in ids:
            query = (
                select(
                    Comment.recommendation_id,
                    Comment.id,
                    Comment.text,
                    Comment.created_at,
                    Comment.person_id,
                    Person.display_name,
                    Person.username,
                    Person.organisation,
                    Person.telegram_id,
                )
                .outerjoin(Person, Person.id == Comment.person_id)
                .where(Comment.recommendation_id == rid)
                .order_by(Comment.created_at.desc(), Comment.id.desc())
                .limit(limit)
                .subquery()
            )
            parts.append(select(*query.c))
        statement = parts[0] if len(parts) == 1 else union_all(*parts)
        found: dict[int, list[tuple[datetime, int, CommentRow]]] = {i: [] for i in ids}
        for rid, cid, text, created_at, person_id, name, username, organisation, telegram_id in (
            await self.session.execute(statement)
        ).all():
            moment = _aware(created_at)
            assert moment is not None
            author = _person(name, username, organisation, telegram_id if person_id is not None else None)
            found[rid].append((moment, cid, CommentRow(text, moment, author)))
        result: dict[int, list[CommentRow]] = {}
        for rid, rows in found.items():
            rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
            result[rid] = [comment for _, _, comment in rows]
        return result

    async def deadlines_between(
        self, group_ids: Sequence[int], after: datetime, until: datetime, limit: int
    ) -> tuple[int, list[RecommendationRow]]:
        """Open recommendations to any of these groups whose deadline is in (after, until]."""
        condition = and_(
            Recommendation.status == RecommendationStatus.OPEN,
            Recommendation.deadline > after,
            Recommendation.deadline <= until,
            Recommendation.id.in_(select(_rg.c.recommendation_id).where(_rg.c.group_id.in_(group_ids))),
        )
        total = await self.session.scalar(select(func.count(Recommendation.id)).where(condition))
        result = await self.session.execute(
            select(Recommendation.id, Recommendation.text, Recommendation.deadline, Recommendation.created_at)
            .where(condition)
            .order_by(Recommendation.deadline, Recommendation.id)
            .limit(limit)
        )
        rows = [RecommendationRow(i, t, _aware(d), _aware(c)) for i, t, d, c in result.all()]  # type: ignore[arg-type]
        return int(total or 0), rows

    async def not_answered(
        self, recommendation_ids: Sequence[int], group_ids: Sequence[int], limit: int
    ) -> dict[int, tuple[int, list[PersonRow]]]:
        """Per recommendation: the approved members of its target groups among `group_ids`
        who gave no stance and wrote no comment: how many, and `limit` of them (the
        first registered). One pass over the target members for all recommendations:
        a window count and rank per recommendation; only the first `limit` are joined
        with their names."""
        found: dict[int, tuple[int, list[PersonRow]]] = {i: (0, []) for i in recommendation_ids}
        if not recommendation_ids or not group_ids:
            return found
        rid, pid = _rg.c.recommendation_id, Membership.person_id
        answered = or_(
            select(Stance.id).where(Stance.recommendation_id == rid, Stance.person_id == pid).exists(),
            select(Comment.id).where(Comment.recommendation_id == rid, Comment.person_id == pid).exists(),
        )
        # Each target member once: the membership in the first of their target groups
        # (a NOT EXISTS probe instead of a DISTINCT over every membership).
        earlier = aliased(Membership)
        earlier_target = aliased(_rg)
        first_membership = ~(
            select(earlier.id)
            .join(
                earlier_target,
                and_(earlier_target.c.group_id == earlier.group_id, earlier_target.c.recommendation_id == rid),
            )
            .where(
                earlier.person_id == pid,
                earlier.group_id < Membership.group_id,
                earlier.status == MembershipStatus.APPROVED,
                earlier.group_id.in_(group_ids),
            )
            .exists()
        )
        waiting = (
            select(
                rid.label("rid"),
                pid.label("pid"),
                func.row_number().over(partition_by=rid, order_by=pid).label("rank"),
                func.count().over(partition_by=rid).label("total"),
            )
            .join(Membership, Membership.group_id == _rg.c.group_id)
            .where(
                rid.in_(recommendation_ids),
                Membership.group_id.in_(group_ids),
                Membership.status == MembershipStatus.APPROVED,
                ~answered,
                first_membership,
            )
            .subquery()
        )
        result = await self.session.execute(
            select(
                waiting.c.rid,
                waiting.c.total,
                Person.display_name,
                Person.username,
                Person.organisation,
                Person.telegram_id,
            )
            .join(Person, Person.id == waiting.c.pid)
            .where(waiting.c.rank <= limit)
        )
        totals: dict[int, int] = {}
        lists: dict[int, list[PersonRow]] = {}
        for recommendation_id, total, display_name, username, organisation, telegram_id in result.all():
            totals[recommendation_id] = int(total)
            lists.setdefault(recommendation_id, []).append(_person(display_name, username, organisation, telegram_id))
        for recommendation_id, total in totals.items():
            found[recommendation_id] = (total, sorted(lists[recommendation_id], key=lambda p: p.name.casefold()))
        return found
