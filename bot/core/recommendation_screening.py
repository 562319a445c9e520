"""A recommendation's deadline and its messages (`bot.core.recommendations`).

- **The one boundary rule.** A deadline is a minute on the clock (`08.12.2026`
  alone means 23:59 of that day, the end of the day). "Before the deadline"
  means before the end of that minute (`before_deadline`, `closes_at`): an
  answer at 23:59:30 still counts, one at 00:00 the next day does not.
  Taking answers, sending the recommendation and its reminder, what a member
  still sees as waiting, the late joiners' messages and the coordinator's
  message after the deadline all use this one rule.
- It takes answers while it is open and before its deadline
  (`answer_refusal`, `takes_answers`).
- Publishing and closing owe messages: delivery rows written with the
  recommendation (`owed`).
- **The reminder before the deadline goes out at a daytime hour**
  (`reminder_time`): at 09:00 (TIMEZONE) on the day before the deadline's
  day; when that is less than `MIN_GAP` (6 hours) after the recommendation
  reached the person (or already past), at 09:00 on the deadline's day; it
  never goes out after the deadline, nor less than 6 hours after the
  recommendation itself: then there is no reminder. A deadline
  "08.12.2026" is reminded on 07.12.2026 at 09:00.
- When a message is due it is screened again (`skip_reason`): the
  recommendation and its reminder are dropped once it is closed, its deadline
  has passed, or the person has left its target groups; the reminder also
  once the person answered. The outcome is always sent; the coordinator's
  message after the deadline only while the recommendation is open and its
  deadline has passed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import local_datetime
from bot.core.errors import Refusal
from storage.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Recommendation,
    RecommendationStatus,
)
from storage.uow import UnitOfWork

REMINDER_HOUR = time(9, 0)
"""The local time of day the reminder before a deadline goes out."""
MIN_GAP = timedelta(hours=6)
"""The least time between the recommendation reaching a person and its reminder."""
DEADLINE_MINUTE = timedelta(minutes=1)


def closes_at(deadline: datetime) -> datetime:
    """The first moment after the deadline: the end of the deadline's minute."""
    return deadline.replace(second=0, microsecond=0) + DEADLINE_MINUTE


def before_deadline(deadline: datetime | None, now: datetime) -> bool:
    """The one rule for "before the deadline" (no deadline: always)."""
    return deadline is None or now < closes_at(deadline)


def answer_refusal(recommendation: Recommendation, now: datetime) -> Refusal | None:
    """Why the recommendation takes no answers now (closed, or its deadline
    passed); None when it takes them."""
    if recommendation.status is RecommendationStatus.CLOSED:
        return Refusal("recommendations.closed", id=recommendation.id)
    if not before_deadline(recommendation.deadline, now):
        return Refusal("recommendations.deadline_passed", id=recommendation.id, when=recommendation.deadline)
    return None


def takes_answers(recommendation: Recommendation, now: datetime) -> bool:
    """The recommendation is open and its deadline has not passed."""
    return answer_refusal(recommendation, now) is None


def reminder_time(deadline: datetime, tz: ZoneInfo, reached_at: datetime) -> datetime | None:
    """When the reminder before `deadline` goes out to someone the recommendation
    reached at `reached_at`; None: no reminder (see the module's rule)."""
    day = deadline.astimezone(tz).date()
    for candidate in (day - timedelta(days=1), day):
        moment = local_datetime(candidate, REMINDER_HOUR, tz)
        if moment >= reached_at + MIN_GAP and moment < deadline:
            return moment
    return None


def owed(recommendation_id: int, person_id: int, kind: DeliveryKind, due_at: datetime) -> dict[str, object]:
    """The delivery row of one message about the recommendation to one person."""
    return {
        "recommendation_id": recommendation_id,
        "person_id": person_id,
        "kind": kind,
        "lead_seconds": 0,
        "revision": 0,
        "due_at": due_at,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
    }


def skip_reason(
    row: Delivery,
    recommendation: Recommendation,
    target_groups: Collection[int],
    memberships: Collection[tuple[int, int]],
    answered: Collection[tuple[int, int]],
    now: datetime,
) -> str | None:
    """Why a due RECOMMENDATION(_LATE), FEEDBACK_DUE or DEADLINE_PASSED message is not sent; None: it is.

    `target_groups`: the recommendation's target group ids; `memberships`:
    (person, group) of approved members; `answered`: (recommendation, person)
    of those who gave a stance or a comment.
    """
    if recommendation.status is RecommendationStatus.CLOSED:
        return "recommendation closed"
    if row.kind is DeliveryKind.DEADLINE_PASSED:
        return "deadline moved" if before_deadline(recommendation.deadline, now) else None
    if not before_deadline(recommendation.deadline, now):
        return "deadline passed"
    if not any((row.person_id, g) in memberships for g in target_groups):
        return "not a member of a target group"
    if row.kind is DeliveryKind.FEEDBACK_DUE and (recommendation.id, row.person_id) in answered:
        return "already answered"
    return None


async def screen_due(uow: UnitOfWork, rows: Sequence[Delivery], now: datetime) -> dict[int, str]:
    """For due recommendation deliveries: the ones not to send, by delivery id, with the reason.

    - RECOMMENDATION(_LATE): not when it is closed, its deadline passed, or the
      person is no longer an approved member of a target group;
    - DEADLINE_PASSED: only while it is open and its deadline has passed;
    - FEEDBACK_DUE: not in those cases, nor when the person answered
      (a stance or a comment);
    - OUTCOME: always sent.
    Three queries for the whole batch, whatever its size.
    """
    reasons = {r.id: "recommendation gone" for r in rows if r.recommendation is None}
    screened = [r for r in rows if r.kind is not DeliveryKind.OUTCOME and r.id not in reasons]
    if not screened:
        return reasons
    recommendation_ids = {r.recommendation_id for r in screened if r.recommendation_id is not None}
    person_ids = {r.person_id for r in screened}
    targets = await uow.recommendations.target_group_ids(recommendation_ids)
    memberships = await uow.memberships.approved_pairs(person_ids)
    answered = await uow.recommendations.answered_pairs(
        recommendation_ids, {r.person_id for r in screened if r.kind is DeliveryKind.FEEDBACK_DUE}
    )
    for row in screened:
        recommendation = row.recommendation
        assert recommendation is not None
        groups = targets.get(recommendation.id, set())
        if (reason := skip_reason(row, recommendation, groups, memberships, answered, now)) is not None:
            reasons[row.id] = reason
    return reasons
