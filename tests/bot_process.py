"""`kimbot` as a real process, as an operator starts it.

`kimbot(...)` runs one command in a clean environment (nothing of the test
run's own configuration leaks in) and returns when it ends; `launch` starts
`kimbot run` against the in-process emulator, for the tests that kill it
(SIGKILL) and start it again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot.dev.emulator import Emulator

WAIT = 90.0  # guards against a hang only; not a performance limit
REPO = Path(__file__).resolve().parents[1]

# Everything bot.core.config reads, plus the switch for another .env file.
CONFIG_VARIABLES = {
    "DATABASE_URL",
    "COORDINATOR_IDS",
    "TIMEZONE",
    "DEFAULT_LANGUAGE",
    "REMINDER_OFFSETS",
    "DIGEST_SCHEDULE",
    "JOIN_POLICY",
    "PRIVACY_NOTICE_FILE",
    "LOG_LEVEL",
    *("SMTP_URL", "MAIL_FROM", "MAIL_RATE", "PUBLIC_URL", "WEB_LISTEN", "WEB_PORT"),
}


def clean_env(**variables: str) -> dict[str, str]:
    """This process's environment without any of the bot's configuration, plus `variables`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TELEGRAM_", "WEBHOOK_", "KIMBOT_")) and name not in CONFIG_VARIABLES
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(variables)
    return env


def kimbot(cwd: Path, *args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `kimbot <args>` in `cwd` to its end (`timeout` guards against a hang only)."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


async def launch(
    emulator: Emulator,
    tmp_path: Path,
    database_url: str,
    coordinator_id: int,
    name: str,
    **extra: str,
) -> asyncio.subprocess.Process:
    """Start `kimbot run`; its log goes to `tmp_path/<name>.log`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "REMINDER_"))}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_URL": emulator.base_url,
            "DATABASE_URL": database_url,
            "COORDINATOR_IDS": str(coordinator_id),
            "LOG_LEVEL": "INFO",
            **extra,
        }
    )
    with open(tmp_path / f"{name}.log", "wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run",
            cwd=tmp_path, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip


def logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in sorted(tmp_path.glob("*.log")))


async def stop(*processes: asyncio.subprocess.Process | None) -> None:
    """SIGTERM to those still running, and wait for them."""
    for process in processes:
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), WAIT)
