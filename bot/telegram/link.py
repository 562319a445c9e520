"""The link to Telegram: is it answering? Each outage is logged once.

Every HTTP call to the Bot API goes through a `WatchedRequest`, which tells the
`TelegramLink` whether Telegram answered. Timeouts, dropped or refused
connections and answers 5xx are faults; any other answer (also 400 or 403)
shows that Telegram is there. A 429 says nothing about the link.

After `DOWN_AFTER` faults in a row with no answer in between, the link counts
as down: one warning is logged, and the faults that follow only at DEBUG (no
log storm while Telegram is away for minutes). The first answer after that is
logged once, with how long it took and how many calls failed, and the
`on_back` callbacks run (the delivery timer sends what is owed at once).
While the link is down, broadcasts stop trying (`may_try`): every
`PROBE_EVERY` seconds one message may test the line; everything else waits,
without using up its retries, for the link to come back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

DOWN_AFTER = 3
PROBE_EVERY = 10.0


class TelegramLink:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.faults_in_row = 0
        self.down_since: float | None = None
        self.failed_while_down = 0
        self.outages = 0
        self._last_probe = -float("inf")
        self.on_back: list[Callable[[], None]] = []

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def fault(self, description: str) -> None:
        self.faults_in_row += 1
        if self.down:
            self.failed_while_down += 1
            log.debug("Telegram still not answering: %s", description)
            return
        if self.faults_in_row >= DOWN_AFTER:
            self.down_since = self._clock()
            self.failed_while_down = self.faults_in_row
            self.outages += 1
            log.warning(
                "Telegram is not answering (%s). KIM-Bot keeps trying; "
                "what is owed is sent when Telegram answers again.",
                description,
            )
        else:
            log.info("Telegram fault: %s", description)

    def answered(self) -> None:
        self.faults_in_row = 0
        if self.down_since is None:
            return
        lasted = self._clock() - self.down_since
        log.warning(
            "Telegram answers again after %.0f s; %d calls failed meanwhile.",
            lasted,
            self.failed_while_down,
        )
        self.down_since = None
        self.failed_while_down = 0
        for callback in list(self.on_back):
            callback()

    def may_try(self) -> bool:
        """Whether a broadcast message may be sent now (always, unless the link is down)."""
        if not self.down:
            return True
        now = self._clock()
        if now - self._last_probe >= PROBE_EVERY:
            self._last_probe = now
            return True
        return False


class WatchedRequest(HTTPXRequest):
    """python-telegram-bot's HTTP client, reporting each call's outcome to a link."""

    def __init__(self, link: TelegramLink, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.link = link

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            status, payload = await super().do_request(*args, **kwargs)
        except TimedOut as error:
            self.link.fault(f"timed out: {error.message}")
            raise
        except NetworkError as error:
            self.link.fault(error.message)
            raise
        if status >= 500:
            self.link.fault(f"HTTP {status}")
        elif status != 429:
            self.link.answered()
        return status, payload
