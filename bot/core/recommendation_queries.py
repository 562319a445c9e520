"""What the messages about a recommendation show, read for the delivery timer.

A fan-out renders hundreds of messages about one recommendation in one run
of the timer; these reads are made once per recommendation and run (the
renderer keeps them), not once per message.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from storage.models import Recommendation, StanceValue
from storage.uow import UnitOfWork


@dataclass
class Shown:
    """What every message about one recommendation shows."""

    recommendation: Recommendation
    stances: dict[int, StanceValue]
    """Each member's stance by person id (their chosen button is marked)."""
    tally: Counter[StanceValue] | None = None
    """The final tally, read for the outcome only (`with_final_tally`)."""
    comments: int = 0


async def shown(uow: UnitOfWork, recommendation_id: int) -> Shown:
    """A recommendation the timer was asked to send (`screen_due` checked it exists)."""
    recommendation = await uow.recommendations.get(recommendation_id)
    assert recommendation is not None, "screened by bot.core.recommendations.screen_due"
    return Shown(recommendation, await uow.recommendations.stances_by_person(recommendation_id))


async def with_final_tally(uow: UnitOfWork, facts: Shown) -> Shown:
    """`facts` with the final tally and the number of comments (for the outcome), read once."""
    if facts.tally is None:
        recommendation_id = facts.recommendation.id
        facts.tally = (await uow.recommendations.tallies([recommendation_id]))[recommendation_id]
        facts.comments = (await uow.recommendations.comment_counts([recommendation_id]))[recommendation_id]
    return facts
