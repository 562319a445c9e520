"""Tracking the steering circle's recommendations (SPEC 14, *Beschlusskontrolle*):
what the tracking list is and how an item is judged. Rules that live here:

- A recommendation is tracked when it was closed as adopted (angenommen): it
  has a `Tracking` row with result ADOPTED. One closed as nicht angenommen or
  zur Kenntnis genommen has a row too, but is not tracked; one closed before
  results were asked has none. `/track <id>` on any of these, on an open or
  an unknown recommendation, is refused with the reason (`tracked`).
- The traffic light (`light`), judged on the local date in TIMEZONE:
  erledigt → DONE (no colour); due date passed → RED (überfällig); due within
  `YELLOW_DAYS` days (today included) or verzögert → YELLOW; otherwise GREEN
  (also without a due date).
- The list (`ordered`): red, yellow, green, the finished ones last; within a
  colour the one due first first (without a due date after those with one),
  then by id.
- Only the coordination sees and changes tracking. Changes, the review date's
  reminder and closing with a result: `bot.core.tracking_changes`.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.people import require_coordinator
from storage.models import Person, RecommendationStatus
from storage.tracking_models import RecommendationResult, Tracking, TrackStatus
from storage.uow import UnitOfWork

YELLOW_DAYS = 14
"""An item due within this many days (today included) shows yellow."""


class Light(enum.StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    DONE = "done"


_RANK = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.DONE: 3}


def local_today(now: datetime, settings: Settings) -> date:
    """The local date (TIMEZONE) at `now`: the day the lights are judged on."""
    return now.astimezone(settings.timezone).date()


def overdue(tracking: Tracking, today: date) -> bool:
    """Not erledigt and its due date has passed."""
    return tracking.status is not TrackStatus.DONE and tracking.due_on is not None and tracking.due_on < today


def overdue_of(trackings: Iterable[Tracking], group_ids: Collection[int] | None, today: date) -> list[Tracking]:
    """The overdue ones, due longest ago first; for groups (`group_ids`) those whose
    recommendation is addressed to one of them (the digest's "Was fehlt")."""
    found = [
        t
        for t in trackings
        if overdue(t, today) and (group_ids is None or any(g.id in group_ids for g in t.recommendation.groups))
    ]
    return sorted(found, key=lambda t: (t.due_on or date.max, t.recommendation_id))


def light(tracking: Tracking, today: date) -> Light:
    """The traffic light of a tracked recommendation on `today` (local)."""
    if tracking.status is TrackStatus.DONE:
        return Light.DONE
    if overdue(tracking, today):
        return Light.RED
    if tracking.status is TrackStatus.DELAYED:
        return Light.YELLOW
    if tracking.due_on is not None and tracking.due_on <= today + timedelta(days=YELLOW_DAYS - 1):
        return Light.YELLOW
    return Light.GREEN


@dataclass(frozen=True)
class Item:
    """One line of the tracking list: the tracking (with its recommendation) and its light."""

    tracking: Tracking
    light: Light

    @property
    def id(self) -> int:
        return self.tracking.recommendation_id


def ordered(trackings: Iterable[Tracking], today: date) -> list[Item]:
    """Red, yellow, green, then the finished ones; within each the one due first first."""
    items = [Item(t, light(t, today)) for t in trackings]
    return sorted(
        items,
        key=lambda i: (_RANK[i.light], i.tracking.due_on is None, i.tracking.due_on or date.max, i.id),
    )


async def tracking_list(uow: UnitOfWork, coordinator: Person, settings: Settings, now: datetime) -> list[Item]:
    """`/track`: every tracked recommendation, in the list's order."""
    require_coordinator(coordinator, settings)
    return ordered(await uow.trackings.adopted(), local_today(now, settings))


async def list_for_export(uow: UnitOfWork, settings: Settings, now: datetime) -> list[Item]:
    """`kimbot track`: the same list, for the operator (no person asks)."""
    return ordered(await uow.trackings.adopted(), local_today(now, settings))


async def tracked(uow: UnitOfWork, recommendation_id: int) -> Tracking:
    """The tracking of recommendation `recommendation_id`, which must be adopted;
    otherwise a refusal that says why (`tracking.unknown`, `tracking.still_open`,
    `tracking.was_rejected`, `tracking.was_noted`, `tracking.no_result`)."""
    found = await uow.trackings.get(recommendation_id)
    if found is not None and found.result is RecommendationResult.ADOPTED:
        return found
    if found is not None:
        raise Refusal(f"tracking.was_{found.result.value}", id=recommendation_id)
    recommendation = await uow.recommendations.get(recommendation_id)
    if recommendation is None:
        raise Refusal("tracking.unknown", id=recommendation_id)
    if recommendation.status is RecommendationStatus.OPEN:
        raise Refusal("tracking.still_open", id=recommendation_id)
    raise Refusal("tracking.no_result", id=recommendation_id)


async def item(uow: UnitOfWork, coordinator: Person, recommendation_id: int, settings: Settings, now: datetime) -> Item:
    """`/track <id>`: one tracked recommendation with its light."""
    require_coordinator(coordinator, settings)
    found = await tracked(uow, recommendation_id)
    return Item(found, light(found, local_today(now, settings)))


def counts(items: Sequence[Item]) -> dict[Light, int]:
    """How many items show each light (every light named, 0 where none)."""
    result = dict.fromkeys(Light, 0)
    for one in items:
        result[one.light] += 1
    return result
