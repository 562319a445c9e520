"""The checks before a change to the agenda (`bot.core.agenda`).

Each finds what a request is about, or refuses with the reason the person is
told: a person in no group, a group the person does not propose for, an
unknown item, an item the person may not see, an item no longer open (the
refusal names its state), an item that is not the person's or whose session
has started. A check made for a guided answer runs inside `guided`, so its
refusal also ends the guided step.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import TypeVar

from bot.core.config import Settings
from bot.core.errors import Key, Refusal
from bot.core.people import is_coordinator
from storage.agenda_repository import OPEN
from storage.models import AgendaItem, Group, MembershipStatus, Person
from storage.uow import UnitOfWork

T = TypeVar("T")

_PUNCTUATION = ":,;"
"""Marks after a group's name that still end it: `/agenda ak-eu: Bericht`."""


def _words(text: str) -> str:
    return " ".join(text.split()).casefold()


def named_group(groups: Sequence[Group], text: str) -> tuple[Group, str] | None:
    """The group the first words of `text` are, and the rest of `text` as written.

    SPEC 5: only a group's slug or its full name counts (any case, any spacing:
    `ak-eu`, `AK EU`, `ak  eu`), followed by a space, a line break or `:` `,`
    `;`. A mere prefix (`Ehrenamt braucht Räume` beside "AK Ehrenamt", `eu`)
    is part of the text. The longest name wins (`AK EU` before `AK`).
    """
    words = list(re.finditer(r"\S+", text))
    best: tuple[int, Group, str] | None = None
    for group in groups:
        for candidate in (group.slug, group.name):
            count = len(candidate.split())
            if not count or count > len(words):
                continue
            end = words[count - 1].end()
            head = text[:end]
            if _words(head) != _words(candidate):
                stripped = head.rstrip(_PUNCTUATION)
                if stripped == head or _words(stripped) != _words(candidate):
                    continue
            if best is None or len(head) > best[0]:
                best = (len(head), group, text[end:])
    return (best[1], best[2]) if best else None


def not_your_group(group: Group, own: list[Group]) -> Refusal:
    """The refusal for a group the person does not propose for; it names their own groups."""
    return Refusal(
        "agenda.not_your_group",
        group=group.name,
        groups=", ".join(g.name for g in own),
        slug=own[0].slug if own else "ak-eu",
    )


async def own_groups(uow: UnitOfWork, person: Person, settings: Settings) -> list[Group]:
    """The groups the person proposes items for: a coordinator every active
    group, a member their approved groups; none is a refusal saying how to join."""
    own, _ = await own_and_all_groups(uow, person, settings)
    return own


async def own_and_all_groups(uow: UnitOfWork, person: Person, settings: Settings) -> tuple[list[Group], list[Group]]:
    """`own_groups`, and every active group (to read a group's name), in one query."""
    rows = await uow.groups.active_with_membership(person.id)
    everyone = [group for group, _ in rows]
    own = everyone if is_coordinator(person, settings) else [group for group, member in rows if member]
    if not own:
        raise Refusal("agenda.no_groups")
    return own, everyone


async def own_group(uow: UnitOfWork, group_id: int, own: list[Group]) -> Group:
    """The group of a button among `own` (the person's groups); a group that is
    gone is a stale button, another group is not theirs."""
    for group in own:
        if group.id == group_id:
            return group
    found = await uow.groups.get(group_id)
    if found is None or found.archived_at is not None:
        raise Refusal("buttons.stale")
    raise not_your_group(found, own)


async def get_item(uow: UnitOfWork, item_id: int) -> AgendaItem:
    item = await uow.agenda.get(item_id)
    if item is None:
        raise Refusal("agenda.unknown", id=item_id)
    return item


async def visible(uow: UnitOfWork, person: Person, item_id: int, settings: Settings) -> AgendaItem:
    """The item, if `person` may see its card: a coordinator, its author, or a
    member of its group."""
    item = await get_item(uow, item_id)
    if not (is_coordinator(person, settings) or item.author_id == person.id):
        member_of = {
            m.group_id for m in await uow.memberships.of_person(person.id) if m.status is MembershipStatus.APPROVED
        }
        if item.group_id not in member_of:
            raise Refusal("agenda.not_your_item_group", group=item.group.name)
    return item


def no_longer_open(item: AgendaItem) -> Refusal:
    """The refusal for a decision on an item that is no longer open; it says the item's state."""
    return Refusal("agenda.closed", id=item.id, state=Key(f"agenda.state_{item.status.value}"))


async def open_or_refuse(uow: UnitOfWork, item_id: int) -> AgendaItem:
    """The item, if it is open (proposed or accepted)."""
    item = await get_item(uow, item_id)
    if item.status not in OPEN:
        raise no_longer_open(item)
    return item


async def editable(uow: UnitOfWork, person: Person, item_id: int, now: datetime) -> AgendaItem:
    """The item, if `person` wrote it, it is open and its session has not started."""
    item = await get_item(uow, item_id)
    if item.author_id != person.id:
        raise Refusal("agenda.not_author", id=item.id)
    if item.status not in OPEN:
        raise no_longer_open(item)
    if item.occurrence is not None and item.occurrence.starts_at <= now:
        raise Refusal("agenda.session_started", id=item.id, session=item.occurrence.id)
    return item


async def guided(check: Awaitable[T]) -> T:
    """Await `check`; when it refuses, the refusal also ends the guided step."""
    try:
        return await check
    except Refusal as refusal:
        raise refusal.ending_step() from None
