"""Delivery: broadcasts paced to Telegram's limits, one outcome per message (SPEC 4).

A `Pacer` sends invitations, reminders, recommendations and digests. It keeps
every message within Telegram's limits before it leaves, so Telegram has no
reason to answer 429:

- at most `per_second` messages per second overall, as an even spacing of
  1/`per_second` seconds between two paced messages (a token bucket that
  holds one token), and at most `per_second` messages of any kind, direct
  answers included, in any second: 30 by default, Telegram's limit. A
  message counts in that second from when it left until Telegram answered
  it, then from the answer, so one that reached Telegram late (a slow
  network, a paused event loop) still counts where Telegram counts it, and
  no second at Telegram holds more than `per_second`.
- at least `per_chat_interval` seconds between two messages to the same chat,
  and at most `group_per_minute` messages to a group chat (negative id) in any
  60 seconds (a sliding window).
- one message at a time per chat, so the messages to one chat arrive in the
  order they were handed in, retries included.

Callers are served first come, first served: when a slot is free it goes to
the longest-waiting message whose chat may receive one now; a message to a
chat that must wait does not hold up messages to other chats. Slots are taken
at the moment a message really leaves (`clock()`), never planned ahead, so a
busy event loop that wakes late cannot cause a burst. (The arithmetic of
the limits and the gate that hands out the slots are in `bot.telegram.pacing`.)

Direct answers to a person do not go through a Pacer: they leave at once.
When the bot's rate limiter is a `RetryAfterLimiter`, it reports each of them
as it leaves, and the Pacer counts it against the same limits (in the one-second window:
answers that left more than a second ago no longer hold a broadcast back).

Faults never raise; each message gets a `Delivered`:

- SENT (with `message_id`) only when Telegram accepted the message;
- BLOCKED at once when Telegram answers 403 (blocked bot, deactivated user);
- FAILED at once for a permanent refusal (400: chat not found, bad HTML...);
- 429: wait `retry_after` (the `RetryAfterLimiter` in the bot has then
  already retried) and try again; no paced message of any chat leaves
  before then (Telegram's flood control is the bot's, not one message's:
  `Schedule.hold`, told by the limiter of every 429 it meets, and here of
  one it let through). Timeouts, dropped connections and 5xx:
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
import enum
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import telegram
from telegram import LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.telegram.link import TelegramLink
from bot.telegram.pacing import Gate, Schedule
from bot.telegram.ratelimit import RetryAfterLimiter, paced, retry_after_seconds

log = logging.getLogger(__name__)

HTML: dict[str, Any] = {
    "parse_mode": ParseMode.HTML,
    "link_preview_options": LinkPreviewOptions(is_disabled=True),
}
"""How every text message is sent: Telegram's HTML, no link previews (as `handlers.common.HTML`)."""

Markup = (
    telegram.InlineKeyboardMarkup | telegram.ReplyKeyboardMarkup | telegram.ReplyKeyboardRemove | telegram.ForceReply
)

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


class Pacer:
    """Sends broadcast messages within Telegram's limits; see the module docstring."""

    def __init__(
        self,
        bot: telegram.Bot,
        *,
        per_second: float = 30,
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
        self._gate = Gate(self.schedule, clock, sleep)
        self.may_send: Callable[[], bool] | None = None
        """Asked right before each message leaves; False: POSTPONED, not sent."""
        limiter = getattr(bot, "rate_limiter", None)
        if isinstance(limiter, RetryAfterLimiter):
            limiter.observe(self._direct_message)
            limiter.on_retry_after(self._hold)

    def _direct_message(self, chat_id: int) -> Callable[[], None]:
        left = self._clock()
        self.schedule.record(chat_id, left, direct=True)
        return lambda: self.schedule.answered(left, self._clock())

    def _hold(self, seconds: float) -> None:
        """Telegram answered 429: no paced message leaves for `seconds`."""
        self.schedule.hold(self._clock() + seconds)

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
            return self.bot.send_document(chat_id, document, filename=filename, caption=caption, **options)

        return await self._deliver(chat_id, call)

    async def fan_out(self, jobs: Iterable[Outgoing | tuple[int, str]]) -> list[Delivered]:
        """Send many messages at once, still paced; the outcomes in the order of `jobs`."""
        items = [job if isinstance(job, Outgoing) else Outgoing(*job) for job in jobs]
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(self.send_message(item.chat_id, item.text, reply_markup=item.reply_markup))
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
                    self._hold(wait)
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
