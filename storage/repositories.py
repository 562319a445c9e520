"""Repositories: the queries of KIM-Bot, one class per aggregate.

They add, get and flush; they never commit (the unit of work does). Every
query that returns objects whose relations are used later loads them eagerly,
because lazy loading does not work on an async session.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CursorResult,
    Insert,
    Integer,
    Result,
    Select,
    bindparam,
    func,
    insert,
    inspect,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, joinedload, make_transient_to_detached, selectinload

from storage.models import (
    Base,
    Group,
    Invite,
    Meeting,
    Membership,
    MembershipStatus,
    Occurrence,
    OccurrenceStatus,
    Person,
    Rsvp,
    RsvpAnswer,
)

MAX_ID = 2**31 - 1
"""The largest key an INTEGER id column holds (32 bits on PostgreSQL)."""


def is_id(value: int) -> bool:
    """Whether `value` can be a row's id. A larger number (a forged button may carry
    up to 18 digits) names no row, and PostgreSQL would refuse the query."""
    return 0 <= value <= MAX_ID


_T = TypeVar("_T")


def not_null(value: _T | None) -> _T:
    """A value of a nullable column that the query's WHERE clause keeps from being
    NULL (`column IN (...)`, `IS NOT NULL`)."""
    assert value is not None
    return value


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE or DELETE without RETURNING matched. Its result is a
    `CursorResult`; `Session.execute`'s overloads only promise a `Result`, and
    SQLAlchemy advises the cast."""
    return cast("CursorResult[Any]", result).rowcount or 0


_INSERTS: dict[type[Base], Insert] = {}
"""`_Repository.insert`'s statements, one per model, built once."""


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()

    async def insert(self, obj: Base) -> None:
        """Insert one new row now and keep `obj` in the session as if it had been read:
        what `add` and `flush` do, as one prebuilt INSERT on the transaction's
        connection. The flush would walk the whole session and the object's
        relationships first, which for one row costs twice the statement (a
        proposal, asked for in bursts).

        Each column gets the object's value, or its default when it has none; the
        primary key comes back. What `obj` refers to must be in the database
        already (its ids set): changes still pending are not flushed first, and
        the commit flushes them as before."""
        mapper = inspect(obj).mapper
        values: dict[str, object] = {}
        for attribute in mapper.column_attrs:
            column = attribute.columns[0]
            value = getattr(obj, attribute.key)
            if value is None and column.default is not None and column.default.is_scalar:
                value = column.default.arg
                setattr(obj, attribute.key, value)
            if value is None and (column.default is not None or column.server_default is not None):
                raise ValueError(
                    f"{mapper.class_.__name__}.{attribute.key}: give it a value (its default is not a plain value)"
                )
            if not (column.primary_key and value is None):
                values[column.key] = value
        statement = _INSERTS.get(mapper.class_)
        if statement is None:
            statement = _INSERTS[mapper.class_] = insert(mapper.class_).returning(*mapper.primary_key)
        connection = await self.session.connection()
        key = (await connection.execute(statement, values)).one()
        for key_column, value in zip(mapper.primary_key, key, strict=True):
            setattr(obj, mapper.get_property_by_column(key_column).key, value)
        make_transient_to_detached(obj)  # as if read: no INSERT at the next flush
        self.session.add(obj)


class PeopleRepository(_Repository):
    async def get(self, person_id: int) -> Person | None:
        if not is_id(person_id):
            return None
        return await self.session.get(Person, person_id)

    async def by_telegram_id(self, telegram_id: int) -> Person | None:
        result = await self.session.execute(select(Person).where(Person.telegram_id == telegram_id))
        return result.scalar_one_or_none()

    async def caller(self, telegram_id: int, now: datetime) -> Person:
        """The row of the person whose update is handled, created on first contact,
        and locked until the transaction ends: two updates of one person handled by
        two processes at once take turns (on SQLite the write lock does that)."""
        person = await self.locked(telegram_id)
        return person if person is not None else await self.create(telegram_id, now)

    async def locked(self, telegram_id: int) -> Person | None:
        """The row of this Telegram id, locked until the transaction ends; None before
        the person's first contact."""
        return (await self.session.execute(LOCKED_PERSON, {"telegram_id": telegram_id})).scalar_one_or_none()

    async def create(self, telegram_id: int, now: datetime) -> Person:
        """The row of a person not found in this transaction: inserted and returned by
        one statement; when another process inserted it meanwhile, theirs, locked."""
        dialect = self.session.get_bind().dialect.name
        statement = (
            (pg_insert if dialect == "postgresql" else sqlite_insert)(Person)
            .values(telegram_id=telegram_id, created_at=now, is_coordinator=False)
            .on_conflict_do_nothing(index_elements=[Person.telegram_id])
            .returning(Person)
        )
        person = (await self.session.execute(statement)).scalar_one_or_none()
        if person is not None:
            return person
        found = await self.locked(telegram_id)
        assert found is not None, "a row that conflicted is there"
        return found

    async def by_username(self, username: str) -> Person | None:
        result = await self.session.execute(
            select(Person).where(func.lower(Person.username) == username.lower()).limit(1)
        )
        return result.scalar_one_or_none()

    async def coordinators(self, configured_ids: Iterable[int]) -> Sequence[Person]:
        """People who are coordinators: promoted ones and configured ids that wrote to the bot."""
        ids = list(configured_ids)
        condition: ColumnElement[bool] = Person.is_coordinator.is_(True)
        if ids:
            condition = or_(condition, Person.telegram_id.in_(ids))
        result = await self.session.execute(select(Person).where(condition).order_by(Person.id))
        return result.scalars().all()


class GroupRepository(_Repository):
    async def get(self, group_id: int) -> Group | None:
        if not is_id(group_id):
            return None
        return await self.session.get(Group, group_id)

    async def by_slug(self, slug: str) -> Group | None:
        result = await self.session.execute(select(Group).where(Group.slug == slug))
        return result.scalar_one_or_none()

    async def active(self) -> Sequence[Group]:
        result = await self.session.execute(select(Group).where(Group.archived_at.is_(None)).order_by(Group.id))
        return result.scalars().all()

    async def active_with_membership(self, person_id: int) -> list[tuple[Group, bool]]:
        """The active groups (as `active`), each with whether the person is an approved
        member of it: the person's groups and all of them in one query."""
        result = await self.session.execute(_ACTIVE_WITH_MEMBERSHIP, {"person_id": person_id})
        return [(group, bool(is_member)) for group, is_member in result.all()]

    async def including_archived(self) -> Sequence[Group]:
        """Every group, archived ones too."""
        result = await self.session.execute(select(Group).order_by(Group.id))
        return result.scalars().all()


# Statements asked in most updates are built once, with parameters: building one
# costs more than running it (and its cache key is computed once, not per call).

LOCKED_PERSON = (
    select(Person)
    .where(Person.telegram_id == bindparam("telegram_id", type_=BigInteger()))
    .with_for_update(key_share=True)
)
"""`PeopleRepository.locked`: the caller's row at the start of every update (see
`InboxRepository.handled_with_caller`). On PostgreSQL `FOR NO KEY UPDATE`: it
keeps the person's other updates out, as `FOR UPDATE` does, but not a
transaction that only refers to the person (a fan-out inserting a record for
each member holds a key-share lock on every member's row until it commits;
with `FOR UPDATE`, a member's press waited for that)."""


def _active_with_membership() -> Select[Group, bool]:
    """`GroupRepository.active_with_membership`, asked by every `/agenda`."""
    member = (
        select(Membership.id)
        .where(
            Membership.group_id == Group.id,
            Membership.person_id == bindparam("person_id", type_=Integer()),
            Membership.status == MembershipStatus.APPROVED,
        )
        .exists()
    )
    return select(Group, member).where(Group.archived_at.is_(None)).order_by(Group.id)


_ACTIVE_WITH_MEMBERSHIP = _active_with_membership()


class MembershipRepository(_Repository):
    _eager = (selectinload(Membership.person), selectinload(Membership.group), selectinload(Membership.decided_by))

    async def reachable_members(self, group_ids: Iterable[int]) -> list[int]:
        """Who a message to these groups reaches: ids of the distinct reachable approved members of these groups (one per person); announcements and recommendations go to them."""
        ids = list(group_ids)
        if not ids:
            return []
        result = await self.session.execute(
            select(Membership.person_id)
            .join(Person, Person.id == Membership.person_id)
            .where(
                Membership.group_id.in_(ids),
                Membership.status == MembershipStatus.APPROVED,
                Person.telegram_id.is_not(None),
            )
            .distinct()
            .order_by(Membership.person_id)
        )
        return list(result.scalars().all())

    async def get(self, membership_id: int) -> Membership | None:
        if not is_id(membership_id):
            return None
        result = await self.session.execute(
            select(Membership).where(Membership.id == membership_id).options(*self._eager)
        )
        return result.scalar_one_or_none()

    async def of(self, person_id: int, group_id: int) -> Membership | None:
        result = await self.session.execute(
            select(Membership)
            .where(Membership.person_id == person_id, Membership.group_id == group_id)
            .options(*self._eager)
        )
        return result.scalar_one_or_none()

    async def of_person(self, person_id: int) -> Sequence[Membership]:
        result = await self.session.execute(
            select(Membership)
            .where(Membership.person_id == person_id)
            .options(*self._eager)
            .order_by(Membership.group_id)
        )
        return result.scalars().all()

    async def with_status(
        self, statuses: Iterable[MembershipStatus], group_id: int | None = None
    ) -> Sequence[Membership]:
        query = (
            select(Membership)
            .join(Membership.person)
            .where(Membership.status.in_(list(statuses)))
            .options(*self._eager)
            .order_by(Membership.group_id, func.lower(Person.display_name), Membership.id)
        )
        if group_id is not None:
            query = query.where(Membership.group_id == group_id)
        result = await self.session.execute(query)
        return result.scalars().all()

    async def approved_anywhere(self, person_id: int) -> bool:
        """Whether the person is an approved member of any group (archived ones too)."""
        found = await self.session.scalar(
            select(Membership.id)
            .where(Membership.person_id == person_id, Membership.status == MembershipStatus.APPROVED)
            .limit(1)
        )
        return found is not None

    async def is_approved(self, person_id: int, group_id: int) -> bool:
        """Whether the person is an approved member of this group."""
        found = await self.session.scalar(
            select(Membership.id)
            .where(
                Membership.person_id == person_id,
                Membership.group_id == group_id,
                Membership.status == MembershipStatus.APPROVED,
            )
            .limit(1)
        )
        return found is not None

    async def approved_pairs(self, person_ids: Iterable[int]) -> set[tuple[int, int]]:
        """(person id, group id) of the approved memberships of these people."""
        ids = list(person_ids)
        if not ids:
            return set()
        result = await self.session.execute(
            select(Membership.person_id, Membership.group_id).where(
                Membership.person_id.in_(ids), Membership.status == MembershipStatus.APPROVED
            )
        )
        return {(person_id, group_id) for person_id, group_id in result.all()}

    async def pending_of_person(self, person_id: int) -> Sequence[Membership]:
        result = await self.session.execute(
            select(Membership)
            .where(Membership.person_id == person_id, Membership.status == MembershipStatus.PENDING)
            .options(*self._eager)
            .order_by(Membership.group_id)
        )
        return result.scalars().all()


class InviteRepository(_Repository):
    async def by_token(self, token: str) -> Invite | None:
        result = await self.session.execute(
            select(Invite).where(Invite.token == token).options(selectinload(Invite.group))
        )
        return result.scalar_one_or_none()


class MeetingRepository(_Repository):
    """Meetings, their occurrences (sessions) and the answers to them."""

    _eager = (joinedload(Occurrence.meeting, innerjoin=True).joinedload(Meeting.group, innerjoin=True),)
    """A session's meeting and group, joined into the session's own query."""

    async def occurrence(self, occurrence_id: int) -> Occurrence | None:
        if not is_id(occurrence_id):
            return None
        result = await self.session.execute(
            select(Occurrence).where(Occurrence.id == occurrence_id).options(*self._eager)
        )
        return result.scalar_one_or_none()

    async def occurrences_of(self, meeting_id: int) -> Sequence[Occurrence]:
        result = await self.session.execute(
            select(Occurrence).where(Occurrence.meeting_id == meeting_id).order_by(Occurrence.original_local)
        )
        return result.scalars().all()

    async def upcoming(
        self, after: datetime, group_ids: Iterable[int] | None = None, limit: int = 20
    ) -> Sequence[Occurrence]:
        query = (
            select(Occurrence)
            .join(Occurrence.meeting)
            .where(Occurrence.starts_at > after, Occurrence.status == OccurrenceStatus.SCHEDULED)
            .options(*self._eager)
            .order_by(Occurrence.starts_at, Occurrence.id)
            .limit(limit)
        )
        if group_ids is not None:
            query = query.where(Meeting.group_id.in_(list(group_ids)))
        result = await self.session.execute(query)
        return result.scalars().all()

    async def starting_before(self, after: datetime, before: datetime) -> Sequence[Occurrence]:
        """Scheduled sessions that start in (after, before]."""
        result = await self.session.execute(
            select(Occurrence)
            .where(
                Occurrence.starts_at > after,
                Occurrence.starts_at <= before,
                Occurrence.status == OccurrenceStatus.SCHEDULED,
            )
            .options(*self._eager)
        )
        return result.scalars().all()

    async def series_to_extend(self, horizon: datetime) -> Sequence[Meeting]:
        """Series planned less far than `horizon`; a series of an archived group has ended."""
        result = await self.session.execute(
            select(Meeting)
            .join(Group, Group.id == Meeting.group_id)
            .where(
                Meeting.rrule.is_not(None),
                Group.archived_at.is_(None),
                or_(Meeting.materialized_until.is_(None), Meeting.materialized_until < horizon),
            )
        )
        return result.scalars().all()

    async def rsvp(self, occurrence_id: int, person_id: int) -> Rsvp | None:
        result = await self.session.execute(
            select(Rsvp).where(Rsvp.occurrence_id == occurrence_id, Rsvp.person_id == person_id)
        )
        return result.scalar_one_or_none()

    async def rsvps(self, occurrence_ids: Iterable[int]) -> Sequence[Rsvp]:
        result = await self.session.execute(select(Rsvp).where(Rsvp.occurrence_id.in_(list(occurrence_ids))))
        return result.scalars().all()

    async def for_answer(self, occurrence_id: int, person_id: int) -> tuple[Occurrence, bool, Rsvp | None] | None:
        """What a person's answer to a session needs, in one query: the session with
        its meeting and group, whether the person is an approved member of its group,
        and their answer so far (None: none yet). None: no such session."""
        if not is_id(occurrence_id):
            return None
        member = (
            select(Membership.id)
            .where(
                Membership.person_id == person_id,
                Membership.group_id == Meeting.group_id,
                Membership.status == MembershipStatus.APPROVED,
            )
            .correlate(Meeting)
            .exists()
        )
        row = (
            await self.session.execute(
                select(Occurrence, member, Rsvp)
                .join(Meeting, Meeting.id == Occurrence.meeting_id)
                .outerjoin(Rsvp, (Rsvp.occurrence_id == Occurrence.id) & (Rsvp.person_id == person_id))
                .where(Occurrence.id == occurrence_id)
                .options(contains_eager(Occurrence.meeting).joinedload(Meeting.group, innerjoin=True))
            )
        ).one_or_none()
        if row is None:
            return None
        occurrence, is_member, rsvp = row
        return occurrence, bool(is_member), rsvp

    async def answer_counts(self, occurrence_id: int) -> Counter[RsvpAnswer]:
        """How many answered yes, no and maybe for one session (one count)."""
        result = await self.session.execute(
            select(Rsvp.answer, func.count()).where(Rsvp.occurrence_id == occurrence_id).group_by(Rsvp.answer)
        )
        return Counter({RsvpAnswer(answer): int(count) for answer, count in result.all()})
