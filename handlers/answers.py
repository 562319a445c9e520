"""Answers: what the bot says in answer to an update, sent after its commit.

A handler's replies, edits, button answers, documents and messages to others
are collected as `Outgoing` calls while it runs (`handlers.common.Request`),
and sent by `Answers` once the update's transaction is committed
(`handlers.edge`). When Telegram does not take them (an outage), they are
kept and sent again when it is back (`retry_now`) or after a pause; a person
who blocked the bot is marked unreachable (`blocked`).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.core import people
from storage.database import Database, unavailable
from storage.inbox_repository import handling

log = logging.getLogger(__name__)

ANSWER_RETRY_PAUSE = 30.0
"""Seconds until answers Telegram did not take are tried again (or when it is back)."""
ANSWER_TRIES = 5


class AnswerBot(ExtBot[None]):
    """The bot the handlers answer with (`bot.telegram.inbox.InboxBot` is one)."""

    async def send_answer(self, chat_id: int, text: str, **options: Any) -> None:
        """`send_message` for a message nobody reads again (a handler's answer):
        Telegram's reply, the whole message as sent, is not built into a `Message`,
        which costs a fifth of a millisecond with a keyboard and formatting (as
        much as a statement on the database). Through the same rate limiter."""
        await self._post("sendMessage", {"chat_id": chat_id, "text": text, **options})

    async def edit_answer(self, chat_id: int, message_id: int, text: str | None, **options: Any) -> None:
        """`edit_message_text` (or, without `text`, `edit_message_reply_markup`)
        of a message in a chat, its reply left unread as in `send_answer`."""
        if text is None:
            await self._post("editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id, **options})
        else:
            await self._post("editMessageText", {"chat_id": chat_id, "message_id": message_id, "text": text, **options})


@dataclass
class Outgoing:
    """One call to Telegram in answer to an update, made after its commit."""

    call: Callable[[], Awaitable[object]]
    chat_id: int | None
    """The private chat it goes to (a 403 there: that person blocked the bot)."""
    expires: bool = False
    """A button press's answer: Telegram takes it only for a few seconds."""


class Answers:
    """Sends the answers of handled updates; keeps them when Telegram does not take
    them, and tries again when it is back (`retry_now`) or after a pause."""

    def __init__(self) -> None:
        self._waiting: dict[int, tuple[list[Outgoing], int]] = {}
        self._db: Database | None = None
        self._clock: Callable[[], datetime] | None = None

    async def send(
        self,
        db: Database,
        clock: Callable[[], datetime],
        update_id: int,
        outgoing: list[Outgoing],
        tries: int = 0,
    ) -> None:
        self._db, self._clock = db, clock
        # Sent outside the update's context: what follows (marking a person who
        # blocked the bot) is no part of the update's transaction.
        token = handling.set(None)
        try:
            for index, out in enumerate(outgoing):
                try:
                    await out.call()
                except Forbidden:
                    if out.chat_id is not None:
                        await blocked(db, clock, out.chat_id)
                except BadRequest as error:
                    log.error("Telegram refused an answer: %s", error.message)
                except (NetworkError, RetryAfter) as error:
                    rest = [o for o in outgoing[index:] if not o.expires]
                    self._keep(update_id, rest, tries, error)
                    return
                except TelegramError as error:
                    log.warning("an answer could not be sent: %s: %s", type(error).__name__, error.message)
        finally:
            handling.reset(token)

    def _keep(self, update_id: int, rest: list[Outgoing], tries: int, error: TelegramError) -> None:
        if not rest:
            return
        if tries + 1 >= ANSWER_TRIES:
            log.warning("the answer to update %s was not sent after %d tries; given up", update_id, tries + 1)
            return
        log.info("an answer could not be sent (%s); it is sent when Telegram answers", type(error).__name__)
        self._waiting[update_id] = (rest, tries + 1)
        loop = asyncio.get_running_loop()
        loop.call_later(ANSWER_RETRY_PAUSE, self._again, update_id, context=contextvars.Context())

    def retry_now(self) -> None:
        """Telegram answers again: send what waited."""
        for update_id in list(self._waiting):
            self._again(update_id)

    def _again(self, update_id: int) -> None:
        waiting = self._waiting.pop(update_id, None)
        if waiting is None or self._db is None or self._clock is None:
            return
        rest, tries = waiting
        asyncio.get_running_loop().create_task(self.send(self._db, self._clock, update_id, rest, tries))

    @property
    def waiting(self) -> int:
        return len(self._waiting)


async def blocked(db: Database, clock: Callable[[], datetime], chat_id: int) -> None:
    """Telegram refused a message to this person's private chat: they blocked the bot."""
    try:
        async with db.uow() as uow:
            await people.mark_unreachable(uow, chat_id, clock())
            await uow.commit()
    except Exception as error:
        if not unavailable(error):
            raise
        db.health.failed(error)
        return
    log.info("chat %s blocked the bot; marked unreachable", chat_id)
