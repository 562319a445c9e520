"""Models of tracking the steering circle's recommendations (SPEC 14,
*Beschlusskontrolle*).

Kept beside `storage.models` (which they extend on the same `Base`); the unit
of work imports this module, so the table is known wherever the database is.

- `Tracking`: one row per recommendation closed with a result (angenommen,
  nicht angenommen, zur Kenntnis genommen). Only an adopted one is tracked:
  the responsible office or group (free text), the due date, the status
  (offen, in Arbeit, verzögert with a reason, erledigt) and the review date
  (*Wiedervorlage*), each of which may be left open and set later. The
  recommendation's id is the row's id: people write `/track 7` for `#7`.
- `review_revision` counts the review dates set, so a reminder planned for an
  earlier review date is told apart from the one for the current date.
- A recommendation closed before results were asked has no row: it is not
  tracked.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, Recommendation


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


RESPONSIBLE_MAX = 200
"""The longest name of a responsible office or group."""


class RecommendationResult(enum.StrEnum):
    """What became of a recommendation when it was closed."""

    ADOPTED = "adopted"
    """angenommen: tracked until it is done."""
    REJECTED = "rejected"
    """nicht angenommen."""
    NOTED = "noted"
    """zur Kenntnis genommen."""


class TrackStatus(enum.StrEnum):
    OPEN = "open"
    """offen"""
    IN_PROGRESS = "in_progress"
    """in Arbeit"""
    DELAYED = "delayed"
    """verzögert, with a reason"""
    DONE = "done"
    """erledigt"""


class Tracking(Base):
    """The result of a closed recommendation and, when adopted, how far it is."""

    __tablename__ = "trackings"

    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    result: Mapped[RecommendationResult] = mapped_column(_enum(RecommendationResult), index=True)
    responsible: Mapped[str | None] = mapped_column(String(RESPONSIBLE_MAX))
    due_on: Mapped[date | None] = mapped_column(Date)
    """The local date it is due (TIMEZONE)."""
    status: Mapped[TrackStatus] = mapped_column(_enum(TrackStatus), default=TrackStatus.OPEN)
    delay_reason: Mapped[str | None] = mapped_column(Text)
    """Why it is verzögert (kept while the status is DELAYED)."""
    review_on: Mapped[date | None] = mapped_column(Date)
    """The review date (*Wiedervorlage*, local): the coordination is reminded that day."""
    review_revision: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    """When the status became erledigt (None while it is not)."""

    recommendation: Mapped[Recommendation] = relationship()
