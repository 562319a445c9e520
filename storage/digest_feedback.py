"""The digest's queries about recommendations: the open ones per group, their
feedback (tally, comments, what came in the period, the latest comments),
those near their deadline, and who has not answered them (no commits).

What an answer, a tally and the latest comments are is defined once, in
`storage.recommendation_repository`; these queries use those definitions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased

from storage.digest_rows import (
    CommentRow,
    FeedbackCounts,
    PersonRow,
    RecommendationRow,
    aware,
    counts,
    person_row,
    top,
)
from storage.models import (
    Comment,
    Membership,
    MembershipStatus,
    Person,
    Recommendation,
    RecommendationStatus,
    Stance,
    StanceValue,
    recommendation_groups,
)
from storage.recommendation_repository import (
    ANSWERS,
    addressed,
    answered,
    comment_count,
    newest_comments,
    stance_tally,
)
from storage.repositories import _Repository

_rg = recommendation_groups


class FeedbackQueries(_Repository):
    """Open recommendations per group and their feedback, for the digest (part of `DigestRepository`)."""

    async def open_recommendations(
        self, group_ids: Sequence[int], limit: int
    ) -> tuple[dict[int, int], dict[int, list[RecommendationRow]]]:
        """Open recommendations to each group: how many, and `limit` of them (the nearest
        deadline first, those without one last, then the newest)."""
        is_open = Recommendation.status == RecommendationStatus.OPEN
        found_counts = await counts(
            self.session,
            select(_rg.c.group_id, func.count())
            .join(Recommendation, Recommendation.id == _rg.c.recommendation_id)
            .where(_rg.c.group_id.in_(group_ids), is_open)
            .group_by(_rg.c.group_id),
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
        for group_id, rid, text, deadline, created_at in await top(
            self.session, [g for g in group_ids if found_counts.get(g)], per_group
        ):
            lists[group_id].append(RecommendationRow(rid, text, aware(deadline), aware(created_at)))  # type: ignore[arg-type]  # the column is NOT NULL, so aware() gets a datetime
        far = datetime.max.replace(tzinfo=UTC)
        for rows in lists.values():
            rows.sort(key=lambda r: (r.deadline is None, r.deadline or far, -r.id))
        return found_counts, lists

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
            stance_tally(ids).add_columns(func.count().filter(Stance.answered_at > start, Stance.answered_at <= end))
        )
        for rid, value, count, fresh in stances.all():
            tallies[rid][StanceValue(value)] = int(count)
            new[rid] += int(fresh)
        written: Counter[int] = Counter()
        comments = await self.session.execute(
            comment_count(ids).add_columns(func.count().filter(Comment.created_at > start, Comment.created_at <= end))
        )
        for rid, count, fresh in comments.all():
            written[rid] = int(count)
            new[rid] += int(fresh)
        return {i: FeedbackCounts(tallies[i], written[i], new[i]) for i in ids}

    async def any_new_feedback(self, group_ids: Sequence[int], start: datetime, end: datetime) -> bool:
        """Whether an answer (a stance, a comment) was given in (start, end] on an open
        recommendation to one of these groups (EXISTS: stops at the first one)."""
        if not group_ids:
            return False
        for model, at in ANSWERS:
            found = await self.session.scalar(
                select(
                    select(model.id)
                    .join(Recommendation, Recommendation.id == model.recommendation_id)
                    .where(
                        at > start,
                        at <= end,
                        Recommendation.status == RecommendationStatus.OPEN,
                        Recommendation.id.in_(select(_rg.c.recommendation_id).where(_rg.c.group_id.in_(group_ids))),
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

        def per_recommendation(recommendation_id: int) -> Select[*tuple[Any, ...]]:
            return newest_comments(
                recommendation_id,
                limit,
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

        found: dict[int, list[tuple[datetime, int, CommentRow]]] = {i: [] for i in ids}
        for rid, cid, text, created_at, person_id, name, username, organisation, telegram_id in await top(
            self.session, ids, per_recommendation
        ):
            moment = aware(created_at)
            assert moment is not None
            author = person_row(name, username, organisation, telegram_id if person_id is not None else None)
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
        rows = [RecommendationRow(i, t, aware(d), aware(c)) for i, t, d, c in result.all()]  # type: ignore[arg-type]  # the column is NOT NULL, so aware() gets a datetime
        return int(total or 0), rows

    async def not_answered(
        self, recommendation_ids: Sequence[int], group_ids: Sequence[int], limit: int
    ) -> dict[int, tuple[int, list[PersonRow]]]:
        """Per recommendation: the approved members of its target groups among `group_ids`
        who have not answered it (`answered`): how many, and `limit` of them (the
        first registered). One pass over the target members for all recommendations:
        a window count and rank per recommendation; only the first `limit` are joined
        with their names."""
        found: dict[int, tuple[int, list[PersonRow]]] = {i: (0, []) for i in recommendation_ids}
        if not recommendation_ids or not group_ids:
            return found
        rid, pid = _rg.c.recommendation_id, Membership.person_id
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
                ~answered(rid, pid),
                addressed(rid, pid),  # a late joiner counts once it was sent to them
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
            lists.setdefault(recommendation_id, []).append(
                person_row(display_name, username, organisation, telegram_id)
            )
        for recommendation_id, total in totals.items():
            found[recommendation_id] = (total, sorted(lists[recommendation_id], key=lambda p: p.name.casefold()))
        return found
