"""Registration: `/start`, the privacy notice, display name and organisation.

The steps are privacy notice -> name -> organisation -> join. Where a person
is in this sequence is stored on their row (`Person.awaiting`), so a restart
of the bot, or a second bot process, continues the same conversation. A
deep-link invite given to `/start` is kept until registration is complete
and then joins its group without approval.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from bot.core import membership as memberships
from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.people import Caller, ensure_person
from storage.models import NAME_MAX, ORGANISATION_MAX, Group, Membership, Person
from storage.uow import UnitOfWork

AWAIT_NAME = "name"
AWAIT_ORGANISATION = "organisation"


class Step(enum.Enum):
    PRIVACY = "privacy"
    NAME = "name"
    ORGANISATION = "organisation"
    JOIN = "join"
    WELCOME_BACK = "welcome_back"
    JOINED_BY_INVITE = "joined_by_invite"


@dataclass
class Progress:
    """Where the person now is, and what the bot should show next."""

    step: Step
    person: Person
    joinable: list[Group] = field(default_factory=list)
    joined: Membership | None = None
    notice_key: str | None = None


async def start(
    uow: UnitOfWork, caller: Caller, payload: str | None, settings: Settings, now: datetime
) -> Progress:
    """`/start [invite]`: continue registration where it stands, or use the invite."""
    person = await ensure_person(uow, caller, now)
    if payload:
        await memberships.check_invite(uow, payload, person, now)
    if person.registered_at is not None:
        if payload:
            joined = await memberships.redeem_invite(uow, person, payload, now)
            return Progress(Step.JOINED_BY_INVITE, person, joined=joined)
        await uow.flush()
        return Progress(Step.WELCOME_BACK, person)
    if payload:
        person.awaiting_data = {"invite": payload}
    return await _next_step(uow, person, settings, now)


async def acknowledge_privacy(
    uow: UnitOfWork, caller: Caller, settings: Settings, now: datetime
) -> Progress:
    person = await ensure_person(uow, caller, now)
    if person.privacy_acknowledged_at is None:
        person.privacy_acknowledged_at = now
    elif person.registered_at is not None:
        raise Refusal("buttons.stale")
    return await _next_step(uow, person, settings, now)


async def use_telegram_name(
    uow: UnitOfWork, caller: Caller, settings: Settings, now: datetime
) -> Progress:
    return await _set_name(uow, await _expecting(uow, caller, AWAIT_NAME, now), caller.full_name, settings, now)


async def skip_organisation(
    uow: UnitOfWork, caller: Caller, settings: Settings, now: datetime
) -> Progress:
    person = await _expecting(uow, caller, AWAIT_ORGANISATION, now)
    person.organisation = None
    return await _finish(uow, person, settings, now)


async def submit_text(
    uow: UnitOfWork, caller: Caller, text: str, settings: Settings, now: datetime
) -> Progress:
    """A plain text message: the answer to whatever the bot asked last."""
    person = await ensure_person(uow, caller, now)
    if person.awaiting == AWAIT_NAME:
        return await _set_name(uow, person, text, settings, now)
    if person.awaiting == AWAIT_ORGANISATION:
        person.organisation = field_text(text, ORGANISATION_MAX, "registration.organisation")
        return await _finish(uow, person, settings, now)
    if person.privacy_acknowledged_at is None:
        raise Refusal("registration.press_button_first")
    raise Refusal("input.unexpected")


def clean_text(text: str) -> str:
    """One line: control characters removed, runs of white space folded."""
    visible = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return " ".join(visible.split())


def free_text(text: str, maximum: int, key: str) -> str:
    """A longer text as written (lines and spacing kept), or a Refusal
    (`<key>_empty`, `<key>_too_long`). Only the white space around it and
    control characters other than line breaks and tabs are removed."""
    value = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs") or ch in "\n\t").strip()
    if not value:
        raise Refusal(f"{key}_empty")
    if len(value) > maximum:
        raise Refusal(f"{key}_too_long", max=maximum, length=len(value))
    return value


def leave_guided_step(person: Person) -> bool:
    """A command ends any guided input the person was in (a session's details,
    an item's text, a comment …), but not registration. True if one ended."""
    if person.awaiting is None or person.awaiting in (AWAIT_NAME, AWAIT_ORGANISATION):
        return False
    person.awaiting = None
    person.awaiting_data = None
    return True


def field_text(text: str, maximum: int, key: str) -> str:
    """`text` cleaned, or a Refusal (`<key>_empty`, `<key>_too_long`)."""
    value = clean_text(text)
    if not value:
        raise Refusal(f"{key}_empty")
    if len(value) > maximum:
        raise Refusal(f"{key}_too_long", max=maximum, length=len(value))
    return value


async def _expecting(uow: UnitOfWork, caller: Caller, awaiting: str, now: datetime) -> Person:
    person = await ensure_person(uow, caller, now)
    if person.awaiting != awaiting:
        raise Refusal("buttons.stale")
    return person


async def _set_name(uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime) -> Progress:
    person.display_name = field_text(text, NAME_MAX, "registration.name")
    return await _next_step(uow, person, settings, now)


async def _next_step(uow: UnitOfWork, person: Person, settings: Settings, now: datetime) -> Progress:
    if person.privacy_acknowledged_at is None:
        person.awaiting = None
        step = Step.PRIVACY
    elif person.display_name is None:
        person.awaiting = AWAIT_NAME
        step = Step.NAME
    elif person.registered_at is None:
        person.awaiting = AWAIT_ORGANISATION
        step = Step.ORGANISATION
    else:
        return await _finish(uow, person, settings, now)
    await uow.flush()
    return Progress(step, person)


async def _finish(uow: UnitOfWork, person: Person, settings: Settings, now: datetime) -> Progress:
    """Registration complete: use a kept invite, or offer the groups."""
    invite = (person.awaiting_data or {}).get("invite")
    person.registered_at = person.registered_at or now
    person.awaiting = None
    person.awaiting_data = None
    await uow.flush()
    notice = None
    if isinstance(invite, str):
        try:
            joined = await memberships.redeem_invite(uow, person, invite, now)
            return Progress(Step.JOINED_BY_INVITE, person, joined=joined)
        except Refusal as refusal:
            notice = refusal.key
    joinable = [g for g, status in await memberships.statuses(uow, person) if status not in memberships.ACTIVE]
    return Progress(Step.JOIN, person, joinable=joinable, notice_key=notice)
