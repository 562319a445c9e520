"""Late joiners, and what happens after a recommendation's deadline (`bot.core.recommendations`).

- **Late joiners** (`plan_late`, run by the delivery timer's planner): a
  person who becomes an approved member of a target group after the
  recommendation went out, while it still takes answers (open, before the
  deadline), is sent it with the note *nachträglich*
  (`DeliveryKind.RECOMMENDATION_LATE`), and the reminder before the deadline
  at the usual daytime hour when there is still one to come. They count
  among those asked ("ohne Antwort" until they answer) only from then
  (`storage.recommendation_repository.addressed`). Joining after the
  deadline sends nothing and does not count. The rule lives here, not in
  the membership code: whatever way a person joins (approval, invite link,
  `JOIN_POLICY=open`), the planner finds them.
- **After the deadline**: the coordinator who published it is sent one
  message (`DeliveryKind.DEADLINE_PASSED`, due when the deadline's minute
  has ended) with the state of the answers and three buttons:
  "Abschließen" (the outcome note, as under /feedback), "Ohne Antwort
  erinnern" and "Frist verlängern". Answers are only taken before a
  deadline, so both of the latter first ask for a new one (buttons: the end
  of the day in 3, 7 or 14 days; or a date typed, `DD.MM.YYYY [HH:MM]`).
  "Erinnern" then reminds, at once, every member it was sent to who has not
  answered; "Verlängern" plans that reminder at the usual daytime hour
  before the new deadline. Either way the coordinator is asked again after
  the new deadline (also the one who extended it). Audit entry
  `recommendation.extend`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core import audit, steps
from bot.core.config import Settings
from bot.core.dates import local_datetime
from bot.core.errors import Refusal
from bot.core.people import require_coordinator
from bot.core.recommendation_parsing import END_OF_DAY, parse_deadline
from bot.core.recommendation_screening import closes_at, owed, reminder_time
from bot.core.recommendation_views import AfterDeadline, Extended
from bot.core.steps import Step
from storage.models import DeliveryKind, Person, Recommendation, RecommendationStatus
from storage.uow import UnitOfWork

OFFERED_DAYS = (3, 7, 14)
"""A new deadline offered as buttons: the end of the day this many days from today."""
MAX_DAYS = 365


async def plan_late(uow: UnitOfWork, settings: Settings, now: datetime) -> int:
    """Owe the late joiners their recommendation (and its reminder); returns how many."""
    pairs = await uow.recommendations.late_joiners(now)
    if not pairs:
        return 0
    deadlines: dict[int, datetime | None] = {}
    rows: list[dict[str, object]] = []
    for recommendation_id, person_id in pairs:
        if recommendation_id not in deadlines:
            recommendation = await uow.recommendations.get(recommendation_id)
            deadlines[recommendation_id] = recommendation.deadline if recommendation else None
        rows.append(owed(recommendation_id, person_id, DeliveryKind.RECOMMENDATION_LATE, now))
        deadline = deadlines[recommendation_id]
        if deadline is not None and (at := reminder_time(deadline, settings.timezone, now)) is not None:
            rows.append(owed(recommendation_id, person_id, DeliveryKind.FEEDBACK_DUE, at))
    await uow.deliveries.insert_many(rows)
    await uow.flush()
    return len(pairs)


async def _open(uow: UnitOfWork, recommendation_id: int) -> Recommendation:
    recommendation = await uow.recommendations.get(recommendation_id)
    if recommendation is None:
        raise Refusal("recommendations.unknown", id=recommendation_id)
    if recommendation.status is RecommendationStatus.CLOSED:
        raise Refusal("recommendations.already_closed", id=recommendation.id)
    return recommendation


async def state(uow: UnitOfWork, recommendation: Recommendation) -> AfterDeadline:
    """How many were asked and how many answered (those counted: `addressed` or answered)."""
    members, answered = (await uow.recommendations.member_counts([recommendation.id]))[recommendation.id]
    return AfterDeadline(recommendation, members, answered)


async def ask_new_deadline(
    uow: UnitOfWork, coordinator: Person, recommendation_id: int, remind: bool, settings: Settings
) -> AfterDeadline:
    """ "Ohne Antwort erinnern" or "Frist verlängern": the coordinator's next text (or
    a button) is the new deadline."""
    require_coordinator(coordinator, settings)
    recommendation = await _open(uow, recommendation_id)
    steps.ask(coordinator, Step.RECOMMENDATION_DEADLINE, {"recommendation": recommendation.id, "remind": remind})
    await uow.flush()
    return await state(uow, recommendation)


def offered_deadline(days: int, settings: Settings, now: datetime) -> datetime:
    """The end of the day `days` days from today (TIMEZONE)."""
    today = now.astimezone(settings.timezone).date()
    return local_datetime(today + timedelta(days=days), END_OF_DAY, settings.timezone)


async def extend_by_days(
    uow: UnitOfWork,
    coordinator: Person,
    recommendation_id: int,
    days: int,
    remind: bool,
    settings: Settings,
    now: datetime,
) -> Extended:
    """A new-deadline button."""
    require_coordinator(coordinator, settings)
    if not 1 <= days <= MAX_DAYS:
        raise Refusal("buttons.stale")
    recommendation = await _open(uow, recommendation_id)
    return await _extend(uow, coordinator, recommendation, offered_deadline(days, settings, now), remind, settings, now)


async def extend_by_text(
    uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime
) -> Extended:
    """The new deadline typed (`DD.MM.YYYY [HH:MM]`); a wrong or past one keeps the bot waiting."""
    require_coordinator(coordinator, settings)
    recommendation_id = steps.recall_id(coordinator, "recommendation")
    remind = bool(steps.recall(coordinator, "remind", False))
    try:
        recommendation = await _open(uow, recommendation_id)
    except Refusal as refusal:
        raise refusal.ending_step() from None
    if not text.strip():
        raise Refusal("recommendations.deadline_usage")
    deadline = parse_deadline(text.strip(), settings.timezone, now)
    return await _extend(uow, coordinator, recommendation, deadline, remind, settings, now)


async def _extend(
    uow: UnitOfWork,
    coordinator: Person,
    recommendation: Recommendation,
    deadline: datetime,
    remind: bool,
    settings: Settings,
    now: datetime,
) -> Extended:
    rid = recommendation.id
    recommendation.deadline = deadline
    silent = await uow.recommendations.silent_people(rid)
    due = now if remind else reminder_time(deadline, settings.timezone, now)
    if due is not None and silent:
        await uow.recommendations.owe_again(rid, silent, DeliveryKind.FEEDBACK_DUE, due)
        await uow.deliveries.insert_many([owed(rid, p, DeliveryKind.FEEDBACK_DUE, due) for p in silent])
    ends = closes_at(deadline)
    await uow.recommendations.owe_again(
        rid, await uow.recommendations.deadline_notified(rid), DeliveryKind.DEADLINE_PASSED, ends
    )
    await uow.deliveries.insert_many([owed(rid, coordinator.id, DeliveryKind.DEADLINE_PASSED, ends)])
    reminded = len(silent) if remind else 0
    audit.record(
        uow,
        coordinator,
        "recommendation.extend",
        "recommendation",
        rid,
        now,
        deadline=f"{deadline.astimezone(settings.timezone):%d.%m.%Y %H:%M}",
        reminded=reminded if remind else None,
    )
    steps.end(coordinator)
    await uow.flush()
    return Extended(recommendation, reminded, remind)
