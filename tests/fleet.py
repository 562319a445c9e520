"""Several `kimbot run` on one PostgreSQL database behind a reverse proxy, and a
person who registers through them (tests/test_scale_out.py, tests/test_nginx.py).

`Fleet` starts three real processes in webhook mode at the same moment behind
a round-robin proxy (tests/proxies.py) or any other front, such as nginx; it
reads from their logs which process leads. `register` walks a person through
registration, each step answered before the next.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.dev.emulator import Emulator
from bot.dev.emulator.state import User
from tests.bot_process import WAIT, launch, stop
from tests.harness import free_port
from tests.proxies import RoundRobinProxy

SECRET = "scale-out-secret"
LEADS = re.compile(r"process (\d+) \(.*pid (\d+)\) leads now")


class Fleet:
    """Three `kimbot run` behind a proxy (round-robin by default; nginx in test_nginx)."""

    def __init__(
        self,
        emulator: Emulator,
        tmp_path: Path,
        database_url: str,
        coordinator: User,
        front: Callable[[list[int]], Any] | None = None,
    ) -> None:
        self.emulator = emulator
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.coordinator = coordinator
        self.ports = [free_port() for _ in range(3)]
        self.proxy = (front or _round_robin)(self.ports)
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self, **extra: str) -> None:
        await self.proxy.start()
        env = {
            "WEBHOOK_URL": f"{self.proxy.url}/kimbot",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_SECRET": SECRET,
            **extra,
        }
        # All three at the same moment, on an empty database.
        self.processes = list(
            await asyncio.gather(
                *(
                    launch(
                        self.emulator,
                        self.tmp_path,
                        self.database_url,
                        self.coordinator.id,
                        f"p{index}",
                        WEBHOOK_PORT=str(port),
                        **env,
                    )
                    for index, port in enumerate(self.ports)
                )
            )
        )
        await self.emulator.wait_until(self.serving, WAIT)

    def serving(self) -> bool:
        return len(self.emulator.calls_of("setWebhook")) >= 3 and self.leader_pid() is not None

    def log(self, index: int) -> str:
        path = self.tmp_path / f"p{index}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def leader_pid(self) -> int | None:
        """The pid of the process that said last that it leads."""
        latest: tuple[float, int] | None = None
        for index in range(len(self.processes)):
            path = self.tmp_path / f"p{index}.log"
            for match in LEADS.finditer(self.log(index)):
                stamp = path.stat().st_mtime
                if latest is None or stamp >= latest[0]:
                    latest = (stamp, int(match.group(2)))
        return latest[1] if latest else None

    def leader_count(self) -> int:
        return sum(len(LEADS.findall(self.log(i))) for i in range(len(self.processes)))

    async def stop(self) -> None:
        await stop(*self.processes)
        await self.proxy.stop()


def _round_robin(ports: list[int]) -> RoundRobinProxy:
    return RoundRobinProxy([f"http://127.0.0.1:{port}" for port in ports])


async def register(emulator: Emulator, user: User) -> None:
    """Walk through registration as a person does, each step answered before the next."""

    async def answer_after(seen: int) -> None:
        await emulator.wait_until(lambda: len(emulator.messages(user)) > seen, WAIT)

    seen = len(emulator.messages(user))
    emulator.send_text(user, "/start")
    await emulator.wait_until(
        lambda: any("✅ Gelesen" in b[0] for m in emulator.messages(user) for row in m.buttons for b in row),
        WAIT,
    )
    seen = len(emulator.messages(user))
    last = next(m for m in reversed(emulator.messages(user)) if m.buttons)
    emulator.press_button(user, last, "✅ Gelesen")
    await answer_after(seen)
    seen = len(emulator.messages(user))
    emulator.send_text(user, f"{user.first_name} Neu")
    await answer_after(seen)
    seen = len(emulator.messages(user))
    emulator.press_button(user, emulator.messages(user)[-1], "Ohne Organisation weiter")
    await emulator.wait_until(lambda: any("Sie sind registriert" in m.text for m in emulator.messages(user)), WAIT)
