"""Models of what follows a session (SPEC 13): attendance, minutes with their
items, decisions and proposed corrections, tasks, and deputies.

Kept beside `storage.models` (which they extend on the same `Base`); the unit
of work imports this module, so every table is known wherever the database is.

- `Attendance`: one row per member (or guest) and session: anwesend,
  entschuldigt or abwesend, with who recorded it. The organisation is copied
  when the row is written: attendance is evidence for the funding report, so
  after `/forget` the row stays, without the person, as "ehemaliges Mitglied"
  of that organisation (`person_id` and `guest_name` both None).
- `Minutes` (*Ergebnisprotokoll*) of one session: written (`draft`),
  circulated to those present for corrections (`review`, until
  `review_until`), then approved and locked (`approved`).
- `MinutesItem`: one agenda item of the minutes with its result;
  `MinutesDecision`: a decision recorded under it (*Beschluss*).
- `MinutesCorrection`: a correction an attendee proposed to the draft.
- `Task` (*Aufgabe*): something a person is to do by a local date, from the
  minutes of a session; open until its owner marks it done.
- `Deputy` (*Vertretung*): a member names a registered person who, once they
  accepted, receives the member's invitations, reminders and feedback requests
  and may answer them in the member's place, until `until` (a local date,
  included) or until it is ended.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import NAME_MAX, ORGANISATION_MAX, AgendaItem, Base, Group, Occurrence, Person


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    """anwesend"""
    EXCUSED = "excused"
    """entschuldigt"""
    ABSENT = "absent"
    """abwesend"""


class Attendance(Base):
    """Whether one person (or a guest, by name) attended one session.

    A member's row is unique per session. `checked_in_at` is set by the
    person's own check-in (`/here`, "Ich bin da"), or their deputy's:
    `deputy_id` then names who attended in the member's place, and the
    member's organisation counts as present. `recorded_by_id` is the
    coordinator who set the status last (None: the check-in alone).
    """

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "person_id", name="uq_attendance_occurrence_person"),
        Index("ix_attendance_occurrence_status", "occurrence_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    guest_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    """A guest recorded by name (no person); None for members."""
    organisation: Mapped[str | None] = mapped_column(String(ORGANISATION_MAX))
    """Copied when recorded; kept after /forget."""
    status: Mapped[AttendanceStatus] = mapped_column(_enum(AttendanceStatus))
    checked_in_at: Mapped[datetime | None]
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime]

    occurrence: Mapped[Occurrence] = relationship()
    person: Mapped[Person | None] = relationship(foreign_keys=[person_id])
    deputy: Mapped[Person | None] = relationship(foreign_keys=[deputy_id])


class MinutesStatus(enum.StrEnum):
    DRAFT = "draft"
    """being written by the coordination"""
    REVIEW = "review"
    """circulated to those present, who may propose corrections"""
    APPROVED = "approved"
    """approved and locked; sent to the whole group"""


class Minutes(Base):
    """The minutes (*Ergebnisprotokoll*) of one session."""

    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"), unique=True)
    status: Mapped[MinutesStatus] = mapped_column(_enum(MinutesStatus), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    circulated_at: Mapped[datetime | None]
    review_until: Mapped[datetime | None]
    approved_at: Mapped[datetime | None] = mapped_column(index=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))

    occurrence: Mapped[Occurrence] = relationship()
    items: Mapped[list[MinutesItem]] = relationship(
        back_populates="minutes", order_by="MinutesItem.position", cascade="all, delete-orphan"
    )


class MinutesItem(Base):
    """One item of the minutes: an agenda item of the session (or one the
    coordinator added while writing), with its result."""

    __tablename__ = "minutes_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    minutes: Mapped[Minutes] = relationship(back_populates="items")
    agenda_item: Mapped[AgendaItem | None] = relationship()
    decisions: Mapped[list[MinutesDecision]] = relationship(
        back_populates="item", order_by="MinutesDecision.position", cascade="all, delete-orphan"
    )


class MinutesDecision(Base):
    """A decision (*Beschluss*) recorded under one item of the minutes."""

    __tablename__ = "minutes_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("minutes_items.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    item: Mapped[MinutesItem] = relationship(back_populates="decisions")


class MinutesCorrection(Base):
    """A correction an attendee proposed to draft minutes; the coordination
    takes it into the text (or not) before approving."""

    __tablename__ = "minutes_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    person: Mapped[Person | None] = relationship()


class TaskStatus(enum.StrEnum):
    DRAFT = "draft"
    """in minutes not approved yet: nobody is told, it is on no list"""
    OPEN = "open"
    """from approved minutes: the owner was told, it is on /tasks and the group's next agenda"""
    DONE = "done"


class Task(Base):
    """A task (*Aufgabe*) from the minutes: text, owner, due date (local)."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_group_status", "group_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("occurrences.id", ondelete="SET NULL"), index=True)
    minutes_item_id: Mapped[int | None] = mapped_column(ForeignKey("minutes_items.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    """The local date it is due (TIMEZONE)."""
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]

    group: Mapped[Group] = relationship()
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id])


class Deputy(Base):
    """A member's deputy (*Vertretung*).

    Asked at `created_at`; in force from `accepted_at` until the local date
    `until` (included; None: until ended) unless `ended_at` is set (`/deputy
    off`, the deputy declined, or a new deputy was named).
    """

    __tablename__ = "deputies"
    __table_args__ = (Index("ix_deputies_member_ended", "member_id", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    member: Mapped[Person] = relationship(foreign_keys=[member_id])
    deputy: Mapped[Person] = relationship(foreign_keys=[deputy_id])
