"""Deputies (*Vertretung*, SPEC 13): a member names a registered person who,
once they accepted, receives the member's invitations, reminders and feedback
requests and may answer them in the member's place.

- `/deputy <user> [until|bis <date>]`: a member (approved in some group) names
  a registered person, not themselves; the date (as in SPEC 3) may not be in
  the past. A new row waits for the deputy's "Annehmen" / "Ablehnen". Naming
  a new deputy ends the previous deputyship; naming the same one again only
  changes the end date (no new acceptance).
- A person stands in for at most one member at a time: naming someone who is
  already in force for another member is refused, and so is accepting while
  standing in for someone else (a request that only waits blocks nobody).
- `/deputy off` (or the "Beenden" button, of the member or of the deputy) ends it.
- In force is decided in one place, `storage.deputy_repository` (accepted,
  not ended, the end date not past on the local date of TIMEZONE).
- Copies: when the delivery timer decides to send a member a message of
  `DEPUTY_COPIED_KINDS`, `copy_for_deputies` adds a `DEPUTY_COPY` record for
  the deputy in force, due at once. `screen_copies` sends it only when the
  member's own message was actually sent and the deputyship is still in
  force; while the member's message waits for a retry, the copy waits too.
- Answers in the member's place are saved as the member's (the RSVP and
  stance rules of `bot.core.meetings` and `bot.core.recommendations`), after
  checking that the presser is the member's deputy in force.
No audit entries: these are a member's own arrangements, not the coordination's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.core import meetings, recommendations
from bot.core.config import Settings
from bot.core.dates import parse_date
from bot.core.errors import Refusal
from bot.core.membership import find_person, require_registered
from bot.core.people import name_of
from bot.core.recommendation_views import StanceGiven
from storage.followup_models import Deputy
from storage.models import (
    DEPUTY_COPIED_KINDS,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
    RsvpAnswer,
)
from storage.uow import UnitOfWork

OFF_WORDS = frozenset({"off", "aus", "ende", "beenden", "stop"})
UNTIL_WORDS = frozenset({"until", "bis"})
COPY_WAIT = timedelta(minutes=1)
"""How long a copy waits at least when the member's own message is not sent yet."""
ANSWERS = {value.value: value for value in RsvpAnswer}


def local_today(now: datetime, settings: Settings) -> date:
    return now.astimezone(settings.timezone).date()


def named(person: Person) -> tuple[str, str | None]:
    """Name and organisation, as a deputyship shows a person."""
    return name_of(person), person.organisation


@dataclass(frozen=True)
class Named:
    """The result of `/deputy <user> …`."""

    deputyship: Deputy
    ended: Deputy | None = None
    """The previous deputyship, ended by this one (its deputy is told)."""
    date_changed: bool = False
    """The same deputy named again: only the end date changed."""


@dataclass(frozen=True)
class State:
    """`/deputy` alone: the person's own deputy, and whom they stand in for."""

    own: Deputy | None
    standing_in: list[Deputy] = field(default_factory=list)


async def require_member(uow: UnitOfWork, person: Person) -> None:
    """Only a registered, approved member of some group names a deputy."""
    require_registered(person)
    if not await uow.memberships.approved_pairs([person.id]):
        raise Refusal("deputies.members_only")


def parse_arguments(text: str, today: date) -> tuple[str, date | None]:
    """`<user> [until|bis <date>]` (the word may be left out)."""
    words = text.split()
    if not words:
        raise Refusal("deputies.usage")
    ref, rest = words[0], words[1:]
    if rest and rest[0].lower() in UNTIL_WORDS:
        rest = rest[1:]
        if not rest:
            raise Refusal("deputies.date_missing")
    if len(rest) > 1:
        raise Refusal("deputies.usage")
    if not rest:
        return ref, None
    try:
        until = parse_date(rest[0], today)
    except Refusal:
        raise Refusal("deputies.bad_date", value=rest[0]) from None
    if until < today:
        raise Refusal("deputies.date_past", value=rest[0])
    return ref, until


async def _find_deputy(uow: UnitOfWork, ref: str) -> Person:
    try:
        return await find_person(uow, ref)
    except Refusal as refusal:
        key = "deputies.unknown" if refusal.key == "people.unknown" else "deputies.bad_ref"
        raise Refusal(key, ref=ref) from None


async def name_deputy(uow: UnitOfWork, member: Person, text: str, settings: Settings, now: datetime) -> Named:
    """`/deputy <user> [until <date>]`: a new deputyship waiting for the deputy's answer."""
    await require_member(uow, member)
    today = local_today(now, settings)
    ref, until = parse_arguments(text, today)
    deputy = await _find_deputy(uow, ref)
    if deputy.id == member.id:
        raise Refusal("deputies.not_yourself")
    if deputy.registered_at is None or deputy.telegram_id is None:
        raise Refusal("deputies.not_registered", name=name_of(deputy))
    current = await uow.deputies.open_of_member(member.id, today)
    if current is not None and current.deputy_id == deputy.id:
        current.until = until
        await uow.flush()
        return Named(current, date_changed=True)
    if any(d.member_id != member.id for d in await uow.deputies.in_force_of_deputy(deputy.id, today)):
        raise Refusal("deputies.busy", name=name_of(deputy))
    if current is not None:
        current.ended_at = now
    row = Deputy(member=member, deputy=deputy, until=until, created_at=now)
    uow.deputies.add(row)
    await uow.flush()
    return Named(row, ended=current)


async def state(uow: UnitOfWork, person: Person, settings: Settings, now: datetime) -> State:
    today = local_today(now, settings)
    return State(
        await uow.deputies.open_of_member(person.id, today),
        await uow.deputies.open_of_deputy(person.id, today),
    )


async def end_own(uow: UnitOfWork, member: Person, settings: Settings, now: datetime) -> Deputy:
    """`/deputy off`: the member's deputyship (in force or waiting) ends now."""
    require_registered(member)
    current = await uow.deputies.open_of_member(member.id, local_today(now, settings))
    if current is None:
        raise Refusal("deputies.nothing_to_end")
    current.ended_at = now
    await uow.flush()
    return current


async def _open_row(uow: UnitOfWork, person: Person, row_id: int, today: date, *, deputy_only: bool) -> Deputy:
    row = await uow.deputies.get(row_id)
    if row is None:
        raise Refusal("deputies.not_yours")
    involved = (row.deputy_id,) if deputy_only else (row.member_id, row.deputy_id)
    if person.id not in involved:
        raise Refusal("deputies.not_yours")
    if row.ended_at is not None or (row.until is not None and row.until < today):
        raise Refusal("deputies.already_ended")
    return row


@dataclass(frozen=True)
class Ended:
    deputyship: Deputy
    now: bool
    """False: it had ended already (a second press changes nothing)."""


async def end_pressed(uow: UnitOfWork, person: Person, row_id: int, settings: Settings, now: datetime) -> Ended:
    """ "Beenden": the member or the deputy ends the deputyship."""
    try:
        row = await _open_row(uow, person, row_id, local_today(now, settings), deputy_only=False)
    except Refusal as refusal:
        if refusal.key != "deputies.already_ended":
            raise
        ended = await uow.deputies.get(row_id)
        assert ended is not None
        return Ended(ended, now=False)
    row.ended_at = now
    await uow.flush()
    return Ended(row, now=True)


async def decide(
    uow: UnitOfWork, deputy: Person, row_id: int, accept: bool, settings: Settings, now: datetime
) -> Deputy:
    """ "Annehmen" / "Ablehnen" of the person asked to be the deputy."""
    today = local_today(now, settings)
    row = await _open_row(uow, deputy, row_id, today, deputy_only=True)
    if row.accepted_at is not None:
        raise Refusal("deputies.already_accepted", name=name_of(row.member))
    if not accept:
        row.ended_at = now
    else:
        others = [d for d in await uow.deputies.in_force_of_deputy(deputy.id, today) if d.id != row.id]
        if others:
            raise Refusal("deputies.busy_yourself", name=name_of(others[0].member))
        row.accepted_at = now
    await uow.flush()
    return row


# --- copies of the member's messages (the delivery timer) -------------------------


async def copy_for_deputies(uow: UnitOfWork, rows: Sequence[Delivery], now: datetime, settings: Settings) -> int:
    """For each member's message about to be sent whose member has a deputy in
    force, a copy for the deputy, due now (a record copied once, whatever happens)."""
    copied = [r for r in rows if r.kind in DEPUTY_COPIED_KINDS]
    if not copied:
        return 0
    forces = await uow.deputies.in_force_for_members({r.person_id for r in copied}, local_today(now, settings))
    new: list[dict[str, object]] = []
    for row in copied:
        deputyship = forces.get(row.person_id)
        if deputyship is None or deputyship.deputy.telegram_id is None:
            continue
        new.append(
            {
                "copy_of_id": row.id,
                "person_id": deputyship.deputy_id,
                "kind": DeliveryKind.DEPUTY_COPY,
                "lead_seconds": 0,
                "revision": 0,
                "due_at": now,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
            }
        )
    await uow.deliveries.insert_many(new)
    return len(new)


@dataclass
class Screened:
    reasons: dict[int, str] = field(default_factory=dict)
    """Copies not to send, with the reason."""
    waiting: set[int] = field(default_factory=set)
    """Copies whose member's message is not sent yet: left pending, later."""


async def screen_copies(uow: UnitOfWork, rows: Sequence[Delivery], now: datetime, settings: Settings) -> Screened:
    """Which due copies to send: the member's message was sent, the deputyship is
    still in force (not ended, its end date not past)."""
    screened = Screened()
    copies = [r for r in rows if r.kind is DeliveryKind.DEPUTY_COPY]
    if not copies:
        return screened
    originals = await uow.deputies.originals(r.copy_of_id for r in copies if r.copy_of_id is not None)
    forces = await uow.deputies.in_force_for_members(
        {o.person_id for o in originals.values()}, local_today(now, settings)
    )
    for row in copies:
        original = originals.get(row.copy_of_id or 0)
        if original is None:
            screened.reasons[row.id] = "member's message gone"
        elif original.status is DeliveryStatus.PENDING:
            row.due_at = max(original.due_at, now + COPY_WAIT)
            screened.waiting.add(row.id)
        elif original.status is not DeliveryStatus.SENT:
            screened.reasons[row.id] = "member's message not sent"
        elif (force := forces.get(original.person_id)) is None or force.deputy_id != row.person_id:
            screened.reasons[row.id] = "deputyship ended"
    return screened


@dataclass(frozen=True)
class Copied:
    """What a deputy's copy copies: the member's delivery, and the member."""

    original: Delivery
    member: Person


async def copied(uow: UnitOfWork, delivery_id: int) -> Copied:
    copy = await uow.deliveries.get(delivery_id)
    assert copy is not None and copy.copy_of_id is not None
    original = (await uow.deputies.originals([copy.copy_of_id]))[copy.copy_of_id]
    return Copied(original, original.person)


# --- answers in the member's place -------------------------------------------------


async def require_deputy_of(
    uow: UnitOfWork, deputy: Person, member_id: int, settings: Settings, now: datetime
) -> Deputy:
    """The deputyship in force in which `deputy` stands in for `member_id`."""
    forces = await uow.deputies.in_force_for_members([member_id], local_today(now, settings))
    row = forces.get(member_id)
    if row is None or row.deputy_id != deputy.id or row.member.telegram_id is None:
        raise Refusal("deputies.not_deputy")
    return row


async def answer_for(
    uow: UnitOfWork, deputy: Person, occurrence_id: int, member_id: int, answer: str, settings: Settings, now: datetime
) -> tuple[meetings.Upcoming, Deputy]:
    """Zusage / Absage / Vielleicht, saved as the member's."""
    value = ANSWERS.get(answer)
    if value is None:
        raise Refusal("buttons.stale")
    row = await require_deputy_of(uow, deputy, member_id, settings, now)
    saved = await meetings.answer(uow, row.member, occurrence_id, value, settings, now)
    return saved, row


async def stance_for(
    uow: UnitOfWork,
    deputy: Person,
    recommendation_id: int,
    member_id: int,
    stance: str,
    settings: Settings,
    now: datetime,
) -> tuple[StanceGiven, Deputy]:
    """Zustimmung / Bedenken / Ablehnung, saved as the member's."""
    row = await require_deputy_of(uow, deputy, member_id, settings, now)
    given = await recommendations.give_stance(uow, row.member, recommendation_id, stance, now)
    return given, row


async def calendar_for(
    uow: UnitOfWork, deputy: Person, occurrence_id: int, member_id: int, settings: Settings, now: datetime
) -> meetings.CalendarEntry:
    """The calendar file of a session of the member's group."""
    row = await require_deputy_of(uow, deputy, member_id, settings, now)
    return await meetings.calendar_entry(uow, row.member, occurrence_id, settings)
