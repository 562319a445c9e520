"""The order of the agenda: which session an item goes to, and where on it.

The rules are those of `bot.core.agenda`; this module holds the parts its
use cases share:

- a session is over at its start plus its meeting's duration;
- a member's new item after a session's agenda deadline (start -
  `Settings.agenda_deadline`; none when that is 0) still goes to that
  session, marked late (*nachgereicht*);
- an item put on an agenda (or on the group's waiting list) goes to its end
  (position max + 1); its number is its rank among the open items there;
- moving an item up or down swaps it with its neighbour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.errors import Refusal
from storage.models import AgendaItem, AgendaStatus, Occurrence, OccurrenceStatus
from storage.uow import UnitOfWork

Positions = dict[tuple[int, int | None], int]
"""The last position used, by (group, session or None for the waiting list)."""


def session_over(session: Occurrence, now: datetime) -> bool:
    """The session has ended: its start plus the meeting's duration has passed."""
    return session.starts_at + timedelta(minutes=session.meeting.duration_minutes) <= now


def agenda_closes(session: Occurrence, deadline: timedelta) -> datetime | None:
    """When the session's agenda closes for members (None: no agenda deadline)."""
    return session.starts_at - deadline if deadline > timedelta(0) else None


def deadline_passed(session: Occurrence, deadline: timedelta, now: datetime) -> bool:
    """The session's agenda is closed for members: their new items are late."""
    closes = agenda_closes(session, deadline)
    return closes is not None and now >= closes


def leaving(candidates: Sequence[AgendaItem], now: datetime) -> list[AgendaItem]:
    """The items among `candidates` (`AgendaRepository.to_carry`) that move now,
    in the order they are appended to their new agenda.

    Waiting items and the open items of a cancelled session move; of a session
    that is over only the items still proposed (accepted ones were handled);
    the items of a session still running stay until it is over.
    """
    moving: list[AgendaItem] = []
    for item in candidates:
        session = item.occurrence
        if session is None or session.status is OccurrenceStatus.CANCELLED:
            moving.append(item)
        elif item.status is AgendaStatus.PROPOSED and session_over(session, now):
            moving.append(item)
    moving.sort(key=lambda i: (i.group_id, i.occurrence.starts_at if i.occurrence else i.created_at, i.position, i.id))
    return moving


async def place_at_end(uow: UnitOfWork, item: AgendaItem, target: Occurrence | None, positions: Positions) -> None:
    """Put the item at the end of `target`'s agenda (None: the group's waiting list).

    `positions` remembers the last position used, so several items placed in
    one go line up one after the other; pass `{}` for a single item."""
    key = (item.group_id, target.id if target else None)
    if key not in positions:
        positions[key] = await uow.agenda.last_position(item.group_id, key[1])
    positions[key] += 1
    item.position = positions[key]
    item.occurrence = target
    item.occurrence_id = key[1]


def swap(items: list[AgendaItem], item: AgendaItem, up: bool) -> None:
    """Swap `item` with its neighbour above (or below) in `items`, one agenda in
    order, and number the positions anew; refused at the top (or the bottom)."""
    index = next(i for i, other in enumerate(items) if other.id == item.id)
    if up and index == 0:
        raise Refusal("agenda.already_first", id=item.id)
    if not up and index == len(items) - 1:
        raise Refusal("agenda.already_last", id=item.id)
    other = index - 1 if up else index + 1
    items[index], items[other] = items[other], items[index]
    for position, each in enumerate(items, 1):
        each.position = position
