"""Factories: rows a test needs as its starting point, made in one place.

Conversations are the proof of a feature; these only prepare a database
quickly (hundreds of members for a fan-out) where registering each person
through the chat would be slow and beside the point.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core import meetings
from bot.dev.emulator import Emulator
from bot.dev.emulator.state import User
from storage.database import Database
from storage.models import Membership, MembershipStatus, Person
from storage.uow import UnitOfWork
from tests.harness import make_settings


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


async def session_owed_to_members(
    emulator: Emulator, database_url: str, coordinator_id: int, users: list[User], title: str
) -> int:
    """Members of AK EU in the database, and a session (`title`) in five hours,
    scheduled by the core rules.

    Returns the session (occurrence) id; every member is owed one invitation.
    """
    settings = make_settings(emulator, database_url, [coordinator_id])
    now = datetime.now(UTC)
    db = Database(database_url)
    try:
        await db.upgrade()
        async with db.uow() as uow:
            await coordinator_and_members(uow, coordinator_id, [u.id for u in users], now)
            await uow.commit()
        # A session in a few hours: the 7-day and 1-day lead times are covered by
        # the invitation, the 2-hour reminder lies ahead; only invitations are due.
        start = (now + timedelta(hours=5)).astimezone(ZoneInfo(settings.timezone_name))
        request = meetings.MeetingRequest("ak-eu", start.date(), time(start.hour, start.minute), title)
        async with db.uow() as uow:
            coordinator = await uow.people.by_telegram_id(coordinator_id)
            assert coordinator is not None
            scheduled = await meetings.schedule(uow, coordinator, request, settings, now)
            await uow.commit()
        assert scheduled.invited == len(users)
        return scheduled.occurrences[0].id
    finally:
        await db.dispose()
