"""Payloads of tracking the steering circle's recommendations (SPEC 14): the
result asked when closing, and the buttons of `/track`, its card and the
review reminder. Encoded and decoded as every payload (`handlers.payloads`).

Values are short tokens (`[a-z0-9-]`): a result or a status is its value with
"-" for "_" (`in-progress`), a date is `YYYYMMDD` (so that two ids and a date
fit into Telegram's 64 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.payloads import Payload


@dataclass(frozen=True)
class ChooseResult(Payload, prefix="tr"):
    """Angenommen / Nicht angenommen / Zur Kenntnis genommen after "Abschließen"
    (`result`: adopted, rejected, noted)."""

    recommendation_id: int
    result: str


@dataclass(frozen=True)
class OpenTracking(Payload, prefix="to"):
    """ "#7 öffnen" in the /track list: the item's card."""

    recommendation_id: int


@dataclass(frozen=True)
class ChangeTracking(Payload, prefix="tf"):
    """ "Zuständig ändern", "Fälligkeit ändern", "Wiedervorlage ändern", "Stand ändern"
    (`field`: responsible, due, review, status)."""

    recommendation_id: int
    field: str


@dataclass(frozen=True)
class TrackingDate(Payload, prefix="tt"):
    """A date offered for the due date or (`review`) the review date; `day`: YYYYMMDD."""

    recommendation_id: int
    review: bool
    day: int


@dataclass(frozen=True)
class TrackingStatus(Payload, prefix="ts"):
    """A status pressed: open, in-progress, delayed (asks for the reason), done."""

    recommendation_id: int
    status: str


@dataclass(frozen=True)
class SkipTracking(Payload, prefix="tx"):
    """ "Später festlegen" (after closing) or "Nicht ändern" (under /track's question)."""

    recommendation_id: int
