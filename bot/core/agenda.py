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
- Agenda deadline (`Settings.agenda_deadline`, `AGENDA_DEADLINE`, default 0
  = none; SPEC 5): a member's item for a session whose deadline (start -
  deadline) has passed still belongs to that session, marked late
  (`AgendaItem.late`, *nachgereicht*, shown so wherever the agenda is
  shown); the coordinators get it at once with its buttons and accept it
  (it stays, still marked) or defer it (to the session after; the mark goes,
  it is on time there). It never moves to a later session on its own.
  Coordinators set the agenda and are not bound by the deadline. No item is
  ever attached to a session that has started.
- Handled and carried over (`carry_over`, run in every timer tick and before
  every agenda use case): when a session is over (start + the meeting's
  duration) its accepted items stay with it: they were handled, and are the
  history for the half-yearly report. Items still proposed (never decided)
  move to the group's next session, or wait (a late mark goes: it was late
  only for the session it missed). Open items of a cancelled session move
  too, keeping their state. Waiting items join the first
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

Guided input is kept on the person (`bot.core.steps`: `Person.awaiting` and
`awaiting_data`), committed with the change, so it survives a restart; any
command ends it.
A refusal raised while checking the item behind a guided answer (it was
decided or withdrawn meanwhile) also ends the guided step, committed before
the refusal is raised, so the person is not asked again for an answer that
can no longer be used. Refusals of the answer itself (empty, too long)
keep the step, so the person can simply send a better text.

What the use cases return is in `bot.core.agenda_views`, the order of the
agenda (sessions over, deadlines, positions) in `bot.core.agenda_order`, and
the checks that refuse a change in `bot.core.agenda_checks`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.core import audit, steps
from bot.core.agenda_checks import (
    editable,
    guided,
    named_group,
    no_longer_open,
    not_your_group,
    open_or_refuse,
    own_and_all_groups,
    own_group,
    own_groups,
    visible,
)
from bot.core.agenda_order import (
    Positions,
    agenda_closes,
    deadline_passed,
    leaving,
    place_at_end,
    session_over,
    swap,
)
from bot.core.agenda_views import (
    AskGroup,
    AskText,
    Decision,
    ItemView,
    Overview,
    Placement,
    decider_view,
    group_agenda,
    item_view,
)
from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.groups import require_active
from bot.core.people import coordinator_chat_ids, is_coordinator, require_coordinator
from bot.core.steps import Step
from bot.core.text import free_text
from storage.models import (
    AGENDA_TEXT_MAX,
    REASON_MAX,
    AgendaItem,
    AgendaStatus,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Group,
    Occurrence,
    Person,
)
from storage.uow import UnitOfWork

AUTHOR_ACTIONS = frozenset({"edit", "withdraw"})
COORDINATION_ACTIONS = frozenset({"accept", "reject", "defer", "up", "down"})


# --- /agenda with or without text ------------------------------------------------------


async def command(
    uow: UnitOfWork, person: Person, rest: str, settings: Settings, now: datetime
) -> Overview | Placement | AskGroup:
    """`/agenda [group] [text]`.

    The first words are the group only when they are a group's slug or full
    name (SPEC 5, `named_group`); a group the caller is not in is refused. Any
    other beginning, a prefix of a group's name too, is part of the text, kept
    exactly as written. Without text: the agendas; with text and no group:
    the caller's one group, or the bot holds the text and asks for the group.
    """
    own, everyone = await own_and_all_groups(uow, person, settings)
    if not rest.strip():
        return await overview(uow, person, own, settings, now)
    named = named_group(everyone, rest)
    if named is not None:
        group, after = named
        if not any(g.id == group.id for g in own):
            raise not_your_group(group, own)
        if not after.strip():
            return await overview(uow, person, [group], settings, now)
        return await propose(uow, person, group, after, settings, now)
    if len(own) == 1:
        return await propose(uow, person, own[0], rest, settings, now)
    held = free_text(rest, AGENDA_TEXT_MAX, "agenda.text")
    steps.ask(person, Step.AGENDA_GROUP, {"text": held})
    await uow.flush()
    return AskGroup(own)


async def overview(uow: UnitOfWork, person: Person, groups: list[Group], settings: Settings, now: datetime) -> Overview:
    """Per group: the session running now (if any) and the next one, each with its
    numbered agenda, or the waiting items when no session is planned."""
    ids = [g.id for g in groups]
    await carry_over(uow, now, ids)
    await uow.flush()
    sessions = [o for o in await uow.agenda.current_sessions(ids, now) if not session_over(o, now)]
    for group in groups:
        upcoming = await uow.agenda.next_session(group.id, now)
        if upcoming is not None:
            sessions.append(upcoming)
    items = await uow.agenda.on_sessions(o.id for o in sessions)
    waiting = await uow.agenda.waiting(ids)
    coordinator = is_coordinator(person, settings)
    return Overview(
        [group_agenda(g, sessions, items, waiting, settings.agenda_deadline, coordinator, now) for g in groups],
        person.id,
        coordinator,
    )


# --- proposing -------------------------------------------------------------------


async def propose(
    uow: UnitOfWork, person: Person, group: Group, text: str, settings: Settings, now: datetime
) -> Placement:
    """A new item for the group's next session (see the deadline rule above)."""
    require_active(group)
    text = free_text(text, AGENDA_TEXT_MAX, "agenda.text")
    target, last, count, unsettled = await uow.agenda.next_session_and_end(group.id, now)
    if unsettled and await carry_over(uow, now, [group.id]):
        target, last, count, _ = await uow.agenda.next_session_and_end(group.id, now)
    deadline = settings.agenda_deadline
    coordinator = is_coordinator(person, settings)
    late = target is not None and not coordinator and deadline_passed(target, deadline, now)
    item = AgendaItem(
        group_id=group.id,
        group=group,
        occurrence_id=target.id if target else None,
        occurrence=target,
        author_id=person.id,
        author=person,
        text=text,
        status=AgendaStatus.PROPOSED,
        position=last + 1,
        late=late,
        created_at=now,
    )
    await uow.agenda.insert(item)
    steps.end(person)
    placement = Placement(item, target, count + 1)  # at the end: after every open item there
    if late and target is not None:
        placement.deadline = agenda_closes(target, deadline)
        placement.decide = await decider_view(uow, item)
        placement.coordinators = [c for c in await coordinator_chat_ids(uow, settings) if c != person.telegram_id]
    await uow.flush()
    return placement


async def start_proposal(uow: UnitOfWork, person: Person, group_id: int, settings: Settings) -> AskGroup | AskText:
    """ "Thema vorschlagen" pressed: ask for the group (group 0, several groups)
    or for the text."""
    own = await own_groups(uow, person, settings)
    if group_id == 0 and len(own) > 1:
        steps.ask(person, Step.AGENDA_GROUP)
        await uow.flush()
        return AskGroup(own)
    group = own[0] if group_id == 0 else await own_group(uow, group_id, own)
    steps.ask(person, Step.AGENDA_TEXT, {"group": group.id})
    await uow.flush()
    return AskText(group)


async def choose_group(
    uow: UnitOfWork, person: Person, group_id: int, settings: Settings, now: datetime
) -> Placement | AskText:
    """A group button pressed while the bot asks for the group: propose the held
    text there, or ask for the text. A button of an old question is refused."""
    if steps.current(person) is not Step.AGENDA_GROUP:
        raise Refusal("agenda.stale_choice")
    own = await own_groups(uow, person, settings)
    group = await own_group(uow, group_id, own)
    held = steps.recall(person, "text")
    if isinstance(held, str) and held:
        return await propose(uow, person, group, held, settings, now)
    steps.ask(person, Step.AGENDA_TEXT, {"group": group.id})
    await uow.flush()
    return AskText(group)


async def hold_text(
    uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime
) -> Placement | AskGroup:
    """A text sent while the bot asks for the group: it is the item's text
    (replacing one held before); the group is still to be chosen."""
    held = free_text(text, AGENDA_TEXT_MAX, "agenda.text")
    own = await guided(own_groups(uow, person, settings))
    if len(own) == 1:
        return await propose(uow, person, own[0], held, settings, now)
    steps.remember(person, {"text": held})
    await uow.flush()
    return AskGroup(own)


async def submit_text(uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime) -> Placement:
    """The text of a new item, after the group was chosen."""
    group_id = steps.recall_id(person, "group")

    async def check() -> Group:
        return await own_group(uow, group_id, await own_groups(uow, person, settings))

    group = await guided(check())
    return await propose(uow, person, group, text, settings, now)


# --- one item --------------------------------------------------------------------------


async def open_item(uow: UnitOfWork, person: Person, item_id: int, settings: Settings, now: datetime) -> ItemView:
    """An item's card: coordinators, its author and the members of its group see it."""
    await carry_over(uow, now)
    item = await visible(uow, person, item_id, settings)
    view = await item_view(uow, person, item, settings, now)
    await uow.flush()
    return view


async def start_edit(uow: UnitOfWork, person: Person, item_id: int, settings: Settings, now: datetime) -> AgendaItem:
    """ "Ändern" pressed by the author: the bot asks for the new text."""
    await carry_over(uow, now)
    item = await editable(uow, person, item_id, now)
    steps.ask(person, Step.AGENDA_EDIT, {"item": item.id})
    await uow.flush()
    return item


async def submit_edit(uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime) -> Decision:
    """The author's new text; an accepted item is proposed again."""
    item_id = steps.recall_id(person, "item")

    async def check() -> AgendaItem:
        await carry_over(uow, now)
        return await editable(uow, person, item_id, now)

    item = await guided(check())
    text = free_text(text, AGENDA_TEXT_MAX, "agenda.text")
    reopened = item.status is AgendaStatus.ACCEPTED
    item.text = text
    item.updated_at = now
    if reopened:
        item.status = AgendaStatus.PROPOSED
        item.decided_at = None
        item.decided_by_id = None
    steps.end(person)
    view = await item_view(uow, person, item, settings, now)
    await uow.flush()
    return Decision(view, told=False, reopened=reopened)


async def withdraw(uow: UnitOfWork, person: Person, item_id: int, settings: Settings, now: datetime) -> ItemView:
    """The author takes the item off the agenda."""
    await carry_over(uow, now)
    item = await editable(uow, person, item_id, now)
    item.status = AgendaStatus.WITHDRAWN
    item.updated_at = now
    view = await item_view(uow, person, item, settings, now)
    await uow.flush()
    return view


async def accept(uow: UnitOfWork, person: Person, item_id: int, settings: Settings, now: datetime) -> ItemView:
    require_coordinator(person, settings)
    await carry_over(uow, now)
    item = await open_or_refuse(uow, item_id)
    if item.status is AgendaStatus.ACCEPTED:
        raise no_longer_open(item)
    item.status = AgendaStatus.ACCEPTED
    item.decided_at = now
    item.decided_by_id = person.id
    _audit(uow, person, "agenda.accept", item, now)
    view = await item_view(uow, person, item, settings, now)
    await uow.flush()
    return view


async def start_reject(uow: UnitOfWork, person: Person, item_id: int, settings: Settings, now: datetime) -> AgendaItem:
    """ "Ablehnen" pressed: the bot asks for the reason; nothing is decided yet."""
    require_coordinator(person, settings)
    await carry_over(uow, now)
    item = await open_or_refuse(uow, item_id)
    steps.ask(person, Step.AGENDA_REASON, {"item": item.id})
    await uow.flush()
    return item


async def submit_reason(uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime) -> Decision:
    """The reason: the item is rejected and its author is owed a note with it."""
    item_id = steps.recall_id(person, "item")

    async def check() -> AgendaItem:
        require_coordinator(person, settings)
        await carry_over(uow, now)
        return await open_or_refuse(uow, item_id)

    item = await guided(check())
    reason = free_text(text, REASON_MAX, "agenda.reason")
    item.status = AgendaStatus.REJECTED
    item.reason = reason
    item.decided_at = now
    item.decided_by_id = person.id
    _audit(uow, person, "agenda.reject", item, now, reason=reason)
    told = await _tell_author(uow, item, person, DeliveryKind.ITEM_REJECTED, now)
    steps.end(person)
    view = await item_view(uow, person, item, settings, now)
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
    item = await open_or_refuse(uow, item_id)
    current = item.occurrence
    if from_session is not None and (current is None or current.id != from_session):
        raise Refusal("buttons.stale")
    if current is None:
        raise Refusal("agenda.not_on_session", id=item.id)
    item.not_before = current.starts_at
    target = await uow.agenda.next_session(item.group_id, max(now, current.starts_at))
    await place_at_end(uow, item, target, {})
    item.late = False  # on time for the session it goes to
    item.updated_at = now
    _audit(uow, person, "agenda.defer", item, now, session=target.id if target else None)
    told = await _tell_author(uow, item, person, DeliveryKind.ITEM_DEFERRED, now)
    await uow.agenda.flush()
    view = await item_view(uow, person, item, settings, now)
    await uow.flush()
    return Decision(view, told)


async def move(uow: UnitOfWork, person: Person, item_id: int, up: bool, settings: Settings, now: datetime) -> ItemView:
    """Swap the item with its neighbour above (or below) on its agenda."""
    require_coordinator(person, settings)
    await carry_over(uow, now)
    item = await open_or_refuse(uow, item_id)
    swap(await uow.agenda.same_list(item), item, up)
    item.updated_at = now
    _audit(uow, person, "agenda.move_up" if up else "agenda.move_down", item, now)
    await uow.agenda.flush()
    view = await item_view(uow, person, item, settings, now)
    await uow.flush()
    return view


def _audit(uow: UnitOfWork, person: Person, action: str, item: AgendaItem, now: datetime, **detail: object) -> None:
    """The coordination's decision on an item, in the audit log (SPEC 2)."""
    audit.record(uow, person, action, "agenda_item", item.id, now, group=item.group.name, **detail)


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


# --- carrying over, and the agenda inside reminders -----------------------------------------


async def carry_over(uow: UnitOfWork, now: datetime, group_ids: Iterable[int] | None = None) -> int:
    """Move the items not handled at a session that is over (or cancelled) to the
    group's next session, and attach waiting items to the first session planned
    for them; returns how many moved. Does not commit.

    Accepted items of a session that is over stay with it (handled). Items of a
    session still running stay until it is over.

    The timer carries over for every group (`group_ids` None); a request about
    some groups (a proposal, an agenda shown) only for those, so that what it
    shows and numbers is current even before the timer's next run. Usually
    nothing moves, and one query finds that.
    """
    targets: dict[tuple[int, datetime], Occurrence | None] = {}
    positions: Positions = {}
    moved = 0
    for item in leaving(await uow.agenda.to_carry(now, group_ids), now):
        after = max(now, item.not_before) if item.not_before is not None else now
        if (item.group_id, after) not in targets:
            targets[(item.group_id, after)] = await uow.agenda.next_session(item.group_id, after)
        target = targets[(item.group_id, after)]
        if target is None and item.occurrence is None:
            continue  # waiting, and still no session for it
        await place_at_end(uow, item, target, positions)
        item.late = False  # late only for the session it missed
        moved += 1
    if moved:
        await uow.agenda.flush()
    return moved


async def items_on(uow: UnitOfWork, occurrence_id: int) -> list[AgendaItem]:
    """The items on a session's agenda (proposed or accepted), in agenda order."""
    return list(await uow.agenda.on_sessions([occurrence_id]))
