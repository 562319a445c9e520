"""Closing a recommendation (SPEC 6, 14). Rules that live here:

- Only coordinators close. "Abschließen" (`start_close`) asks, with buttons,
  for the result: angenommen, nicht angenommen, zur Kenntnis genommen; a
  recommendation already closed is refused and nothing changes.
- The result chosen (`choose_result`), the coordinator's next text is the
  outcome note (1..2000 characters, counted as Telegram counts them).
- The outcome note (`close`) closes it with the result, in one transaction:
  the recommendation CLOSED, its `Tracking` row with the result (status
  offen), one OUTCOME message owed to everyone who answered (with the final
  tally), the messages not sent yet about it dropped, the audit entry
  `recommendation.close` with the result. Closing twice changes nothing.
- Closed as adopted, the bot asks right away for what tracking needs:
  responsible office or group, due date, review date, each of which may be
  left for later (`bot.core.tracking_changes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core import audit, steps, tracking_changes
from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.people import require_coordinator
from bot.core.recommendation_screening import owed
from bot.core.recommendations import outcome_text
from bot.core.steps import Step
from bot.core.tracking_changes import Field
from storage.models import RECOMMENDATION_KINDS, DeliveryKind, Person, Recommendation, RecommendationStatus
from storage.tracking_models import RecommendationResult
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Closed:
    recommendation: Recommendation
    told: int
    """How many people are owed the outcome."""
    result: RecommendationResult | None
    asks: Field | None
    """Closed as adopted: the first tracking field the bot now asks for."""


async def _open(uow: UnitOfWork, coordinator: Person, recommendation_id: int, settings: Settings) -> Recommendation:
    require_coordinator(coordinator, settings)
    recommendation = await uow.recommendations.get(recommendation_id)
    if recommendation is None:
        raise Refusal("recommendations.unknown", id=recommendation_id)
    if recommendation.status is RecommendationStatus.CLOSED:
        raise Refusal("recommendations.already_closed", id=recommendation.id)
    return recommendation


async def start_close(
    uow: UnitOfWork, coordinator: Person, recommendation_id: int, settings: Settings
) -> Recommendation:
    """Abschließen pressed: the recommendation, still open; the caller asks for the result."""
    return await _open(uow, coordinator, recommendation_id, settings)


async def choose_result(
    uow: UnitOfWork, coordinator: Person, recommendation_id: int, result: RecommendationResult, settings: Settings
) -> Recommendation:
    """A result pressed: the coordinator's next text is the outcome note."""
    recommendation = await _open(uow, coordinator, recommendation_id, settings)
    steps.ask(coordinator, Step.RECOMMENDATION_OUTCOME, {"recommendation": recommendation.id, "result": result.value})
    await uow.flush()
    return recommendation


def _result_of_step(coordinator: Person) -> RecommendationResult | None:
    value = steps.recall(coordinator, "result")
    try:
        return RecommendationResult(value) if isinstance(value, str) else None
    except ValueError:
        return None


async def close(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime) -> Closed:
    """The outcome note: close the recommendation with the chosen result and owe
    everyone who answered a message; adopted, ask for the tracking fields."""
    require_coordinator(coordinator, settings)
    recommendation_id = steps.recall_id(coordinator, "recommendation")
    result = _result_of_step(coordinator)
    outcome = outcome_text(text)
    recommendation = await uow.recommendations.get(recommendation_id)
    if recommendation is None or not await uow.recommendations.close_if_open(
        recommendation.id, outcome, coordinator.id, now
    ):
        if recommendation is None:
            raise Refusal("recommendations.unknown", id=recommendation_id).ending_step()
        raise Refusal("recommendations.already_closed", id=recommendation.id).ending_step()
    await uow.recommendations.skip_pending(
        recommendation.id, RECOMMENDATION_KINDS - {DeliveryKind.OUTCOME}, "recommendation closed"
    )
    person_ids = await uow.recommendations.answered_people(recommendation.id)
    await uow.deliveries.insert_many(
        [owed(recommendation.id, person_id, DeliveryKind.OUTCOME, now) for person_id in person_ids]
    )
    detail = {"result": result.value} if result is not None else {}
    audit.record(uow, coordinator, "recommendation.close", "recommendation", recommendation.id, now, **detail)
    steps.end(coordinator)
    asks = None
    if result is not None:
        tracking_changes.record_result(uow, recommendation.id, result, now)
        if result is RecommendationResult.ADOPTED:
            asks = tracking_changes.begin_guided(coordinator, recommendation.id)
    await uow.flush()
    return Closed(recommendation, len(person_ids), result, asks)
