"""Answers of the other processes in the leader's broadcasts (SPEC 12, 16).

Telegram's 30 messages a second hold for the bot as a whole, and with several
processes only the leader sends broadcasts; its `Pacer` makes room for the
direct answers it knows of. The followers' answers it cannot see, so each
follower tells the leader of them (`storage.cluster.Cluster.tell_leader`, a
NOTIFY on PostgreSQL): which chat, and how long ago it left.

`ShareAnswers` does both sides in every process. As a follower it notes every
direct answer as it leaves (an observer of the `RetryAfterLimiter`) and sends
the notes at once, the ones that leave meanwhile in the next note, at most
one note every `EVERY` seconds (an answer that waited a second or more is
left out: Telegram no longer counts it). As the leader it counts the answers noted by
the others in its `Pacer`'s schedule, each at the moment it left (the note's
age taken from the leader's clock: the processes' clocks need not agree; the
note's own way of a few milliseconds is not counted). A note lost while the
database is away costs at most a 429, which the bot then waits out.

A note: `chat:age` pairs separated by commas, the age in milliseconds, e.g.
`812345678:12,-1001234:3`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from bot.telegram.delivery import Pacer
from bot.telegram.pacing import GLOBAL_WINDOW
from bot.telegram.ratelimit import RetryAfterLimiter
from storage.cluster import Cluster

log = logging.getLogger(__name__)

EVERY = 0.02
"""Seconds between two notes of one process (the answers in between wait for the next)."""
MOST_PER_NOTE = 400
"""Answers in one note at most (PostgreSQL takes a NOTIFY of up to 8,000 bytes)."""


class ShareAnswers:
    """Followers tell the leader of their direct answers; the leader counts them."""

    def __init__(
        self,
        limiter: RetryAfterLimiter,
        pacer: Pacer,
        cluster: Cluster,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pacer = pacer
        self.cluster = cluster
        self._clock = clock
        self._waiting: list[tuple[int, float]] = []
        self._sender: asyncio.Task[None] | None = None
        limiter.observe(self._answered)
        cluster.on_note(self._heard)

    async def stop(self) -> None:
        """Stop sending notes (what waits is not needed once this process stops)."""
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None

    def _answered(self, chat_id: int) -> None:
        """A direct answer to `chat_id` leaves this process."""
        if self.cluster.leading:
            return  # the leader's own Pacer has counted it
        self._waiting.append((chat_id, self._clock()))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send(), name="kimbot-share-answers")

    async def _send(self) -> None:
        while self._waiting:
            now = self._clock()
            batch, self._waiting = self._waiting[:MOST_PER_NOTE], self._waiting[MOST_PER_NOTE:]
            # An answer older than a second is out of Telegram's second already.
            fresh = [(chat, now - at) for chat, at in batch if now - at < GLOBAL_WINDOW]
            if fresh:
                await self.cluster.tell_leader(",".join(f"{chat}:{round(age * 1000)}" for chat, age in fresh))
            await asyncio.sleep(EVERY)

    def _heard(self, note: str) -> None:
        """Another process answered the chats of `note`: count them in the leader's schedule."""
        now = self._clock()
        try:
            answers = [(int(chat), int(age)) for chat, age in (pair.split(":") for pair in note.split(","))]
        except ValueError:
            log.warning("a note of another process could not be read")
            return
        for chat, age in answers:
            self.pacer.schedule.record(chat, now - age / 1000, direct=True)
