"""Injected faults and Telegram's rate limits.

``FaultInjector`` holds rules per method (``"*"`` = any method), each for the
next ``times`` calls, consumed first-in first-out:

- ``status``: answer that HTTP status (500, 502, 503, 429 with ``retry_after``...)
  without applying the call;
- ``delay``: answer ``delay`` seconds late (combined with ``status``: a slow error);
- ``drop``: close the connection without answering, before applying;
- ``drop`` with ``after_apply``: apply the call, then close without answering
  (the bot cannot know that its message went out).

``RateLimiter`` counts successful sending calls (``send*``, ``copyMessage``,
``forwardMessage`` and their plural forms; edits only with ``count_edits``)
over sliding windows, as SPEC section 4 states Telegram's limits: at most
``global_per_second`` messages per second overall, ``per_chat_per_second`` per
chat, and ``group_per_minute`` per group chat. A call over a limit is answered
429 "Too Many Requests: retry after N" with ``parameters.retry_after``, and
recorded in ``too_many_requests``. ``slack`` (default 50 ms) forgives network
jitter: a send counts in a window of length W while it is younger than W - slack.
Off by default; the clock is injectable.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import ApiError, too_many_requests


@dataclass
class Fault:
    method: str
    times: int = 1
    status: int | None = None
    delay: float | None = None
    drop: bool = False
    after_apply: bool = False
    description: str | None = None
    retry_after: int | None = None

    def error(self) -> ApiError | None:
        if self.status is None:
            return None
        if self.status == 429:
            return too_many_requests(self.retry_after or 1)
        reasons = {
            400: "Bad Request: injected fault",
            403: "Forbidden: injected fault",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        description = self.description or reasons.get(self.status, f"Error {self.status}")
        return ApiError(self.status, description)


class FaultInjector:
    def __init__(self) -> None:
        self.rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.times < 1:
            raise ValueError("times must be at least 1")
        if fault.status is None and fault.delay is None and not fault.drop:
            raise ValueError("a fault needs status, delay or drop")
        self.rules.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        """The rule that applies to this call, consuming one of its times."""
        lowered = method.lower()
        for rule in self.rules:
            if rule.method == "*" or rule.method.lower() == lowered:
                rule.times -= 1
                if rule.times <= 0:
                    self.rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        self.rules.clear()


SENDING_METHODS = frozenset(
    name.lower()
    for name in (
        "sendMessage", "sendDocument", "sendPhoto", "sendAudio", "sendVideo",
        "sendAnimation", "sendVoice", "sendVideoNote", "sendMediaGroup", "sendLocation",
        "sendVenue", "sendContact", "sendPoll", "sendDice", "sendSticker", "sendInvoice",
        "sendGame", "sendPaidMedia", "sendChecklist", "copyMessage", "copyMessages",
        "forwardMessage", "forwardMessages",
    )
)  # fmt: skip
EDITING_METHODS = frozenset(
    name.lower()
    for name in (
        "editMessageText", "editMessageCaption", "editMessageMedia",
        "editMessageReplyMarkup", "editMessageLiveLocation", "editMessageChecklist",
    )
)  # fmt: skip


@dataclass
class RateLimits:
    enabled: bool = False
    global_per_second: int = 30
    per_chat_per_second: int = 1
    group_per_minute: int = 20
    count_edits: bool = False
    slack: float = 0.05


@dataclass(frozen=True)
class TooManyRequests:
    at: float
    method: str
    chat_id: int | None
    limit: str  # "global", "chat", "group" or "injected"
    retry_after: int


@dataclass
class _Window:
    length: float
    stamps: deque[float] = field(default_factory=deque)

    def count(self, now: float, slack: float) -> int:
        horizon = now - (self.length - slack)
        while self.stamps and self.stamps[0] <= horizon:
            self.stamps.popleft()
        return len(self.stamps)

    def retry_after(self, now: float, slack: float) -> int:
        wait = self.stamps[0] + self.length - slack - now
        return max(1, math.ceil(wait))


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.limits = RateLimits()
        self.too_many_requests: list[TooManyRequests] = []
        self.reset()

    def reset(self) -> None:
        self._global = _Window(1.0)
        self._chats: dict[int, _Window] = {}
        self._groups: dict[int, _Window] = {}

    def configure(self, limits: RateLimits) -> None:
        self.limits = limits
        self.reset()

    def counts(self, method: str) -> bool:
        lowered = method.lower()
        return lowered in SENDING_METHODS or (self.limits.count_edits and lowered in EDITING_METHODS)

    def check(self, method: str, chat_id: int | None, is_group: bool) -> None:
        """Raise 429 if sending now would exceed a limit (and record it)."""
        if not self.limits.enabled or not self.counts(method):
            return
        now = self.clock()
        slack = self.limits.slack
        windows: list[tuple[str, _Window, int]] = [("global", self._global, self.limits.global_per_second)]
        if chat_id is not None:
            windows.append(
                (
                    "chat",
                    self._chats.setdefault(chat_id, _Window(1.0)),
                    self.limits.per_chat_per_second,
                )
            )
            if is_group:
                windows.append(
                    (
                        "group",
                        self._groups.setdefault(chat_id, _Window(60.0)),
                        self.limits.group_per_minute,
                    )
                )
        for name, window, limit in windows:
            if window.count(now, slack) >= limit:
                retry_after = window.retry_after(now, slack)
                self.too_many_requests.append(TooManyRequests(now, method, chat_id, name, retry_after))
                raise too_many_requests(retry_after)

    def record(self, method: str, chat_id: int | None, is_group: bool) -> None:
        """Count one successful sending call."""
        if not self.limits.enabled or not self.counts(method):
            return
        now = self.clock()
        self._global.stamps.append(now)
        if chat_id is not None:
            self._chats.setdefault(chat_id, _Window(1.0)).stamps.append(now)
            if is_group:
                self._groups.setdefault(chat_id, _Window(60.0)).stamps.append(now)
