"""The queries of recommendations, stances and comments (no commits; the unit of work commits).

"Answered" means a stance or at least one comment, everywhere: in the list
of what waits for a member, in the reminder before the deadline, in the
count of those who did not answer, and for who is told the outcome.
Tallies and counts are computed by the database (GROUP BY), never by
loading rows. Target members are approved members of a target group who
can still be reached on Telegram (a forgotten person has no Telegram id).

The feedback on a recommendation is defined once, here, for every view of
it (`/feedback`, the digest, the report): what counts as an answer
(`ANSWERS`, `answered`, `answers`), the tally of stances (`stance_tally`),
the number of comments (`comment_count`) and which comments are the latest
(`NEWEST_COMMENTS_FIRST`, `newest_comments`, `newest_comment_rank`).

Who counts as asked (`addressed`): a target member counts among those who
should answer (and so as "ohne Antwort" until they do) from the moment the
recommendation was sent to them: on publication, or later, *nachträglich*,
when they joined a target group afterwards. Someone who joined after it went
out and was not sent it yet (or joined after the deadline) does not count,
unless they answered. "Before the deadline" in a query is `before_deadline`
(the deadline's minute included, as `bot.core.recommendation_screening` says).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    SQLColumnExpression,
    func,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from storage.models import (
    Comment,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Membership,
    MembershipStatus,
    Person,
    Recommendation,
    RecommendationStatus,
    Stance,
    StanceValue,
    recommendation_groups,
)
from storage.repositories import _Repository, is_id, not_null, rowcount

_rg = recommendation_groups

# --- the feedback on a recommendation: one definition for every view -----------

ANSWERS: tuple[tuple[type[Stance] | type[Comment], InstrumentedAttribute[datetime]], ...] = (
    (Stance, Stance.answered_at),
    (Comment, Comment.created_at),
)
"""What answers a recommendation, with the moment it was given: a stance, or a comment."""


def target_member(
    recommendation_id: SQLColumnExpression[int] | int, person_id: SQLColumnExpression[int] | int
) -> ColumnElement[bool]:
    """Whether the person is, now, an approved member of one of the recommendation's
    target groups (EXISTS)."""
    return (
        select(Membership.id)
        .join(_rg, _rg.c.group_id == Membership.group_id)
        .where(
            _rg.c.recommendation_id == recommendation_id,
            Membership.person_id == person_id,
            Membership.status == MembershipStatus.APPROVED,
        )
        .exists()
    )


def answered(
    recommendation_id: SQLColumnExpression[int] | int, person_id: SQLColumnExpression[int] | int
) -> ColumnElement[bool]:
    """Whether this person answered this recommendation (`ANSWERS`; correlated EXISTS)."""
    return or_(
        *(
            select(model.id).where(model.recommendation_id == recommendation_id, model.person_id == person_id).exists()
            for model, _ in ANSWERS
        )
    )


def answers(
    recommendation_ids: Iterable[int],
    *,
    person_ids: Iterable[int] | None = None,
    until: datetime | None = None,
) -> CompoundSelect[int, int | None]:
    """(recommendation_id, person_id) of the answers (`ANSWERS`) to these
    recommendations, each pair once: by these people only (`person_ids`), given
    before `until` only. A person erased with /forget answers as NULL."""
    recs = list(recommendation_ids)
    people = None if person_ids is None else list(person_ids)
    parts = []
    for model, given_at in ANSWERS:
        part = select(model.recommendation_id.label("recommendation_id"), model.person_id.label("person_id")).where(
            model.recommendation_id.in_(recs)
        )
        if people is not None:
            part = part.where(model.person_id.in_(people))
        if until is not None:
            part = part.where(given_at < until)
        parts.append(part)
    return union(*parts)


SENT_KINDS = (DeliveryKind.RECOMMENDATION, DeliveryKind.RECOMMENDATION_LATE)
"""The messages that put a recommendation to a member (on publication, or later)."""


def addressed(
    recommendation_id: SQLColumnExpression[int] | int, person_id: SQLColumnExpression[int] | int
) -> ColumnElement[bool]:
    """Whether the recommendation was sent (or is on its way) to this person: a
    message of `SENT_KINDS` that was not dropped (correlated EXISTS)."""
    return (
        select(Delivery.id)
        .where(
            Delivery.recommendation_id == recommendation_id,
            Delivery.person_id == person_id,
            Delivery.kind.in_(SENT_KINDS),
            Delivery.status != DeliveryStatus.SKIPPED,
        )
        .exists()
    )


def before_deadline(now: datetime) -> ColumnElement[bool]:
    """The recommendation has no deadline or `now` is before its end (the deadline's minute included)."""
    return or_(Recommendation.deadline.is_(None), Recommendation.deadline > now - timedelta(minutes=1))


def stance_tally(recommendation_ids: Iterable[int]) -> Select[int, StanceValue, int]:
    """(recommendation_id, value, count): the stances per value of each recommendation
    (one per person: a new stance replaces the old one). Add `.where(...)` to count
    only some (given before a moment)."""
    return (
        select(Stance.recommendation_id, Stance.value, func.count(Stance.id))
        .where(Stance.recommendation_id.in_(list(recommendation_ids)))
        .group_by(Stance.recommendation_id, Stance.value)
    )


def comment_count(recommendation_ids: Iterable[int]) -> Select[int, int]:
    """(recommendation_id, count): the comments on each recommendation (those that have any)."""
    return (
        select(Comment.recommendation_id, func.count(Comment.id))
        .where(Comment.recommendation_id.in_(list(recommendation_ids)))
        .group_by(Comment.recommendation_id)
    )


NEWEST_COMMENTS_FIRST = (Comment.created_at.desc(), Comment.id.desc())
"""The order of "the latest comments": the newest first, the later one first at the same moment."""


def newest_comments(recommendation_id: int, limit: int, *columns: Any) -> Select[*tuple[Any, ...]]:
    """`columns` (of `Comment` and its author `Person`) of the newest `limit` comments
    on one recommendation, newest first. The author is outer-joined: their row may
    be gone."""
    return (
        select(*columns)
        .select_from(Comment)
        .outerjoin(Person, Person.id == Comment.person_id)
        .where(Comment.recommendation_id == recommendation_id)
        .order_by(*NEWEST_COMMENTS_FIRST)
        .limit(limit)
    )


def newest_comment_rank() -> ColumnElement[int]:
    """The place of a comment among those on its recommendation, from 1 for the newest
    (a window: the latest comments of many recommendations in one query)."""
    return func.row_number().over(partition_by=Comment.recommendation_id, order_by=NEWEST_COMMENTS_FIRST)


class RecommendationRepository(_Repository):
    """Recommendations with their target groups, stances and comments."""

    _eager = (selectinload(Recommendation.groups),)

    async def get(self, recommendation_id: int) -> Recommendation | None:
        """One recommendation with its target groups."""
        if not is_id(recommendation_id):
            return None
        result = await self.session.execute(
            select(Recommendation).where(Recommendation.id == recommendation_id).options(*self._eager)
        )
        return result.scalar_one_or_none()

    # --- who receives, who may answer ------------------------------------

    async def is_target_member(self, recommendation_id: int, person_id: int) -> bool:
        """Whether the person is, now, an approved member of one of the target groups."""
        return bool(await self.session.scalar(select(target_member(recommendation_id, person_id))))

    async def for_answer(
        self, recommendation_id: int, person_id: int
    ) -> tuple[Recommendation, bool, Stance | None] | None:
        """What a person's answer needs, in one query: the recommendation (without its
        groups), whether the person is a target member (`is_target_member`), and
        their stance so far (None: none yet). None: no such recommendation."""
        if not is_id(recommendation_id):
            return None
        row = (
            await self.session.execute(
                select(Recommendation, target_member(Recommendation.id, person_id), Stance)
                .outerjoin(Stance, (Stance.recommendation_id == Recommendation.id) & (Stance.person_id == person_id))
                .where(Recommendation.id == recommendation_id)
            )
        ).one_or_none()
        if row is None:
            return None
        recommendation, target, stance = row
        return recommendation, bool(target), stance

    async def target_group_ids(self, recommendation_ids: Iterable[int]) -> dict[int, set[int]]:
        ids = list(recommendation_ids)
        found: dict[int, set[int]] = {i: set() for i in ids}
        if ids:
            result = await self.session.execute(
                select(_rg.c.recommendation_id, _rg.c.group_id).where(_rg.c.recommendation_id.in_(ids))
            )
            for recommendation_id, group_id in result.all():
                found[recommendation_id].add(group_id)
        return found

    async def answered_pairs(
        self, recommendation_ids: Iterable[int], person_ids: Iterable[int]
    ) -> set[tuple[int, int]]:
        """(recommendation id, person id) of these people who answered these recommendations."""
        recs, people = list(recommendation_ids), list(person_ids)
        if not recs or not people:
            return set()
        result = await self.session.execute(answers(recs, person_ids=people))
        return {(r, not_null(p)) for r, p in result.all()}

    async def answered_people(self, recommendation_id: int) -> list[int]:
        """Ids of the reachable people who gave a stance or commented."""
        given = answers([recommendation_id]).subquery()
        result = await self.session.execute(
            select(Person.id)
            .where(Person.id.in_(select(given.c.person_id)), Person.telegram_id.is_not(None))
            .order_by(Person.id)
        )
        return list(result.scalars().all())

    # --- what waits for a member ----------------------------------------

    def _waiting(self, person_id: int, now: datetime) -> Select[Recommendation]:
        targeted = (
            select(_rg.c.recommendation_id)
            .join(Membership, Membership.group_id == _rg.c.group_id)
            .where(Membership.person_id == person_id, Membership.status == MembershipStatus.APPROVED)
        )
        return select(Recommendation).where(
            Recommendation.status == RecommendationStatus.OPEN,
            before_deadline(now),
            Recommendation.id.in_(targeted),
            ~answered(Recommendation.id, person_id),
        )

    async def waiting_for(self, person_id: int, now: datetime, limit: int) -> tuple[Sequence[Recommendation], int]:
        """Open recommendations to the person's groups, deadline not passed, not answered:
        the first `limit` (the nearest deadline first, open-ended ones last) and how many in all."""
        query = self._waiting(person_id, now)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        result = await self.session.execute(
            query.options(*self._eager)
            .order_by(Recommendation.deadline.is_(None), Recommendation.deadline, Recommendation.id)
            .limit(limit)
        )
        return result.scalars().all(), int(total or 0)

    # --- the coordination's view -----------------------------------------

    async def open_ones(self, limit: int) -> tuple[Sequence[Recommendation], int]:
        """The open recommendations, newest first: the first `limit` and how many in all."""
        condition = Recommendation.status == RecommendationStatus.OPEN
        total = await self.session.scalar(select(func.count(Recommendation.id)).where(condition))
        result = await self.session.execute(
            select(Recommendation)
            .where(condition)
            .options(*self._eager)
            .order_by(Recommendation.created_at.desc(), Recommendation.id.desc())
            .limit(limit)
        )
        return result.scalars().all(), int(total or 0)

    async def tallies(self, recommendation_ids: Iterable[int]) -> dict[int, Counter[StanceValue]]:
        """Stances per value, per recommendation."""
        ids = list(recommendation_ids)
        found: dict[int, Counter[StanceValue]] = {i: Counter() for i in ids}
        if ids:
            result = await self.session.execute(stance_tally(ids))
            for recommendation_id, value, count in result.all():
                found[recommendation_id][StanceValue(value)] = int(count)
        return found

    async def comment_counts(self, recommendation_ids: Iterable[int]) -> dict[int, int]:
        ids = list(recommendation_ids)
        found = dict.fromkeys(ids, 0)
        if ids:
            result = await self.session.execute(comment_count(ids))
            found.update({r: int(c) for r, c in result.all()})
        return found

    async def member_counts(self, recommendation_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """Per recommendation: (target members now who were sent it or answered (`addressed`),
        how many of them answered)."""
        ids = list(recommendation_ids)
        found = dict.fromkeys(ids, (0, 0))
        if not ids:
            return found
        members = (
            select(_rg.c.recommendation_id.label("recommendation_id"), Membership.person_id.label("person_id"))
            .join(Membership, Membership.group_id == _rg.c.group_id)
            .join(Person, Person.id == Membership.person_id)
            .where(
                _rg.c.recommendation_id.in_(ids),
                Membership.status == MembershipStatus.APPROVED,
                Person.telegram_id.is_not(None),
                or_(
                    addressed(_rg.c.recommendation_id, Membership.person_id),
                    answered(_rg.c.recommendation_id, Membership.person_id),
                ),
            )
            .distinct()
            .subquery()
        )
        result = await self.session.execute(
            select(
                members.c.recommendation_id,
                func.count(members.c.person_id),
                func.count(members.c.person_id).filter(answered(members.c.recommendation_id, members.c.person_id)),
            ).group_by(members.c.recommendation_id)
        )
        found.update({r: (int(total), int(done)) for r, total, done in result.all()})
        return found

    async def latest_comments(self, recommendation_id: int, limit: int) -> list[tuple[Comment, Person | None]]:
        """The newest comments with their authors (None: the author's row is gone)."""
        result = await self.session.execute(newest_comments(recommendation_id, limit, Comment, Person))
        return [(comment, person) for comment, person in result.all()]

    # --- one member's answer ---------------------------------------------

    async def stance(self, recommendation_id: int, person_id: int) -> Stance | None:
        result = await self.session.execute(
            select(Stance).where(Stance.recommendation_id == recommendation_id, Stance.person_id == person_id)
        )
        return result.scalar_one_or_none()

    async def stances_by_person(self, recommendation_id: int) -> dict[int, StanceValue]:
        """Every stance on one recommendation, by person (to mark each member's buttons)."""
        result = await self.session.execute(
            select(Stance.person_id, Stance.value).where(
                Stance.recommendation_id == recommendation_id, Stance.person_id.is_not(None)
            )
        )
        return {not_null(person_id): StanceValue(value) for person_id, value in result.all()}

    async def comment_count_of(self, recommendation_id: int, person_id: int) -> int:
        count = await self.session.scalar(
            select(func.count(Comment.id)).where(
                Comment.recommendation_id == recommendation_id, Comment.person_id == person_id
            )
        )
        return int(count or 0)

    # --- late joiners, the silent, a new deadline ------------------------------

    async def late_joiners(self, now: datetime) -> list[tuple[int, int]]:
        """(recommendation id, person id): reachable approved members of the target groups
        of recommendations still taking answers, who were never sent it and have not answered."""
        rid, pid = _rg.c.recommendation_id, Membership.person_id
        result = await self.session.execute(
            select(rid, pid)
            .join(Recommendation, Recommendation.id == rid)
            .join(Membership, Membership.group_id == _rg.c.group_id)
            .join(Person, Person.id == pid)
            .where(
                Recommendation.status == RecommendationStatus.OPEN,
                before_deadline(now),
                Membership.status == MembershipStatus.APPROVED,
                Person.telegram_id.is_not(None),
                ~select(Delivery.id)
                .where(Delivery.recommendation_id == rid, Delivery.person_id == pid, Delivery.kind.in_(SENT_KINDS))
                .exists(),
                ~answered(rid, pid),
            )
            .distinct()
            .order_by(rid, pid)
        )
        return [(r, p) for r, p in result.all()]

    async def silent_people(self, recommendation_id: int) -> list[int]:
        """Reachable approved target members who were sent it (`addressed`) and have not answered."""
        pid = Membership.person_id
        result = await self.session.execute(
            select(pid)
            .join(_rg, _rg.c.group_id == Membership.group_id)
            .join(Person, Person.id == pid)
            .where(
                _rg.c.recommendation_id == recommendation_id,
                Membership.status == MembershipStatus.APPROVED,
                Person.telegram_id.is_not(None),
                addressed(recommendation_id, pid),
                ~answered(recommendation_id, pid),
            )
            .distinct()
            .order_by(pid)
        )
        return list(result.scalars().all())

    async def owe_again(
        self, recommendation_id: int, person_ids: Iterable[int], kind: DeliveryKind, due_at: datetime
    ) -> None:
        """Make the message of `kind` to these people pending again, due at `due_at`
        (the record of (recommendation, person, kind) is one row: a reminder after a
        new deadline reuses it). People without such a row yet get none here."""
        people = list(person_ids)
        if people:
            await self.session.execute(
                update(Delivery)
                .where(
                    Delivery.recommendation_id == recommendation_id,
                    Delivery.kind == kind,
                    Delivery.person_id.in_(people),
                )
                .values(
                    status=DeliveryStatus.PENDING,
                    due_at=due_at,
                    sent_at=None,
                    attempts=0,
                    error=None,
                    claimed_by=None,
                )
                .execution_options(synchronize_session=False)
            )

    async def deadline_notified(self, recommendation_id: int) -> list[int]:
        """Who has a message after this recommendation's deadline (sent or not)."""
        result = await self.session.execute(
            select(Delivery.person_id).where(
                Delivery.recommendation_id == recommendation_id, Delivery.kind == DeliveryKind.DEADLINE_PASSED
            )
        )
        return list(result.scalars().all())

    # --- changes -----------------------------------------------------------

    async def close_if_open(self, recommendation_id: int, outcome: str, by_id: int, now: datetime) -> bool:
        """Close it unless it is closed already (one UPDATE, so two coordinators
        closing at once cannot both succeed)."""
        result = await self.session.execute(
            update(Recommendation)
            .where(Recommendation.id == recommendation_id, Recommendation.status == RecommendationStatus.OPEN)
            .values(status=RecommendationStatus.CLOSED, outcome=outcome, closed_at=now, closed_by_id=by_id)
        )
        return rowcount(result) == 1

    async def skip_pending(self, recommendation_id: int, kinds: Iterable[DeliveryKind], reason: str) -> int:
        """Drop the messages about it not sent yet."""
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.recommendation_id == recommendation_id,
                Delivery.kind.in_(list(kinds)),
                Delivery.status == DeliveryStatus.PENDING,
            )
            .values(status=DeliveryStatus.SKIPPED, error=reason)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)
