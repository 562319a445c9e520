"""Changing the tracking of an adopted recommendation (SPEC 14). Rules that live here:

- Only the coordination changes tracking; every change is an audit entry
  `tracking.set` with the field and its new value (the result itself is in
  `recommendation.close`, `bot.core.recommendation_closing`).
- A recommendation closed with a result gets its `Tracking` row at once
  (`record_result`, status offen); only an adopted one can be changed
  (`bot.core.tracking.tracked` says why not).
- Right after closing as adopted the bot asks in turn for the responsible
  office or group, the due date and the review date (`GUIDED`); "Später"
  (`skip`) leaves one open and goes on. `/track <id>`'s buttons ask for one
  field (`ask`); the step `TRACK_FIELD` keeps the recommendation, the field
  and whether the questions after closing are under way.
- Responsible: free text, 1..200 characters. Due date and review date: a date
  as in SPEC 3, typed (`answer`) or pressed (`choose_date`, offered by
  `date_choices`), not before today (local date in TIMEZONE).
- Status: offen, in Arbeit, erledigt are set with one press (`set_status`);
  verzögert asks for the reason, and the reason's text sets it (the reason is
  kept only while it is verzögert). Erledigt records `done_at`; leaving it
  clears it. Pressing the status it has changes nothing.
- The review date (*Wiedervorlage*): every coordinator with a Telegram chat is
  owed one REVIEW_DUE message at 09:00 local time on that day (at once when
  the date is today and 09:00 has passed). A new review date counts up
  `review_revision`; the timer (`screen_due`) skips a reminder for an earlier
  date, for an item that is erledigt or no longer tracked, and for someone no
  longer a coordinator.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.core import audit, steps
from bot.core.config import Settings
from bot.core.dates import local_datetime, parse_date
from bot.core.errors import Refusal
from bot.core.people import is_coordinator, require_coordinator
from bot.core.steps import Step
from bot.core.text import free_text
from bot.core.tracking import Item, light, local_today, tracked
from storage.models import Delivery, DeliveryKind, DeliveryStatus, Person
from storage.tracking_models import RESPONSIBLE_MAX, RecommendationResult, Tracking, TrackStatus
from storage.uow import UnitOfWork

REVIEW_AT = time(9, 0)
"""A review date's reminder is due at 09:00 local time."""

REASON_MAX = 500
"""The longest reason for a delay."""


class Field(enum.StrEnum):
    RESPONSIBLE = "responsible"
    DUE = "due"
    REVIEW = "review"
    STATUS = "status"
    """Set with a button (offen, in Arbeit, erledigt)."""
    REASON = "reason"
    """The reason for verzögert: its text sets the status."""


GUIDED = (Field.RESPONSIBLE, Field.DUE, Field.REVIEW)
"""What the bot asks for right after a recommendation was closed as adopted, in this order."""


@dataclass(frozen=True)
class Change:
    item: Item
    """The tracked recommendation after the change, with its light."""
    changed: Field | None
    """What was set (None: nothing changed, e.g. skipped, or the same status pressed)."""
    asks: Field | None
    """The field the bot waits for now (the next question after closing, or the reason)."""


def record_result(uow: UnitOfWork, recommendation_id: int, result: RecommendationResult, now: datetime) -> Tracking:
    """The result of a recommendation being closed (status offen, nothing else set)."""
    row = Tracking(
        recommendation_id=recommendation_id,
        result=result,
        status=TrackStatus.OPEN,
        review_revision=0,
        changed_at=now,
    )
    uow.session.add(row)
    return row


def begin_guided(coordinator: Person, recommendation_id: int) -> Field:
    """Closed as adopted: the bot asks for the first tracking field."""
    first = GUIDED[0]
    steps.ask(
        coordinator, Step.TRACK_FIELD, {"recommendation": recommendation_id, "field": first.value, "guided": True}
    )
    return first


def date_choices(today: date) -> list[date]:
    """Dates offered as buttons: in four weeks, in three months, in six months."""
    return [today + timedelta(weeks=4), _months_later(today, 3), _months_later(today, 6)]


def _months_later(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def _tracked(uow: UnitOfWork, coordinator: Person, recommendation_id: int, settings: Settings) -> Tracking:
    require_coordinator(coordinator, settings)
    return await tracked(uow, recommendation_id)


def _item(tracking: Tracking, settings: Settings, now: datetime) -> Item:
    return Item(tracking, light(tracking, local_today(now, settings)))


async def ask(
    uow: UnitOfWork, coordinator: Person, recommendation_id: int, field: Field, settings: Settings, now: datetime
) -> Item:
    """A button of `/track <id>` that needs a text (or a date): the next text answers `field`."""
    tracking = await _tracked(uow, coordinator, recommendation_id, settings)
    steps.ask(coordinator, Step.TRACK_FIELD, {"recommendation": tracking.recommendation_id, "field": field.value})
    await uow.flush()
    return _item(tracking, settings, now)


def _awaited(coordinator: Person) -> tuple[int, Field | None, bool]:
    if steps.current(coordinator) is not Step.TRACK_FIELD:
        return 0, None, False
    value = steps.recall(coordinator, "field")
    field = Field(value) if isinstance(value, str) and value in Field._value2member_map_ else None
    return steps.recall_id(coordinator, "recommendation"), field, steps.recall(coordinator, "guided") is True


def _next(coordinator: Person, recommendation_id: int, field: Field, guided: bool) -> Field | None:
    """After `field` was answered: in the questions after closing, ask for the next one; else stop."""
    if guided and field in GUIDED and (at := GUIDED.index(field)) + 1 < len(GUIDED):
        following = GUIDED[at + 1]
        steps.ask(
            coordinator,
            Step.TRACK_FIELD,
            {"recommendation": recommendation_id, "field": following.value, "guided": True},
        )
        return following
    steps.end(coordinator)
    return None


def _after(coordinator: Person, tracking: Tracking, field: Field | None) -> Field | None:
    """A button answered the question the bot waits for (`field`, or whichever when None):
    ask the next one. A button of an older message leaves the question as it is."""
    awaited_id, awaited, guided = _awaited(coordinator)
    if awaited_id != tracking.recommendation_id or awaited is None or field not in (None, awaited):
        return None
    return _next(coordinator, tracking.recommendation_id, awaited, guided)


async def answer(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime) -> Change:
    """The text for the awaited field: the responsible office, a date, or the reason for a delay."""
    recommendation_id, field, guided = _awaited(coordinator)
    if field is None:
        steps.end(coordinator)
        raise Refusal("tracking.nothing_awaited").ending_step()
    try:
        tracking = await _tracked(uow, coordinator, recommendation_id, settings)
    except Refusal as refusal:
        raise refusal.ending_step() from None
    today = local_today(now, settings)
    if field is Field.RESPONSIBLE:
        _set(uow, coordinator, tracking, field, free_text(text, RESPONSIBLE_MAX, "tracking.responsible"), now)
    elif field is Field.REASON:
        reason = free_text(text, REASON_MAX, "tracking.reason")
        _set_status(uow, coordinator, tracking, TrackStatus.DELAYED, now, reason=reason)
    else:
        day = _not_past(parse_date(text, today), today, field)
        await _set_date(uow, coordinator, tracking, field, day, settings, now)
    asks = _next(coordinator, tracking.recommendation_id, field, guided)
    await uow.flush()
    return Change(_item(tracking, settings, now), field, asks)


async def choose_date(
    uow: UnitOfWork,
    coordinator: Person,
    recommendation_id: int,
    field: Field,
    day: date,
    settings: Settings,
    now: datetime,
) -> Change:
    """A date button for the due date or the review date."""
    tracking = await _tracked(uow, coordinator, recommendation_id, settings)
    if field not in (Field.DUE, Field.REVIEW):
        raise Refusal("tracking.gone")
    today = local_today(now, settings)
    await _set_date(uow, coordinator, tracking, field, _not_past(day, today, field), settings, now)
    asks = _after(coordinator, tracking, field)
    await uow.flush()
    return Change(_item(tracking, settings, now), field, asks)


async def skip(
    uow: UnitOfWork, coordinator: Person, recommendation_id: int, settings: Settings, now: datetime
) -> Change:
    """ "Später" in the questions after closing: leave the awaited field open, ask the next."""
    tracking = await _tracked(uow, coordinator, recommendation_id, settings)
    asks = _after(coordinator, tracking, None)
    await uow.flush()
    return Change(_item(tracking, settings, now), None, asks)


async def set_status(
    uow: UnitOfWork,
    coordinator: Person,
    recommendation_id: int,
    status: TrackStatus,
    settings: Settings,
    now: datetime,
) -> Change:
    """A status pressed: offen, in Arbeit, erledigt at once; verzögert asks for the reason."""
    tracking = await _tracked(uow, coordinator, recommendation_id, settings)
    if status is TrackStatus.DELAYED:
        steps.ask(
            coordinator, Step.TRACK_FIELD, {"recommendation": tracking.recommendation_id, "field": Field.REASON.value}
        )
        await uow.flush()
        return Change(_item(tracking, settings, now), None, Field.REASON)
    changed = None
    if tracking.status is not status:
        _set_status(uow, coordinator, tracking, status, now)
        changed = Field.STATUS
    await uow.flush()
    return Change(_item(tracking, settings, now), changed, None)


def _not_past(day: date, today: date, field: Field) -> date:
    if day < today:
        raise Refusal(f"tracking.{field.value}_past", value=day.strftime("%d.%m.%Y"))
    return day


def _set(uow: UnitOfWork, coordinator: Person, tracking: Tracking, field: Field, value: str, now: datetime) -> None:
    tracking.responsible = value
    tracking.changed_at = now
    detail = {field.value: value}
    audit.record(uow, coordinator, "tracking.set", "recommendation", tracking.recommendation_id, now, **detail)


def _set_status(
    uow: UnitOfWork,
    coordinator: Person,
    tracking: Tracking,
    status: TrackStatus,
    now: datetime,
    reason: str | None = None,
) -> None:
    tracking.status = status
    tracking.delay_reason = reason if status is TrackStatus.DELAYED else None
    tracking.done_at = now if status is TrackStatus.DONE else None
    tracking.changed_at = now
    detail: dict[str, object] = {"status": status.value}
    if reason is not None:
        detail["reason"] = reason
    audit.record(uow, coordinator, "tracking.set", "recommendation", tracking.recommendation_id, now, **detail)


async def _set_date(
    uow: UnitOfWork,
    coordinator: Person,
    tracking: Tracking,
    field: Field,
    day: date,
    settings: Settings,
    now: datetime,
) -> None:
    if field is Field.DUE:
        tracking.due_on = day
    else:
        tracking.review_on = day
        tracking.review_revision += 1
        await _plan_review(uow, tracking, settings, now)
    tracking.changed_at = now
    detail = {field.value: day.isoformat()}
    audit.record(uow, coordinator, "tracking.set", "recommendation", tracking.recommendation_id, now, **detail)


def review_time(day: date, settings: Settings, now: datetime) -> datetime:
    """When the reminder for review date `day` is due: 09:00 local that day, or now if that has passed."""
    return max(local_datetime(day, REVIEW_AT, settings.timezone), now)


async def _plan_review(uow: UnitOfWork, tracking: Tracking, settings: Settings, now: datetime) -> None:
    assert tracking.review_on is not None
    due = review_time(tracking.review_on, settings, now)
    coordinators = [p for p in await uow.people.coordinators(settings.coordinator_ids) if p.telegram_id is not None]
    await uow.flush()
    await uow.deliveries.insert_many(
        [
            {
                "tracking_id": tracking.recommendation_id,
                "person_id": person.id,
                "kind": DeliveryKind.REVIEW_DUE,
                "lead_seconds": 0,
                "revision": tracking.review_revision,
                "due_at": due,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
            }
            for person in coordinators
        ]
    )


async def screen_due(uow: UnitOfWork, rows: Sequence[Delivery], settings: Settings) -> dict[int, str]:
    """The reason to skip each due review reminder that must not go out (by delivery id)."""
    found = await uow.trackings.by_ids(r.tracking_id for r in rows if r.tracking_id is not None)
    reasons: dict[int, str] = {}
    for row in rows:
        tracking = found.get(row.tracking_id or 0)
        if tracking is None or tracking.result is not RecommendationResult.ADOPTED:
            reasons[row.id] = "not tracked"
        elif row.revision != tracking.review_revision:
            reasons[row.id] = "review date changed"
        elif tracking.status is TrackStatus.DONE:
            reasons[row.id] = "done"
        elif not is_coordinator(row.person, settings):
            reasons[row.id] = "no longer a coordinator"
    return reasons
