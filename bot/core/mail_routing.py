"""Which messages also go by e-mail, and when e-mail stands in for Telegram (SPEC 15).

The rules, in one place:
- a person with a confirmed address that did not bounce gets by e-mail, when
  they chose "everything also by e-mail" (the default), what `MAIL_KINDS`
  lists: invitations, reminders and the notices of a moved or cancelled
  session, recommendations with their reminders and outcome, announcements,
  minutes, and (for coordinators) the scheduled digest;
- when Telegram cannot reach such a person (it answered 403: they blocked
  the bot), every message goes by e-mail instead, whatever they chose, until
  they write to the bot again (`bot.core.people.mark_reachable`); the
  Telegram record is skipped with the reason `BY_MAIL`;
- the message Telegram refused with 403 is sent by e-mail once
  (`fallback`);
- each delivery record has at most one mail: the same message is never
  mailed twice, whatever repeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.config import Settings
from storage.mail_models import EmailAddress, Mail, MailMode, MailPurpose
from storage.models import Delivery, DeliveryKind, DeliveryStatus
from storage.uow import UnitOfWork

MAIL_KINDS = frozenset(
    {
        DeliveryKind.INVITATION,
        DeliveryKind.REMINDER,
        DeliveryKind.MOVED,
        DeliveryKind.CANCELLED,
        DeliveryKind.RECOMMENDATION,
        DeliveryKind.RECOMMENDATION_LATE,
        DeliveryKind.FEEDBACK_DUE,
        DeliveryKind.OUTCOME,
        DeliveryKind.ANNOUNCEMENT,
        DeliveryKind.MINUTES_DRAFT,
        DeliveryKind.MINUTES_FINAL,
        DeliveryKind.DIGEST,
        DeliveryKind.DEPUTY_COPY,
    }
)
"""What goes also by e-mail to someone who chose everything (SPEC 15)."""

BY_MAIL = "by e-mail: Telegram cannot reach them"


def queue(uow: UnitOfWork, person_id: int, address: str, now: datetime, delivery_id: int | None = None) -> Mail:
    """One mail owed, due now."""
    mail = Mail(
        person_id=person_id,
        delivery_id=delivery_id,
        purpose=MailPurpose.DELIVERY if delivery_id is not None else MailPurpose.CONFIRM,
        address=address,
        created_at=now,
        due_at=now,
        status=DeliveryStatus.PENDING,
        attempts=0,
    )
    uow.mail.add(mail)
    return mail


async def route(uow: UnitOfWork, settings: Settings, rows: Sequence[Delivery], now: datetime) -> list[Delivery]:
    """Queue the mails of the records about to be sent; returns those that still go by Telegram."""
    if not settings.mail_on or not rows:
        return list(rows)
    addresses = await uow.mail.addresses_of(row.person_id for row in rows)
    if not any(a.usable for a in addresses.values()):
        return list(rows)
    mailed = await uow.mail.of_deliveries(row.id for row in rows)
    telegram: list[Delivery] = []
    for row in rows:
        entry = addresses.get(row.person_id)
        address = entry.usable if entry is not None else None
        if address is None:
            telegram.append(row)
            continue
        unreachable = row.person.unreachable_since is not None
        if unreachable or wants(entry, row.kind):
            if row.id not in mailed:
                queue(uow, row.person_id, address, now, row.id)
        if unreachable:
            row.status, row.error = DeliveryStatus.SKIPPED, BY_MAIL
        else:
            telegram.append(row)
    await uow.flush()
    return telegram


def wants(entry: EmailAddress | None, kind: DeliveryKind) -> bool:
    """Whether this kind goes also by e-mail to someone reachable on Telegram."""
    return entry is not None and entry.usable is not None and entry.mode is MailMode.ALL and kind in MAIL_KINDS


async def fallback(uow: UnitOfWork, settings: Settings, delivery_id: int, now: datetime) -> bool:
    """Telegram refused this record with 403: mail it, once, to a confirmed address.
    Returns whether a mail was queued."""
    if not settings.mail_on:
        return False
    row = await uow.deliveries.get(delivery_id)
    if row is None:
        return False
    entry = await uow.mail.address_of(row.person_id)
    address = entry.usable if entry is not None else None
    if address is None or await uow.mail.of_deliveries([row.id]):
        return False
    queue(uow, row.person_id, address, now, row.id)
    await uow.flush()
    return True
