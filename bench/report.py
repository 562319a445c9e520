"""Report benchmark: `kimbot report` over a full half-year and over one hundredth of it.

    .venv/bin/python bench/report.py [--repeat 3] [--postgres URL]

Two databases are filled by `bench/data.py` (the builder shared with
`bench/digest.py`) with SQLAlchemy core bulk inserts, all in the last
finished half-year (so the report is a complete one):

- full: the five groups, 5,000 members (one group each, 37 organisations),
  2,000 sessions spread over the half-year (one in fifty cancelled) with ten
  answers each, 100,000 agenda items (accepted, proposed, rejected,
  withdrawn), 100 recommendations to two groups each (half closed), and
  200,000 feedback rows (half stances, half comments);
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
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, backend, clean_env, postgres_database  # noqa: E402
from bench.data import LARGE, Size, fill  # noqa: E402
from bot.core.report_period import HalfYear  # noqa: E402
from storage.database import Database  # noqa: E402

TARGET_RATIO = 3.0
TIMEZONE = ZoneInfo("Europe/Berlin")


@asynccontextmanager
async def database(postgres: str | None, workdir: Path, name: str) -> AsyncIterator[str]:
    if postgres:
        async with postgres_database(postgres) as url:
            yield url
    else:
        yield f"sqlite:///{workdir / name}.db"


async def prepare(url: str, size: Size, half: HalfYear) -> None:
    start, end = half.start(TIMEZONE), half.end(TIMEZONE)
    now = datetime.now(UTC)
    db = Database(url)
    try:
        await db.upgrade()
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: fill(c, size, start=start, end=end, now=now))
    finally:
        await db.dispose()


def one_report(url: str, half: HalfYear, out: Path) -> float:
    env = clean_env(DATABASE_URL=url, KIMBOT_ENV_FILE=str(out / "no.env"))
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


async def run(repeat: int, postgres: str | None, full: Size = LARGE) -> dict[str, float]:
    half = HalfYear.containing(datetime.now(UTC), TIMEZONE).previous()
    small = full.scaled(0.01)
    with tempfile.TemporaryDirectory(prefix="kimbot-report-") as tmp:
        workdir = Path(tmp)
        async with (
            database(postgres, workdir, "small") as small_url,
            database(postgres, workdir, "full") as full_url,
        ):
            for label, url, scale in (("small", small_url, small), ("full", full_url, full)):
                began = monotonic()
                await prepare(url, scale, half)
                print(
                    f"Prepared {label}: {scale} in {half.label} ({monotonic() - began:.1f} s)",
                    flush=True,
                )
            times: dict[str, list[float]] = {"small": [], "full": []}
            for n in range(repeat):
                for label, url in (("small", small_url), ("full", full_url)):
                    out = workdir / f"{label}{n}"
                    out.mkdir()
                    elapsed = await asyncio.to_thread(one_report, url, half, out)
                    times[label].append(elapsed)
                    size = sum(p.stat().st_size for p in out.iterdir())
                    print(
                        f"  {label:5} #{n + 1}: {elapsed:6.2f} s ({size // 1024} KiB written)",
                        flush=True,
                    )
    a, b = statistics.median(times["small"]), statistics.median(times["full"])
    verdict = "ok" if b / a < TARGET_RATIO else "over target"
    print()
    print(f"kimbot report {half.label} ({'PostgreSQL' if postgres else 'SQLite'}), median of {repeat}")
    print(f"  one hundredth   {a:6.2f} s")
    print(f"  full            {b:6.2f} s")
    print(f"  full / small    {b / a:6.3f} (target < {TARGET_RATIO}: {verdict})")
    return {"small": a, "full": b}


async def suite(quick: bool, postgres: str | None) -> list[Row]:
    """Item 3: the half-year report at 100 x the data."""
    full = LARGE.scaled(0.1) if quick else LARGE
    factor = "10 x" if quick else "100 x"
    outcome = await run(1 if quick else 3, postgres, full)
    ratio = outcome["full"] / outcome["small"]
    return [
        Row(
            f"kimbot report at {factor} the data ({backend(postgres)})",
            f"{outcome['full']:.2f} s",
            f"{outcome['small']:.2f} s at 1 x",
            ratio,
            "< 3 x",
            ratio < TARGET_RATIO,
        )
    ]


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
