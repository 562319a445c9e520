"""Memory benchmark: resident memory of `kimbot run` with 5,000 members and 10,000 sessions.

    .venv/bin/python bench/memory.py [--members 5000] [--sessions 10000]

`kimbot run` is started as a real process (as in `bench/startup.py`) against
the local emulator on a SQLite database holding `--members` registered
people (one of the five groups each; see `bench/data.py`) and `--sessions`
coming one-off sessions spread over the next two years, with a person's
`/help` already waiting. When the answer is in the emulator, and again after
the first delivery tick had time to plan (a few seconds later), the process's
`VmRSS` is read from `/proc/<pid>/status`, with `VmHWM` (its peak). Target:
under 150 MB. Baseline: the same with an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, start_kimbot  # noqa: E402
from bench.data import COORDINATOR_ID, Size, fill, member_id  # noqa: E402
from bot.dev.emulator import Emulator  # noqa: E402
from storage.database import Database  # noqa: E402

TARGET_MB = 150.0
SETTLE = 5.0  # seconds after the answer: the first tick plans meanwhile
WAIT = 300.0  # guards against a hang only


def status_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MB (10^6 bytes)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024 / 1e6
    return found


async def prepare(path: Path, members: int, sessions: int) -> None:
    db = Database(f"sqlite:///{path}")
    try:
        await db.upgrade()
        if members or sessions:
            now = datetime.now(UTC)
            size = Size(members=members, sessions=sessions, items=0, feedback=0, recommendations=0)
            async with db.engine.begin() as conn:
                await conn.run_sync(
                    lambda c: fill(
                        c,
                        size,
                        start=now,
                        end=now,
                        now=now,
                        upcoming=1.0,
                        ahead=timedelta(days=730),
                    )
                )
    finally:
        await db.dispose()


async def measure(path: Path, members: int, workdir: Path) -> dict[str, float]:
    async with Emulator() as emu:
        emu.add_user("Koordination", user_id=COORDINATOR_ID, language_code="de")
        for n in range(members):
            emu.add_user(f"Mitglied {n}", user_id=member_id(n), language_code="de")
        asker = emu.add_user("Fragende", language_code="de")
        emu.send_text(asker, "/help")
        started = monotonic()
        process = await start_kimbot(
            workdir,
            workdir / f"{path.stem}.log",
            TELEGRAM_BOT_TOKEN=emu.token,
            TELEGRAM_API_URL=emu.base_url,
            DATABASE_URL=f"sqlite:///{path}",
            COORDINATOR_IDS=str(COORDINATOR_ID),
            LOG_LEVEL="WARNING",
        )
        try:
            await emu.wait_for_message(asker, 0, timeout=WAIT)
            answered = monotonic() - started
            at_answer = status_mb(process.pid)
            await asyncio.sleep(SETTLE)
            later = status_mb(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
    return {
        "answered": answered,
        "rss": at_answer["VmRSS"],
        "rss_later": later["VmRSS"],
        "peak": later["VmHWM"],
    }


async def run(members: int, sessions: int) -> dict[str, dict[str, float]]:
    results = {}
    with tempfile.TemporaryDirectory(prefix="kimbot-memory-") as tmp:
        workdir = Path(tmp)
        for label, m, s in (("empty", 0, 0), ("full", members, sessions)):
            path = workdir / f"{label}.db"
            await prepare(path, m, s)
            outcome = await measure(path, m, workdir)
            results[label] = outcome
            print(
                f"  {label:5} ({m} members, {s} sessions): /help answered after {outcome['answered']:.2f} s;"
                f" VmRSS {outcome['rss']:.1f} MB then, {outcome['rss_later']:.1f} MB {SETTLE:.0f} s later;"
                f" peak {outcome['peak']:.1f} MB",
                flush=True,
            )
    return results


async def suite(quick: bool, postgres: str | None) -> list[Row]:
    """Item 3: resident memory with 5,000 members and 10,000 sessions (SQLite only)."""
    if postgres:
        return []
    members, sessions = (1_000, 2_000) if quick else (5_000, 10_000)
    results = await run(members, sessions)
    full, empty = results["full"], results["empty"]
    peak = max(full["peak"], full["rss_later"])
    return [
        Row(
            f"resident memory, {members} members + {sessions} sessions",
            f"{full['rss_later']:.0f} MB (peak {peak:.0f} MB)",
            f"empty db {empty['rss_later']:.0f} MB",
            full["rss_later"] / empty["rss_later"],
            "< 150 MB",
            peak < TARGET_MB,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--sessions", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(run(args.members, args.sessions))


if __name__ == "__main__":
    main()
