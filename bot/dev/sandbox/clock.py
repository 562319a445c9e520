"""The sandbox's clock: real time plus an offset that a person moves forward.

The bot reads the time only through `Runtime.clock` (and the emulator dates
its messages with `World.wall_clock`); in the sandbox both are this clock.
`jump` moves it forward in steps of at most `STEP` and lets the bot's
delivery tick run after each step, so reminders and digests that fall into
the skipped time arrive in order, as they would have. The clock never goes
back: what was sent stays sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

STEP = timedelta(hours=1)
JUMPS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
"""What the page offers: one hour, one day."""


class SandboxClock:
    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        if offset < timedelta(0):
            raise ValueError("the sandbox clock never runs behind real time")
        self.offset = offset
        self._lock = asyncio.Lock()

    def now(self) -> datetime:
        """The bot's `clock`: aware UTC."""
        return datetime.now(UTC) + self.offset

    def wall(self) -> float:
        """The emulator's `wall_clock`: Unix time."""
        return time.time() + self.offset.total_seconds()

    async def jump(self, delta: timedelta, after_step: Callable[[], Awaitable[object]]) -> None:
        """Move forward by `delta`, awaiting `after_step` after every `STEP`.

        Jumps are taken one at a time (two browser tabs may press at once).
        """
        if delta <= timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        async with self._lock:
            remaining = delta
            while remaining > timedelta(0):
                step = min(STEP, remaining)
                self.offset += step
                remaining -= step
                await after_step()


class TimeControl:
    """What the chat page may do with the clock: read it, jump by a name of `JUMPS`."""

    def __init__(
        self,
        clock: SandboxClock,
        timezone: str,
        after_step: Callable[[], Awaitable[object]],
        on_change: Callable[[], object] = lambda: None,
    ) -> None:
        self.clock = clock
        self.timezone = timezone
        self._after_step = after_step
        self._on_change = on_change

    def state(self) -> dict[str, object]:
        return {
            "now": int(self.clock.now().timestamp() * 1000),
            "offset": int(self.clock.offset.total_seconds()),
            "timezone": self.timezone,
            "jumps": list(JUMPS),
        }

    async def jump(self, name: str) -> None:
        """Raises `KeyError` for a jump the page does not offer."""
        delta = JUMPS[name]

        async def step() -> None:
            self._on_change()
            await self._after_step()

        await self.clock.jump(delta, step)
        self._on_change()
