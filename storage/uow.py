"""Unit of work: one database transaction around one use case.

    async with db.uow() as uow:
        person = await uow.people.by_telegram_id(42)
        ...
        await uow.commit()

Repositories and the core add, get and flush; only the edge commits: the
handling of one update (`handlers.common`), one run of the delivery timer,
a command-line tool. Leaving the block without `commit()` (or with an
exception) rolls everything back, so nothing is ever saved half-way.

While an update is handled, only its own unit of work may commit (its
effects and the update's "handled" mark go together, see `bot.telegram.inbox`);
a commit by any other unit of work in that task is a programming error and
raises.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.agenda_repository import AgendaRepository
from storage.announcement_repository import AnnouncementRepository
from storage.attendance_repository import AttendanceRepository
from storage.audit_repository import AuditRepository
from storage.cluster import Cluster
from storage.delivery_repository import DeliveryRepository
from storage.deputy_repository import DeputyRepository
from storage.digest_repository import DigestRepository
from storage.inbox_repository import InboxRepository, handling
from storage.mail_repository import MailRepository
from storage.minutes_repository import MinutesRepository
from storage.privacy_repository import PrivacyRepository
from storage.recommendation_repository import RecommendationRepository
from storage.report_repository import ReportRepository
from storage.repositories import (
    GroupRepository,
    InviteRepository,
    MeetingRepository,
    MembershipRepository,
    PeopleRepository,
)
from storage.task_repository import TaskRepository
from storage.tracking_repository import TrackingRepository


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
    audit: AuditRepository
    announcements: AnnouncementRepository
    attendance: AttendanceRepository
    minutes: MinutesRepository
    tasks: TaskRepository
    deputies: DeputyRepository
    trackings: TrackingRepository
    mail: MailRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cluster: Cluster,
        write_lock: WriteLock | None = None,
        *,
        lazy: bool = False,
    ) -> None:
        self._sessions = sessions
        self._write_lock = write_lock
        self._lazy = lazy
        self.cluster = cluster
        self.opened = False
        self.for_update: int | None = None
        """The update this unit of work handles (see handlers.common): it may commit."""

    async def __aenter__(self) -> UnitOfWork:
        if not self._lazy:
            await self.open()
        return self

    async def open(self) -> None:
        """Begin (a lazy unit of work begins here, at its first use): on SQLite, after
        the writers of this process that came first."""
        if self.opened:
            return
        if self._write_lock is not None:
            await self._write_lock.acquire()
        self.opened = True
        self.session = self._sessions()
        self.people = PeopleRepository(self.session)
        self.groups = GroupRepository(self.session)
        self.memberships = MembershipRepository(self.session)
        self.invites = InviteRepository(self.session)
        self.meetings = MeetingRepository(self.session)
        self.deliveries = DeliveryRepository(self.session, self.cluster)
        self.agenda = AgendaRepository(self.session)
        self.recommendations = RecommendationRepository(self.session)
        self.digests = DigestRepository(self.session)
        self.reports = ReportRepository(self.session)
        self.privacy = PrivacyRepository(self.session)
        self.inbox = InboxRepository(self.session, self.cluster)
        self.audit = AuditRepository(self.session)
        self.announcements = AnnouncementRepository(self.session)
        self.attendance = AttendanceRepository(self.session)
        self.minutes = MinutesRepository(self.session)
        self.tasks = TaskRepository(self.session)
        self.deputies = DeputyRepository(self.session)
        self.trackings = TrackingRepository(self.session)
        self.mail = MailRepository(self.session, self.cluster)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close(failed=exc_type is not None)

    async def close(self, failed: bool = False) -> None:
        """End the transaction without saving what was not committed; a later
        `open()` begins a new one. Objects already loaded stay readable (an
        explicit rollback would expire them) but are detached from now on."""
        if not self.opened:
            return
        self.opened = False
        try:
            if failed:
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

    async def flush(self) -> None:
        """Send the changes so far to the database (ids assigned, constraints checked),
        without ending the transaction."""
        await self.session.flush()

    async def rollback(self) -> None:
        """Undo everything since the last commit; the unit of work stays usable."""
        await self.session.rollback()

    async def commit(self) -> None:
        current = handling.get()
        if current is not None and current.update_id != self.for_update:
            raise RuntimeError(f"update {current.update_id} is being handled: only its own unit of work commits")
        await self.session.commit()
