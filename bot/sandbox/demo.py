"""Demo: a realistic example for `kimbot sandbox --demo`.

Members registered with names and organisations, in several groups, and one
open join request for the coordinator to decide. Later features (sessions,
agenda items, recommendations) add their part of the example here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.config import Settings
from storage.database import Database
from storage.models import Membership, MembershipStatus, Person

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
