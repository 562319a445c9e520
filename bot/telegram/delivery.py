"""Delivery: broadcasts paced to Telegram's limits, one outcome per message (SPEC 4).

A `Pacer` sends invitations, reminders, recommendations and digests. It keeps
every message within Telegram's limits before it leaves, so Telegram has no
reason to answer 429:

- at most `per_second` messages per second overall, as an even spacing of
  1/`per_second` seconds between two messages (a token bucket that holds one
  token). 29 by default, so a direct answer in the same second still fits
  under Telegram's 30. Even spacing instead of bursts keeps the limit even
  when requests reach Telegram a little earlier or later than planned.
- at least `per_chat_interval` seconds between two messages to the same chat,
  and at most `group_per_minute` messages to a group chat (negative id) in any
  60 seconds (a sliding window).
- one message at a time per chat, so the messages to one chat arrive in the
  order they were handed in, retries included.

Callers are served first come, first served: when a slot is free it goes to
the longest-waiting message whose chat may receive one now; a message to a
chat that must wait does not hold up messages to other chats. Slots are taken
at the moment a message really leaves (`clock()`), never planned ahead, so a
busy event loop that wakes late cannot cause a burst.

Direct answers to a person do not go through a Pacer: they leave at once.
When the bot's rate limiter is a `RetryAfterLimiter`, it reports each of them
and the Pacer counts it against the same limits.

Faults never raise; each message gets a `Delivered`:

- SENT (with `message_id`) only when Telegram accepted the message;
- BLOCKED at once when Telegram answers 403 (blocked bot, deactivated user);
- FAILED at once for a permanent refusal (400: chat not found, bad HTML...);
- 429: wait `retry_after` (the `RetryAfterLimiter` in the bot has then
  already retried) and try again; timeouts, dropped connections and 5xx:
  try again after `backoff`, 2x, 4x ... (each +-25 % at random, so that many
  failed messages do not return at the same moment); after `retries` further
  attempts: FAILED with the error.
- POSTPONED when Telegram does not answer at all (the `TelegramLink` given
  to the Pacer is down): the message is not tried, or its retries stop, and
  the caller keeps it for when Telegram is back. Retries are for a passing
  fault of one message, not for an outage of minutes. Also when `may_send`
  says no at the moment the message would leave (this process stopped
  leading: another one sends it).

A request that timed out may still have been accepted by Telegram, and the
Bot API has no way to ask. Trying again is chosen over losing the message,
so after a timeout a person can, rarely, get a message twice. A cancelled
send (`asyncio.CancelledError`) is never reported and always propagates.

One Pacer per bot: two Pacers do not know of each other's messages.
Logs name chats and errors, never message texts.
"""

from __future__ import annotations

import asyncio
import bisect
import enum
import itertools
import logging
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import telegram
from telegram import LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.telegram.link import TelegramLink
from bot.telegram.ratelimit import RetryAfterLimiter, paced, retry_after_seconds

log = logging.getLogger(__name__)

HTML: dict[str, Any] = {
    "parse_mode": ParseMode.HTML,
    "link_preview_options": LinkPreviewOptions(is_disabled=True),
}
"""How every text message is sent: Telegram's HTML, no link previews (as `handlers.common.HTML`)."""

Markup = (
    telegram.InlineKeyboardMarkup
    | telegram.ReplyKeyboardMarkup
    | telegram.ReplyKeyboardRemove
    | telegram.ForceReply
)

GROUP_WINDOW = 60.0
"""Length in seconds of the window in which `group_per_minute` applies."""

RETRY_AFTER_MARGIN = 0.1
"""Seconds added to Telegram's `retry_after` before trying again."""


class Outcome(enum.Enum):
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    POSTPONED = "postponed"
    """Telegram is not answering at all (`TelegramLink.down`): nothing was decided."""


@dataclass(frozen=True)
class Delivered:
    outcome: Outcome
    message_id: int | None = None
    error: str | None = None
    transient: bool = False
    """FAILED only because a passing fault (429, 5xx, timeout) outlasted the retries."""

    @property
    def sent(self) -> bool:
        return self.outcome is Outcome.SENT


@dataclass(frozen=True)
class Outgoing:
    """One message of a `Pacer.fan_out`."""

    chat_id: int
    text: str
    reply_markup: Markup | None = None


class Schedule:
    """The arithmetic of the limits, without waiting: when may a chat get a message?

    Times are seconds of any monotonic clock. `record` notes a message that
    left at `at`; `global_ready_at` and `chat_ready_at` tell the earliest
    time the next one may leave (overall, and to that chat).
    """

    def __init__(
        self,
        per_second: float = 29,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        group_window: float = GROUP_WINDOW,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        if per_chat_interval < 0:
            raise ValueError("per_chat_interval must not be negative")
        if group_per_minute < 1:
            raise ValueError("group_per_minute must be at least 1")
        self.spacing = 1.0 / per_second
        self.per_chat_interval = per_chat_interval
        self.group_per_minute = group_per_minute
        self.group_window = group_window
        self._global_next = -math.inf
        self._chat_next: dict[int, float] = {}
        self._groups: dict[int, deque[float]] = {}
        self._tidy_at = 4096

    def global_ready_at(self) -> float:
        return self._global_next

    def chat_ready_at(self, chat_id: int, now: float) -> float:
        """When `chat_id` may get its next message, as far as its own limits go."""
        ready = self._chat_next.get(chat_id, -math.inf)
        stamps = self._groups.get(chat_id)
        if stamps:
            self._expire(stamps, now)
            if len(stamps) >= self.group_per_minute:
                ready = max(ready, stamps[-self.group_per_minute] + self.group_window)
        return ready

    def ready_at(self, chat_id: int, now: float) -> float:
        return max(self._global_next, self.chat_ready_at(chat_id, now))

    def record(self, chat_id: int, at: float) -> None:
        """A message to `chat_id` left at `at` (a paced one, or a direct answer)."""
        self._global_next = max(self._global_next, at) + self.spacing
        self._chat_next[chat_id] = max(
            self._chat_next.get(chat_id, -math.inf), at + self.per_chat_interval
        )
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(at)
        if len(self._chat_next) > self._tidy_at:
            self._tidy(at)

    def finished(self, chat_id: int, started: float, at: float) -> None:
        """The call that left at `started` returned at `at`.

        A call that took longer than the chat interval may have been sent again
        inside the bot (429 retried by the rate limiter): the chat then waits a
        full interval from now.
        """
        if at - started >= self.per_chat_interval:
            self._chat_next[chat_id] = max(
                self._chat_next.get(chat_id, -math.inf), at + self.per_chat_interval
            )

    def _expire(self, stamps: deque[float], now: float) -> None:
        horizon = now - self.group_window
        while stamps and stamps[0] <= horizon:
            stamps.popleft()

    def _tidy(self, now: float) -> None:
        self._chat_next = {chat: t for chat, t in self._chat_next.items() if t > now}
        for chat_id in list(self._groups):
            stamps = self._groups[chat_id]
            self._expire(stamps, now)
            if not stamps:
                del self._groups[chat_id]
        self._tidy_at = max(4096, 2 * len(self._chat_next))


class _Ticket:
    __slots__ = ("seq", "chat_id", "future")

    def __init__(self, seq: int, chat_id: int) -> None:
        self.seq = seq
        self.chat_id = chat_id
        self.future: asyncio.Future[float] | None = None


class _Gate:
    """Hands out slots of a `Schedule` to waiting messages, first come first served.

    One task (started when someone waits, ending when nobody does) grants the
    slots. A message owns its chat from its first slot until it is done, so
    messages to one chat leave one after the other, retries included.
    """

    def __init__(
        self,
        schedule: Schedule,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[object]],
    ) -> None:
        self.schedule = schedule
        self._clock = clock
        self._sleep = sleep
        self._seq = itertools.count()
        self._waiting: list[_Ticket] = []  # by seq
        self._owners: dict[int, _Ticket] = {}
        self._pump: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    def ticket(self, chat_id: int) -> _Ticket:
        return _Ticket(next(self._seq), chat_id)

    async def turn(self, ticket: _Ticket) -> float:
        """Wait for a slot for this message; returns the time it was granted."""
        ticket.future = asyncio.get_running_loop().create_future()
        bisect.insort(self._waiting, ticket, key=lambda t: t.seq)
        self._kick()
        try:
            return await ticket.future
        finally:
            self._discard(ticket)  # still waiting if cancelled (granted tickets are gone)

    def finished(self, ticket: _Ticket, started: float) -> None:
        self.schedule.finished(ticket.chat_id, started, self._clock())

    def leave(self, ticket: _Ticket) -> None:
        """The message is done: its chat is free for the next one."""
        self._discard(ticket)
        if self._owners.get(ticket.chat_id) is ticket:
            del self._owners[ticket.chat_id]
            self._kick()

    def _discard(self, ticket: _Ticket) -> None:
        index = bisect.bisect_left(self._waiting, ticket.seq, key=lambda t: t.seq)
        if index < len(self._waiting) and self._waiting[index] is ticket:
            del self._waiting[index]

    def _kick(self) -> None:
        if self._pump is None or self._pump.done():
            self._wake = asyncio.Event()
            self._pump = asyncio.get_running_loop().create_task(self._run(self._wake))
        else:
            assert self._wake is not None
            self._wake.set()

    async def _run(self, wake: asyncio.Event) -> None:
        try:
            while self._waiting:
                wake.clear()
                now = self._clock()
                global_at = self.schedule.global_ready_at()
                if global_at > now:
                    await self._sleep(global_at - now)  # no one may go before
                    continue
                chat_at = self._grant(now)
                if chat_at is None:
                    continue  # granted one: the next slot is `spacing` later
                await self._nap(wake, chat_at - now)
        except BaseException as error:
            for ticket in self._waiting:
                if ticket.future is not None and not ticket.future.done():
                    if isinstance(error, asyncio.CancelledError):
                        ticket.future.cancel()
                    else:
                        ticket.future.set_exception(RuntimeError("the pacer stopped"))
            raise

    def _grant(self, now: float) -> float | None:
        """Grant the slot to the longest-waiting message whose chat is ready.

        Returns None when it did, else when the next chat becomes ready (inf:
        only when some chat is freed).
        """
        earliest = math.inf
        passed: set[int] = set()
        for index, ticket in enumerate(self._waiting):
            chat_id = ticket.chat_id
            if chat_id in passed:
                continue
            passed.add(chat_id)
            owner = self._owners.get(chat_id)
            if owner is not None and owner is not ticket:
                continue
            ready = self.schedule.chat_ready_at(chat_id, now)
            if ready > now:
                earliest = min(earliest, ready)
                continue
            del self._waiting[index]
            assert ticket.future is not None
            if ticket.future.done():  # its caller was cancelled meanwhile
                return None
            self._owners[chat_id] = ticket
            self.schedule.record(chat_id, now)
            ticket.future.set_result(now)
            return None
        return earliest

    async def _nap(self, wake: asyncio.Event, seconds: float) -> None:
        """Sleep `seconds` (forever if inf) or until a message arrives or a chat is freed."""
        if math.isinf(seconds):
            await wake.wait()
            return
        waker = asyncio.ensure_future(wake.wait())
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait({waker, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waker.cancel()
            sleeper.cancel()


class Pacer:
    """Sends broadcast messages within Telegram's limits; see the module docstring."""

    def __init__(
        self,
        bot: telegram.Bot,
        *,
        per_second: float = 29,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        retries: int = 5,
        backoff: float = 1.0,
        link: TelegramLink | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must not be negative")
        self.bot = bot
        self.link = link
        self.retries = retries
        self.backoff = backoff
        self._clock = clock
        self._sleep = sleep
        self._random = random.Random()
        self.schedule = Schedule(per_second, per_chat_interval, group_per_minute)
        self._gate = _Gate(self.schedule, clock, sleep)
        self.may_send: Callable[[], bool] | None = None
        """Asked right before each message leaves; False: POSTPONED, not sent."""
        limiter = getattr(bot, "rate_limiter", None)
        if isinstance(limiter, RetryAfterLimiter):
            limiter.observe(self._direct_message)

    def _direct_message(self, chat_id: int) -> None:
        self.schedule.record(chat_id, self._clock())

    async def send_message(
        self, chat_id: int, text: str, *, reply_markup: Markup | None = None, **kwargs: Any
    ) -> Delivered:
        """A text message in Telegram's HTML without link previews (`kwargs` may override)."""
        options = {**HTML, **kwargs}

        def call() -> Awaitable[Message]:
            return self.bot.send_message(chat_id, text, reply_markup=reply_markup, **options)

        return await self._deliver(chat_id, call)

    async def send_document(
        self,
        chat_id: int,
        document: Any,
        *,
        filename: str,
        caption: str | None = None,
        **kwargs: Any,
    ) -> Delivered:
        """A file (bytes, path, open file, `InputFile` or file_id); the caption in HTML."""
        if hasattr(document, "read"):
            document = document.read()  # read once: every attempt sends the same bytes
        options = {"parse_mode": ParseMode.HTML, **kwargs}

        def call() -> Awaitable[Message]:
            return self.bot.send_document(
                chat_id, document, filename=filename, caption=caption, **options
            )

        return await self._deliver(chat_id, call)

    async def fan_out(self, jobs: Iterable[Outgoing | tuple[int, str]]) -> list[Delivered]:
        """Send many messages at once, still paced; the outcomes in the order of `jobs`."""
        items = [job if isinstance(job, Outgoing) else Outgoing(*job) for job in jobs]
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(
                    self.send_message(item.chat_id, item.text, reply_markup=item.reply_markup)
                )
                for item in items
            ]
        return [task.result() for task in tasks]

    @asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[float]:
        """Wait for a paced slot for one call of your own to `chat_id` (no retries).

        For messages `send_message` and `send_document` do not cover; yields
        the time the slot was granted.
        """
        ticket = self._gate.ticket(chat_id)
        try:
            started = await self._gate.turn(ticket)
            token = paced.set(True)
            try:
                yield started
            finally:
                paced.reset(token)
                self._gate.finished(ticket, started)
        finally:
            self._gate.leave(ticket)

    async def _deliver(self, chat_id: int, call: Callable[[], Awaitable[Message]]) -> Delivered:
        ticket = self._gate.ticket(chat_id)
        try:
            attempt = 0
            while True:
                if self.link is not None and not self.link.may_try():
                    return POSTPONED
                started = await self._gate.turn(ticket)
                if self.may_send is not None and not self.may_send():
                    self._gate.finished(ticket, started)
                    return POSTPONED
                token = paced.set(True)
                try:
                    message = await call()
                except Forbidden as error:
                    log.info("chat %s cannot be reached: %s", chat_id, error.message)
                    return Delivered(Outcome.BLOCKED, error=_describe(error))
                except RetryAfter as error:
                    failure: TelegramError = error
                    wait = retry_after_seconds(error) + RETRY_AFTER_MARGIN
                except BadRequest as error:  # a NetworkError in python-telegram-bot, but permanent
                    log.warning("chat %s refused the message: %s", chat_id, error.message)
                    return Delivered(Outcome.FAILED, error=_describe(error))
                except NetworkError as error:  # TimedOut, dropped connection, 5xx
                    failure = error
                    nominal = self.backoff * 2**attempt
                    wait = nominal * self._random.uniform(0.75, 1.25)
                except TelegramError as error:  # invalid token, chat migrated ...
                    log.warning("could not send to chat %s: %s", chat_id, _describe(error))
                    return Delivered(Outcome.FAILED, error=_describe(error))
                else:
                    log.debug("sent message %s to chat %s", message.message_id, chat_id)
                    return Delivered(Outcome.SENT, message_id=message.message_id)
                finally:
                    paced.reset(token)
                    self._gate.finished(ticket, started)
                if self.link is not None and self.link.down:
                    return POSTPONED
                if attempt >= self.retries:
                    log.warning(
                        "could not send to chat %s after %d attempts: %s",
                        chat_id,
                        attempt + 1,
                        _describe(failure),
                    )
                    return Delivered(Outcome.FAILED, error=_describe(failure), transient=True)
                attempt += 1
                log.info(
                    "chat %s: %s; attempt %d in %.2f s",
                    chat_id,
                    _describe(failure),
                    attempt + 1,
                    wait,
                )
                await self._sleep(wait)
        finally:
            self._gate.leave(ticket)


POSTPONED = Delivered(Outcome.POSTPONED, error="Telegram is not answering")


def _describe(error: TelegramError) -> str:
    return f"{type(error).__name__}: {error.message}"
