"""What members see of sessions (SPEC 4): `/meetings [group|all]` as one list,
one session's card, and each member's answer for the reminders.

- `/meetings` lists the next sessions of the person's groups (a coordinator:
  of every group), at most `LIST_LIMIT`; `/meetings all` (or `alle`) the
  same groups as no argument, with a longer list (`LONG_LIMIT`): "every group
  the person may see"; `/meetings <group>` the next `LONG_LIMIT` of one
  group. The list says when there are more.
- A member's answer (Zusage / Absage / Vielleicht) is shown on the message
  they answered and in every later reminder (`answers_to`), with the buttons
  to change it.

Who may see which session is decided by `bot.core.meetings` (`upcoming_for`,
`visible_occurrence`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.groups import resolve_group
from bot.core.meetings import Upcoming, upcoming_for, visible_occurrence
from storage.models import Group, MembershipStatus, OccurrenceStatus, Person, RsvpAnswer
from storage.uow import UnitOfWork

LIST_LIMIT = 10
"""`/meetings` lists this many sessions at most."""
LONG_LIMIT = 30
"""`/meetings all` and `/meetings <group>` list this many."""
ALL_WORDS = frozenset({"all", "alle"})


@dataclass
class Listing:
    """What `/meetings [group|all]` shows: the sessions, and whether there are more."""

    sessions: list[Upcoming]
    more: bool
    group: Group | None
    long: int | None
    """The limit of a long list (`all`, a group); None for the short one."""


async def listing(uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime) -> Listing:
    """`/meetings [group|all]` (see the module docstring)."""
    text = text.strip()
    every = text.casefold() in ALL_WORDS
    group = resolve_group(await uow.groups.active(), text) if text and not every else None
    limit = LONG_LIMIT if text else LIST_LIMIT
    found = await upcoming_for(uow, person, settings, now, group, limit + 1)
    return Listing(found[:limit], len(found) > limit, group, limit if text else None)


@dataclass
class SessionView:
    """One session's card: the session with the person's answer and the counts, and
    whether the person may answer (a member of its group; a coordinator who is
    not one sees it without the answer buttons)."""

    item: Upcoming
    may_answer: bool


async def session_view(uow: UnitOfWork, person: Person, occurrence_id: int, settings: Settings) -> SessionView:
    """One session the person may see (see `SessionView`)."""
    occurrence = await visible_occurrence(uow, person, occurrence_id, settings)
    if occurrence.status is OccurrenceStatus.CANCELLED:
        raise Refusal("meetings.already_cancelled", id=occurrence.id)
    answers = await uow.meetings.rsvps([occurrence.id])
    own = next((a.answer for a in answers if a.person_id == person.id), None)
    member = occurrence.meeting.group_id in await member_group_ids(uow, person)
    return SessionView(Upcoming(occurrence, own, Counter(a.answer for a in answers)), member)


async def member_group_ids(uow: UnitOfWork, person: Person) -> set[int]:
    """The groups the person is an approved member of."""
    return {m.group_id for m in await uow.memberships.of_person(person.id) if m.status is MembershipStatus.APPROVED}


async def answers_to(uow: UnitOfWork, occurrence_id: int) -> dict[int, RsvpAnswer]:
    """Every member's answer for one session, by person id (what a reminder says)."""
    return {a.person_id: a.answer for a in await uow.meetings.rsvps([occurrence_id])}
