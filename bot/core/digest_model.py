"""The digest as data: what `bot.core.digest_build` fills in and `bot.render.digest`
lays out, and the limits of what it holds (the rules: `bot.core.digest`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage.digest_rows import CommentRow, ItemRow, PersonRow
from storage.followup_models import MinutesStatus
from storage.tracking_models import Tracking, TrackStatus

SHOWN = 5
"""Entries of a list (names, sessions, items, recommendations) shown per group."""
COMMENTS_SHOWN = 3
"""Latest comments shown per recommendation and group."""
COMING = timedelta(days=14)
"""Coming sessions, and sessions without an agenda, are those of the next 14 days."""
FEW_CONFIRMATIONS_WITHIN = timedelta(days=7)
DEADLINE_WITHIN = timedelta(days=3)
DEADLINES_SHOWN = 3
"""Recommendations near their deadline named under "Was fehlt", the nearest first;
counting who has not answered touches every target member, so the rest are only counted."""


@dataclass(frozen=True)
class Overdue:
    """An adopted recommendation past its due date (SPEC 14, `bot.core.tracking.overdue`), as stored now."""

    id: int
    text: str
    responsible: str | None
    due_on: date
    status: TrackStatus
    delay_reason: str | None

    @classmethod
    def of(cls, tracking: Tracking) -> Overdue:
        assert tracking.due_on is not None  # an overdue tracking has a due date
        return cls(
            tracking.recommendation_id,
            tracking.recommendation.text,
            tracking.responsible,
            tracking.due_on,
            tracking.status,
            tracking.delay_reason,
        )


@dataclass(frozen=True)
class Period:
    """(start, end]: the last `days` days, or since a date (`since`)."""

    start: datetime
    end: datetime
    days: int | None = None
    since: date | None = None


@dataclass(frozen=True)
class Names:
    """Up to `SHOWN` people and how many there are in all."""

    people: tuple[PersonRow, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.people)


@dataclass(frozen=True)
class Session:
    id: int
    group: str
    title: str
    starts_at: datetime
    timezone: str
    yes: int
    no: int
    maybe: int
    agenda: int
    """Items on its agenda (proposed or accepted)."""


@dataclass(frozen=True)
class Sessions:
    shown: tuple[Session, ...]
    total: int


@dataclass(frozen=True)
class Items:
    shown: tuple[ItemRow, ...]
    total: int


@dataclass(frozen=True)
class Feedback:
    """One open recommendation and its feedback (all target members, as /feedback counts it)."""

    id: int
    text: str
    deadline: datetime | None
    agree: int
    concerns: int
    reject: int
    comments: int
    new: int
    """Stances and comments that came in the period."""
    latest: tuple[CommentRow, ...]


@dataclass(frozen=True)
class Recommendations:
    shown: tuple[Feedback, ...]
    total: int


@dataclass(frozen=True)
class FollowUp:
    """A held session of the period that lacks its attendance or its approved minutes."""

    id: int
    title: str
    starts_at: datetime
    timezone: str
    attendance_taken: bool
    minutes: MinutesStatus | None
    """None: no minutes; DRAFT; REVIEW (its review period is over)."""


@dataclass(frozen=True)
class FollowUps:
    shown: tuple[FollowUp, ...] = ()
    total: int = 0


@dataclass(frozen=True)
class GroupDigest:
    id: int
    slug: str
    name: str
    members: int
    joined: Names
    left: Names
    pending: Names
    unreachable: Names
    held: Sessions
    coming: Sessions
    items: Items
    recommendations: Recommendations
    followup: FollowUps = FollowUps()
    """Held sessions of the period without attendance or approved minutes ("Was fehlt")."""
    by_mail: int = 0
    """Of the unreachable, how many e-mail reaches instead (SPEC 15)."""

    @property
    def news(self) -> bool:
        """Something happened in the period, or a request waits for a decision."""
        return bool(
            self.joined.total
            or self.left.total
            or self.pending.total
            or self.held.total
            or self.items.total
            or any(f.new for f in self.recommendations.shown)
        )

    @property
    def empty(self) -> bool:
        """Nothing at all to show for the group."""
        return not (
            self.news
            or self.unreachable.total
            or self.coming.total
            or self.recommendations.total
            or self.followup.total
        )


@dataclass(frozen=True)
class Unanswered:
    """An open recommendation near its deadline and the target members who have not answered."""

    id: int
    text: str
    deadline: datetime
    missing: Names


@dataclass(frozen=True)
class Shortage:
    """A session soon with few Zusagen."""

    session: Session
    members: int


@dataclass(frozen=True)
class Missing:
    without_agenda: tuple[Session, ...]
    without_agenda_total: int
    unanswered: tuple[Unanswered, ...]
    unanswered_total: int
    few_confirmations: tuple[Shortage, ...]
    few_confirmations_total: int
    followup_total: int = 0
    """Held sessions of the period without attendance or approved minutes (listed under their group)."""
    overdue: tuple[Overdue, ...] = ()
    """Adopted recommendations past their due date (SPEC 14), due longest ago first."""
    overdue_total: int = 0

    @property
    def nothing(self) -> bool:
        return not (
            self.without_agenda_total
            or self.unanswered_total
            or self.few_confirmations_total
            or self.followup_total
            or self.overdue_total
        )


@dataclass(frozen=True)
class Scope:
    """The one group a digest was asked for."""

    slug: str
    name: str


@dataclass(frozen=True)
class Digest:
    generated_at: datetime
    timezone: str
    period: Period
    scope: Scope | None
    """The one group asked for; None: all groups."""
    missing: Missing
    groups: tuple[GroupDigest, ...]
    new_feedback: bool
    """A stance or comment came in the period (on any open recommendation to the groups)."""
    scheduled: bool = False
    coming_days: int = COMING.days
    few_confirmations_days: int = FEW_CONFIRMATIONS_WITHIN.days
    deadline_days: int = DEADLINE_WITHIN.days

    @property
    def nothing_new(self) -> bool:
        return self.missing.nothing and not self.new_feedback and not any(g.news for g in self.groups)
