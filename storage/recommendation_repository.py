"""The queries of recommendations, stances and comments (no commits; the unit of work commits).

"Answered" means a stance or at least one comment, everywhere: in the list
of what waits for a member, in the reminder before the deadline, in the
count of those who did not answer, and for who is told the outcome.
Tallies and counts are computed by the database (GROUP BY), never by
loading rows. Target members are approved members of a target group who
can still be reached on Telegram (a forgotten person has no Telegram id).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, or_, select, union, update
from sqlalchemy.orm import selectinload

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


def _answered(recommendation_id: ColumnElement[int], person_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Whether this person gave a stance on, or commented, this recommendation (correlated)."""
    return or_(
        select(Stance.id)
        .where(Stance.recommendation_id == recommendation_id, Stance.person_id == person_id)
        .exists(),
        select(Comment.id)
        .where(Comment.recommendation_id == recommendation_id, Comment.person_id == person_id)
        .exists(),
    )


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

    async def target_people(self, group_ids: Iterable[int]) -> list[int]:
        """Ids of the distinct reachable approved members of these groups (one per person)."""
        ids = list(group_ids)
        if not ids:
            return []
        result = await self.session.execute(
            select(Membership.person_id)
            .join(Person, Person.id == Membership.person_id)
            .where(
                Membership.group_id.in_(ids),
                Membership.status == MembershipStatus.APPROVED,
                Person.telegram_id.is_not(None),
            )
            .distinct()
            .order_by(Membership.person_id)
        )
        return list(result.scalars().all())

    async def is_target_member(self, recommendation_id: int, person_id: int) -> bool:
        """Whether the person is, now, an approved member of one of the target groups."""
        found = await self.session.scalar(
            select(Membership.id)
            .join(_rg, _rg.c.group_id == Membership.group_id)
            .where(
                _rg.c.recommendation_id == recommendation_id,
                Membership.person_id == person_id,
                Membership.status == MembershipStatus.APPROVED,
            )
            .limit(1)
        )
        return found is not None

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
        query = union(
            select(Stance.recommendation_id, Stance.person_id).where(
                Stance.recommendation_id.in_(recs), Stance.person_id.in_(people)
            ),
            select(Comment.recommendation_id, Comment.person_id).where(
                Comment.recommendation_id.in_(recs), Comment.person_id.in_(people)
            ),
        )
        result = await self.session.execute(query)
        return {(r, not_null(p)) for r, p in result.all()}

    async def answered_people(self, recommendation_id: int) -> list[int]:
        """Ids of the reachable people who gave a stance or commented."""
        answered = union(
            select(Stance.person_id).where(Stance.recommendation_id == recommendation_id),
            select(Comment.person_id).where(Comment.recommendation_id == recommendation_id),
        ).subquery()
        result = await self.session.execute(
            select(Person.id)
            .where(Person.id.in_(select(answered.c.person_id)), Person.telegram_id.is_not(None))
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
            or_(Recommendation.deadline.is_(None), Recommendation.deadline > now),
            Recommendation.id.in_(targeted),
            Recommendation.id.not_in(select(Stance.recommendation_id).where(Stance.person_id == person_id)),
            Recommendation.id.not_in(select(Comment.recommendation_id).where(Comment.person_id == person_id)),
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
            result = await self.session.execute(
                select(Stance.recommendation_id, Stance.value, func.count(Stance.id))
                .where(Stance.recommendation_id.in_(ids))
                .group_by(Stance.recommendation_id, Stance.value)
            )
            for recommendation_id, value, count in result.all():
                found[recommendation_id][StanceValue(value)] = int(count)
        return found

    async def comment_counts(self, recommendation_ids: Iterable[int]) -> dict[int, int]:
        ids = list(recommendation_ids)
        found = dict.fromkeys(ids, 0)
        if ids:
            result = await self.session.execute(
                select(Comment.recommendation_id, func.count(Comment.id))
                .where(Comment.recommendation_id.in_(ids))
                .group_by(Comment.recommendation_id)
            )
            found.update({r: int(c) for r, c in result.all()})
        return found

    async def member_counts(self, recommendation_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """Per recommendation: (target members now, how many of them answered)."""
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
            )
            .distinct()
            .subquery()
        )
        answered = _answered(members.c.recommendation_id, members.c.person_id)
        result = await self.session.execute(
            select(
                members.c.recommendation_id,
                func.count(members.c.person_id),
                func.count(members.c.person_id).filter(answered),
            ).group_by(members.c.recommendation_id)
        )
        found.update({r: (int(total), int(done)) for r, total, done in result.all()})
        return found

    async def latest_comments(self, recommendation_id: int, limit: int) -> list[tuple[Comment, Person | None]]:
        """The newest comments with their authors (None: the author's row is gone)."""
        result = await self.session.execute(
            select(Comment, Person)
            .outerjoin(Person, Person.id == Comment.person_id)
            .where(Comment.recommendation_id == recommendation_id)
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(limit)
        )
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
