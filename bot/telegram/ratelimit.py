"""Rate limiting for the bot itself: honour every 429, delay nothing.

`RetryAfterLimiter` is the python-telegram-bot rate limiter of the bot. It
does not throttle: a direct answer to a person goes out at once and is never
queued behind a broadcast. Broadcasts are paced before they reach the bot, by
`bot.telegram.delivery.Pacer`. When Telegram answers 429 anyway (`RetryAfter`), the
limiter waits `retry_after` plus a small margin and sends the same request
again, up to `max_retries` times, then lets the error through. A direct
answer that meets a passing fault (timeout, dropped connection, 5xx) is sent
again after 1 s and after 2 s more (`network_retries`), so a single fault does
not swallow the answer; broadcasts have their own retries in the Pacer, and
getUpdates its own in python-telegram-bot. After a timeout Telegram may
already have the message, so, rarely, an answer arrives twice.

Messages sent outside a `Pacer` (direct answers) still use Telegram's budget
(30 per second overall, 1 per second per chat, 20 per minute per group). The
limiter tells every `Pacer` attached to it (`Pacer` attaches itself) about each
such message, so the broadcast makes room for it instead of running into 429.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import warnings
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

MESSAGE_METHODS = frozenset(
    (
        "sendMessage", "sendDocument", "sendPhoto", "sendAudio", "sendVideo",
        "sendAnimation", "sendVoice", "sendVideoNote", "sendMediaGroup", "sendLocation",
        "sendVenue", "sendContact", "sendPoll", "sendDice", "sendSticker", "sendInvoice",
        "sendGame", "sendPaidMedia", "sendChecklist", "copyMessage", "copyMessages",
        "forwardMessage", "forwardMessages",
    )
)  # fmt: skip
"""Bot API methods that put a message into a chat: what Telegram's limits count."""

paced: contextvars.ContextVar[bool] = contextvars.ContextVar("paced", default=False)
"""True while a `Pacer` makes a call: the Pacer has already counted that message."""


def retry_after_seconds(error: RetryAfter) -> float:
    """`error.retry_after` in seconds.

    python-telegram-bot 22.2+ returns a `timedelta` when `PTB_TIMEDELTA` is
    set (the documented opt-in) and an int with a deprecation warning
    otherwise; both are accepted, and the warning is not raised here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


Answered = Callable[[], None]
SendObserver = Callable[[int], Answered | None]
HoldObserver = Callable[[float], None]


class RetryAfterLimiter(BaseRateLimiter[int]):
    """Send every request at once; on 429 wait `retry_after` + `margin` and retry.

    `rate_limit_args` of a bot call (an int), when given, replaces
    `max_retries` for that call.
    """

    __slots__ = ("max_retries", "network_retries", "margin", "_sleep", "_observers", "_holders")

    def __init__(
        self,
        max_retries: int = 5,
        *,
        network_retries: int = 2,
        margin: float = 0.1,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if max_retries < 0 or network_retries < 0:
            raise ValueError("retries must not be negative")
        self.max_retries = max_retries
        self.network_retries = network_retries
        self.margin = margin
        self._sleep = sleep
        self._observers: list[weakref.WeakMethod[SendObserver]] = []
        self._holders: list[weakref.WeakMethod[HoldObserver]] = []

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def observe(self, observer: SendObserver) -> None:
        """Call `observer(chat_id)` for every message sent outside a Pacer, as it leaves.

        Each attempt counts, also one Telegram then refuses: told only once an
        answer had come back, a Pacer would not know of the messages on their
        way and could fill the same second with a broadcast. What `observer`
        returns, if anything, is called when the attempt has ended (answered,
        refused or failed): Telegram took the message at some time between.

        `observer` must be a bound method; it is held weakly, so an observer that
        is no longer used elsewhere goes away by itself.
        """
        self._observers.append(weakref.WeakMethod(observer))

    def on_retry_after(self, observer: HoldObserver) -> None:
        """Call `observer(seconds)` whenever Telegram answers 429 with `retry_after`:
        Telegram's flood control is the bot's, not one message's, so a `Pacer`
        sends nothing more until then. Held weakly, as in `observe`."""
        self._holders.append(weakref.WeakMethod(observer))

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        max_retries = self.max_retries if rate_limit_args is None else rate_limit_args
        network_retries = 0 if paced.get() or endpoint == "getUpdates" else self.network_retries
        attempt = failed = 0
        while True:
            answered = self._tell(endpoint, data)  # counted as it leaves, whatever Telegram then answers
            try:
                return await callback(*args, **kwargs)
            except BadRequest:
                raise
            except NetworkError:
                if failed >= network_retries:
                    raise
                failed += 1
                wait = float(failed)
            except RetryAfter as error:
                wait = retry_after_seconds(error) + self.margin
                self._holders = _notify(self._holders, wait)  # also when giving up: the flood control holds
                if attempt >= max_retries:
                    log.warning("%s: still 429 after %d retries", endpoint, attempt)
                    raise
                attempt += 1
                log.info("%s: 429, retry %d in %.1f s", endpoint, attempt, wait)
            finally:
                _call_each(answered)
            await self._sleep(wait)

    def _tell(self, endpoint: str, data: dict[str, Any]) -> list[Answered]:
        """Tell the observers of a direct message leaving; what to call when it has ended."""
        if not self._observers or paced.get() or endpoint not in MESSAGE_METHODS:
            return []
        chat_id = data.get("chat_id")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        if not isinstance(chat_id, int):
            return []  # "@channelname": cannot be matched with a numeric chat id
        answered: list[Answered] = []
        self._observers = _notify(self._observers, chat_id, answered)
        return answered


def _notify(refs: list[Any], value: Any, returned: list[Any] | None = None) -> list[Any]:
    """Call each observer still alive with `value`; the references still alive.

    What the observers return (other than None) is added to `returned`.
    """
    alive = []
    for ref in refs:
        observer = ref()
        if observer is None:
            continue
        alive.append(ref)
        try:
            result = observer(value)
        except Exception:  # accounting must never turn a sent message into an error
            log.exception("an observer of the rate limiter failed")
            continue
        if returned is not None and result is not None:
            returned.append(result)
    return alive


def _call_each(callbacks: list[Answered]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # as in `_notify`
            log.exception("an observer of the rate limiter failed")
