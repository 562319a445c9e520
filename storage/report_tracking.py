"""The half-yearly report's queries on the state of the steering circle's
recommendations (SPEC 14, "Stand der Empfehlungen"; no commits).

Part of `storage.report_repository.ReportRepository`. Times are UTC, a
period is `start` (inclusive) to `until` (exclusive), as everywhere in the
report. Tracking keeps no history: the status, the reason and the fields
are the ones stored now; only `done_at` and the recommendation's
`closed_at` say when something happened. Definitions:

- *adopted by then*: closed as adopted (angenommen) before `until`;
- *open at the end*: adopted by then and not finished before `until` (an
  item finished later is open in this report; its `done_at` says when);
- *finished in the period*: `done_at` in [start, until).

Lists are limited (`limit`) and counted separately.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from storage.digest_rows import aware
from storage.models import Recommendation
from storage.repositories import _Repository
from storage.tracking_models import RecommendationResult, Tracking, TrackStatus


@dataclass(frozen=True)
class TrackedRow:
    """An adopted recommendation and its tracking, as stored now."""

    id: int
    text: str
    responsible: str | None
    due_on: date | None
    status: TrackStatus
    delay_reason: str | None
    done_at: datetime | None


def _adopted_by(until: datetime) -> ColumnElement[bool]:
    return and_(Tracking.result == RecommendationResult.ADOPTED, Recommendation.closed_at < until)


def _finished_before(moment: datetime) -> ColumnElement[bool]:
    return and_(Tracking.status == TrackStatus.DONE, Tracking.done_at < moment)


class TrackingQueries(_Repository):
    """Open and finished tracked recommendations and closing results (part of `ReportRepository`)."""

    async def _rows(self, condition: ColumnElement[bool], order: Sequence[Any], limit: int) -> list[TrackedRow]:
        result = await self.session.execute(
            select(
                Tracking.recommendation_id,
                Recommendation.text,
                Tracking.responsible,
                Tracking.due_on,
                Tracking.status,
                Tracking.delay_reason,
                Tracking.done_at,
            )
            .join(Recommendation, Recommendation.id == Tracking.recommendation_id)
            .where(condition)
            .order_by(*order)
            .limit(limit)
        )
        return [TrackedRow(r[0], r[1], r[2], r[3], TrackStatus(r[4]), r[5], aware(r[6])) for r in result.all()]

    async def _count(self, condition: ColumnElement[bool]) -> int:
        found = await self.session.scalar(
            select(func.count())
            .select_from(Tracking)
            .join(Recommendation, Recommendation.id == Tracking.recommendation_id)
            .where(condition)
        )
        return int(found or 0)

    async def tracked_open(self, until: datetime, limit: int) -> tuple[list[TrackedRow], int]:
        """Adopted by `until` and not finished before it: the first `limit` by due date
        (those without one last), and how many in all."""
        condition = and_(_adopted_by(until), or_(Tracking.done_at.is_(None), Tracking.done_at >= until))
        order = (Tracking.due_on.is_(None), Tracking.due_on, Tracking.recommendation_id)
        return await self._rows(condition, order, limit), await self._count(condition)

    async def tracked_finished(self, start: datetime, until: datetime, limit: int) -> tuple[list[TrackedRow], int]:
        """Adopted and finished in [start, until): the first `limit` in the order finished, and how many."""
        condition = and_(_adopted_by(until), Tracking.status == TrackStatus.DONE, Tracking.done_at >= start)
        condition = and_(condition, Tracking.done_at < until)
        order = (Tracking.done_at, Tracking.recommendation_id)
        return await self._rows(condition, order, limit), await self._count(condition)

    async def tracked_totals(self, until: datetime) -> tuple[int, int]:
        """Adopted by `until`, and of those finished before it."""
        return (
            await self._count(_adopted_by(until)),
            await self._count(and_(_adopted_by(until), _finished_before(until))),
        )

    async def closing_results(self, start: datetime, until: datetime) -> Counter[RecommendationResult | None]:
        """Recommendations closed in [start, until) per result (None: closed before results were asked)."""
        result = await self.session.execute(
            select(Tracking.result, func.count())
            .select_from(Recommendation)
            .outerjoin(Tracking, Tracking.recommendation_id == Recommendation.id)
            .where(Recommendation.closed_at >= start, Recommendation.closed_at < until)
            .group_by(Tracking.result)
        )
        return Counter({RecommendationResult(r) if r is not None else None: int(n) for r, n in result.all()})

    async def tracked_overdue(self, until: datetime, on: date) -> int:
        """Open at `until` (adopted by then, not finished before it) and due before `on`."""
        condition = and_(_adopted_by(until), or_(Tracking.done_at.is_(None), Tracking.done_at >= until))
        return await self._count(and_(condition, Tracking.due_on < on))
