"""Factories: rows a test needs as its starting point, made in one place.

Conversations are the proof of a feature; these only prepare a database
quickly (hundreds of members for a fan-out) where registering each person
through the chat would be slow and beside the point.
"""

from __future__ import annotations

from datetime import datetime

from storage.models import Membership, MembershipStatus, Person
from storage.uow import UnitOfWork


def registered(uow: UnitOfWork, telegram_id: int, name: str, now: datetime, group_id: int | None = None) -> Person:
    """A registered person (privacy notice read), an approved member of `group_id` if given."""
    person = Person(
        telegram_id=telegram_id,
        display_name=name,
        language="de",
        is_coordinator=False,
        privacy_acknowledged_at=now,
        registered_at=now,
        created_at=now,
    )
    uow.people.add(person)
    if group_id is not None:
        uow.memberships.add(
            Membership(
                person=person,
                group_id=group_id,
                status=MembershipStatus.APPROVED,
                requested_at=now,
                decided_at=now,
            )
        )
    return person


async def coordinator_and_members(
    uow: UnitOfWork, coordinator_id: int, member_ids: list[int], now: datetime, group_slug: str = "ak-eu"
) -> Person:
    """The coordinator, Sabine Weber (registered), and members "Mitglied 1" ... of one group."""
    group = await uow.groups.by_slug(group_slug)
    assert group is not None
    coordinator = registered(uow, coordinator_id, "Sabine Weber", now)
    for number, member_id in enumerate(member_ids, 1):
        registered(uow, member_id, f"Mitglied {number}", now, group.id)
    return coordinator
