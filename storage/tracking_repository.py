"""The queries of tracking the steering circle's recommendations (SPEC 14):
one tracking with its recommendation, every tracked (adopted) one, several by
id for the timer; the report's and the digest's reading of the same rows
live in `storage.report_tracking` and the digest's modules (no commits; the
unit of work commits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from storage.models import Recommendation
from storage.repositories import _Repository, is_id
from storage.tracking_models import RecommendationResult, Tracking


def _loaded() -> tuple[Any, ...]:
    return (selectinload(Tracking.recommendation).selectinload(Recommendation.groups),)


class TrackingRepository(_Repository):
    """Trackings with their recommendation (and its groups) loaded."""

    async def get(self, recommendation_id: int) -> Tracking | None:
        if not is_id(recommendation_id):
            return None
        result = await self.session.execute(
            select(Tracking).where(Tracking.recommendation_id == recommendation_id).options(*_loaded())
        )
        return result.scalar_one_or_none()

    async def adopted(self) -> Sequence[Tracking]:
        """Every tracked recommendation (result: adopted), oldest first; the
        caller orders them for people (`bot.core.tracking.ordered`)."""
        result = await self.session.execute(
            select(Tracking)
            .where(Tracking.result == RecommendationResult.ADOPTED)
            .options(*_loaded())
            .order_by(Tracking.recommendation_id)
        )
        return result.scalars().all()

    async def by_ids(self, recommendation_ids: Iterable[int]) -> dict[int, Tracking]:
        """Trackings by recommendation id (those that exist)."""
        ids = sorted({i for i in recommendation_ids if is_id(i)})
        if not ids:
            return {}
        result = await self.session.execute(
            select(Tracking).where(Tracking.recommendation_id.in_(ids)).options(*_loaded())
        )
        return {t.recommendation_id: t for t in result.scalars().all()}
