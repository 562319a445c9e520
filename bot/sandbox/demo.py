"""Demo: a realistic example for `kimbot sandbox --demo`.

Members registered with names and organisations, in several groups, and one
open join request for the coordinator to decide, and two sessions: a one-off
of AK EU next week and a fortnightly series of AG Süd-Ost-Europa; topics
on both agendas (one already accepted); and a recommendation to all groups
with a deadline, which two members have answered. Everything is created
through the same core functions the commands use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot import agenda, meetings, recommendations
from bot.config import Settings
from storage.database import Database
from storage.models import Membership, MembershipStatus, Person

# (persona key, group, text, accepted by the coordination)
AGENDA = (
    ("ana", "ak-eu", "Bericht aus der Beratung: Anmeldung ohne festen Wohnsitz", True),
    ("ana", "ak-eu", "Wohnungsmarkt: Erfahrungen mit überbelegten Wohnungen", False),
    ("ioana", "ag-soe", "Schulanmeldung für Kinder aus Rumänien und Bulgarien", False),
)

RECOMMENDATION = (
    "all Die Stadt richtet eine zentrale Stelle für Sprachmittlung ein. "
    "Die Arbeitskreise melden, welche Sprachen am meisten gebraucht werden."
)
# persona key -> (stance, comment)
FEEDBACK = {
    "ana": ("agree", "Gebraucht werden vor allem Rumänisch, Bulgarisch und Polnisch."),
    "mehmet": ("concerns", "Gut, aber wer bezahlt die Sprachmittlung für Termine im Jobcenter?"),
}

# persona key -> (organisation, approved groups, pending groups)
MEMBERS: dict[str, tuple[str | None, tuple[str, ...], tuple[str, ...]]] = {
    "koordination": ("Stadt Wuppertal, KIM", (), ()),
    "ana": ("Caritasverband Wuppertal/Solingen", ("ak-eu", "ag-soe"), ()),
    "mehmet": ("Jobcenter Wuppertal", ("ak-arbeitsmarkt", "lenkungskreis"), ("ak-eu",)),
    "ioana": ("Romane Romnja e.V.", ("ag-soe",), ()),
}


async def fill_demo(db: Database, users: dict[str, Any], settings: Settings) -> None:
    now = datetime.now(UTC)
    async with db.uow() as uow:
        groups = {g.slug: g for g in await uow.groups.active()}
        for key, (organisation, approved, pending) in MEMBERS.items():
            user = users[key]
            person = Person(
                telegram_id=user.id,
                username=user.username,
                display_name=f"{user.first_name} {user.last_name}",
                organisation=organisation,
                is_coordinator=False,
                privacy_acknowledged_at=now,
                registered_at=now,
                created_at=now,
            )
            uow.people.add(person)
            await uow.people.flush()
            for slug, status in [(s, MembershipStatus.APPROVED) for s in approved] + [(s, MembershipStatus.PENDING) for s in pending]:
                uow.memberships.add(
                    Membership(
                        person_id=person.id,
                        group_id=groups[slug].id,
                        status=status,
                        requested_at=now,
                        decided_at=now if status is MembershipStatus.APPROVED else None,
                    )
                )
        await uow.commit()
    coordinator_id = next(iter(settings.coordinator_ids))
    local_now = now.astimezone(settings.timezone)
    for command in (
        f"ak-eu {(local_now + timedelta(days=7)):%d.%m.%Y} 14:00 Auftakt AK EU | Rathaus Barmen, Raum 210",
        f"ag-soe {(local_now + timedelta(days=3)):%d.%m.%Y} 10:00 Jour fixe | Online | alle 2 Wochen 6 mal",
    ):
        async with db.uow() as uow:
            coordinator = await uow.people.by_telegram_id(coordinator_id)
            assert coordinator is not None
            await meetings.schedule(uow, coordinator, meetings.parse_meeting_command(command), settings, now)

    await _fill_agenda_and_feedback(db, users, settings, coordinator_id, now)


async def _fill_agenda_and_feedback(
    db: Database, users: dict[str, Any], settings: Settings, coordinator_id: int, now: datetime
) -> None:
    for key, slug, text, accepted in AGENDA:
        async with db.uow() as uow:
            author = await uow.people.by_telegram_id(users[key].id)
            group = await uow.groups.by_slug(slug)
            assert author is not None and group is not None
            placed = await agenda.propose(uow, author, group, text, settings, now)
        if accepted:
            async with db.uow() as uow:
                coordinator = await uow.people.by_telegram_id(coordinator_id)
                assert coordinator is not None
                await agenda.accept(uow, coordinator, placed.item.id, settings, now)
    deadline = (now + timedelta(days=10)).astimezone(settings.timezone)
    async with db.uow() as uow:
        coordinator = await uow.people.by_telegram_id(coordinator_id)
        assert coordinator is not None
        published = await recommendations.recommend(
            uow, coordinator, f"{RECOMMENDATION} | {deadline:%d.%m.%Y}", settings, now
        )
    assert isinstance(published, recommendations.Published)
    for key, (stance, comment) in FEEDBACK.items():
        async with db.uow() as uow:
            member = await uow.people.by_telegram_id(users[key].id)
            assert member is not None
            await recommendations.give_stance(uow, member, published.recommendation.id, stance, now)
        async with db.uow() as uow:
            member = await uow.people.by_telegram_id(users[key].id)
            assert member is not None
            await recommendations.add_comment(uow, member, published.recommendation.id, comment, now)
