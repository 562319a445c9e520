"""Models: the tables of KIM-Bot as typed SQLAlchemy 2 classes.

- `Person`: someone who wrote to the bot (Telegram user id, display name,
  organisation, language, privacy acknowledgement, the guided input the bot
  is waiting for, whether Telegram still delivers to them).
- `Group`: a working group or the steering circle (SPEC 1).
- `Membership`: one row per (person, group) with its status and who decided
  when (SPEC 2).
- `Invite`: a single-use deep link into one group.
- `Meeting` and `Occurrence`: sessions, one-off or a series (SPEC 4).
- `Rsvp`: a member's answer for one session (Zusage / Absage / Vielleicht).
- `AgendaItem`: a topic proposed for a group's session (SPEC 5).
- `Recommendation`, with its target groups, each member's `Stance` and their
  `Comment`s: the steering circle's recommendations and the feedback (SPEC 6).
- `Delivery`: every message the bot owes one person on its own initiative
  (invitations, reminders, notices, recommendations, notes to authors).
- In `storage.inbox_models`: each update from Telegram, kept until it has been handled.
- In `storage.admin_models`: the audit log, announcements, the report's notes.
- In `storage.followup_models`: attendance, minutes, tasks, deputies (SPEC 13).
- In `storage.tracking_models`: the results of recommendations and their tracking (SPEC 14).

All datetimes are timezone-aware UTC; Telegram ids are `BigInteger`.
Constraint names follow one naming convention so migrations stay portable
between SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false
from sqlalchemy.types import JSON, TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME_MAX = 64
ORGANISATION_MAX = 120
TITLE_MAX = 200
LOCATION_MAX = 300
AGENDA_TEXT_MAX = 1000
REASON_MAX = 500
RECOMMENDATION_TEXT_MAX = 3000
COMMENT_MAX = 2000
OUTCOME_MAX = 2000


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class MembershipStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    LEFT = "left"


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    username: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    organisation: Mapped[str | None] = mapped_column(String(ORGANISATION_MAX))
    language: Mapped[str | None] = mapped_column(String(8))
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    privacy_acknowledged_at: Mapped[datetime | None]
    registered_at: Mapped[datetime | None]
    unreachable_since: Mapped[datetime | None] = mapped_column(index=True)
    """Set when Telegram refused delivery (blocked); indexed for the digest's list of the unreachable."""
    awaiting: Mapped[str | None] = mapped_column(String(32))
    awaiting_data: Mapped[dict[str, object] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]

    memberships: Mapped[list[Membership]] = relationship(back_populates="person", foreign_keys="Membership.person_id")


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("person_id", "group_id", name="uq_memberships_person_group"),
        # The digest counts members per group and status (those approved in a period too)
        # and finds who of a group has not answered, from this index alone.
        Index("ix_memberships_group_status", "group_id", "status", "person_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    status: Mapped[MembershipStatus] = mapped_column(
        Enum(MembershipStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    left_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    """The coordination's reason for a rejection or a removal; the person reads it."""
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id", ondelete="SET NULL"))

    person: Mapped[Person] = relationship(back_populates="memberships", foreign_keys=[person_id])
    group: Mapped[Group] = relationship()
    decided_by: Mapped[Person | None] = relationship(foreign_keys=[decided_by_id])


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None]

    group: Mapped[Group] = relationship()


class OccurrenceStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RsvpAnswer(enum.StrEnum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


class DeliveryKind(enum.StrEnum):
    """What a delivery is about. Session kinds have an `occurrence_id`,
    recommendation kinds a `recommendation_id`, item kinds an `agenda_item_id`,
    a scheduled digest its `scheduled_for` time."""

    INVITATION = "invitation"
    REMINDER = "reminder"
    MOVED = "moved"
    CANCELLED = "cancelled"
    RECOMMENDATION = "recommendation"
    FEEDBACK_DUE = "feedback_due"
    OUTCOME = "outcome"
    ITEM_REJECTED = "item_rejected"
    ITEM_DEFERRED = "item_deferred"
    DIGEST = "digest"
    RECOMMENDATION_LATE = "recommended_late"
    """A recommendation sent to someone who joined a target group after it went out (*nachträglich*)."""
    DEADLINE_PASSED = "deadline_passed"
    """To the coordinator who published a recommendation: its deadline passed; close, remind or extend."""
    ANNOUNCEMENT = "announcement"
    """A message of the coordination to the members of groups (/announce); has an `announcement_id`."""
    TASK_ASSIGNED = "task_assigned"
    """To the owner of a task from the minutes: what, by when, with a "Erledigt" button; has a `task_id`."""
    TASK_DUE = "task_due"
    """To the owner of an open task, two days before it is due, at a daytime hour; has a `task_id`."""
    MINUTES_DRAFT = "minutes_draft"
    """Draft minutes to those present, with "Korrektur vorschlagen"; has a `minutes_id`."""
    MINUTES_FINAL = "minutes_final"
    """Approved minutes (text and Word document) to every member of the group; has a `minutes_id`."""
    DEPUTY_COPY = "deputy_copy"
    """A member's invitation, reminder or feedback request, copied to their deputy when it is sent,
    marked "in Vertretung für …"; has a `copy_of_id` (the member's delivery)."""
    REVIEW_DUE = "review_due"
    """To each coordinator on a tracked recommendation's review date (SPEC 14); has a `tracking_id`."""


SESSION_KINDS = frozenset({DeliveryKind.INVITATION, DeliveryKind.REMINDER, DeliveryKind.MOVED, DeliveryKind.CANCELLED})
RECOMMENDATION_KINDS = frozenset(
    {
        DeliveryKind.RECOMMENDATION,
        DeliveryKind.RECOMMENDATION_LATE,
        DeliveryKind.FEEDBACK_DUE,
        DeliveryKind.OUTCOME,
        DeliveryKind.DEADLINE_PASSED,
    }
)
ITEM_KINDS = frozenset({DeliveryKind.ITEM_REJECTED, DeliveryKind.ITEM_DEFERRED})
TASK_KINDS = frozenset({DeliveryKind.TASK_ASSIGNED, DeliveryKind.TASK_DUE})
MINUTES_KINDS = frozenset({DeliveryKind.MINUTES_DRAFT, DeliveryKind.MINUTES_FINAL})
DEPUTY_COPIED_KINDS = frozenset(
    {
        DeliveryKind.INVITATION,
        DeliveryKind.REMINDER,
        DeliveryKind.MOVED,
        DeliveryKind.CANCELLED,
        DeliveryKind.RECOMMENDATION,
        DeliveryKind.RECOMMENDATION_LATE,
        DeliveryKind.FEEDBACK_DUE,
    }
)
"""What a deputy receives of the member's messages (SPEC 13): invitations and reminders
(with the notices that a session moved or was cancelled) and feedback requests."""


class AgendaStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class RecommendationStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class StanceValue(enum.StrEnum):
    AGREE = "agree"
    CONCERNS = "concerns"
    REJECT = "reject"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Meeting(Base):
    """A session or a series of sessions of one group, at a local wall time.

    `start_local` is the naive local date and time of the first session in
    `timezone`; `rrule` (RFC 5545) makes it a series. The sessions themselves
    are `Occurrence` rows, so each has its own id (#12), time and status.
    """

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    location: Mapped[str | None] = mapped_column(String(LOCATION_MAX))
    description: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    rrule: Mapped[str | None] = mapped_column(String(200))
    materialized_until: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

    group: Mapped[Group] = relationship()


class Occurrence(Base):
    """One session (Sitzung): the id people see, its time, its status.

    `original_local` names which instance of the series it is (for EXDATE
    in calendar files); `revision` counts reschedules, so reminders planned
    for an old time are told apart from those for the new one.
    """

    __tablename__ = "occurrences"
    __table_args__ = (UniqueConstraint("meeting_id", "original_local", name="uq_occurrences_meeting_original"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    original_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[OccurrenceStatus] = mapped_column(_enum(OccurrenceStatus))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    """Why the session was cancelled, when the coordination said; the members read it."""

    meeting: Mapped[Meeting] = relationship()


class Rsvp(Base):
    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("occurrence_id", "person_id", name="uq_rsvps_occurrence_person"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    answer: Mapped[RsvpAnswer] = mapped_column(_enum(RsvpAnswer))
    answered_at: Mapped[datetime]


class Delivery(Base):
    """One message the bot owes one person, about a session, a recommendation
    or an agenda item (see `DeliveryKind`).

    The database is the source of truth for what is due and what was sent:
    a row is marked sent only after Telegram accepted the message, so a crash
    can at most repeat the messages in flight at that moment.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "person_id", "kind", "lead_seconds", "revision", name="uq_deliveries_once"),
        UniqueConstraint("recommendation_id", "person_id", "kind", name="uq_deliveries_recommendation_once"),
        UniqueConstraint("scheduled_for", "person_id", "kind", name="uq_deliveries_scheduled_once"),
        UniqueConstraint("announcement_id", "person_id", "kind", name="uq_deliveries_announcement_once"),
        UniqueConstraint("task_id", "person_id", "kind", name="uq_deliveries_task_once"),
        UniqueConstraint("minutes_id", "person_id", "kind", name="uq_deliveries_minutes_once"),
        UniqueConstraint("copy_of_id", "person_id", name="uq_deliveries_copy_once"),
        UniqueConstraint("tracking_id", "person_id", "kind", "revision", name="uq_deliveries_tracking_once"),
        Index("ix_deliveries_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"))
    recommendation_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True)
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    minutes_id: Mapped[int | None] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"))
    copy_of_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    """For a deputy's copy: the member's delivery it copies (SPEC 13)."""
    tracking_id: Mapped[int | None] = mapped_column(ForeignKey("trackings.recommendation_id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime | None]
    """For a scheduled digest: the DIGEST_SCHEDULE time it is for (one per coordinator and time)."""
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[DeliveryKind] = mapped_column(_enum(DeliveryKind))
    lead_seconds: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    """The process sending it (storage.cluster): a live process's claim is respected,
    a dead one's is taken over."""

    occurrence: Mapped[Occurrence | None] = relationship()
    recommendation: Mapped[Recommendation | None] = relationship()
    agenda_item: Mapped[AgendaItem | None] = relationship()
    person: Mapped[Person] = relationship()


class AgendaItem(Base):
    """A topic a member proposed for a group's session (Tagesordnungspunkt).

    `occurrence_id` is the session it is on; None while the group has no
    session scheduled (it joins the next one created). `position` orders the
    items of one session; the number people see is the rank among the items
    still on the agenda. `reason` is the coordination's reason for a rejection.
    `not_before` keeps an item that missed a session's agenda deadline, or was
    deferred, off that session: it only joins sessions starting after it.
    """

    __tablename__ = "agenda_items"
    __table_args__ = (
        # The digest counts and lists a group's new items of a period from this index alone.
        Index("ix_agenda_items_group_created", "group_id", "created_at", "status"),
        # Whether a session has an agenda, how many items and the last position
        # (where a proposal goes), from this index alone.
        Index("ix_agenda_items_occurrence_status", "occurrence_id", "status", "position"),
        # A group's waiting items (no session), without reading its others.
        Index("ix_agenda_items_group_waiting", "group_id", "occurrence_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("occurrences.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[AgendaStatus] = mapped_column(_enum(AgendaStatus))
    position: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """*nachgereicht*: sent after the session's agenda deadline (SPEC 5); the coordination accepts or defers it."""
    not_before: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))

    group: Mapped[Group] = relationship()
    occurrence: Mapped[Occurrence | None] = relationship()
    author: Mapped[Person | None] = relationship(foreign_keys=[author_id])


recommendation_groups = Table(
    "recommendation_groups",
    Base.metadata,
    Column("recommendation_id", ForeignKey("recommendations.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Recommendation(Base):
    """A recommendation (Empfehlung) put to the members of its target groups.

    Open until a coordinator closes it with an outcome note; stances and
    comments are taken until `deadline` (None: until it is closed).
    """

    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    deadline: Mapped[datetime | None]
    status: Mapped[RecommendationStatus] = mapped_column(_enum(RecommendationStatus), index=True)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))

    groups: Mapped[list[Group]] = relationship(secondary=recommendation_groups, order_by=Group.id)


class Stance(Base):
    """A member's one stance on a recommendation; the latest counts."""

    __tablename__ = "stances"
    __table_args__ = (
        UniqueConstraint("recommendation_id", "person_id", name="uq_stances_recommendation_person"),
        # Tallies per stance (and how many came in a period) from this index alone.
        Index("ix_stances_recommendation_value", "recommendation_id", "value", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    value: Mapped[StanceValue] = mapped_column(_enum(StanceValue))
    answered_at: Mapped[datetime]


class Comment(Base):
    """A comment on a recommendation; a member may write as many as they want."""

    __tablename__ = "comments"
    __table_args__ = (
        # The latest comments of a recommendation, and whether a person commented on it.
        Index("ix_comments_recommendation_created", "recommendation_id", "created_at"),
        Index("ix_comments_recommendation_person", "recommendation_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
