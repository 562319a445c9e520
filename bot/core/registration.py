"""Registration: `/start`, the privacy notice, display name and organisation.

The steps are privacy notice -> name -> organisation -> join. Where a person
is in this sequence is stored on their row as a guided step (`bot.core.steps`:
`Step.NAME`, `Step.ORGANISATION`), so a restart of the bot, or a second bot
process, continues the same conversation. A deep-link invite given to
`/start` is kept with the step until registration is complete and then joins
its group without approval.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from bot.core import membership as memberships
from bot.core import steps
from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.people import Caller, ensure_person
from bot.core.steps import Step
from bot.core.text import field_text
from storage.models import NAME_MAX, ORGANISATION_MAX, Group, Membership, Person
from storage.uow import UnitOfWork


class Stage(enum.Enum):
    """Where registration stands, and so what the bot shows next."""

    PRIVACY = "privacy"
    NAME = "name"
    ORGANISATION = "organisation"
    JOIN = "join"
    WELCOME_BACK = "welcome_back"
    JOINED_BY_INVITE = "joined_by_invite"


@dataclass
class Progress:
    """Where the person now is, and what the bot should show next."""

    stage: Stage
    person: Person
    joinable: list[Group] = field(default_factory=list)
    joined: Membership | None = None
    notice_key: str | None = None


async def start(uow: UnitOfWork, caller: Caller, payload: str | None, settings: Settings, now: datetime) -> Progress:
    """`/start [invite]`: continue registration where it stands, or use the invite."""
    person = await ensure_person(uow, caller, now)
    if payload:
        await memberships.check_invite(uow, payload, person, now)
    if person.registered_at is not None:
        if payload:
            joined = await memberships.redeem_invite(uow, person, payload, now)
            return Progress(Stage.JOINED_BY_INVITE, person, joined=joined)
        await uow.flush()
        return Progress(Stage.WELCOME_BACK, person)
    if payload:
        steps.remember(person, {"invite": payload})
    return await _next_step(uow, person, settings, now)


async def acknowledge_privacy(uow: UnitOfWork, caller: Caller, settings: Settings, now: datetime) -> Progress:
    person = await ensure_person(uow, caller, now)
    if person.privacy_acknowledged_at is None:
        person.privacy_acknowledged_at = now
    elif person.registered_at is not None:
        raise Refusal("buttons.stale")
    return await _next_step(uow, person, settings, now)


async def use_telegram_name(uow: UnitOfWork, caller: Caller, settings: Settings, now: datetime) -> Progress:
    return await _set_name(uow, await _expecting(uow, caller, Step.NAME, now), caller.full_name, settings, now)


async def skip_organisation(uow: UnitOfWork, caller: Caller, settings: Settings, now: datetime) -> Progress:
    person = await _expecting(uow, caller, Step.ORGANISATION, now)
    person.organisation = None
    return await _finish(uow, person, settings, now)


async def submit_text(uow: UnitOfWork, caller: Caller, text: str, settings: Settings, now: datetime) -> Progress:
    """A plain text message: the answer to whatever the bot asked last."""
    person = await ensure_person(uow, caller, now)
    if steps.current(person) is Step.NAME:
        return await _set_name(uow, person, text, settings, now)
    if steps.current(person) is Step.ORGANISATION:
        person.organisation = field_text(text, ORGANISATION_MAX, "registration.organisation")
        return await _finish(uow, person, settings, now)
    if person.privacy_acknowledged_at is None:
        raise Refusal("registration.press_button_first")
    raise Refusal("input.unexpected")


async def _expecting(uow: UnitOfWork, caller: Caller, step: Step, now: datetime) -> Person:
    person = await ensure_person(uow, caller, now)
    if steps.current(person) is not step:
        raise Refusal("buttons.stale")
    return person


async def _set_name(uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime) -> Progress:
    person.display_name = field_text(text, NAME_MAX, "registration.name")
    return await _next_step(uow, person, settings, now)


async def _next_step(uow: UnitOfWork, person: Person, settings: Settings, now: datetime) -> Progress:
    if person.privacy_acknowledged_at is None:
        # The bot waits for the button under the notice, not for a text (no step:
        # `/start` is a command, which ended any other); a kept invite stays.
        stage = Stage.PRIVACY
    elif person.display_name is None:
        steps.ask(person, Step.NAME, keep=True)
        stage = Stage.NAME
    elif person.registered_at is None:
        steps.ask(person, Step.ORGANISATION, keep=True)
        stage = Stage.ORGANISATION
    else:
        return await _finish(uow, person, settings, now)
    await uow.flush()
    return Progress(stage, person)


async def _finish(uow: UnitOfWork, person: Person, settings: Settings, now: datetime) -> Progress:
    """Registration complete: use a kept invite, or offer the groups."""
    invite = steps.recall(person, "invite")
    person.registered_at = person.registered_at or now
    steps.end(person)
    await uow.flush()
    notice = None
    if isinstance(invite, str):
        try:
            joined = await memberships.redeem_invite(uow, person, invite, now)
            return Progress(Stage.JOINED_BY_INVITE, person, joined=joined)
        except Refusal as refusal:
            notice = refusal.key
    return Progress(Stage.JOIN, person, joinable=await memberships.not_joined(uow, person), notice_key=notice)
