"""Unit of work: one database transaction around one use case.

    async with db.uow() as uow:
        person = await uow.people.by_telegram_id(42)
        ...
        await uow.commit()

Repositories add, get and flush; only `commit()` makes changes permanent.
Leaving the block without `commit()` (or with an exception) rolls everything
back, so nothing is ever saved half-way.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.agenda_repository import AgendaRepository
from storage.digest_repository import DigestRepository
from storage.inbox_repository import InboxRepository, handling
from storage.privacy_repository import PrivacyRepository
from storage.recommendation_repository import RecommendationRepository
from storage.report_repository import ReportRepository
from storage.repositories import (
    DeliveryRepository,
    GroupRepository,
    InviteRepository,
    MeetingRepository,
    MembershipRepository,
    PeopleRepository,
)


class WriteLock:
    """SQLite lets one connection write at a time. The writing units of work of
    this process queue for it here, in order of arrival, instead of in SQLite's
    busy handler, which polls in steps of up to 100 ms while it holds a pooled
    connection that a reader could use. Re-entrant for the task that holds it (a
    nested unit of work waits for SQLite's lock, as without this one)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        self._depth = 0

    async def acquire(self) -> None:
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            self._depth += 1
            return
        await self._lock.acquire()
        self._owner, self._depth = task, 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


class UnitOfWork:
    session: AsyncSession
    people: PeopleRepository
    groups: GroupRepository
    memberships: MembershipRepository
    invites: InviteRepository
    meetings: MeetingRepository
    deliveries: DeliveryRepository
    agenda: AgendaRepository
    recommendations: RecommendationRepository
    digests: DigestRepository
    reports: ReportRepository
    privacy: PrivacyRepository
    inbox: InboxRepository

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], write_lock: WriteLock | None = None
    ) -> None:
        self._sessions = sessions
        self._write_lock = write_lock

    async def __aenter__(self) -> UnitOfWork:
        if self._write_lock is not None:
            await self._write_lock.acquire()
        self.session = self._sessions()
        self.people = PeopleRepository(self.session)
        self.groups = GroupRepository(self.session)
        self.memberships = MembershipRepository(self.session)
        self.invites = InviteRepository(self.session)
        self.meetings = MeetingRepository(self.session)
        self.deliveries = DeliveryRepository(self.session)
        self.agenda = AgendaRepository(self.session)
        self.recommendations = RecommendationRepository(self.session)
        self.digests = DigestRepository(self.session)
        self.reports = ReportRepository(self.session)
        self.privacy = PrivacyRepository(self.session)
        self.inbox = InboxRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() ends an uncommitted transaction with a rollback in the
        # database; objects already loaded stay readable (an explicit
        # rollback() would expire them) but are detached from now on.
        try:
            if exc_type is not None:
                await self.session.rollback()
        finally:
            try:
                await self.session.close()
            finally:
                if self._write_lock is not None:
                    self._write_lock.release()

    async def checkpoint(self) -> None:
        """Commit what is done so far and let the writers that waited meanwhile go
        first (SQLite); then go on in a new transaction. For long work in steps."""
        await self.commit()
        if self._write_lock is not None:
            self._write_lock.release()
            await self._write_lock.acquire()

    async def commit(self) -> None:
        # While an update is handled, its first commit also marks it handled (see
        # storage.inbox_repository): its changes and that mark are saved together.
        current = handling.get()
        if current is not None and not current.marked:
            await self.inbox.handled(current.update_id, datetime.now(UTC))
            await self.session.commit()
            current.marked = True
            return
        await self.session.commit()
