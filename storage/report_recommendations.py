"""The report's queries on the steering circle's recommendations and the feedback (no commits).

Part of `storage.report_repository.ReportRepository`. A stance or a comment
counts for a target group when its author was a member of that group
(`storage.report_groups.was_member`); each person's latest stance counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select

from storage.models import (
    Comment,
    Membership,
    Person,
    Recommendation,
    RecommendationStatus,
    Stance,
    StanceValue,
    recommendation_groups,
)
from storage.recommendation_repository import (
    answers,
    comment_count,
    newest_comment_rank,
    stance_tally,
)
from storage.report_groups import was_member
from storage.repositories import _Repository

_rg = recommendation_groups


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


def _current(start: datetime, until: datetime) -> ColumnElement[bool]:
    """Published before `until` and not closed before `start`."""
    return and_(
        Recommendation.created_at < until,
        or_(Recommendation.closed_at.is_(None), Recommendation.closed_at >= start),
    )


class RecommendationQueries(_Repository):
    """Recommendations under way in a period, the stances and comments on them."""

    async def recommendations(
        self, start: datetime, until: datetime, limit: int
    ) -> tuple[list[RecommendationRow], int]:
        """Recommendations under way in the period, oldest first: the first `limit` and how many in all.

        `closed_at` and `outcome` are only given when it was closed before `until`.
        """
        condition = _current(start, until)
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
            result = await self.session.execute(stance_tally(ids).where(Stance.answered_at < until))
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
                .where(Stance.recommendation_id.in_(ids), Stance.answered_at < until, was_member(until))
                .group_by(Stance.recommendation_id, _rg.c.group_id, Stance.value)
            )
            for recommendation_id, group_id, value, count in result.all():
                found.setdefault((recommendation_id, group_id), Counter())[StanceValue(value)] = int(count)
        return found

    async def comment_counts(self, recommendation_ids: Iterable[int], until: datetime) -> dict[int, int]:
        ids = list(recommendation_ids)
        found = dict.fromkeys(ids, 0)
        if ids:
            result = await self.session.execute(comment_count(ids).where(Comment.created_at < until))
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
            .where(Comment.recommendation_id.in_(ids), Comment.created_at < until, was_member(until))
            .group_by(Comment.recommendation_id, _rg.c.group_id)
        )
        return {(r, g): int(c) for r, g, c in result.all()}

    async def respondents(self, recommendation_ids: Iterable[int], until: datetime) -> dict[int, int]:
        """Per recommendation: distinct people who gave a stance or a comment."""
        ids = list(recommendation_ids)
        found = dict.fromkeys(ids, 0)
        if ids:
            given = answers(ids, until=until).subquery()
            result = await self.session.execute(
                select(given.c.recommendation_id, func.count(distinct(given.c.person_id))).group_by(
                    given.c.recommendation_id
                )
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
                newest_comment_rank().label("rank"),
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
