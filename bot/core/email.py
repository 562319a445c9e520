"""E-mail addresses (SPEC 15): giving one, confirming it, choosing what comes
by e-mail, withdrawing it; a bounced address.

- `/email <address>` asks for a confirmation: a mail with a link (valid 24
  hours, `bot.core.mail_links`) and a six-digit code. Until it is confirmed
  nothing else goes there; an earlier confirmed address stays in use.
  Asking again for a new address replaces the request (and voids its link).
- The code may be typed into the chat (`Step.EMAIL_CODE`); three wrong codes
  end the request, and the address must be given again.
- Confirmed, the person chooses with buttons: everything also by e-mail
  (`MailMode.ALL`, the default) or only when Telegram cannot reach them.
- `/email off` erases the address (and a pending one) and the mails not yet
  sent. `/forget` does the same (`bot.core.privacy`).
- A hard bounce marks the address: no mail goes there until one is given again.
- `/members` shows each member's channels (`channel`), as `bot.core.mail_routing`
  uses them.

Every change is an audit entry (`email.*`) naming no address.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import audit, mail_links, mail_routing, steps
from bot.core.config import Settings, is_address
from bot.core.errors import Refusal
from bot.core.membership import require_registered
from bot.core.steps import Step
from bot.core.text import clean_text
from storage.mail_models import EmailAddress, MailMode
from storage.models import Person
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Status:
    """What `/email` shows: the confirmed address, a pending one, the choice, a bounce."""

    address: str | None
    pending: str | None
    mode: MailMode
    bounced: bool


def status(entry: EmailAddress | None) -> Status:
    if entry is None:
        return Status(None, None, MailMode.ALL, False)
    return Status(entry.address, entry.pending_address, entry.mode, entry.bounced_at is not None)


async def current(uow: UnitOfWork, person: Person) -> Status:
    return status(await uow.mail.address_of(person.id))


class Channel(enum.StrEnum):
    """How the bot reaches a person (`/members`), by the rules of `bot.core.mail_routing`."""

    TELEGRAM = "telegram"
    """Only Telegram: no usable address, or e-mail is not set up."""
    BOTH = "both"
    """Telegram, and everything also by e-mail."""
    FALLBACK = "fallback"
    """Telegram; e-mail only when Telegram cannot reach them."""
    MAIL = "mail"
    """Telegram cannot reach them (blocked): e-mail stands in."""
    BOUNCED = "bounced"
    """The address bounced: e-mail does not reach them."""
    NONE = "none"
    """Telegram cannot reach them and there is no usable address."""


def channel(person: Person, entry: EmailAddress | None, mail_on: bool) -> Channel:
    blocked = person.unreachable_since is not None
    if mail_on and entry is not None and entry.address is not None and entry.bounced_at is not None:
        return Channel.BOUNCED
    if not mail_on or entry is None or entry.usable is None:
        return Channel.NONE if blocked else Channel.TELEGRAM
    if blocked:
        return Channel.MAIL
    return Channel.BOTH if entry.mode is MailMode.ALL else Channel.FALLBACK


async def channels(uow: UnitOfWork, persons: Iterable[Person], settings: Settings) -> dict[int, Channel]:
    """Each person's channel, by row id."""
    listed = list(persons)
    addresses = await uow.mail.addresses_of(p.id for p in listed)
    return {p.id: channel(p, addresses.get(p.id), settings.mail_on) for p in listed}


REQUESTS_MAX = 5
REQUESTS_PER = timedelta(days=1)
"""At most this many confirmation mails a day per person: the bot never becomes a way
to flood someone else's mailbox (or the city's mail relay)."""


def _require_on(settings: Settings) -> None:
    if not settings.mail_on:
        raise Refusal("email.off_here")


def normalised(text: str) -> str:
    """An address as typed: spaces and a `mailto:` trimmed; the domain in lower case."""
    address = clean_text(text).strip("<>").strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    local, at, domain = address.rpartition("@")
    return f"{local}{at}{domain.lower()}" if at else address


async def request(uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime) -> str:
    """Ask for the confirmation of an address; returns the address. The
    confirmation mail is queued in the same transaction."""
    require_registered(person)
    _require_on(settings)
    address = normalised(text)
    if not is_address(address):
        raise Refusal("email.not_an_address", value=text)
    entry = await uow.mail.address_of(person.id)
    if entry is None:
        entry = EmailAddress(person_id=person.id, mode=MailMode.ALL, pending_tries=0)
        uow.mail.add(entry)
    if entry.usable is not None and entry.address is not None and entry.address.lower() == address.lower():
        raise Refusal("email.already_confirmed", address=address)
    if await uow.mail.confirmations_since(person.id, now - REQUESTS_PER) >= REQUESTS_MAX:
        raise Refusal("email.too_many", max=REQUESTS_MAX)
    entry.pending_address, entry.pending_since, entry.pending_tries = address, now, 0
    await uow.flush()
    mail_routing.queue(uow, person.id, address, now)
    steps.ask(person, Step.EMAIL_CODE)
    audit.record(uow, person, "email.request", "person", person.id, now)
    await uow.flush()
    return address


@dataclass(frozen=True)
class Typed:
    """What a code typed into the chat did: `address` confirmed, or wrong with
    `left` tries (0: the request ended), or `expired` (the request ended)."""

    address: str | None = None
    left: int = 0
    expired: bool = False


CODE_DIGITS = 6


async def confirm_code(uow: UnitOfWork, person: Person, typed: str, settings: Settings, now: datetime) -> Typed:
    """The code typed into the chat. A wrong code counts (and is kept: it is a
    result, not a refusal); the third ends the request, and so does an expired
    one. A text that is no code at all (not six digits) is refused and does not count."""
    entry = await uow.mail.address_of(person.id)
    if entry is None or entry.pending_address is None or entry.pending_since is None:
        steps.end(person)
        raise Refusal("email.nothing_pending").ending_step()
    digits = "".join(typed.split())
    if len(digits) != CODE_DIGITS or not digits.isdigit():
        raise Refusal("email.not_a_code", address=entry.pending_address)
    if now >= entry.pending_since + mail_links.CONFIRM_VALID:
        _drop_pending(entry)
        steps.end(person)
        await uow.flush()
        return Typed(expired=True)
    if not mail_links.codes_match(settings, person.id, entry.pending_address, entry.pending_since, digits):
        entry.pending_tries += 1
        left = max(mail_links.CODE_TRIES - entry.pending_tries, 0)
        if left == 0:
            _drop_pending(entry)
            steps.end(person)
            audit.record(uow, person, "email.code_failed", "person", person.id, now)
        await uow.flush()
        return Typed(left=left)
    steps.end(person)
    return Typed(address=await _confirm(uow, person, entry, now))


async def show(uow: UnitOfWork, person: Person, now: datetime) -> Status:
    """`/email` alone: the state. A request that expired is dropped; one still
    valid waits for its code again (a command ended the step)."""
    require_registered(person)
    entry = await uow.mail.address_of(person.id)
    if entry is not None and entry.pending_since is not None and now >= entry.pending_since + mail_links.CONFIRM_VALID:
        _drop_pending(entry)
        await uow.flush()
    if entry is not None and entry.pending_address is not None:
        steps.ask(person, Step.EMAIL_CODE)
    return status(entry)


@dataclass(frozen=True)
class Confirmed:
    person: Person
    address: str
    new: bool
    """False when the link had confirmed it before (the page was sent twice)."""


async def confirm_link(uow: UnitOfWork, link: mail_links.Confirm, now: datetime) -> Confirmed:
    """The confirmation page's button; `Refusal("email.link_used")` when the request
    was replaced or withdrawn."""
    person = await uow.people.get(link.person_id)
    entry = await uow.mail.address_of(link.person_id)
    if (
        person is None
        or person.telegram_id is None
        or entry is None
        or entry.pending_address != link.address
        or entry.pending_since is None
        or int(entry.pending_since.timestamp()) != int(link.asked_at.timestamp())
    ):
        if entry is not None and entry.usable == link.address and person is not None:
            return Confirmed(person, link.address, new=False)
        raise Refusal("email.link_used")
    if steps.current(person) is Step.EMAIL_CODE:
        steps.end(person)
    return Confirmed(person, await _confirm(uow, person, entry, now), new=True)


async def _confirm(uow: UnitOfWork, person: Person, entry: EmailAddress, now: datetime) -> str:
    assert entry.pending_address is not None
    address = entry.pending_address
    entry.address, entry.confirmed_at = address, now
    entry.bounced_at = entry.bounce = None
    _drop_pending(entry)
    audit.record(uow, person, "email.confirm", "person", person.id, now)
    await uow.flush()
    return address


def _drop_pending(entry: EmailAddress) -> None:
    entry.pending_address = entry.pending_since = None
    entry.pending_tries = 0


async def set_mode(uow: UnitOfWork, person: Person, mode: MailMode, now: datetime) -> Status:
    entry = await uow.mail.address_of(person.id)
    if entry is None or entry.address is None:
        raise Refusal("email.no_address")
    if entry.mode is not mode:
        entry.mode = mode
        audit.record(uow, person, "email.mode", "person", person.id, now, mode=mode.value)
        await uow.flush()
    return status(entry)


async def turn_off(uow: UnitOfWork, person: Person, now: datetime) -> bool:
    """`/email off`: the address, a pending one and the unsent mails are erased.
    Returns whether there was anything to erase."""
    entry = await uow.mail.address_of(person.id)
    if steps.current(person) is Step.EMAIL_CODE:
        steps.end(person)
    if entry is None:
        return False
    await erase(uow, person.id)
    audit.record(uow, person, "email.off", "person", person.id, now)
    await uow.flush()
    return True


async def erase(uow: UnitOfWork, person_id: int) -> None:
    """Everything of a person's e-mail (`/email off`, `/forget`)."""
    entry = await uow.mail.address_of(person_id)
    if entry is not None:
        await uow.mail.delete(entry)
    await uow.mail.drop_pending(person_id)


async def bounced(uow: UnitOfWork, person_id: int, address: str, said: str, now: datetime) -> None:
    """The mail server refused this address for good: nothing more goes there."""
    entry = await uow.mail.address_of(person_id)
    if entry is not None and entry.address == address and entry.bounced_at is None:
        entry.bounced_at, entry.bounce = now, said[:200]
        await uow.flush()
