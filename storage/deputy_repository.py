"""The queries of deputies (SPEC 13): who stands in for whom, and when a
deputyship is in force (no commits; the unit of work commits).

In force, in one place (`_in_force`): accepted, not ended, and `until` (a
local date, included) not yet past on the local date `today`. Open
(`_open`): not ended and `until` not past, accepted or still waiting for the
deputy's answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import selectinload

from storage.followup_models import Deputy
from storage.models import Delivery
from storage.repositories import _Repository, is_id


def _in_force(today: date) -> ColumnElement[bool]:
    return and_(
        Deputy.accepted_at.is_not(None),
        Deputy.ended_at.is_(None),
        or_(Deputy.until.is_(None), Deputy.until >= today),
    )


def _open(today: date) -> ColumnElement[bool]:
    return and_(Deputy.ended_at.is_(None), or_(Deputy.until.is_(None), Deputy.until >= today))


class DeputyRepository(_Repository):
    """Deputyships, with the member and the deputy loaded."""

    async def in_force_for_members(self, member_ids: Iterable[int], today: date) -> dict[int, Deputy]:
        """The deputyship in force for each of these members (at most one each);
        an id no row can have (a forged button's) finds nothing."""
        ids = {i for i in member_ids if is_id(i)}
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

    async def get(self, deputy_row_id: int) -> Deputy | None:
        """One deputyship, with the member and the deputy, whatever its state."""
        if not is_id(deputy_row_id):
            return None
        result = await self.session.execute(
            select(Deputy)
            .where(Deputy.id == deputy_row_id)
            .options(selectinload(Deputy.member), selectinload(Deputy.deputy))
        )
        return result.scalar_one_or_none()

    async def open_of_member(self, member_id: int, today: date) -> Deputy | None:
        """The member's deputyship that is in force or waits for the deputy's answer (the newest)."""
        result = await self.session.execute(
            select(Deputy)
            .where(Deputy.member_id == member_id, _open(today))
            .options(selectinload(Deputy.member), selectinload(Deputy.deputy))
            .order_by(Deputy.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def open_of_deputy(self, deputy_id: int, today: date) -> list[Deputy]:
        """The deputyships in force or waiting for an answer in which this person is the deputy."""
        result = await self.session.execute(
            select(Deputy)
            .where(Deputy.deputy_id == deputy_id, _open(today))
            .options(selectinload(Deputy.member), selectinload(Deputy.deputy))
            .order_by(Deputy.id)
        )
        return list(result.scalars())

    async def originals(self, delivery_ids: Iterable[int]) -> dict[int, Delivery]:
        """The members' deliveries that deputies' copies copy, with their person, by id."""
        ids = set(delivery_ids)
        if not ids:
            return {}
        result = await self.session.execute(
            select(Delivery).where(Delivery.id.in_(ids)).options(selectinload(Delivery.person))
        )
        return {d.id: d for d in result.scalars()}
