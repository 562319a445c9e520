"""Agenda items: topics for a group's sessions (SPEC 5).

Rules that live here:
- An item belongs to a group and to that group's next session at the time it
  is proposed; with no session planned it waits (`occurrence_id` None) and
  joins the first session planned for the group afterwards. Only approved
  members of the group (and coordinators, for every group) propose; the text
  is 1 to `AGENDA_TEXT_MAX` characters, stored as written (lines kept, only
  surrounding white space and control characters removed).
- States: proposed -> accepted | rejected (with a reason the author is told)
  | withdrawn (by the author). An item is "open" while proposed or accepted;
  only open items are on an agenda. The number people see is the rank among
  the open items of that session, ordered by (position, id); every new,
  carried-over or deferred item is appended at the end (position max + 1).
- Agenda deadline (`Settings.agenda_deadline`, 0 = none): a member's item for
  a session whose deadline (start - deadline) has passed goes to the first
  later session whose deadline is still open, or waits; the answer names the
  session it missed and the one it is on. `not_before` keeps such an item
  off the missed session even when it waits. Coordinators set the agenda and
  are not bound by the deadline. No item is ever attached to a session that
  has started.
- Handled and carried over (`carry_over`, run in every timer tick and before
  every agenda use case): when a session is over (start + the meeting's
  duration) its accepted items stay with it: they were handled, and are the
  history for the half-yearly report. Items still proposed (never decided)
  move to the group's next session, or wait. Open items of a cancelled
  session move too, keeping their state. Waiting items join the first
  session that starts after `not_before` (or now).
- The author edits (guided: the bot asks for the new text) or withdraws an
  open item until its session starts. An edited accepted item is proposed
  again, so the coordination sees the new text before deciding anew.
- Coordinators, on an open item: accept, reject (the bot asks for a reason of
  1 to `REASON_MAX` characters, then the author is told by a delivery), defer
  (to the session after its current one, or waiting if none; the author is
  told), move up or down (swapping with the neighbour). A decision on an item
  that is no longer open, a second press, or a button of an old message gets
  a refusal that says the item's state, and changes nothing.
- Authorization comes from the database on every request: author =
  `item.author_id`, coordinator = `bot.core.people.is_coordinator`, member = an
  approved membership.

Guided input is kept on the person (`Person.awaiting` and `awaiting_data`),
committed with the change, so it survives a restart; any command ends it.
A refusal raised while checking the item behind a guided answer (it was
decided or withdrawn meanwhile) also ends the guided step, committed before
the refusal is raised, so the person is not asked again for an answer that
can no longer be used. Refusals of the answer itself (empty, too long)
keep the step, so the person can simply send a better text.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from bot.core.config import Settings
from bot.core.errors import Key, Refusal
from bot.core.groups import leading_group
from bot.core.people import is_coordinator, require_coordinator
from bot.core.registration import free_text
from storage.agenda_repository import OPEN
from storage.models import (
    AGENDA_TEXT_MAX,
    REASON_MAX,
    AgendaItem,
    AgendaStatus,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Group,
    MembershipStatus,
    Occurrence,
    OccurrenceStatus,
    Person,
)
from storage.uow import UnitOfWork

AWAIT_GROUP = "agenda_group"
"""The bot asked for the group (`awaiting_data["text"]`: the item's text, if already given)."""
AWAIT_TEXT = "agenda_text"
"""The bot asked for a new item's text (`awaiting_data["group"]`)."""
AWAIT_EDIT = "agenda_edit"
"""The bot asked the author for the new text of `awaiting_data["item"]`."""
AWAIT_REASON = "agenda_reason"
"""The bot asked a coordinator why `awaiting_data["item"]` is rejected."""

T = TypeVar("T")

AUTHOR_ACTIONS = frozenset({"edit", "withdraw"})
COORDINATION_ACTIONS = frozenset({"accept", "reject", "defer", "up", "down"})


# --- what the use cases return ---------------------------------------------------


@dataclass
class Placement:
    """A new item and where it went."""

    item: AgendaItem
    session: Occurrence | None
    number: int
    missed: Occurrence | None = None
    """The session whose agenda deadline had passed (the item went to `session`)."""
    missed_deadline: datetime | None = None


@dataclass
class SessionAgenda:
    occurrence: Occurrence
    items: list[AgendaItem]
    deadline: datetime | None
    """When members' new items stop going to this session (None: no deadline)."""
    deadline_passed: bool
    """New items of this viewer go to a later session (never for coordinators)."""
    running: bool


@dataclass
class GroupAgenda:
    group: Group
    sessions: list[SessionAgenda]
    waiting: list[AgendaItem]


@dataclass
class Overview:
    """The agendas `/agenda` shows to one person."""

    groups: list[GroupAgenda]
    viewer_id: int
    coordinator: bool

    def may_open(self, item: AgendaItem) -> bool:
        """Whether the viewer may act on the item (its card gets a button)."""
        return self.coordinator or item.author_id == self.viewer_id


@dataclass
class AskGroup:
    """The bot has to ask for the group (the item's text is held, if given)."""

    groups: list[Group]


@dataclass
class AskText:
    """The bot has to ask for the text of a new item for `group`."""

    group: Group


@dataclass
class ItemView:
    """An item as one person sees it: where it is, and what they may do with it."""

    item: AgendaItem
    number: int | None
    count: int
    may_edit: bool
    may_decide: bool
    first: bool
    last: bool


@dataclass
class Decision:
    view: ItemView
    told: bool
    """The author is owed a note about it."""
    reopened: bool = False
    """An accepted item was edited and is proposed again."""


# --- /agenda with or without text ------------------------------------------------------


async def command(
    uow: UnitOfWork, person: Person, rest: str, settings: Settings, now: datetime
) -> Overview | Placement | AskGroup:
    """`/agenda [group] [text]`.

    The first words are the group when they name one of the caller's groups
    (a coordinator: any group). Words that exactly name a group the caller is
    not in are refused; words that are only the beginning of such a group's
    name are part of the text when the caller is in exactly one group, and
    refused otherwise. Without text: the agendas; with text and no group:
    the caller's one group, or the bot holds the text and asks for the group.
    """
    own = await own_groups(uow, person, settings)
    if not rest.strip():
        return await overview(uow, person, own, settings, now)
    named = leading_group(await uow.groups.active(), rest)
    if named is not None:
        group, after, exact = named
        if any(g.id == group.id for g in own):
            if not after.strip():
                return await overview(uow, person, [group], settings, now)
            return await propose(uow, person, group, after, settings, now)
        if exact or len(own) != 1:
            raise not_your_group(group, own)
    if len(own) == 1:
        return await propose(uow, person, own[0], rest, settings, now)
    held = free_text(rest, AGENDA_TEXT_MAX, "agenda.text")
    person.awaiting = AWAIT_GROUP
    person.awaiting_data = {"text": held}
    await uow.flush()
    return AskGroup(own)


def not_your_group(group: Group, own: list[Group]) -> Refusal:
    return Refusal(
        "agenda.not_your_group",
        group=group.name,
        groups=", ".join(g.name for g in own),
        slug=own[0].slug if own else "ak-eu",
    )


async def own_groups(uow: UnitOfWork, person: Person, settings: Settings) -> list[Group]:
    """The groups the person proposes items for: a coordinator every active
    group, a member their approved groups; none is a refusal saying how to join."""
    if is_coordinator(person, settings):
        groups = list(await uow.groups.active())
    else:
        groups = [
            m.group
            for m in await uow.memberships.of_person(person.id)
            if m.status is MembershipStatus.APPROVED and m.group.archived_at is None
        ]
    if not groups:
        raise Refusal("agenda.no_groups")
    return groups


async def overview(
    uow: UnitOfWork, person: Person, groups: list[Group], settings: Settings, now: datetime
) -> Overview:
    """Per group: the session running now (if any) and the next one, each with its
    numbered agenda, or the waiting items when no session is planned."""
    await carry_over(uow, now)
    await uow.flush()
    ids = [g.id for g in groups]
    sessions = [o for o in await uow.agenda.current_sessions(ids, now) if not _over(o, now)]
    for group in groups:
        upcoming = await uow.agenda.next_session(group.id, now)
        if upcoming is not None:
            sessions.append(upcoming)
    items = await uow.agenda.on_sessions(o.id for o in sessions)
    waiting = await uow.agenda.waiting(ids)
    deadline = settings.agenda_deadline
    coordinator = is_coordinator(person, settings)
    result = []
    for group in groups:
        agendas = []
        for o in sessions:
            if o.meeting.group_id != group.id:
                continue
            closes = o.starts_at - deadline if deadline > timedelta(0) else None
            agendas.append(
                SessionAgenda(
                    o,
                    [i for i in items if i.occurrence_id == o.id],
                    closes,
                    closes is not None and not coordinator and now >= closes,
                    o.starts_at <= now,
                )
            )
        result.append(GroupAgenda(group, agendas, [i for i in waiting if i.group_id == group.id]))
    return Overview(result, person.id, coordinator)


# --- proposing -------------------------------------------------------------------


async def propose(
    uow: UnitOfWork, person: Person, group: Group, text: str, settings: Settings, now: datetime
) -> Placement:
    """A new item for the group's next session (see the deadline rule above)."""
    text = free_text(text, AGENDA_TEXT_MAX, "agenda.text")
    await carry_over(uow, now)
    target = await uow.agenda.next_session(group.id, now)
    missed: Occurrence | None = None
    not_before: datetime | None = None
    deadline = settings.agenda_deadline
    if target is not None and deadline > timedelta(0) and not is_coordinator(person, settings):
        if now >= target.starts_at - deadline:
            missed = target
        while target is not None and now >= target.starts_at - deadline:
            not_before = target.starts_at
            target = await uow.agenda.next_session(group.id, not_before)
    position = await uow.agenda.last_position(group.id, target.id if target else None) + 1
    item = AgendaItem(
        group_id=group.id,
        group=group,
        occurrence_id=target.id if target else None,
        occurrence=target,
        author_id=person.id,
        author=person,
        text=text,
        status=AgendaStatus.PROPOSED,
        position=position,
        not_before=not_before,
        created_at=now,
    )
    uow.agenda.add(item)
    _leave_guided(person)
    await uow.agenda.flush()
    number = await _number(uow, item)
    await uow.flush()
    return Placement(item, target, number, missed, missed.starts_at - deadline if missed else None)


async def start_proposal(uow: UnitOfWork, person: Person, group_id: int, settings: Settings) -> AskGroup | AskText:
    """"Thema vorschlagen" pressed: ask for the group (group 0, several groups)
    or for the text."""
    own = await own_groups(uow, person, settings)
    if group_id == 0 and len(own) > 1:
        person.awaiting = AWAIT_GROUP
        person.awaiting_data = {}
        await uow.flush()
        return AskGroup(own)
    group = own[0] if group_id == 0 else await _own_group(uow, group_id, own)
    person.awaiting = AWAIT_TEXT
    person.awaiting_data = {"group": group.id}
    await uow.flush()
    return AskText(group)


async def choose_group(
    uow: UnitOfWork, person: Person, group_id: int, settings: Settings, now: datetime
) -> Placement | AskText:
    """A group button pressed while the bot asks for the group: propose the held
    text there, or ask for the text. A button of an old question is refused."""
    if person.awaiting != AWAIT_GROUP:
        raise Refusal("agenda.stale_choice")
    own = await own_groups(uow, person, settings)
    group = await _own_group(uow, group_id, own)
    held = (person.awaiting_data or {}).get("text")
    if isinstance(held, str) and held:
        return await propose(uow, person, group, held, settings, now)
    person.awaiting = AWAIT_TEXT
    person.awaiting_data = {"group": group.id}
    await uow.flush()
    return AskText(group)


async def hold_text(
    uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime
) -> Placement | AskGroup:
    """A text sent while the bot asks for the group: it is the item's text
    (replacing one held before); the group is still to be chosen."""
    held = free_text(text, AGENDA_TEXT_MAX, "agenda.text")
    own = await _guided(uow, person, own_groups(uow, person, settings))
    if len(own) == 1:
        return await propose(uow, person, own[0], held, settings, now)
    person.awaiting_data = {"text": held}
    await uow.flush()
    return AskGroup(own)


async def submit_text(
    uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime
) -> Placement:
    """The text of a new item, after the group was chosen."""
    group_id = _awaited_id(person, "group")

    async def check() -> Group:
        return await _own_group(uow, group_id, await own_groups(uow, person, settings))

    group = await _guided(uow, person, check())
    return await propose(uow, person, group, text, settings, now)


# --- one item --------------------------------------------------------------------------


async def open_item(uow: UnitOfWork, person: Person, item_id: int, settings: Settings, now: datetime) -> ItemView:
    """An item's card: coordinators, its author and the members of its group see it."""
    await carry_over(uow, now)
    item = await _item(uow, item_id)
    if not (is_coordinator(person, settings) or item.author_id == person.id):
        member_of = {
            m.group_id for m in await uow.memberships.of_person(person.id) if m.status is MembershipStatus.APPROVED
        }
        if item.group_id not in member_of:
            raise Refusal("agenda.not_your_item_group", group=item.group.name)
    view = await _view(uow, person, item, settings, now)
    await uow.flush()
    return view


async def start_edit(uow: UnitOfWork, person: Person, item_id: int, settings: Settings, now: datetime) -> AgendaItem:
    """"Ändern" pressed by the author: the bot asks for the new text."""
    await carry_over(uow, now)
    item = await _editable(uow, person, item_id, now)
    person.awaiting = AWAIT_EDIT
    person.awaiting_data = {"item": item.id}
    await uow.flush()
    return item


async def submit_edit(uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime) -> Decision:
    """The author's new text; an accepted item is proposed again."""
    item_id = _awaited_id(person, "item")

    async def check() -> AgendaItem:
        await carry_over(uow, now)
        return await _editable(uow, person, item_id, now)

    item = await _guided(uow, person, check())
    text = free_text(text, AGENDA_TEXT_MAX, "agenda.text")
    reopened = item.status is AgendaStatus.ACCEPTED
    item.text = text
    item.updated_at = now
    if reopened:
        item.status = AgendaStatus.PROPOSED
        item.decided_at = None
        item.decided_by_id = None
    _leave_guided(person)
    view = await _view(uow, person, item, settings, now)
    await uow.flush()
    return Decision(view, told=False, reopened=reopened)


async def withdraw(uow: UnitOfWork, person: Person, item_id: int, settings: Settings, now: datetime) -> ItemView:
    """The author takes the item off the agenda."""
    await carry_over(uow, now)
    item = await _editable(uow, person, item_id, now)
    item.status = AgendaStatus.WITHDRAWN
    item.updated_at = now
    view = await _view(uow, person, item, settings, now)
    await uow.flush()
    return view


async def accept(uow: UnitOfWork, person: Person, item_id: int, settings: Settings, now: datetime) -> ItemView:
    require_coordinator(person, settings)
    await carry_over(uow, now)
    item = await _open(uow, item_id)
    if item.status is AgendaStatus.ACCEPTED:
        raise _closed(item)
    item.status = AgendaStatus.ACCEPTED
    item.decided_at = now
    item.decided_by_id = person.id
    view = await _view(uow, person, item, settings, now)
    await uow.flush()
    return view


async def start_reject(uow: UnitOfWork, person: Person, item_id: int, settings: Settings, now: datetime) -> AgendaItem:
    """"Ablehnen" pressed: the bot asks for the reason; nothing is decided yet."""
    require_coordinator(person, settings)
    await carry_over(uow, now)
    item = await _open(uow, item_id)
    person.awaiting = AWAIT_REASON
    person.awaiting_data = {"item": item.id}
    await uow.flush()
    return item


async def submit_reason(uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime) -> Decision:
    """The reason: the item is rejected and its author is owed a note with it."""
    item_id = _awaited_id(person, "item")

    async def check() -> AgendaItem:
        require_coordinator(person, settings)
        await carry_over(uow, now)
        return await _open(uow, item_id)

    item = await _guided(uow, person, check())
    reason = free_text(text, REASON_MAX, "agenda.reason")
    item.status = AgendaStatus.REJECTED
    item.reason = reason
    item.decided_at = now
    item.decided_by_id = person.id
    told = await _tell_author(uow, item, person, DeliveryKind.ITEM_REJECTED, now)
    _leave_guided(person)
    view = await _view(uow, person, item, settings, now)
    await uow.flush()
    return Decision(view, told)


async def defer(
    uow: UnitOfWork, person: Person, item_id: int, settings: Settings, now: datetime, from_session: int | None = None
) -> Decision:
    """To the group's session after the item's current one (or waiting); the author is told.

    `from_session`: the session the button was shown for. When the item is no longer
    on it (the same button pressed twice), nothing is deferred a second time."""
    require_coordinator(person, settings)
    await carry_over(uow, now)
    item = await _open(uow, item_id)
    current = item.occurrence
    if from_session is not None and (current is None or current.id != from_session):
        raise Refusal("buttons.stale")
    if current is None:
        raise Refusal("agenda.not_on_session", id=item.id)
    item.not_before = current.starts_at
    target = await uow.agenda.next_session(item.group_id, max(now, current.starts_at))
    await _place(uow, item, target, {})
    item.updated_at = now
    told = await _tell_author(uow, item, person, DeliveryKind.ITEM_DEFERRED, now)
    await uow.agenda.flush()
    view = await _view(uow, person, item, settings, now)
    await uow.flush()
    return Decision(view, told)


async def move(
    uow: UnitOfWork, person: Person, item_id: int, up: bool, settings: Settings, now: datetime
) -> ItemView:
    """Swap the item with its neighbour above (or below) on its agenda."""
    require_coordinator(person, settings)
    await carry_over(uow, now)
    item = await _open(uow, item_id)
    items = await uow.agenda.same_list(item)
    index = next(i for i, other in enumerate(items) if other.id == item.id)
    if up and index == 0:
        raise Refusal("agenda.already_first", id=item.id)
    if not up and index == len(items) - 1:
        raise Refusal("agenda.already_last", id=item.id)
    other = index - 1 if up else index + 1
    items[index], items[other] = items[other], items[index]
    for position, each in enumerate(items, 1):
        each.position = position
    item.updated_at = now
    await uow.agenda.flush()
    view = await _view(uow, person, item, settings, now)
    await uow.flush()
    return view


# --- carrying over, and the agenda inside reminders -----------------------------------------


async def carry_over(uow: UnitOfWork, now: datetime) -> int:
    """Move the items not handled at a session that is over (or cancelled) to the
    group's next session, and attach waiting items to the first session planned
    for them; returns how many moved. Does not commit.

    Accepted items of a session that is over stay with it (handled). Items of a
    session still running stay until it is over.
    """
    moving: list[AgendaItem] = []
    for item in await uow.agenda.to_carry(now):
        session = item.occurrence
        if session is None or session.status is OccurrenceStatus.CANCELLED:
            moving.append(item)
        elif item.status is AgendaStatus.PROPOSED and _over(session, now):
            moving.append(item)
    moving.sort(key=lambda i: (i.group_id, i.occurrence.starts_at if i.occurrence else i.created_at, i.position, i.id))
    targets: dict[tuple[int, datetime], Occurrence | None] = {}
    positions: dict[tuple[int, int | None], int] = {}
    moved = 0
    for item in moving:
        after = max(now, item.not_before) if item.not_before is not None else now
        if (item.group_id, after) not in targets:
            targets[(item.group_id, after)] = await uow.agenda.next_session(item.group_id, after)
        target = targets[(item.group_id, after)]
        if target is None and item.occurrence is None:
            continue  # waiting, and still no session for it
        await _place(uow, item, target, positions)
        moved += 1
    if moved:
        await uow.agenda.flush()
    return moved


async def items_on(uow: UnitOfWork, occurrence_id: int) -> list[AgendaItem]:
    """The items on a session's agenda (proposed or accepted), in agenda order."""
    return list(await uow.agenda.on_sessions([occurrence_id]))


# --- helpers -----------------------------------------------------------------------------


def _over(session: Occurrence, now: datetime) -> bool:
    return session.starts_at + timedelta(minutes=session.meeting.duration_minutes) <= now


async def _place(
    uow: UnitOfWork, item: AgendaItem, target: Occurrence | None, positions: dict[tuple[int, int | None], int]
) -> None:
    """Put the item at the end of `target`'s agenda (None: the group's waiting list)."""
    key = (item.group_id, target.id if target else None)
    if key not in positions:
        positions[key] = await uow.agenda.last_position(item.group_id, key[1])
    positions[key] += 1
    item.position = positions[key]
    item.occurrence = target
    item.occurrence_id = key[1]


async def _number(uow: UnitOfWork, item: AgendaItem) -> int:
    number, _ = await uow.agenda.place(item)
    return number


async def _view(uow: UnitOfWork, person: Person, item: AgendaItem, settings: Settings, now: datetime) -> ItemView:
    is_open = item.status in OPEN
    number, count = await uow.agenda.place(item) if is_open else (None, 0)
    started = item.occurrence is not None and item.occurrence.starts_at <= now
    return ItemView(
        item=item,
        number=number,
        count=count,
        may_edit=is_open and item.author_id == person.id and not started,
        may_decide=is_open and is_coordinator(person, settings),
        first=number == 1,
        last=number is not None and number == count,
    )


async def _item(uow: UnitOfWork, item_id: int) -> AgendaItem:
    item = await uow.agenda.get(item_id)
    if item is None:
        raise Refusal("agenda.unknown", id=item_id)
    return item


def _closed(item: AgendaItem) -> Refusal:
    return Refusal("agenda.closed", id=item.id, state=Key(f"agenda.state_{item.status.value}"))


async def _open(uow: UnitOfWork, item_id: int) -> AgendaItem:
    item = await _item(uow, item_id)
    if item.status not in OPEN:
        raise _closed(item)
    return item


async def _editable(uow: UnitOfWork, person: Person, item_id: int, now: datetime) -> AgendaItem:
    item = await _item(uow, item_id)
    if item.author_id != person.id:
        raise Refusal("agenda.not_author", id=item.id)
    if item.status not in OPEN:
        raise _closed(item)
    if item.occurrence is not None and item.occurrence.starts_at <= now:
        raise Refusal("agenda.session_started", id=item.id, session=item.occurrence.id)
    return item


async def _own_group(uow: UnitOfWork, group_id: int, own: list[Group]) -> Group:
    for group in own:
        if group.id == group_id:
            return group
    found = await uow.groups.get(group_id)
    if found is None or found.archived_at is not None:
        raise Refusal("buttons.stale")
    raise not_your_group(found, own)


async def _tell_author(uow: UnitOfWork, item: AgendaItem, decider: Person, kind: DeliveryKind, now: datetime) -> bool:
    """Owe the author a note (not when they decided it themselves, or were forgotten)."""
    author = item.author
    if author is None or author.id == decider.id or author.telegram_id is None:
        return False
    revision = await uow.agenda.notes_about(item.id, kind) + 1
    uow.deliveries.add(
        Delivery(
            agenda_item_id=item.id,
            person_id=author.id,
            kind=kind,
            lead_seconds=0,
            revision=revision,
            due_at=now,
            status=DeliveryStatus.PENDING,
            attempts=0,
        )
    )
    return True


def _awaited_id(person: Person, name: str) -> int:
    value = (person.awaiting_data or {}).get(name)
    return value if isinstance(value, int) else 0


def _leave_guided(person: Person) -> None:
    person.awaiting = None
    person.awaiting_data = None


async def _guided(uow: UnitOfWork, person: Person, check: Awaitable[T]) -> T:
    """Await `check`; when it refuses, the refusal also ends the guided step."""
    try:
        return await check
    except Refusal as refusal:
        raise refusal.ending_step() from None
