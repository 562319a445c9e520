"""The queries of e-mail (SPEC 15): a person's address, the addresses of many,
the mails due and their claims (no commits; the unit of work commits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.cluster import Cluster
from storage.mail_models import EmailAddress, Mail, MailPurpose
from storage.models import DeliveryStatus
from storage.repositories import _Repository, is_id


class MailRepository(_Repository):
    def __init__(self, session: AsyncSession, cluster: Cluster) -> None:
        super().__init__(session)
        self.cluster = cluster

    async def address_of(self, person_id: int) -> EmailAddress | None:
        if not is_id(person_id):
            return None
        return await self.session.get(EmailAddress, person_id)

    async def addresses_of(self, person_ids: Iterable[int]) -> dict[int, EmailAddress]:
        ids = sorted({i for i in person_ids if is_id(i)})
        if not ids:
            return {}
        result = await self.session.execute(select(EmailAddress).where(EmailAddress.person_id.in_(ids)))
        return {a.person_id: a for a in result.scalars().all()}

    async def by_address(self, address: str) -> Sequence[EmailAddress]:
        """The confirmed rows of this address (any case)."""
        result = await self.session.execute(
            select(EmailAddress).where(func.lower(EmailAddress.address) == address.lower())
        )
        return result.scalars().all()

    async def get(self, mail_id: int) -> Mail | None:
        if not is_id(mail_id):
            return None
        return await self.session.get(Mail, mail_id)

    async def of_deliveries(self, delivery_ids: Iterable[int]) -> set[int]:
        """Which of these delivery records already have their mail."""
        ids = sorted(set(delivery_ids))
        if not ids:
            return set()
        result = await self.session.execute(select(Mail.delivery_id).where(Mail.delivery_id.in_(ids)))
        return {i for i in result.scalars().all() if i is not None}

    async def confirmations_since(self, person_id: int, since: datetime) -> int:
        """How many confirmation mails this person asked for since then."""
        count = await self.session.scalar(
            select(func.count(Mail.id)).where(
                Mail.person_id == person_id, Mail.purpose == MailPurpose.CONFIRM, Mail.created_at >= since
            )
        )
        return int(count or 0)

    async def of_person(self, person_id: int) -> Sequence[Mail]:
        result = await self.session.execute(select(Mail).where(Mail.person_id == person_id).order_by(Mail.id))
        return result.scalars().all()

    async def due(self, now: datetime, limit: int = 200) -> Sequence[Mail]:
        """Pending mails due by `now`, oldest first, that no other live process
        claimed; locked until the transaction ends (others skip them meanwhile)."""
        me = self.cluster.process_id
        result = await self.session.execute(
            select(Mail)
            .where(
                Mail.status == DeliveryStatus.PENDING,
                Mail.due_at <= now,
                or_(Mail.claimed_by == me, self.cluster.unclaimed_or_dead(Mail.claimed_by)),
            )
            .options(selectinload(Mail.delivery), selectinload(Mail.person))
            # a confirmation first: its person waits for it in the chat
            .order_by(case((Mail.purpose == MailPurpose.CONFIRM, 0), else_=1), Mail.due_at, Mail.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Mail)
        )
        return result.scalars().all()

    async def next_due_at(self) -> datetime | None:
        return await self.session.scalar(select(func.min(Mail.due_at)).where(Mail.status == DeliveryStatus.PENDING))

    async def delete(self, entry: EmailAddress) -> None:
        await self.session.delete(entry)

    async def drop_pending(self, person_id: int) -> None:
        """The person's mails not sent yet are dropped (the address was withdrawn or forgotten)."""
        await self.session.execute(
            delete(Mail).where(Mail.person_id == person_id, Mail.status == DeliveryStatus.PENDING)
        )
