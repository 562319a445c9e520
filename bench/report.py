"""Report benchmark: `kimbot report` over a full half-year and over one hundredth of it.

    .venv/bin/python bench/report.py [--repeat 3] [--postgres URL]

Two databases are filled with SQLAlchemy core bulk inserts, all in the last
finished half-year (so the report is a complete one):

- full: the five groups, 5,000 approved members (one group each, 50
  organisations), 2,000 sessions spread over the half-year (one in twenty
  cancelled) with up to 20 answers each, 100,000 agenda items (50 per
  session: accepted, rejected, withdrawn, proposed), 100 recommendations
  to two groups each, and 200,000 feedback rows (a stance from three in
  four target members, the rest comments);
- small: the same at one hundredth (50 members, 20 sessions, 1,000 items,
  2,000 feedback rows, one recommendation).

Then `kimbot report <half-year> --out DIR` runs as a real process against
each, `--repeat` times; printed: every run, the medians and the ratio
full / small (target: under 3). With `--postgres`, fresh PostgreSQL
databases are created next to the one URL names and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, insert, select  # noqa: E402

from bench.reminders import postgres_database  # noqa: E402
from bot.report import HalfYear  # noqa: E402
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
TIMEZONE = ZoneInfo("Europe/Berlin")
FULL = {"members": 5000, "sessions": 2000, "items": 100_000, "feedback": 200_000, "recommendations": 100}
ANSWERS_PER_SESSION = 20
ITEM_STATUSES = [AgendaStatus.ACCEPTED] * 6 + [AgendaStatus.REJECTED, AgendaStatus.WITHDRAWN] + [AgendaStatus.PROPOSED] * 2
RSVP_ANSWERS = [RsvpAnswer.YES] * 7 + [RsvpAnswer.NO] * 2 + [RsvpAnswer.MAYBE]
STANCES = [StanceValue.AGREE, StanceValue.AGREE, StanceValue.CONCERNS, StanceValue.REJECT]
CHUNK = 10_000


def chunks(rows: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


def fill(connection: Connection, scale: dict[str, int], half: HalfYear) -> None:
    """The half-year's data at this scale (see the module's docstring)."""
    start, end = half.start(TIMEZONE), half.end(TIMEZONE)
    span = end - start
    groups = connection.execute(select(Group.id).order_by(Group.id)).scalars().all()
    before = start - timedelta(days=30)

    def insert_all(model: object, rows: list[dict[str, object]]) -> None:
        for part in chunks(rows):
            connection.execute(insert(model), part)  # type: ignore[arg-type]

    insert_all(
        Person,
        [
            {
                "telegram_id": 10_000_000 + n,
                "display_name": f"Mitglied {n}",
                "organisation": f"Organisation {n % 50}",
                "language": "de",
                "is_coordinator": False,
                "privacy_acknowledged_at": before,
                "registered_at": before,
                "created_at": before,
            }
            for n in range(scale["members"])
        ],
    )
    people = connection.execute(select(Person.id).order_by(Person.id)).scalars().all()
    members: dict[int, list[int]] = {g: [] for g in groups}
    for n, person in enumerate(people):
        members[groups[n % len(groups)]].append(person)
    insert_all(
        Membership,
        [
            {
                "person_id": person,
                "group_id": group,
                "status": MembershipStatus.APPROVED,
                "requested_at": before,
                "decided_at": start + span * (n / len(people)) / 2 if n % 10 == 0 else before,
            }
            for group, persons in members.items()
            for n, person in enumerate(persons)
        ],
    )

    step = span / (scale["sessions"] + 1)
    starts = [(start + step * (n + 1)).replace(second=0, microsecond=0) for n in range(scale["sessions"])]
    insert_all(
        Meeting,
        [
            {
                "group_id": groups[n % len(groups)],
                "title": f"Sitzung {n + 1}",
                "location": "Rathaus Barmen, Raum 210",
                "timezone": "Europe/Berlin",
                "start_local": when.astimezone(TIMEZONE).replace(tzinfo=None),
                "duration_minutes": 120,
                "created_at": before,
            }
            for n, when in enumerate(starts)
        ],
    )
    meetings = connection.execute(select(Meeting.id, Meeting.group_id, Meeting.start_local).order_by(Meeting.id)).all()
    insert_all(
        Occurrence,
        [
            {
                "meeting_id": meeting_id,
                "original_local": local,
                "starts_at": when,
                "status": OccurrenceStatus.CANCELLED if n % 20 == 19 else OccurrenceStatus.SCHEDULED,
                "revision": 0,
            }
            for n, ((meeting_id, _, local), when) in enumerate(zip(meetings, starts, strict=True))
        ],
    )
    sessions = connection.execute(
        select(Occurrence.id, Meeting.group_id, Occurrence.starts_at).join(Meeting).order_by(Occurrence.id)
    ).all()
    rsvps = []
    for n, (occurrence, group, when) in enumerate(sessions):
        for k, person in enumerate(members[group][:ANSWERS_PER_SESSION]):
            rsvps.append(
                {
                    "occurrence_id": occurrence,
                    "person_id": person,
                    "answer": RSVP_ANSWERS[(n + k) % len(RSVP_ANSWERS)],
                    "answered_at": when - timedelta(days=2),
                }
            )
    insert_all(Rsvp, rsvps)
    per_session = scale["items"] // len(sessions)
    insert_all(
        AgendaItem,
        [
            {
                "group_id": group,
                "occurrence_id": occurrence,
                "author_id": members[group][k % len(members[group])],
                "text": f"Thema {k + 1} der Sitzung {n + 1}: Bericht aus der Beratungsstelle und Austausch",
                "status": ITEM_STATUSES[(n + k) % len(ITEM_STATUSES)],
                "position": k + 1,
                "created_at": when - timedelta(days=5),
            }
            for n, (occurrence, group, when) in enumerate(sessions)
            for k in range(per_session)
        ],
    )

    count = scale["recommendations"]
    insert_all(
        Recommendation,
        [
            {
                "text": f"Empfehlung {n + 1}: Mehr Sprachkurse am Abend anbieten, mit Kinderbetreuung im Stadtteil.",
                "status": RecommendationStatus.CLOSED if n % 2 else RecommendationStatus.OPEN,
                "outcome": "Die Stadt bietet zwei Abendkurse an." if n % 2 else None,
                "created_at": start + span * (n / (count + 1)),
                "closed_at": start + span * ((n + 1) / (count + 1)) if n % 2 else None,
            }
            for n in range(count)
        ],
    )
    recommendations = connection.execute(select(Recommendation.id).order_by(Recommendation.id)).scalars().all()
    targets = {r: (groups[n % len(groups)], groups[(n + 1) % len(groups)]) for n, r in enumerate(recommendations)}
    insert_all(
        recommendation_groups,  # type: ignore[arg-type]
        [{"recommendation_id": r, "group_id": g} for r, pair in targets.items() for g in pair],
    )
    stances, quota = [], scale["feedback"] * 3 // 4 // count
    for n, r in enumerate(recommendations):
        audience = members[targets[r][0]] + members[targets[r][1]]
        for k, person in enumerate(audience[:quota]):
            stances.append(
                {
                    "recommendation_id": r,
                    "person_id": person,
                    "value": STANCES[(n + k) % len(STANCES)],
                    "answered_at": start + span * (n / (count + 1)) + timedelta(hours=1 + k % 48),
                }
            )
    insert_all(Stance, stances)
    comments = []
    for k in range(scale["feedback"] - len(stances)):
        n = k % count
        r = recommendations[n]
        audience = members[targets[r][0]]
        comments.append(
            {
                "recommendation_id": r,
                "person_id": audience[k % len(audience)],
                "text": f"Kommentar {k + 1}: Wir brauchen Räume im Stadtteil und eine Kinderbetreuung am Abend.",
                "created_at": start + span * (n / (count + 1)) + timedelta(minutes=1 + k % 5000),
            }
        )
    insert_all(Comment, comments)


@asynccontextmanager
async def database(postgres: str | None, workdir: Path, name: str) -> AsyncIterator[str]:
    if postgres:
        async with postgres_database(postgres) as url:
            yield url
    else:
        yield f"sqlite:///{workdir / name}.db"


async def prepare(url: str, scale: dict[str, int], half: HalfYear) -> None:
    db = Database(url)
    try:
        await db.upgrade()
        async with db.engine.begin() as conn:
            await conn.run_sync(fill, scale, half)
    finally:
        await db.dispose()


def one_report(url: str, half: HalfYear, out: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_"))}
    env.update({"DATABASE_URL": url, "KIMBOT_ENV_FILE": str(out / "no.env"), "PYTHONPATH": str(ROOT)})
    started = monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", half.label, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"kimbot report failed ({done.returncode}): {done.stderr}")
    return elapsed


async def run(repeat: int, postgres: str | None) -> None:
    half = HalfYear.containing(datetime.now(UTC), TIMEZONE).previous()
    small = {key: max(1, value // 100) for key, value in FULL.items()}
    with tempfile.TemporaryDirectory(prefix="kimbot-report-") as tmp:
        workdir = Path(tmp)
        async with database(postgres, workdir, "small") as small_url, database(postgres, workdir, "full") as full_url:
            for label, url, scale in (("small", small_url, small), ("full", full_url, FULL)):
                began = monotonic()
                await prepare(url, scale, half)
                print(f"Prepared {label}: {scale} in {half.label} ({monotonic() - began:.1f} s)", flush=True)
            times: dict[str, list[float]] = {"small": [], "full": []}
            for n in range(repeat):
                for label, url in (("small", small_url), ("full", full_url)):
                    out = workdir / f"{label}{n}"
                    out.mkdir()
                    elapsed = await asyncio.to_thread(one_report, url, half, out)
                    times[label].append(elapsed)
                    size = sum(p.stat().st_size for p in out.iterdir())
                    print(f"  {label:5} #{n + 1}: {elapsed:6.2f} s ({size // 1024} KiB written)", flush=True)
    a, b = statistics.median(times["small"]), statistics.median(times["full"])
    verdict = "ok" if b / a < TARGET_RATIO else "over target"
    print()
    print(f"kimbot report {half.label} ({'PostgreSQL' if postgres else 'SQLite'}), median of {repeat}")
    print(f"  one hundredth   {a:6.2f} s")
    print(f"  full            {b:6.2f} s")
    print(f"  full / small    {b / a:6.3f} (target < {TARGET_RATIO}: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on PostgreSQL: fresh databases next to URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres",
    )
    args = parser.parse_args()
    asyncio.run(run(args.repeat, args.postgres))


if __name__ == "__main__":
    main()
