"""The digest's queries about members: how many, who joined, left, asks to join,
and whom Telegram no longer reaches (no commits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, select

from storage.digest_rows import PersonRow, aware, counts, person_row, top
from storage.mail_models import EmailAddress
from storage.models import Membership, MembershipStatus, Person
from storage.repositories import _Repository

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MemberQueries(_Repository):
    """Memberships per group, for the digest (part of `DigestRepository`)."""

    async def member_counts(self, group_ids: Sequence[int]) -> dict[int, int]:
        """Approved members now, per group."""
        return await counts(
            self.session,
            select(Membership.group_id, func.count())
            .where(Membership.group_id.in_(group_ids), Membership.status == MembershipStatus.APPROVED)
            .group_by(Membership.group_id),
        )

    async def _people(
        self,
        group_ids: Sequence[int],
        condition: Any,
        key: Any,
        descending: bool,
        limit: int,
    ) -> tuple[dict[int, int], dict[int, list[PersonRow]]]:
        """Memberships matching `condition`: how many per group, and per group the
        first `limit` people by the datetime column `key`."""
        found_counts = await counts(
            self.session,
            select(Membership.group_id, func.count())
            .where(Membership.group_id.in_(group_ids), condition)
            .group_by(Membership.group_id),
        )

        def per_group(group_id: int) -> Select[*tuple[Any, ...]]:
            # The first `limit` memberships first, then their people (not all people, then sorted).
            chosen = (
                select(Membership.group_id, key.label("key"), Membership.person_id)
                .where(Membership.group_id == group_id, condition)
                .order_by(key.desc() if descending else key.asc(), Membership.person_id)
                .limit(limit)
                .subquery()
            )
            return select(
                chosen.c.group_id,
                chosen.c.key,
                Person.id,
                Person.display_name,
                Person.username,
                Person.organisation,
                Person.telegram_id,
            ).join(Person, Person.id == chosen.c.person_id)

        found: dict[int, list[tuple[datetime, int, PersonRow]]] = {g: [] for g in group_ids}
        for group_id, at, person_id, name, username, organisation, telegram_id in await top(
            self.session, [g for g in group_ids if found_counts.get(g)], per_group
        ):
            moment = aware(at) or datetime.min.replace(tzinfo=UTC)
            found[group_id].append((moment, person_id, person_row(name, username, organisation, telegram_id)))
        lists: dict[int, list[PersonRow]] = {}
        for group_id, rows in found.items():
            rows.sort(key=lambda row: (row[0], -row[1] if descending else row[1]), reverse=descending)
            lists[group_id] = [person for _, _, person in rows]
        return found_counts, lists

    async def joined(
        self, group_ids: Sequence[int], start: datetime, end: datetime, limit: int
    ) -> tuple[dict[int, int], dict[int, list[PersonRow]]]:
        """Members approved in (start, end] (also those who left since), newest first."""
        condition = and_(
            Membership.status.in_((MembershipStatus.APPROVED, MembershipStatus.LEFT)),
            Membership.decided_at > start,
            Membership.decided_at <= end,
        )
        return await self._people(group_ids, condition, Membership.decided_at, True, limit)

    async def departed(
        self, group_ids: Sequence[int], start: datetime, end: datetime, limit: int
    ) -> tuple[dict[int, int], dict[int, list[PersonRow]]]:
        """Members who left in (start, end], newest first."""
        condition = and_(
            Membership.status == MembershipStatus.LEFT, Membership.left_at > start, Membership.left_at <= end
        )
        return await self._people(group_ids, condition, Membership.left_at, True, limit)

    async def pending(self, group_ids: Sequence[int], limit: int) -> tuple[dict[int, int], dict[int, list[PersonRow]]]:
        """Open join requests, the longest waiting first."""
        return await self._people(
            group_ids, Membership.status == MembershipStatus.PENDING, Membership.requested_at, False, limit
        )

    async def unreachable(
        self, group_ids: Sequence[int], limit: int
    ) -> tuple[dict[int, int], dict[int, list[PersonRow]]]:
        """Approved members Telegram does not deliver to (they blocked the bot), the
        newest members first. (`> epoch` rather than IS NOT NULL: SQLite then takes the
        few unreachable people from their index.)"""
        unreachable = select(Person.id).where(Person.unreachable_since > _EPOCH)
        condition = and_(Membership.status == MembershipStatus.APPROVED, Membership.person_id.in_(unreachable))
        return await self._people(group_ids, condition, Membership.decided_at, True, limit)

    async def unreachable_by_mail(self, group_ids: Sequence[int]) -> dict[int, int]:
        """Of the unreachable members, how many per group a confirmed, not bounced
        address reaches instead (SPEC 15)."""
        mailed = select(EmailAddress.person_id).where(
            EmailAddress.address.is_not(None), EmailAddress.confirmed_at.is_not(None), EmailAddress.bounced_at.is_(None)
        )
        unreachable = select(Person.id).where(Person.unreachable_since > _EPOCH, Person.id.in_(mailed))
        return await counts(
            self.session,
            select(Membership.group_id, func.count())
            .where(
                Membership.group_id.in_(group_ids),
                Membership.status == MembershipStatus.APPROVED,
                Membership.person_id.in_(unreachable),
            )
            .group_by(Membership.group_id),
        )
