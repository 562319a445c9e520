"""Start-up benchmark: how soon `kimbot run` answers /help, with 10,000 future sessions.

    .venv/bin/python bench/startup.py [--sessions 10000] [--repeat 3]

`kimbot run` is started as a real process (real time) against the local
emulator, with a person's `/help` already waiting. Measured: from starting the
process until the emulator holds the bot's answer to that `/help`.

(a) Baseline: an empty database (migrated, the five groups seeded).
(b) The same plus `--sessions` future one-off sessions, spread evenly over
    the next two years across the five groups, each group with 50 approved
    members and a coordinator (inserted with SQLAlchemy core bulk inserts
    into meetings and occurrences, as if created long ago; no delivery
    records yet, so the first tick plans the reminders of the sessions
    inside its window and catches up on the ones already due).

Each start gets a fresh copy of its database and a fresh emulator. Printed:
every run, the medians, and the ratio b / a (target: under 2).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, insert, select  # noqa: E402

from bench.common import Row, start_kimbot  # noqa: E402
from bench.reminders import insert_coordinator, insert_members  # noqa: E402
from bot.dev.emulator import Emulator  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import Group, Meeting, Occurrence, OccurrenceStatus, Person  # noqa: E402
from storage.seed import GROUPS  # noqa: E402

TARGET_RATIO = 2.0
MEMBERS_PER_GROUP = 50
SPAN = timedelta(days=730)
TIMEZONE = "Europe/Berlin"
COORDINATOR_ID = 900_000_001
WAIT = 300.0  # guards against a hang only
STOP_WAIT = 10.0


def member_ids(slug_index: int) -> list[int]:
    return [1_000_000 + slug_index * 1000 + n for n in range(MEMBERS_PER_GROUP)]


def insert_sessions(connection: Connection, count: int, now: datetime) -> None:
    """`count` one-off sessions from now on over SPAN, round robin over the groups."""
    tz = ZoneInfo(TIMEZONE)
    group_ids = connection.execute(select(Group.id).order_by(Group.id)).scalars().all()
    creator = connection.execute(select(Person.id).where(Person.telegram_id == COORDINATOR_ID)).scalar_one()
    step = SPAN / count
    first = now.replace(second=0, microsecond=0)
    starts = [first + step * (n + 1) for n in range(count)]
    starts = [s.replace(second=0, microsecond=0) for s in starts]
    connection.execute(
        insert(Meeting),
        [
            {
                "group_id": group_ids[n % len(group_ids)],
                "title": f"Sitzung {n + 1}",
                "location": "Rathaus, Raum 210",
                "timezone": TIMEZONE,
                "start_local": start.astimezone(tz).replace(tzinfo=None),
                "duration_minutes": 120,
                "rrule": None,
                "materialized_until": now + timedelta(days=400),
                "created_by_id": creator,
                "created_at": now,
            }
            for n, start in enumerate(starts)
        ],
    )
    meetings = connection.execute(select(Meeting.id, Meeting.start_local).order_by(Meeting.id)).all()
    connection.execute(
        insert(Occurrence),
        [
            {
                "meeting_id": meeting_id,
                "original_local": start_local,
                "starts_at": start,
                "status": OccurrenceStatus.SCHEDULED,
                "revision": 0,
            }
            for (meeting_id, start_local), start in zip(meetings, starts, strict=True)
        ],
    )


async def prepare(path: Path, sessions: int) -> None:
    """A migrated SQLite database at `path`; with people and sessions if `sessions`."""
    db = Database(f"sqlite:///{path}")
    try:
        await db.upgrade()
        if sessions:
            now = datetime.now(UTC)
            async with db.engine.begin() as conn:
                await conn.run_sync(insert_coordinator, COORDINATOR_ID, now)
                for index, (slug, _, _) in enumerate(GROUPS):
                    await conn.run_sync(insert_members, slug, member_ids(index), now)
                await conn.run_sync(insert_sessions, sessions, now)
    finally:
        await db.dispose()  # the last connection to close folds the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()


async def one_start(template: Path, workdir: Path, label: str) -> dict[str, float]:
    """Start `kimbot run` on a copy of `template`; seconds until /help is answered."""
    workdir.mkdir()
    db_path = workdir / "kimbot.db"
    shutil.copyfile(template, db_path)
    async with Emulator() as emu:
        emu.add_user("Koordination", user_id=COORDINATOR_ID, language_code="de")
        for index in range(len(GROUPS)):
            for telegram_id in member_ids(index):
                emu.add_user(f"Mitglied {telegram_id}", user_id=telegram_id, language_code="de")
        asker = emu.add_user("Fragende", language_code="de")
        emu.send_text(asker, "/help")

        started = monotonic()
        process = await start_kimbot(
            workdir,
            workdir / "kimbot.log",
            TELEGRAM_BOT_TOKEN=emu.token,
            TELEGRAM_API_URL=emu.base_url,
            DATABASE_URL=f"sqlite:///{db_path}",
            COORDINATOR_IDS=str(COORDINATOR_ID),
            LOG_LEVEL="INFO",
        )
        try:
            answer = await emu.wait_for_message(asker, 0, timeout=WAIT)
            answered = monotonic() - started
            assert "/join" in (answer.text or ""), answer.text
            first_call = min((c.at for c in emu.calls), default=started) - started
            first_poll = min((c.at for c in emu.calls if c.method == "getUpdates"), default=started) - started
            reminders = sum(1 for c in emu.calls if c.method == "sendMessage" and c.chat_id != asker.id)
        finally:
            stopping = monotonic()
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_WAIT)
                stop = f"stopped in {monotonic() - stopping:.1f} s"
            except TimeoutError:
                process.kill()  # still sending its first batch; the next start gets a fresh copy anyway
                await process.wait()
                stop = f"killed: not stopped {STOP_WAIT:.0f} s after SIGTERM"
    print(
        f"  {label}: /help answered after {answered:6.2f} s"
        f" (first Bot API call {first_call:4.2f} s, first getUpdates {first_poll:4.2f} s,"
        f" other messages sent by then {reminders}; {stop})",
        flush=True,
    )
    return {"answered": answered, "first_call": first_call, "first_poll": first_poll}


async def run(sessions: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="kimbot-startup-") as tmp:
        base = Path(tmp)
        empty, full = base / "empty.db", base / "full.db"
        await prepare(empty, 0)
        began = monotonic()
        await prepare(full, sessions)
        print(
            f"Prepared: {sessions} future sessions, {len(GROUPS)} groups x {MEMBERS_PER_GROUP} members ({monotonic() - began:.1f} s)"
        )
        results: dict[str, list[float]] = {"a": [], "b": []}
        for n in range(repeat):
            for key, template, label in (
                ("a", empty, "(a) empty database  "),
                ("b", full, f"(b) {sessions} sessions"),
            ):
                outcome = await one_start(template, base / f"{key}{n}", f"{label} #{n + 1}")
                results[key].append(outcome["answered"])
        a = statistics.median(results["a"])
        b = statistics.median(results["b"])
        ratio = b / a
        verdict = "ok" if ratio < TARGET_RATIO else "over target"
        print()
        print(f"Start-up until /help is answered, median of {repeat}")
        print(f"  (a) empty database       {a:6.2f} s")
        print(f"  (b) {sessions} sessions     {b:6.2f} s")
        print(f"  b / a                    {ratio:6.3f} (target < {TARGET_RATIO}: {verdict})")
        return {"a": a, "b": b}


async def suite(quick: bool, postgres: str | None) -> list[Row]:
    """Item 3: start-up with 10,000 future sessions against an empty database (SQLite only)."""
    if postgres:
        return []
    sessions = 2_000 if quick else 10_000
    outcome = await run(sessions, 1 if quick else 3)
    ratio = outcome["b"] / outcome["a"]
    return [
        Row(
            f"start-up until /help answered, {sessions} sessions",
            f"{outcome['b']:.2f} s",
            f"empty db {outcome['a']:.2f} s",
            ratio,
            "< 2 x",
            ratio < TARGET_RATIO,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="future sessions in database (b) (10000)")
    parser.add_argument("--repeat", type=int, default=3, help="starts of each kind; the median counts (3)")
    args = parser.parse_args()
    asyncio.run(run(args.sessions, args.repeat))


if __name__ == "__main__":
    main()
