"""The audit log's queries (SPEC 2): add an entry, the latest entries, one
person's own entries (for /mydata)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from storage.admin_models import AuditEntry
from storage.repositories import _Repository


class AuditRepository(_Repository):
    async def latest(self, limit: int) -> Sequence[AuditEntry]:
        """The newest `limit` entries, newest first, with their actors."""
        query = (
            select(AuditEntry)
            .options(selectinload(AuditEntry.actor))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

    async def by_actor(self, person_id: int) -> Sequence[AuditEntry]:
        """Every entry of what this person did, oldest first."""
        query = select(AuditEntry).where(AuditEntry.actor_id == person_id).order_by(AuditEntry.at, AuditEntry.id)
        return (await self.session.execute(query)).scalars().all()
