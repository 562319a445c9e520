"""The digest's query about overdue tracked recommendations (SPEC 14; no commits).

Part of `storage.digest_repository.DigestRepository`. *Overdue* is the rule of
`bot.core.tracking.overdue`: adopted (angenommen), not erledigt, and its due
date before `today` (the local date in TIMEZONE, which the caller gives).
For a group's digest only those whose recommendation targets one of the
groups; for every group (`group_ids` None) all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, func, select

from storage.models import Recommendation, recommendation_groups
from storage.repositories import _Repository
from storage.tracking_models import RecommendationResult, Tracking, TrackStatus


@dataclass(frozen=True)
class OverdueRow:
    """A tracked recommendation past its due date, as stored now."""

    id: int
    text: str
    responsible: str | None
    due_on: date
    status: TrackStatus
    delay_reason: str | None


class OverdueQueries(_Repository):
    """Overdue tracked recommendations (part of `DigestRepository`)."""

    async def overdue(self, group_ids: Sequence[int] | None, today: date, limit: int) -> tuple[int, list[OverdueRow]]:
        """How many are overdue on `today`, and the `limit` due longest ago (then by id)."""
        condition: ColumnElement[bool] = and_(
            Tracking.result == RecommendationResult.ADOPTED,
            Tracking.status != TrackStatus.DONE,
            Tracking.due_on.is_not(None),
            Tracking.due_on < today,
        )
        if group_ids is not None:
            condition = and_(
                condition,
                exists(
                    select(recommendation_groups.c.group_id).where(
                        recommendation_groups.c.recommendation_id == Tracking.recommendation_id,
                        recommendation_groups.c.group_id.in_(list(group_ids)),
                    )
                ),
            )
        total = int(await self.session.scalar(select(func.count()).select_from(Tracking).where(condition)) or 0)
        if not total:
            return 0, []
        result = await self.session.execute(
            select(
                Tracking.recommendation_id,
                Recommendation.text,
                Tracking.responsible,
                Tracking.due_on,
                Tracking.status,
                Tracking.delay_reason,
            )
            .join(Recommendation, Recommendation.id == Tracking.recommendation_id)
            .where(condition)
            .order_by(Tracking.due_on, Tracking.recommendation_id)
            .limit(limit)
        )
        rows = [OverdueRow(r[0], r[1], r[2], r[3], TrackStatus(r[4]), r[5]) for r in result.all() if r[3] is not None]
        return total, rows
