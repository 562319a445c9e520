"""Models of e-mail beside Telegram (SPEC 15).

Kept beside `storage.models` (which they extend on the same `Base`); the unit
of work imports this module, so the tables are known wherever the database is.

- `EmailAddress`: one row per person who gave an address. `pending_address`
  waits for its confirmation (a link valid 24 hours, or the code in the mail,
  three tries); `address` is the confirmed one. `mode` says what goes by mail:
  everything also by e-mail, or only when Telegram cannot reach the person.
  A hard bounce (the server refused the address) sets `bounced_at`: nothing
  more goes there until the person gives an address again.
- `Mail`: one e-mail the bot owes, with the same guarantees as a Telegram
  delivery: marked sent only after the mail server accepted it, claimed by
  the sending process, retried with growing pauses while the server is away.
  A mail of a delivery record (`delivery_id`, at most one per record: once
  per channel) or the confirmation of an address (`purpose` confirm).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, Delivery, DeliveryStatus, Person

ADDRESS_MAX = 254
"""The longest e-mail address (RFC 5321's path limit)."""


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class MailMode(enum.StrEnum):
    ALL = "all"
    """Everything that goes by e-mail also goes by e-mail (the default)."""
    FALLBACK = "fallback"
    """By e-mail only when Telegram cannot reach the person."""


class MailPurpose(enum.StrEnum):
    DELIVERY = "delivery"
    """The e-mail copy of a delivery record (invitation, reminder, ...)."""
    CONFIRM = "confirm"
    """The confirmation link and code for a new address (double opt-in)."""


class EmailAddress(Base):
    __tablename__ = "email_addresses"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    address: Mapped[str | None] = mapped_column(String(ADDRESS_MAX))
    """The confirmed address (None until one is confirmed)."""
    confirmed_at: Mapped[datetime | None]
    mode: Mapped[MailMode] = mapped_column(_enum(MailMode), default=MailMode.ALL)
    bounced_at: Mapped[datetime | None]
    bounce: Mapped[str | None] = mapped_column(String(200))
    """What the mail server said when it refused the address."""
    pending_address: Mapped[str | None] = mapped_column(String(ADDRESS_MAX))
    pending_since: Mapped[datetime | None]
    """When the confirmation of `pending_address` was asked; the link and code are valid 24 hours."""
    pending_tries: Mapped[int] = mapped_column(Integer, default=0)
    """Wrong codes typed for `pending_address`."""

    person: Mapped[Person] = relationship()

    @property
    def usable(self) -> str | None:
        """The address mails go to: confirmed and not bounced."""
        return self.address if self.confirmed_at is not None and self.bounced_at is None else None


class Mail(Base):
    __tablename__ = "mails"
    __table_args__ = (Index("ix_mails_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), unique=True)
    """The delivery record this mail carries (one mail per record)."""
    purpose: Mapped[MailPurpose] = mapped_column(_enum(MailPurpose))
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    """Where it goes: the confirmed address, or for a confirmation the address to confirm."""
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    """The process sending it (storage.cluster), as for deliveries."""

    delivery: Mapped[Delivery | None] = relationship()
    person: Mapped[Person] = relationship()
