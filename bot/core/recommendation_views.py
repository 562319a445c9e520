"""What the use cases of `bot.core.recommendations` return: plain data the
handlers render (a published or closed recommendation, a stance or comment
given, what a member or the coordination sees)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.recommendation_parsing import Targets
from storage.models import Comment, Person, Recommendation, StanceValue


@dataclass
class Published:
    recommendation: Recommendation
    recipients: int


@dataclass
class Prepared:
    """A guided /recommend before "Senden": what will be sent, and to how many people."""

    targets: Targets
    text: str
    deadline: datetime | None
    recipients: int
    version: int = 0
    """Which preview this is; its buttons send only while it is the newest."""


@dataclass
class AfterDeadline:
    """What the coordinator reads when a deadline has passed (and after choosing)."""

    recommendation: Recommendation
    members: int
    answered: int

    @property
    def silent(self) -> int:
        return max(self.members - self.answered, 0)


@dataclass
class Extended:
    """A new deadline was set; `reminded`: how many of the silent are reminded now."""

    recommendation: Recommendation
    reminded: int
    remind: bool


@dataclass
class TextWanted:
    """`/recommend <group>` without text: the bot now waits for the text."""

    targets: Targets


@dataclass
class StanceGiven:
    recommendation: Recommendation
    value: StanceValue
    changed: bool


@dataclass
class Commented:
    recommendation: Recommendation
    stance: StanceValue | None


@dataclass
class Waiting:
    recommendations: Sequence[Recommendation]
    total: int


@dataclass
class MemberView:
    recommendation: Recommendation
    stance: StanceValue | None
    comments: int
    answerable: bool


@dataclass
class Overview:
    recommendation: Recommendation
    tally: Counter[StanceValue]
    members: int
    answered: int
    comments: int
    latest: list[tuple[Comment, Person | None]] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return max(self.members - self.answered, 0)


@dataclass
class OpenList:
    overviews: list[Overview]
    total: int
