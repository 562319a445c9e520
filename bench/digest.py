"""Digest benchmark: `/digest all 30d` on a large database against the same at
one hundredth (`bench/report.py` does the same for `kimbot report`).

    .venv/bin/python bench/digest.py [--repeat 3] [--postgres URL]

Two databases are filled by `bench/data.py` (the builder shared with
`bench/report.py`) with SQLAlchemy core bulk inserts, as if the bot had been
used for half a year (history in the last 180 days, 30 % of the sessions
still to come in the next 60):

| data                      | large   | small (1/100) |
|---------------------------|---------|---------------|
| groups                    | 5       | 5             |
| members                   | 5,000   | 50            |
| sessions (70 % held)      | 2,000   | 20            |
| agenda items              | 100,000 | 1,000         |
| feedback rows (stances and comments, half each) | 200,000 | 2,000 |
| recommendations (to two groups each, half open) | 100 | 1 |

plus an RSVP from ten members for every session held.

`/digest all 30d` runs through the real bot (`build_application` + `running`,
long polling) against the emulator; a coordinator sends the command and the
clock runs until the bot has completely handled it (every answer sent).

Run `--repeat` times on each; printed: every run, the medians, the ratio
large / small (target under 3), the time on the large database (target:
well under a second on SQLite) and the longest stall of the event loop while
the digest runs on the large database (`bench.common.StallMeter`; target
under 100 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.common import Row, StallMeter, backend, postgres_database  # noqa: E402
from bench.data import COORDINATOR_ID, LARGE, Size, fill  # noqa: E402
from bot.core.config import load_settings  # noqa: E402
from bot.dev.emulator import Emulator  # noqa: E402
from bot.telegram.app import build_application, running  # noqa: E402
from bot.telegram.inbox import ChatOrderedProcessor  # noqa: E402
from storage.database import Database  # noqa: E402

TARGET_RATIO = 3.0
WAIT = 300.0  # guards against a hang only
SMALL = LARGE.scaled(0.01)


async def prepare(url: str, size: Size, now: datetime) -> None:
    db = Database(url)
    try:
        await db.upgrade()
        async with db.engine.begin() as conn:
            await conn.run_sync(
                lambda c: fill(c, size, start=now - timedelta(days=180), end=now, now=now, upcoming=0.3)
            )
    finally:
        await db.dispose()


async def time_digest(url: str) -> tuple[float, float]:
    """Seconds from sending `/digest all 30d` until the bot has completely handled it,
    and the longest stall of the event loop meanwhile."""
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            # Each run has a new emulator, whose update ids start again at 1: forget the
            # previous run's updates, or the bot's inbox takes them for repeats and drops them.
            await conn.execute(text("DELETE FROM inbox"))
    finally:
        await db.dispose()
    async with AsyncExitStack() as stack:
        emu = await stack.enter_async_context(Emulator())
        coordinator = emu.add_user("Koordination", user_id=COORDINATOR_ID, language_code="de")
        settings = load_settings(
            {
                "TELEGRAM_BOT_TOKEN": emu.token,
                "TELEGRAM_API_URL": emu.base_url,
                "DATABASE_URL": url,
                "COORDINATOR_IDS": str(COORDINATOR_ID),
                "DIGEST_SCHEDULE": "off",
                "REMINDER_OFFSETS": "1m",
            }
        )
        application = build_application(settings, long_running=True)  # as kimbot run
        processor = application.update_processor
        assert isinstance(processor, ChatOrderedProcessor)
        await stack.enter_async_context(running(application, poll_timeout=1))
        await application.bot_data["deliveries"].tick()  # the first tick's planning is not the digest's work
        before = len(emu.messages(coordinator))
        target = processor.finished + 1
        async with StallMeter() as stalls:
            started = monotonic()
            emu.send_text(coordinator, "/digest all 30d")
            await asyncio.wait_for(processor.wait_finished(target), WAIT)
            elapsed = monotonic() - started
        answers = emu.messages(coordinator)[before:]
        assert answers, "the digest was answered"
        assert not any(c.status != 200 for c in emu.calls), [c for c in emu.calls if c.status != 200][:3]
        return elapsed, stalls.longest


async def build(urls: dict[str, str], now: datetime, large: Size = LARGE) -> None:
    for key, size in (("large", large), ("small", large.scaled(0.01))):
        began = monotonic()
        await prepare(urls[key], size, now)
        print(f"Prepared {key}: {size} ({monotonic() - began:.1f} s)", flush=True)


async def measure(urls: dict[str, str], repeat: int) -> dict[str, float]:
    results: dict[str, list[float]] = {}
    stall = 0.0
    for n in range(repeat):
        for key in ("small", "large"):
            digest, stalled = await time_digest(urls[key])
            results.setdefault(key, []).append(digest)
            if key == "large":
                stall = max(stall, stalled)
            print(
                f"  #{n + 1} {key:5}: /digest all 30d {digest:6.3f} s (longest loop stall {stalled * 1000:.1f} ms)",
                flush=True,
            )
    small = statistics.median(results["small"])
    large = statistics.median(results["large"])
    ratio = large / small
    verdict = "ok" if ratio < TARGET_RATIO else "over target"
    print()
    print(f"/digest all 30d, median of {repeat}")
    print(
        f"  small {small:6.3f} s  large {large:6.3f} s  large/small {ratio:5.2f} (target < {TARGET_RATIO:.0f}: {verdict})"
    )
    print(f"  longest loop stall on the large database {stall * 1000:.1f} ms (target < 100 ms)")
    return {"small": small, "large": large, "stall": stall}


async def run(repeat: int, postgres: str | None, large: Size = LARGE) -> dict[str, float]:
    now = datetime.now(UTC)
    async with AsyncExitStack() as stack:
        if postgres:
            urls = {key: await stack.enter_async_context(postgres_database(postgres)) for key in ("large", "small")}
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="kimbot-digest-"))
            urls = {"large": f"sqlite:///{tmp}/large.db", "small": f"sqlite:///{tmp}/small.db"}
        await build(urls, now, large)
        return await measure(urls, repeat)


async def suite(quick: bool, postgres: str | None) -> list[Row]:
    """Item 3 (digest at 100 x the data) and item 4 (loop stall during the digest)."""
    large = LARGE.scaled(0.1) if quick else LARGE
    factor = "10 x" if quick else "100 x"
    outcome = await run(1 if quick else 3, postgres, large)
    ratio = outcome["large"] / outcome["small"]
    return [
        Row(
            f"/digest all 30d at {factor} the data ({backend(postgres)})",
            f"{outcome['large']:.3f} s",
            f"{outcome['small']:.3f} s at 1 x",
            ratio,
            "< 3 x",
            ratio < TARGET_RATIO,
        ),
        Row(
            f"loop stall during /digest, large db ({backend(postgres)})",
            f"{outcome['stall'] * 1000:.1f} ms",
            "-",
            None,
            "< 100 ms",
            outcome["stall"] < 0.1,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="fresh PostgreSQL databases on this server (e.g. postgresql://postgres@127.0.0.1:5432/postgres) instead of SQLite",
    )
    args = parser.parse_args()
    asyncio.run(run(args.repeat, args.postgres))


if __name__ == "__main__":
    main()
