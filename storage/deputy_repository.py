"""The queries of deputies (SPEC 13): who stands in for whom, and when a
deputyship is in force (no commits; the unit of work commits).

In force, in one place (`_in_force`): accepted, not ended, and `until` (a
local date, included) not yet past on the local date `today`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import selectinload

from storage.followup_models import Deputy
from storage.repositories import _Repository


def _in_force(today: date) -> ColumnElement[bool]:
    return and_(
        Deputy.accepted_at.is_not(None),
        Deputy.ended_at.is_(None),
        or_(Deputy.until.is_(None), Deputy.until >= today),
    )


class DeputyRepository(_Repository):
    """Deputyships, with the member and the deputy loaded."""

    async def in_force_for_members(self, member_ids: Iterable[int], today: date) -> dict[int, Deputy]:
        """The deputyship in force for each of these members (at most one each)."""
        ids = set(member_ids)
        if not ids:
            return {}
        result = await self.session.execute(
            select(Deputy)
            .where(Deputy.member_id.in_(ids), _in_force(today))
            .options(selectinload(Deputy.member), selectinload(Deputy.deputy))
            .order_by(Deputy.id)
        )
        return {d.member_id: d for d in result.scalars()}

    async def in_force_of_deputy(self, deputy_id: int, today: date) -> list[Deputy]:
        """The deputyships in force in which this person stands in for someone."""
        result = await self.session.execute(
            select(Deputy)
            .where(Deputy.deputy_id == deputy_id, _in_force(today))
            .options(selectinload(Deputy.member), selectinload(Deputy.deputy))
            .order_by(Deputy.id)
        )
        return list(result.scalars())
