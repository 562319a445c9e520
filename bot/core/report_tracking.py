"""The half-yearly report's section "Stand der Empfehlungen" (SPEC 7, 14): what
became of the steering circle's adopted recommendations. The queries are in
`storage.report_tracking`, the layout in `bot.render.report_tracking`.

Rules that live here (decisions where the specification is silent):

- *Open at the end of the half-year*: closed as adopted before the end (or,
  while it runs, before now) and not erledigt by then. Each with its
  responsible office, due date, status (the reason when verzögert) and the
  traffic light (`bot.core.tracking.light`) judged on the report's day: the
  half-year's last day, or today while it runs.
- Tracking keeps no history, so the status shown is the current one. An item
  finished after the half-year is open in that report, with "erledigt am …
  (nach dem Berichtszeitraum)" as its status and its light judged on its due
  date alone (as if still open).
- *Finished in the half-year*: erledigt within it, with the day.
- Totals that add up: adopted by the end = open + erledigt by then (erledigt
  also in earlier half-years); of the open ones how many are overdue. The
  results of the recommendations closed in the half-year: angenommen, nicht
  angenommen, zur Kenntnis genommen, and those closed before results were
  asked (no result recorded).
- Lists are limited (`TRACKING_LISTED`); the rest is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from bot.core.tracking import Light, ordered
from storage.report_tracking import TrackedRow
from storage.tracking_models import RecommendationResult, Tracking, TrackStatus
from storage.uow import UnitOfWork

Local = Callable[[datetime], date]
"""A UTC moment's local date (TIMEZONE)."""

TRACKING_LISTED = 100
"""Open and finished items listed each (the rest is counted)."""


@dataclass(frozen=True)
class TrackedLine:
    """One adopted recommendation in the report, in local dates, user text cleaned."""

    number: int
    text: str
    responsible: str | None
    due_on: date | None
    status: TrackStatus
    """The current status (tracking keeps no history)."""
    reason: str | None
    """Why it is verzögert (only then)."""
    light: Light
    """Judged on the report's day; never DONE for an open item."""
    done_on: date | None
    """The day it was finished (for an open item: finished after the half-year)."""


@dataclass(frozen=True)
class TrackingReport:
    day: date
    """The day the lights are judged on: the half-year's last day, or today while it runs."""
    open: tuple[TrackedLine, ...]
    open_total: int
    finished: tuple[TrackedLine, ...]
    finished_total: int
    adopted: int
    """Adopted by the end of the half-year (open + done)."""
    done: int
    """Of those, erledigt by then (also in earlier half-years)."""
    overdue: int
    """Open ones whose due date had passed on `day`."""
    closed: tuple[tuple[RecommendationResult | None, int], ...]
    """Recommendations closed in the half-year per result (None: no result recorded), none left out."""

    @property
    def closed_total(self) -> int:
        return sum(count for _, count in self.closed)

    @property
    def nothing(self) -> bool:
        """Nothing adopted by then and nothing closed in the half-year."""
        return not self.adopted and not self.closed_total


def _judged(row: TrackedRow, until: datetime) -> Tracking:
    """What the light is judged on (not stored): an item finished after the half-year as if still open."""
    later = row.status is TrackStatus.DONE and row.done_at is not None and row.done_at >= until
    return Tracking(recommendation_id=row.id, status=TrackStatus.OPEN if later else row.status, due_on=row.due_on)


def _line(row: TrackedRow, shown: Light, clean: Callable[[str | None], str], local: Local) -> TrackedLine:
    delayed = row.status is TrackStatus.DELAYED
    return TrackedLine(
        number=row.id,
        text=clean(row.text),
        responsible=clean(row.responsible).strip() or None,
        due_on=row.due_on,
        status=row.status,
        reason=(clean(row.delay_reason).strip() or None) if delayed else None,
        light=shown,
        done_on=local(row.done_at) if row.status is TrackStatus.DONE and row.done_at is not None else None,
    )


async def build(
    uow: UnitOfWork,
    start: datetime,
    until: datetime,
    on: date,
    clean: Callable[[str | None], str],
    local: Local,
) -> TrackingReport:
    """The section's values for the half-year [start, until), lights judged on `on`
    (`clean` removes control characters, `local` gives a UTC moment's local date)."""
    repo = uow.reports
    open_rows, open_total = await repo.tracked_open(until, TRACKING_LISTED)
    finished_rows, finished_total = await repo.tracked_finished(start, until, TRACKING_LISTED)
    adopted, done = await repo.tracked_totals(until)
    results = await repo.closing_results(start, until)
    by_id = {row.id: row for row in open_rows}
    lines = [_line(by_id[i.id], i.light, clean, local) for i in ordered([_judged(r, until) for r in open_rows], on)]
    overdue = await repo.tracked_overdue(until, on)
    order: list[RecommendationResult | None] = [*RecommendationResult, None]
    return TrackingReport(
        day=on,
        open=tuple(lines),
        open_total=open_total,
        finished=tuple(_line(row, Light.DONE, clean, local) for row in finished_rows),
        finished_total=finished_total,
        adopted=adopted,
        done=done,
        overdue=overdue,
        closed=tuple((result, results[result]) for result in order if results.get(result)),
    )
