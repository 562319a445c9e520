"""Digest benchmark: `/digest all 30d` on a large database against the same at
one hundredth (`bench/report.py` does the same for `kimbot report`).

    .venv/bin/python bench/digest.py [--repeat 3] [--postgres URL]

Two databases are filled with SQLAlchemy core bulk inserts, as if the bot had
been used for half a year (all dates in the last 180 days or the next 60):

| data                      | large   | small (1/100) |
|---------------------------|---------|---------------|
| groups                    | 5       | 5             |
| members                   | 5,000   | 50            |
| sessions (70 % held)      | 2,000   | 20            |
| agenda items              | 100,000 | 1,000         |
| feedback rows (stances and comments, half each) | 200,000 | 2,000 |

plus an RSVP from ten members for every session held and 40 (small: 4)
recommendations, half of them open.

`/digest all 30d` runs through the real bot (`build_application` + `running`,
long polling) against the emulator; a coordinator sends the command and the
clock runs until the bot has completely handled it (every answer sent).

Run `--repeat` times on each; printed: every run, the medians, the ratio
large / small (target under 3) and the time on the large database (target:
well under a second on SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, insert, select  # noqa: E402

from bench.reminders import postgres_database  # noqa: E402
from bot.app import build_application, running  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.emulator import Emulator  # noqa: E402
from bot.updates import ChatOrderedProcessor  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import (  # noqa: E402
    AgendaItem,
    AgendaStatus,
    Comment,
    Group,
    Meeting,
    Membership,
    MembershipStatus,
    Occurrence,
    OccurrenceStatus,
    Person,
    Recommendation,
    RecommendationStatus,
    Rsvp,
    RsvpAnswer,
    Stance,
    StanceValue,
    recommendation_groups,
)

TARGET_RATIO = 3.0
TIMEZONE = "Europe/Berlin"
COORDINATOR_ID = 900_000_001
WAIT = 300.0  # guards against a hang only


@dataclass(frozen=True)
class Size:
    members: int
    sessions: int
    items: int
    feedback: int
    recommendations: int


LARGE = Size(members=5_000, sessions=2_000, items=100_000, feedback=200_000, recommendations=40)
SMALL = Size(members=50, sessions=20, items=1_000, feedback=2_000, recommendations=4)


def fill(connection: Connection, size: Size, now: datetime) -> None:
    """The whole data set of `size`, in bulk inserts (deterministic: seeded)."""
    rnd = random.Random(7)
    tz = ZoneInfo(TIMEZONE)
    group_ids = connection.execute(select(Group.id).order_by(Group.id)).scalars().all()
    past = timedelta(days=180)

    def when(back: timedelta = past) -> datetime:
        return now - back * rnd.random()

    connection.execute(
        insert(Person),
        [
            {"telegram_id": COORDINATOR_ID, "display_name": "Koordination", "language": "de", "is_coordinator": True,
             "privacy_acknowledged_at": now - past, "registered_at": now - past, "created_at": now - past}
        ]
        + [
            {
                "telegram_id": 1_000_000 + n,
                "display_name": f"Mitglied {n}",
                "organisation": f"Träger {n % 37}",
                "language": "de",
                "is_coordinator": False,
                "privacy_acknowledged_at": now - past,
                "registered_at": now - past,
                "unreachable_since": now - timedelta(days=3) if n % 97 == 0 else None,
                "created_at": now - past,
            }
            for n in range(size.members)
        ],
    )
    coordinator = connection.execute(select(Person.id).where(Person.telegram_id == COORDINATOR_ID)).scalar_one()
    people = connection.execute(
        select(Person.id).where(Person.telegram_id != COORDINATOR_ID).order_by(Person.id)
    ).scalars().all()
    members_of: dict[int, list[int]] = {g: [] for g in group_ids}
    memberships = []
    for n, person in enumerate(people):
        group = group_ids[n % len(group_ids)]
        status = MembershipStatus.LEFT if n % 20 == 0 else MembershipStatus.PENDING if n % 50 == 1 else MembershipStatus.APPROVED
        requested = when()
        memberships.append(
            {"person_id": person, "group_id": group, "status": status, "requested_at": requested,
             "decided_at": requested + timedelta(hours=5) if status is not MembershipStatus.PENDING else None,
             "left_at": requested + timedelta(days=20) if status is MembershipStatus.LEFT else None}
        )
        if status is MembershipStatus.APPROVED:
            members_of[group].append(person)
    connection.execute(insert(Membership), memberships)

    starts = []
    for n in range(size.sessions):
        held = n % 10 < 7
        start = now - past * rnd.random() if held else now + timedelta(days=60) * rnd.random()
        starts.append(start.replace(second=0, microsecond=0))
    connection.execute(
        insert(Meeting),
        [
            {"group_id": group_ids[n % len(group_ids)], "title": f"Sitzung {n + 1}", "location": "Rathaus, Raum 210",
             "timezone": TIMEZONE, "start_local": start.astimezone(tz).replace(tzinfo=None), "duration_minutes": 120,
             "rrule": None, "materialized_until": now + timedelta(days=400), "created_by_id": coordinator,
             "created_at": start - timedelta(days=14)}
            for n, start in enumerate(starts)
        ],
    )
    meetings = connection.execute(select(Meeting.id, Meeting.group_id, Meeting.start_local).order_by(Meeting.id)).all()
    connection.execute(
        insert(Occurrence),
        [
            {"meeting_id": meeting_id, "original_local": start_local, "starts_at": start,
             "status": OccurrenceStatus.CANCELLED if n % 50 == 0 else OccurrenceStatus.SCHEDULED, "revision": 0}
            for n, ((meeting_id, _, start_local), start) in enumerate(zip(meetings, starts, strict=True))
        ],
    )
    sessions = connection.execute(
        select(Occurrence.id, Meeting.group_id, Occurrence.starts_at).join(Meeting).order_by(Occurrence.id)
    ).all()
    rsvps = []
    for occurrence_id, group_id, starts_at in sessions:
        if starts_at.replace(tzinfo=UTC) < now:
            for person in rnd.sample(members_of[group_id], min(10, len(members_of[group_id]))):
                rsvps.append({"occurrence_id": occurrence_id, "person_id": person,
                              "answer": rnd.choice(list(RsvpAnswer)), "answered_at": starts_at - timedelta(days=1)})
    if rsvps:
        connection.execute(insert(Rsvp), rsvps)

    statuses = [AgendaStatus.ACCEPTED, AgendaStatus.ACCEPTED, AgendaStatus.PROPOSED, AgendaStatus.REJECTED, AgendaStatus.WITHDRAWN]
    items = []
    for n in range(size.items):
        occurrence_id, group_id, starts_at = sessions[n % len(sessions)]
        authors = members_of[group_id]
        items.append(
            {"group_id": group_id, "occurrence_id": occurrence_id, "author_id": authors[n % len(authors)],
             "text": f"Thema {n}: Bericht aus der Beratung zu Wohnen, Arbeit und Schule",
             "status": statuses[n % len(statuses)], "position": n // len(sessions),
             "reason": "Passt besser in einen anderen Arbeitskreis." if statuses[n % len(statuses)] is AgendaStatus.REJECTED else None,
             "created_at": starts_at.replace(tzinfo=UTC) - timedelta(days=1 + rnd.random() * 20)}
        )
    connection.execute(insert(AgendaItem), items)

    recommendations = []
    for n in range(size.recommendations):
        created = when()
        closed = n % 2 == 1
        recommendations.append(
            {"text": f"Empfehlung {n}: Die Stadt baut die Sprachmittlung aus.", "status":
             RecommendationStatus.CLOSED if closed else RecommendationStatus.OPEN,
             "deadline": now + timedelta(days=1 + n % 10) if not closed else created + timedelta(days=14),
             "outcome": "Wird 2027 umgesetzt." if closed else None, "created_by_id": coordinator,
             "created_at": created, "closed_at": created + timedelta(days=15) if closed else None,
             "closed_by_id": coordinator if closed else None}
        )
    connection.execute(insert(Recommendation), recommendations)
    recommendation_ids = connection.execute(select(Recommendation.id).order_by(Recommendation.id)).scalars().all()
    connection.execute(
        insert(recommendation_groups),
        [{"recommendation_id": r, "group_id": g} for r in recommendation_ids for g in group_ids],
    )
    half = size.feedback // 2
    everyone = [p for group in group_ids for p in members_of[group]]
    stances, comments = [], []
    per_recommendation = -(-half // len(recommendation_ids))
    for r in recommendation_ids:
        for person in everyone[:per_recommendation]:
            if len(stances) < half:
                stances.append({"recommendation_id": r, "person_id": person,
                                "value": rnd.choice(list(StanceValue)), "answered_at": when()})
    while len(comments) < half:
        comments.append({"recommendation_id": recommendation_ids[len(comments) % len(recommendation_ids)],
                         "person_id": everyone[len(comments) % len(everyone)],
                         "text": "Wir brauchen mehr Angebote am Abend.", "created_at": when()})
    connection.execute(insert(Stance), stances)
    connection.execute(insert(Comment), comments)


async def prepare(url: str, size: Size, now: datetime) -> None:
    db = Database(url)
    try:
        await db.upgrade()
        async with db.engine.begin() as conn:
            await conn.run_sync(fill, size, now)
    finally:
        await db.dispose()


async def time_digest(url: str) -> float:
    """Seconds from sending `/digest all 30d` until the bot has completely handled it."""
    async with AsyncExitStack() as stack:
        emu = await stack.enter_async_context(Emulator())
        coordinator = emu.add_user("Koordination", user_id=COORDINATOR_ID, language_code="de")
        settings = load_settings(
            {"TELEGRAM_BOT_TOKEN": emu.token, "TELEGRAM_API_URL": emu.base_url, "DATABASE_URL": url,
             "COORDINATOR_IDS": str(COORDINATOR_ID), "DIGEST_SCHEDULE": "off", "REMINDER_OFFSETS": "1m"}
        )
        application = build_application(settings)
        processor = application.update_processor
        assert isinstance(processor, ChatOrderedProcessor)
        await stack.enter_async_context(running(application, poll_timeout=1))
        await application.bot_data["deliveries"].tick()  # the first tick's planning is not the digest's work
        before = len(emu.messages(coordinator))
        target = processor.finished + 1
        started = monotonic()
        emu.send_text(coordinator, "/digest all 30d")
        await asyncio.wait_for(processor.wait_finished(target), WAIT)
        elapsed = monotonic() - started
        answers = emu.messages(coordinator)[before:]
        assert answers, "the digest was answered"
        assert not any(c.status != 200 for c in emu.calls), [c for c in emu.calls if c.status != 200][:3]
        return elapsed


async def build(urls: dict[str, str], now: datetime) -> None:
    for key, size in (("large", LARGE), ("small", SMALL)):
        began = monotonic()
        await prepare(urls[key], size, now)
        print(f"Prepared {key}: {size} ({monotonic() - began:.1f} s)", flush=True)


async def measure(urls: dict[str, str], repeat: int, now: datetime) -> None:
    results: dict[tuple[str, str], list[float]] = {}
    for n in range(repeat):
        for key in ("small", "large"):
            digest = await time_digest(urls[key])
            results.setdefault(key, []).append(digest)
            print(f"  #{n + 1} {key:5}: /digest all 30d {digest:6.3f} s", flush=True)
    small = statistics.median(results["small"])
    large = statistics.median(results["large"])
    ratio = large / small
    verdict = "ok" if ratio < TARGET_RATIO else "over target"
    print()
    print(f"/digest all 30d, median of {repeat}")
    print(f"  small {small:6.3f} s  large {large:6.3f} s  large/small {ratio:5.2f} (target < {TARGET_RATIO:.0f}: {verdict})")


async def run(repeat: int, postgres: str | None) -> None:
    now = datetime.now(UTC)
    async with AsyncExitStack() as stack:
        if postgres:
            urls = {key: await stack.enter_async_context(postgres_database(postgres)) for key in ("large", "small")}
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="kimbot-digest-"))
            urls = {"large": f"sqlite:///{tmp}/large.db", "small": f"sqlite:///{tmp}/small.db"}
        await build(urls, now)
        await measure(urls, repeat, now)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--postgres", metavar="URL", help="fresh PostgreSQL databases on this server (e.g. postgresql://postgres@127.0.0.1:5432/postgres) instead of SQLite"
    )
    args = parser.parse_args()
    asyncio.run(run(args.repeat, args.postgres))


if __name__ == "__main__":
    main()
