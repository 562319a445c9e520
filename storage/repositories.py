"""Repositories: the queries of KIM-Bot, one class per aggregate.

They add, get and flush; they never commit (the unit of work does). Every
query that returns objects whose relations are used later loads them eagerly,
because lazy loading does not work on an async session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Group, Invite, Membership, MembershipStatus, Person


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()


class PeopleRepository(_Repository):
    async def get(self, person_id: int) -> Person | None:
        return await self.session.get(Person, person_id)

    async def by_telegram_id(self, telegram_id: int) -> Person | None:
        result = await self.session.execute(select(Person).where(Person.telegram_id == telegram_id))
        return result.scalar_one_or_none()

    async def by_username(self, username: str) -> Person | None:
        result = await self.session.execute(
            select(Person).where(func.lower(Person.username) == username.lower()).limit(1)
        )
        return result.scalar_one_or_none()

    async def coordinators(self, configured_ids: Iterable[int]) -> Sequence[Person]:
        """People who are coordinators: promoted ones and configured ids that wrote to the bot."""
        ids = list(configured_ids)
        condition = Person.is_coordinator.is_(True)
        if ids:
            condition = or_(condition, Person.telegram_id.in_(ids))
        result = await self.session.execute(select(Person).where(condition).order_by(Person.id))
        return result.scalars().all()


class GroupRepository(_Repository):
    async def get(self, group_id: int) -> Group | None:
        return await self.session.get(Group, group_id)

    async def by_slug(self, slug: str) -> Group | None:
        result = await self.session.execute(select(Group).where(Group.slug == slug))
        return result.scalar_one_or_none()

    async def active(self) -> Sequence[Group]:
        result = await self.session.execute(
            select(Group).where(Group.archived_at.is_(None)).order_by(Group.id)
        )
        return result.scalars().all()


class MembershipRepository(_Repository):
    _eager = (selectinload(Membership.person), selectinload(Membership.group), selectinload(Membership.decided_by))

    async def get(self, membership_id: int) -> Membership | None:
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
