"""Models of the coordination's own work: the audit log, announcements to
groups, and the notes a coordinator adds to a half-year report.

Kept beside `storage.models` (which they extend on the same `Base`); the unit
of work imports this module, so every table is known wherever the database is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, Group, Person

PERIOD_MAX = 7
"""A half-year as written in /report: `2026-H2`."""


class AuditEntry(Base):
    """One change a coordinator made (SPEC 2): who, what, when, on which object.

    `action` is a dotted name (`membership.approve`, `group.archive`, ...) that
    the catalogs turn into words (`audit.<action>`); `object_type` and
    `object_id` name the object (`group` 3, `occurrence` 12, `person` 7);
    `detail` keeps what the words need (a name, a reason), never a secret.
    `actor_id` is kept as None once the actor used /forget.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor_at", "actor_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON)

    actor: Mapped[Person | None] = relationship()


announcement_groups = Table(
    "announcement_groups",
    Base.metadata,
    Column("announcement_id", ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Announcement(Base):
    """A message from the coordination to every member of its groups (/announce),
    sent through the same paced, crash-safe deliveries as reminders; an attached
    document is kept as Telegram's `file_id`."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    all_groups: Mapped[bool] = mapped_column(Boolean, default=False)
    document_file_id: Mapped[str | None] = mapped_column(String(200))
    document_name: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(index=True)

    groups: Mapped[list[Group]] = relationship(secondary=announcement_groups, order_by=Group.id)


class ReportNote(Base):
    """The coordinator's short note on one group for one half-year report (SPEC 7)."""

    __tablename__ = "report_notes"
    __table_args__ = (UniqueConstraint("group_id", "period", name="uq_report_notes_group_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(PERIOD_MAX))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
