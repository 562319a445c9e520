"""People: who is writing, what they may do, and which language they read.

`Caller` is what Telegram tells us about the person acting. `ensure_person`
finds or creates their row (and notes that Telegram reaches them again);
`note_contact` notes the same for a known person whatever their request;
`role_of` derives guest / member / coordinator from the database and the
configured `COORDINATOR_IDS`, never from anything a client sends.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from bot.core import steps
from bot.core.config import Settings
from bot.core.errors import CoordinatorsOnly, Refusal
from storage.models import Person
from storage.uow import UnitOfWork


class Role(enum.IntEnum):
    GUEST = 0
    MEMBER = 1
    COORDINATOR = 2


@dataclass(frozen=True)
class Caller:
    telegram_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part).strip()


async def ensure_person(uow: UnitOfWork, caller: Caller, now: datetime) -> Person:
    """The caller's row, created on first contact, username kept current; a person
    who writes is reachable again. Locked for the rest of the transaction."""
    person = await uow.people.caller(caller.telegram_id, now)
    _noted(person, caller)
    return person


async def first_contact(uow: UnitOfWork, caller: Caller, now: datetime) -> Person:
    """`ensure_person` for a caller whose row this transaction looked for and did not
    find (`note_contact` returned None): created without looking again."""
    person = await uow.people.create(caller.telegram_id, now)
    _noted(person, caller)
    return person


async def known(uow: UnitOfWork, telegram_id: int) -> Person | None:
    """The row of the person with this Telegram id; None before their first contact."""
    return await uow.people.by_telegram_id(telegram_id)


async def known_locked(uow: UnitOfWork, telegram_id: int) -> Person | None:
    """The caller's row, locked for the rest of the transaction (as `ensure_person`'s),
    or None before their first contact. An update reads it once, with its mark
    (`bot.core.updates.begin`)."""
    return await uow.people.locked(telegram_id)


def note_contact(person: Person | None, caller: Caller, ends_step: bool) -> bool:
    """What holds whenever a known person writes, even when the request is then
    refused: they are reachable again, under their current username, and (a
    command, or a refusal that ends the step) the guided step they were in ends.
    True if that changed their row."""
    if person is None:
        return False
    changed = _noted(person, caller)
    if ends_step:
        changed = steps.end_by_command(person) or changed
    return changed


def _noted(person: Person, caller: Caller) -> bool:
    changed = False
    if person.username != caller.username:
        person.username = caller.username
        changed = True
    if person.unreachable_since is not None:
        person.unreachable_since = None
        changed = True
    return changed


def name_of(person: Person | None) -> str:
    """How a person is named to others: display name, else @username, else "?"."""
    if person is None:
        return "?"
    if person.display_name:
        return person.display_name
    return f"@{person.username}" if person.username else "?"


def is_coordinator(person: Person, settings: Settings) -> bool:
    return person.is_coordinator or (person.telegram_id is not None and person.telegram_id in settings.coordinator_ids)


async def role_of(uow: UnitOfWork, person: Person, settings: Settings) -> Role:
    if is_coordinator(person, settings):
        return Role.COORDINATOR
    if await uow.memberships.approved_anywhere(person.id):
        return Role.MEMBER
    return Role.GUEST


def require_coordinator(person: Person, settings: Settings) -> None:
    if not is_coordinator(person, settings):
        raise CoordinatorsOnly()


async def language_for(uow: UnitOfWork, telegram_id: int, settings: Settings) -> str:
    """The language of the person with this Telegram id (someone other than the caller)."""
    return language_of(await known(uow, telegram_id), None, settings)


async def language_of_row(uow: UnitOfWork, person_id: int, settings: Settings) -> str:
    """The language of the person with this row id (the reader of a delivery)."""
    return language_of(await uow.people.get(person_id), None, settings)


def language_of(person: Person | None, language_code: str | None, settings: Settings) -> str:
    """The person's chosen language, else Telegram's, else DEFAULT_LANGUAGE."""
    if person is not None and person.language:
        return person.language
    code = (language_code or "").lower()
    for lang in ("de", "en"):
        if code == lang or code.startswith(lang + "-"):
            return lang
    return settings.default_language


async def set_language(uow: UnitOfWork, caller: Caller, lang: str, now: datetime) -> None:
    if lang not in ("de", "en"):
        raise Refusal("language.unknown", value=lang)
    person = await ensure_person(uow, caller, now)
    person.language = lang


async def mark_unreachable(uow: UnitOfWork, telegram_id: int, now: datetime) -> None:
    """Telegram refused delivery (the person blocked the bot)."""
    person = await uow.people.by_telegram_id(telegram_id)
    if person is not None and person.unreachable_since is None:
        person.unreachable_since = now


async def mark_reachable(uow: UnitOfWork, telegram_id: int) -> None:
    person = await uow.people.by_telegram_id(telegram_id)
    if person is not None and person.unreachable_since is not None:
        person.unreachable_since = None


async def coordinator_chat_ids(uow: UnitOfWork, settings: Settings) -> list[int]:
    """Telegram ids of every coordinator: configured ones and promoted ones."""
    ids = set(settings.coordinator_ids)
    ids.update(p.telegram_id for p in await uow.people.coordinators(()) if p.telegram_id is not None)
    return sorted(ids)
