"""``EmulatorReading``: what a test reads back, and the waiting helpers.

Reading: the bot's messages as they are now (``messages``, ``history``,
``last_message``), every call (``calls_of``), button presses and the bot's
answers (``callback_answer``), command lists (``commands``, ``commands_for``)
and the hand-over of updates (``deliveries``, ``pending_updates``, hooks).

Waiting: ``wait_until``, ``wait_for_message``, ``wait_fetched``, ``wait_idle``
and the long poll ``changed_messages``; each re-checks on every change of the
world instead of polling.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from .base import ChatRef
from .calls import CallRecord
from .people import EmulatorPeople
from .state import CallbackQuery, SentMessage
from .updates import Delivery


class EmulatorReading(EmulatorPeople):
    # -------------------------------------------------------------- reading

    def messages(self, chat: ChatRef) -> list[SentMessage]:
        """The bot's messages in a chat, in order, as they are now (deleted ones flagged)."""
        return [m for m in self.world.messages.get(self._chat_id(chat), []) if m.from_bot]

    def history(self, chat: ChatRef) -> list[SentMessage]:
        """Every message in the chat, the people's and the bot's."""
        return list(self.world.messages.get(self._chat_id(chat), []))

    def last_message(self, chat: ChatRef) -> SentMessage | None:
        found = self.messages(chat)
        return found[-1] if found else None

    def calls_of(self, method: str) -> list[CallRecord]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    @property
    def callback_queries(self) -> list[CallbackQuery]:
        return list(self.world.queries.values())

    def callback_answer(self, update_id: int) -> CallbackQuery:
        """The button press of that update, with ``answered`` and ``answer_text``."""
        for query in self.world.queries.values():
            if query.update_id == update_id:
                return query
        raise LookupError(f"update {update_id} was no button press")

    def commands(
        self,
        scope: str = "default",
        language_code: str = "",
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[dict[str, Any]]:
        return list(self.world.commands.get((scope, chat_id, user_id, language_code), []))

    @property
    def delivered_update_ids(self) -> list[int]:
        return list(self.queue.delivered_ids)

    def commands_for(self, chat: ChatRef, language_code: str | None = None) -> list[dict[str, Any]]:
        """The command list a person sees in a chat, by Telegram's scope precedence."""
        target = self.chat(chat)
        language = language_code or ""
        if target.user is not None and language_code is None:
            language = target.user.language_code or ""
        kinds = ["chat"]
        kinds += ["all_private_chats"] if target.user is not None else ["all_group_chats"]
        kinds += ["default"]
        for kind in kinds:
            chat_id = target.id if kind == "chat" else None
            for lang in dict.fromkeys([language, ""]):
                found = self.world.commands.get((kind, chat_id, None, lang))
                if found:
                    return [dict(c) for c in found]
        return []

    @property
    def deliveries(self) -> list[Delivery]:
        """Every hand-over of an update to the bot: (update_id, via, at); repeats included."""
        return list(self.queue.deliveries)

    @property
    def delivered_count(self) -> int:
        """How many distinct updates the bot has fetched (getUpdates or webhook)."""
        return len(self.queue.delivered_ids)

    @property
    def pending_updates(self) -> int:
        """Updates enqueued but not yet handed to the bot."""
        return self.queue.undelivered

    @property
    def on_update_delivered(self) -> Callable[[list[int]], None] | None:
        return self.queue.on_delivered

    @on_update_delivered.setter
    def on_update_delivered(self, hook: Callable[[list[int]], None] | None) -> None:
        self.queue.on_delivered = hook

    @property
    def on_update_confirmed(self) -> Callable[[list[int]], None] | None:
        """Called with the ids of updates the bot confirmed (a later getUpdates
        offset, or a webhook answer 2xx): from then on Telegram forgets them."""
        return self.queue.on_confirmed

    @on_update_confirmed.setter
    def on_update_confirmed(self, hook: Callable[[list[int]], None] | None) -> None:
        self.queue.on_confirmed = hook

    # -------------------------------------------------------------- waiting

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Re-check ``predicate`` on every change until it is truthy; returns its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            await self.world.signal.wait(min(remaining, 0.25))

    async def wait_for_message(self, chat: ChatRef, after: int = 0, timeout: float = 5.0) -> SentMessage:
        """Wait until the bot has sent more than ``after`` messages to the chat;
        returns message number ``after`` (0-based)."""

        def ready() -> SentMessage | None:
            found = self.messages(chat)
            return found[after] if len(found) > after else None

        try:
            return await self.wait_until(ready, timeout)
        except TimeoutError:
            count = len(self.messages(chat))
            raise TimeoutError(
                f"the bot sent {count} message(s) to chat {self._chat_id(chat)}, "
                f"waited for more than {after} for {timeout} s"
            ) from None

    async def wait_fetched(self, timeout: float = 5.0) -> None:
        """Wait until the bot has fetched every update enqueued so far."""
        await self.wait_until(lambda: self.queue.undelivered == 0, timeout)

    async def wait_all_delivered(self, timeout: float = 5.0) -> None:
        """Same as ``wait_fetched``."""
        await self.wait_fetched(timeout)

    async def wait_idle(self, quiet: float = 0.2, timeout: float = 10.0, *, fetched: bool = True) -> None:
        """Wait until every update was fetched (unless ``fetched=False``: no bot
        is running), no call is running and no call (other than getUpdates)
        came for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            idle_for = time.monotonic() - self._last_activity
            all_fetched = self.queue.undelivered == 0 or not fetched
            if all_fetched and self._in_flight == 0 and idle_for >= quiet:
                return
            if loop.time() >= deadline:
                raise TimeoutError(f"the bot did not become idle within {timeout} s")
            await self.world.signal.wait(max(0.01, min(quiet - idle_for, 0.25)))

    async def changed_messages(
        self,
        since: int,
        *,
        chat_id: int | None = None,
        timeout: float = 0.0,
        stop: Callable[[], bool] = lambda: False,
    ) -> tuple[int, list[SentMessage]]:
        """Messages created or changed after sequence number ``since`` (long poll).

        Returns early, maybe with none, when ``stop()`` is true after a change.
        """

        if since > self.world.seq:
            since = 0  # the emulator was reset since the caller's last look

        def collect() -> list[SentMessage]:
            chats = [chat_id] if chat_id is not None else list(self.world.messages)
            found = [m for c in chats for m in self.world.messages.get(c, []) if m.seq > since]
            return sorted(found, key=lambda m: m.seq)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = collect()
            remaining = deadline - loop.time()
            if found or remaining <= 0 or self.stopping or stop():
                return self.world.seq, found
            await self.world.signal.wait(remaining)
