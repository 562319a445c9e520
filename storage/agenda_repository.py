"""The queries of agenda items (no commits; the unit of work commits).

An item is "open" while it is proposed or accepted: only open items are on an
agenda, are numbered and can be moved. `OPEN` (in Python) and `item_is_open`
(in SQL) are the one definition of it; the digest and the report use them
too. Everything that is used after the query (author, group, session with
its meeting and group) is loaded eagerly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from storage.models import (
    AgendaItem,
    AgendaStatus,
    Delivery,
    DeliveryKind,
    Meeting,
    Occurrence,
    OccurrenceStatus,
    UTCDateTime,
)
from storage.repositories import _Repository, is_id

OPEN = (AgendaStatus.PROPOSED, AgendaStatus.ACCEPTED)
"""The statuses of an open item: proposed or accepted."""
RUNNING_AT_MOST = timedelta(days=1)
"""No session runs longer than this; older started sessions are over."""


S = TypeVar("S", bound=Select[Any])

_with_meeting = contains_eager(Occurrence.meeting).joinedload(Meeting.group, innerjoin=True)
"""A session's meeting (joined by the query itself) and group, in the session's own query."""


def item_is_open() -> ColumnElement[bool]:
    """The item is open (`OPEN`): it is on an agenda, or waits for one.

    Written as `status = a OR status = b`, not `IN`: an `IN` list is
    rendered into the SQL text again at every execution, which cost about
    0.1 ms of every proposal."""
    return or_(*(AgendaItem.status == status for status in OPEN))


def _first_session_after(query: S, group_id: ColumnElement[int] | int, after: ColumnElement[datetime] | datetime) -> S:
    """`query` (of `Occurrence` first) narrowed to the group's first scheduled session
    that starts after `after`, with its meeting and group: what "the next session" means."""
    return (
        query.join(Occurrence.meeting)
        .where(
            Meeting.group_id == group_id,
            Occurrence.status == OccurrenceStatus.SCHEDULED,
            Occurrence.starts_at > after,
        )
        .options(_with_meeting)
        .order_by(Occurrence.starts_at, Occurrence.id)
        .limit(1)
    )


def _joins_a_later_session(now: ColumnElement[datetime] | datetime) -> ColumnElement[bool]:
    """A waiting item (no session) can join a session planned since: one of its
    group's that starts after now and after the item's `not_before`."""
    later, meeting = aliased(Occurrence), aliased(Meeting)
    return (
        select(later.id)
        .join(meeting, meeting.id == later.meeting_id)
        .where(
            meeting.group_id == AgendaItem.group_id,
            later.status == OccurrenceStatus.SCHEDULED,
            later.starts_at > now,
            or_(AgendaItem.not_before.is_(None), later.starts_at > AgendaItem.not_before),
        )
        .exists()
    )


def _leaving_a_session(
    session: type[Occurrence], now: ColumnElement[datetime] | datetime
) -> list[tuple[ColumnElement[bool], ColumnElement[bool]]]:
    """The items of a session that may have to move, as (the session's
    condition, the item's): every open item of a cancelled session, the
    proposed ones of a session that has started (whether it is over depends on
    its meeting's duration, decided by the caller)."""
    return [
        (session.status == OccurrenceStatus.CANCELLED, item_is_open()),
        (session.starts_at <= now, AgendaItem.status == AgendaStatus.PROPOSED),
    ]


def _to_carry_criteria(session: type[Occurrence], now: ColumnElement[datetime] | datetime) -> ColumnElement[bool]:
    """Whether an open item may have to move (`AgendaRepository.to_carry`), with
    `session` standing for the item's session (outer-joined): a waiting one
    that a session planned since can take, or one leaving its session."""
    return item_is_open() & or_(
        AgendaItem.occurrence_id.is_(None) & _joins_a_later_session(now),
        *(on_session & on_item for on_session, on_item in _leaving_a_session(session, now)),
    )


def _to_carry() -> Select[AgendaItem]:
    """The query of `AgendaRepository.to_carry`, with the moment as parameter `now`."""
    now = bindparam("now", type_=UTCDateTime())
    return (
        select(AgendaItem)
        .outerjoin(AgendaItem.occurrence)
        .where(_to_carry_criteria(Occurrence, now))
        .options(*AgendaRepository._eager)
        .order_by(AgendaItem.group_id, Occurrence.starts_at, *AgendaRepository._order)
    )


class AgendaRepository(_Repository):
    """Agenda items of the groups' sessions."""

    _eager = (
        selectinload(AgendaItem.author),
        selectinload(AgendaItem.group),
        selectinload(AgendaItem.occurrence).selectinload(Occurrence.meeting).selectinload(Meeting.group),
    )
    _order = (AgendaItem.position, AgendaItem.id)

    async def get(self, item_id: int) -> AgendaItem | None:
        if not is_id(item_id):
            return None
        result = await self.session.execute(select(AgendaItem).where(AgendaItem.id == item_id).options(*self._eager))
        return result.scalar_one_or_none()

    async def on_sessions(self, occurrence_ids: Iterable[int]) -> Sequence[AgendaItem]:
        """The open items of these sessions, in agenda order within each session."""
        ids = list(occurrence_ids)
        if not ids:
            return []
        result = await self.session.execute(
            select(AgendaItem)
            .where(AgendaItem.occurrence_id.in_(ids), item_is_open())
            .options(*self._eager)
            .order_by(AgendaItem.occurrence_id, *self._order)
        )
        return result.scalars().all()

    async def waiting(self, group_ids: Iterable[int]) -> Sequence[AgendaItem]:
        """The open items of these groups that wait for a session, in order."""
        ids = list(group_ids)
        if not ids:
            return []
        result = await self.session.execute(
            select(AgendaItem)
            .where(AgendaItem.group_id.in_(ids), AgendaItem.occurrence_id.is_(None), item_is_open())
            .options(*self._eager)
            .order_by(AgendaItem.group_id, *self._order)
        )
        return result.scalars().all()

    async def same_list(self, item: AgendaItem) -> list[AgendaItem]:
        """The open items on the same agenda as `item` (its session, or its group's waiting list)."""
        if item.occurrence_id is not None:
            return list(await self.on_sessions([item.occurrence_id]))
        return list(await self.waiting([item.group_id]))

    async def place(self, item: AgendaItem) -> tuple[int, int]:
        """Where `item` stands on its list (see `same_list`): its number, counted from
        1 in agenda order, and the number of items on the list; one count, without
        loading the items."""
        ahead = (AgendaItem.position < item.position) | (
            (AgendaItem.position == item.position) & (AgendaItem.id <= item.id)
        )
        query = select(func.count(), func.count().filter(ahead)).where(item_is_open())
        if item.occurrence_id is None:
            query = query.where(AgendaItem.group_id == item.group_id, AgendaItem.occurrence_id.is_(None))
        else:
            query = query.where(AgendaItem.occurrence_id == item.occurrence_id)
        count, number = (await self.session.execute(query)).one()
        return int(number), int(count)

    async def last_position(self, group_id: int, occurrence_id: int | None) -> int:
        """The highest position on a session's agenda (or the group's waiting list); 0 if empty."""
        last, _ = await self.end_of(group_id, occurrence_id)
        return last

    async def end_of(self, group_id: int, occurrence_id: int | None) -> tuple[int, int]:
        """The highest position on a session's agenda (or the group's waiting list)
        and how many open items it has; (0, 0) if empty. One count: an item put at
        the end gets position + 1 and number count + 1."""
        query = select(func.max(AgendaItem.position), func.count()).where(item_is_open())
        if occurrence_id is None:
            query = query.where(AgendaItem.group_id == group_id, AgendaItem.occurrence_id.is_(None))
        else:
            query = query.where(AgendaItem.occurrence_id == occurrence_id)
        last, count = (await self.session.execute(query)).one()
        return int(last or 0), int(count)

    async def to_carry(self, now: datetime, group_ids: Iterable[int] | None = None) -> Sequence[AgendaItem]:
        """Open items that may have to move: waiting ones that a session planned
        since can take (one of their group's that starts after now and after their
        `not_before`), those of cancelled sessions, and proposed ones of sessions
        that have started (whether such a session is over depends on its meeting's
        duration, decided by the caller). `group_ids`: of these groups only.

        Usually there are none, and one query finds that; it is built once
        (`_TO_CARRY`), as it is asked before every proposal."""
        if group_ids is None:
            query = _TO_CARRY
        else:
            query = _TO_CARRY.where(AgendaItem.group_id.in_(list(group_ids)))
        result = await self.session.execute(query, {"now": now})
        return result.scalars().all()

    async def next_session(self, group_id: int, after: datetime) -> Occurrence | None:
        """The group's first scheduled session that starts after `after`, with its
        meeting and group (one query)."""
        result = await self.session.execute(_first_session_after(select(Occurrence), group_id, after))
        return result.scalar_one_or_none()

    async def next_session_and_end(self, group_id: int, after: datetime) -> tuple[Occurrence | None, int, int, bool]:
        """`next_session` with `end_of` its agenda, in one query: where a proposal
        goes, its position and its number; and whether any of the group's items
        may have to move first (`to_carry`; usually not). Without a session
        planned, the end of the group's waiting list, and True."""
        found = (await self.session.execute(_NEXT_SESSION_AND_END, {"group_id": group_id, "after": after})).first()
        if found is None:
            return (None, *await self.end_of(group_id, None), True)
        session, highest, open_items, to_move = found
        return session, int(highest or 0), int(open_items), bool(to_move)

    async def current_sessions(self, group_ids: Iterable[int], now: datetime) -> Sequence[Occurrence]:
        """Scheduled sessions of these groups that have started but may not be over
        yet: started within `RUNNING_AT_MOST` (the caller checks the meeting's duration)."""
        ids = list(group_ids)
        if not ids:
            return []
        result = await self.session.execute(
            select(Occurrence)
            .join(Occurrence.meeting)
            .where(
                Meeting.group_id.in_(ids),
                Occurrence.status == OccurrenceStatus.SCHEDULED,
                Occurrence.starts_at <= now,
                Occurrence.starts_at > now - RUNNING_AT_MOST,
            )
            .options(_with_meeting)
            .order_by(Occurrence.starts_at, Occurrence.id)
        )
        return result.scalars().all()

    async def notes_about(self, item_id: int, kind: DeliveryKind) -> int:
        """How many notes of this kind the item's author was owed so far."""
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.agenda_item_id == item_id, Delivery.kind == kind)
            )
            or 0
        )


_TO_CARRY = _to_carry()


def _unsettled(group_id: ColumnElement[int], now: ColumnElement[datetime]) -> ColumnElement[bool]:
    """Whether any of the group's items may have to move: `_to_carry_criteria`
    asked from the sessions' side, so that it costs the same however many items
    the group's sessions hold (one index lookup per waiting item and per
    session of the group, instead of a look at every open item)."""
    theirs, meeting = aliased(Occurrence), aliased(Meeting)
    waiting = (
        select(AgendaItem.id)
        .where(
            AgendaItem.group_id == group_id,
            AgendaItem.occurrence_id.is_(None),
            item_is_open(),
            _joins_a_later_session(now),
        )
        .exists()
    )
    leaving = [
        select(theirs.id)
        .join(meeting, meeting.id == theirs.meeting_id)
        .where(
            meeting.group_id == group_id,
            on_session,
            select(AgendaItem.id).where(AgendaItem.occurrence_id == theirs.id, on_item).exists(),
        )
        .exists()
        for on_session, on_item in _leaving_a_session(theirs, now)
    ]
    return or_(waiting, *leaving)


def _next_session_and_end() -> Select[Occurrence, int | None, int, bool]:
    """The query of `AgendaRepository.next_session_and_end`, with parameters
    `group_id` and `after`: built once, as it is asked for every proposal (building
    it costs more than running it)."""
    group_id = bindparam("group_id", type_=Integer())
    after = bindparam("after", type_=UTCDateTime())
    open_on_it = (AgendaItem.occurrence_id == Occurrence.id, item_is_open())
    last = select(func.max(AgendaItem.position)).where(*open_on_it).correlate(Occurrence).scalar_subquery()
    count = select(func.count()).where(*open_on_it).correlate(Occurrence).scalar_subquery()
    return _first_session_after(select(Occurrence, last, count, _unsettled(group_id, after)), group_id, after)


_NEXT_SESSION_AND_END = _next_session_and_end()
