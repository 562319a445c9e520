"""A recommendation's deadline and its messages (`bot.core.recommendations`).

- It takes answers while it is open and its deadline has not passed
  (`answer_refusal`, `takes_answers`).
- Publishing and closing owe messages: delivery rows written with the
  recommendation (`owed`); the reminder is due a day before the deadline at
  the same wall time (`reminder_time`).
- When a message is due it is screened again (`skip_reason`): the
  recommendation and its reminder are dropped once it is closed, its deadline
  has passed, or the person has left its target groups; the reminder also
  once the person answered. The outcome is always sent.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import normalize
from bot.core.errors import Refusal
from storage.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Recommendation,
    RecommendationStatus,
)

REMIND_BEFORE = timedelta(days=1)


def answer_refusal(recommendation: Recommendation, now: datetime) -> Refusal | None:
    """Why the recommendation takes no answers now (closed, or its deadline
    passed); None when it takes them."""
    if recommendation.status is RecommendationStatus.CLOSED:
        return Refusal("recommendations.closed", id=recommendation.id)
    if recommendation.deadline is not None and recommendation.deadline < now:
        return Refusal("recommendations.deadline_passed", id=recommendation.id, when=recommendation.deadline)
    return None


def takes_answers(recommendation: Recommendation, now: datetime) -> bool:
    """The recommendation is open and its deadline has not passed."""
    return answer_refusal(recommendation, now) is None


def reminder_time(deadline: datetime, tz: ZoneInfo) -> datetime:
    """A day before the deadline at the same wall time (so 23:59 stays 23:59 across DST)."""
    wall = deadline.astimezone(tz).replace(tzinfo=None) - REMIND_BEFORE
    return normalize(wall, tz)


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
    """Why a due RECOMMENDATION or FEEDBACK_DUE message is not sent; None: it is.

    `target_groups`: the recommendation's target group ids; `memberships`:
    (person, group) of approved members; `answered`: (recommendation, person)
    of those who gave a stance or a comment.
    """
    if recommendation.status is RecommendationStatus.CLOSED:
        return "recommendation closed"
    if recommendation.deadline is not None and recommendation.deadline <= now:
        return "deadline passed"
    if not any((row.person_id, g) in memberships for g in target_groups):
        return "not a member of a target group"
    if row.kind is DeliveryKind.FEEDBACK_DUE and (recommendation.id, row.person_id) in answered:
        return "already answered"
    return None
