"""What the benchmarks share: result rows and the table, databases, loop stalls.

A benchmark module that belongs to the suite (`python -m bench`) has an
`async def suite(quick: bool, postgres: str | None) -> list[Row]`; with
`postgres` it measures on PostgreSQL (or returns no rows if it only runs on
SQLite). Its own `main()` keeps printing its detailed report.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from time import monotonic

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from storage.database import Database  # noqa: E402

DB_PREFIX = "kimbot_bench_"


@dataclass
class Row:
    """One line of the suite's table."""

    name: str
    measured: str
    baseline: str
    ratio: float | None
    target: str
    ok: bool | None  # None: no target, information only

    @property
    def verdict(self) -> str:
        return "-" if self.ok is None else "pass" if self.ok else "FAIL"


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table (readable in a terminal too)."""
    header = ("benchmark", "measured", "baseline", "ratio", "target", "result")
    cells = [header] + [
        (
            r.name,
            r.measured,
            r.baseline,
            "-" if r.ratio is None else f"{r.ratio:.2f}",
            r.target,
            r.verdict,
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def backend(postgres: str | None) -> str:
    return "PostgreSQL" if postgres else "SQLite"


@asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database next to `admin_url`, dropped at the end."""
    name = f"{DB_PREFIX}{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        db = Database(admin_url)
        try:
            async with db.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(statement))
        finally:
            await db.dispose()

    await admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def database(postgres: str | None, name: str = "kimbot") -> AsyncIterator[str]:
    """A fresh database: SQLite in a temporary directory, or PostgreSQL next to `postgres`."""
    if postgres:
        async with postgres_database(postgres) as url:
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix="kimbot-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / name}.db"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a `kimbot` subprocess: nothing of the caller's bot settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


async def start_kimbot(workdir: Path, log: Path, **settings: str) -> asyncio.subprocess.Process:
    """`kimbot run` as an operator starts it, in `workdir`, with `settings` as its
    variables (none of the caller's bot settings, no .env file); output into `log`."""
    env = clean_env(KIMBOT_ENV_FILE=str(workdir / "no.env"), **settings)
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run",
            cwd=workdir, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip


class StallMeter:
    """The longest stall of the running event loop.

    A task sleeps `interval` again and again and records by how much each
    sleep overshot: while a callback blocks the loop, nothing else runs, so
    the overshoot is the length of the block (within a millisecond or so).
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.longest = 0.0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = monotonic()
            await asyncio.sleep(self.interval)
            overshoot = monotonic() - before - self.interval
            self.samples += 1
            self.longest = max(self.longest, overshoot)

    async def __aenter__(self) -> StallMeter:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
