"""The queries of delivery records (SPEC 4): what the bot owes whom, what it
claimed to send, and what it sent (no commits; the unit of work commits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Integer, Update, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from storage.cluster import Cluster
from storage.digest_rows import aware
from storage.models import Delivery, DeliveryStatus, Meeting, Occurrence
from storage.repositories import _Repository, is_id, not_null, rowcount

_CLAIM_AT_ONCE = 500
"""Records claimed by one statement (well under any database's limit of parameters)."""
_LOAD_AT_ONCE = 100
"""Due records built into objects by one statement (`DeliveryRepository.due`)."""


def _outcome(*, sent: bool) -> Update:
    columns = Delivery.__table__.c
    values: dict[str, object] = {
        "attempts": Delivery.attempts + 1,
        "status": bindparam("status", type_=columns.status.type),
        "error": bindparam("error", type_=columns.error.type),
    }
    if sent:
        values["sent_at"] = bindparam("now", type_=columns.sent_at.type)
    return update(Delivery).where(Delivery.id == bindparam("delivery", type_=Integer())).values(values)


_SENT = _outcome(sent=True)
_NOT_SENT = _outcome(sent=False)
"""`DeliveryRepository.record`, after every message of a fan-out: built once, and run
on the connection (through the ORM, a load and a flush cost three times the UPDATE)."""


class DeliveryRepository(_Repository):
    """The delivery records: what the bot owes whom, and what it sent.

    A record being sent is claimed by the sending process (`claim`); `due`
    passes over records a live process claimed, so even two processes that
    both believed to lead for a moment could not send one record twice."""

    def __init__(self, session: AsyncSession, cluster: Cluster) -> None:
        super().__init__(session)
        self.cluster = cluster

    async def get(self, delivery_id: int) -> Delivery | None:
        if not is_id(delivery_id):
            return None
        return await self.session.get(Delivery, delivery_id)

    async def record(self, delivery_id: int, status: DeliveryStatus, now: datetime, error: str | None) -> None:
        """One more attempt of a record, with its outcome (`now` is its time of
        sending when it was sent). Not a row this unit of work holds as an object."""
        if not is_id(delivery_id):
            return
        statement = _SENT if status is DeliveryStatus.SENT else _NOT_SENT
        connection = await self.session.connection()
        await connection.execute(statement, {"delivery": delivery_id, "status": status, "error": error, "now": now})

    async def keys(self, occurrence_ids: Iterable[int]) -> set[tuple[int, int, str, int, int]]:
        ids = list(occurrence_ids)
        if not ids:
            return set()
        result = await self.session.execute(
            select(
                Delivery.occurrence_id, Delivery.person_id, Delivery.kind, Delivery.lead_seconds, Delivery.revision
            ).where(Delivery.occurrence_id.in_(ids))
        )
        return {(not_null(o), p, str(k), lead, rev) for o, p, k, lead, rev in result.all()}

    async def told_at(
        self, occurrence_ids: Iterable[int], kinds: Iterable[str]
    ) -> dict[tuple[int, int, int], datetime]:
        """When each (session, person, revision) was last owed a notice of these kinds."""
        ids = list(occurrence_ids)
        if not ids:
            return {}
        result = await self.session.execute(
            select(Delivery.occurrence_id, Delivery.person_id, Delivery.revision, func.max(Delivery.due_at))
            .where(Delivery.occurrence_id.in_(ids), Delivery.kind.in_(list(kinds)))
            .group_by(Delivery.occurrence_id, Delivery.person_id, Delivery.revision)
        )
        # (an aggregate bypasses the column type: `aware` reads SQLite's naive UTC)
        return {(not_null(o), p, r): not_null(aware(at)) for o, p, r, at in result.all()}

    async def due(self, now: datetime, limit: int = 1000) -> Sequence[Delivery]:
        """Pending records due by `now`, oldest first, that no other live process
        claimed; locked until the transaction ends (others skip them meanwhile).

        The ids first, in one statement that locks the rows; then the records
        with what they refer to, `_LOAD_AT_ONCE` at a time. Building 600 of
        them at once held the event loop for 10 to 15 ms per step, and a
        person's button press at the start of a fan-out waited for it."""
        me = self.cluster.process_id
        ids = (
            await self.session.scalars(
                select(Delivery.id)
                .where(
                    Delivery.status == DeliveryStatus.PENDING,
                    Delivery.due_at <= now,
                    or_(Delivery.claimed_by == me, self.cluster.unclaimed_or_dead(Delivery.claimed_by)),
                )
                .order_by(Delivery.due_at, Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=Delivery)
            )
        ).all()
        records: list[Delivery] = []
        for start in range(0, len(ids), _LOAD_AT_ONCE):
            page = await self.session.scalars(
                select(Delivery)
                .where(Delivery.id.in_(ids[start : start + _LOAD_AT_ONCE]))
                .options(
                    selectinload(Delivery.person),
                    selectinload(Delivery.occurrence).selectinload(Occurrence.meeting).selectinload(Meeting.group),
                    selectinload(Delivery.recommendation),
                    selectinload(Delivery.agenda_item),
                )
                .order_by(Delivery.due_at, Delivery.id)
            )
            records += page.all()
        return records

    async def claim(self, records: Sequence[Delivery]) -> None:
        """These records (from `due`) are this process's to send: one statement,
        not one per record (a fan-out to 600 spent 0.1 s flushing 600 of them,
        with SQLite's write lock held; a person's press waited for it)."""
        ids = [r.id for r in records]
        for start in range(0, len(ids), _CLAIM_AT_ONCE):
            await self.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids[start : start + _CLAIM_AT_ONCE]))
                .values(claimed_by=self.cluster.process_id)
                .execution_options(synchronize_session=False)
            )
        for record in records:  # what the database now holds, without marking them changed
            set_committed_value(record, "claimed_by", self.cluster.process_id)

    async def next_due_at(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(Delivery.due_at)).where(Delivery.status == DeliveryStatus.PENDING)
        )

    async def of_occurrence(self, occurrence_id: int, person_id: int | None = None) -> Sequence[Delivery]:
        query = select(Delivery).where(Delivery.occurrence_id == occurrence_id)
        if person_id is not None:
            query = query.where(Delivery.person_id == person_id)
        result = await self.session.execute(query)
        return result.scalars().all()

    async def sent_of(self, occurrence_ids: Iterable[int]) -> Sequence[Delivery]:
        """The records of these sessions that were sent."""
        ids = list(occurrence_ids)
        if not ids:
            return []
        result = await self.session.execute(
            select(Delivery).where(Delivery.occurrence_id.in_(ids), Delivery.status == DeliveryStatus.SENT)
        )
        return result.scalars().all()

    async def insert_many(self, rows: Sequence[dict[str, object]]) -> None:
        """New records in one INSERT (no ORM objects: the planner makes thousands at once).
        A record that exists already (same session, person, kind, lead time and
        revision, or the same recommendation or schedule) is left as it is."""
        if rows:
            dialect = self.session.get_bind().dialect.name
            statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(Delivery)
            await self.session.execute(statement.on_conflict_do_nothing(), list(rows))

    async def skip_pending(self, occurrence_id: int, reason: str) -> int:
        result = await self.session.execute(
            update(Delivery)
            .where(Delivery.occurrence_id == occurrence_id, Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.SKIPPED, error=reason)
        )
        return rowcount(result)
