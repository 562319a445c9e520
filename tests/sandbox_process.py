"""`kimbot sandbox` as a real process, for the tests that use it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests.harness import free_port

STOP_WAIT = 60.0  # guards against a hang only


@asynccontextmanager
async def running_sandbox(workdir: Path, *args: str) -> AsyncIterator[str]:
    """`kimbot sandbox <args>` in `workdir` (its data in `workdir/sandbox-data`).

    Yields the page's address once it answers; on leaving, stops it with
    SIGTERM and checks that it ended cleanly. Its log is `workdir/sandbox-N.log`.
    The pages of the e-mail links get a free port unless `--pages-port` is given.
    """
    port = free_port()
    if "--pages-port" not in args:
        args = (*args, "--pages-port", str(free_port()))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_", "COORDINATOR_", "REMINDER_"))
    }
    env["LOG_LEVEL"] = "INFO"
    log_path = workdir / f"sandbox-{len(list(workdir.glob('sandbox-*.log')))}.log"
    with open(log_path, "wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port), *args,
            cwd=workdir, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5.0) as client:
            for _ in range(1200):
                if process.returncode is not None:
                    break
                try:
                    if (await client.get("/api/personas")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        assert process.returncode is None, log_path.read_text(errors="replace")
        yield base
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), STOP_WAIT)
    assert process.returncode == 0, "the sandbox stops cleanly on SIGTERM\n" + log_path.read_text(errors="replace")
