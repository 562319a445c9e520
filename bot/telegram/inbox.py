"""Updates: how incoming updates are received and processed.

`Inbox` is the application's update queue. python-telegram-bot confirms an
update to Telegram (the next getUpdates offset, or the webhook's answer 200)
right after putting it in this queue, before a handler has run. The inbox
therefore records the update in the database first, claimed by this process
(storage.cluster): a batch from getUpdates in one transaction (`InboxBot`),
an update from a webhook in `Inbox.put`. An update that arrives a second
time (Telegram delivering again what was not confirmed, or another process
behind the same webhook) is handled once. If the database cannot record a
batch, getUpdates counts as failed and is repeated after a pause, without
confirming it; a webhook's update is answered with an error, and Telegram
delivers it again.

The handler's one transaction marks the update handled (handlers.common).
An update whose handler found the database away is handled again after a
pause (`again`), as often as it takes: it is in the inbox, so nothing is
lost. Updates that a process recorded and then died on (`kill -9`, a lost
machine) are taken over by a live process within `SWEEP_EVERY` seconds of
its death (`sweep`; at start, this is how a restarted process finds what
it left). Once handled, the record keeps only the id, for a few days.

`ChatOrderedProcessor` lets updates of different chats run at the same
time (one slow conversation does not hold up the others) while the updates
of one chat run strictly in order, so a person's quick "/join" followed by a
button press is never answered out of order. It also counts finished
updates, so a harness can wait until the bot is idle (`wait_idle`).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Update
from telegram.error import NetworkError
from telegram.ext import BaseUpdateProcessor

from bot.telegram.link import TelegramLink, WatchedRequest
from handlers.answers import AnswerBot
from storage.database import Database, unavailable
from storage.inbox_repository import Handling, handling

log = logging.getLogger(__name__)

KEEP_HANDLED = timedelta(days=3)
"""How long the id of a handled update is kept to recognise a repeat (Telegram keeps
unconfirmed updates for 24 hours)."""
SWEEP_EVERY = 5.0
"""Seconds between two looks for updates of processes that died."""
PRUNE_EVERY = 120
"""Sweeps between two prunings of old handled records (about ten minutes)."""
AGAIN_FIRST, AGAIN_MAX = 1.0, 15.0
"""Pauses before an update is handled again after the database failed (doubling)."""


class Inbox(asyncio.Queue[object]):
    """The update queue, backed by the `inbox` table once `attach`ed."""

    def __init__(self) -> None:
        super().__init__()
        self._db: Database | None = None
        self._bot: Bot | None = None
        self._tries: dict[int, int] = {}
        """Updates handled again after a fault: how often so far."""
        self._fetched: dict[int, bool] = {}
        """Updates `record`ed from getUpdates, not yet put: whether each was new."""
        self._failing = False
        self._sweeper: asyncio.Task[None] | None = None

    def attach(self, db: Database) -> None:
        self._db = db

    async def record(self, updates: Sequence[Update], sent: Mapping[int, str] | None = None) -> None:
        """Record a batch fetched with getUpdates, in one transaction (before the next
        getUpdates confirms it), each as Telegram `sent` it where known. A database fault
        is raised as a `NetworkError`, so that python-telegram-bot fetches the batch
        again after a pause instead of confirming it."""
        if self._db is None or not updates:
            return
        try:
            new = await self._add(updates, sent or {})
        except (SQLAlchemyError, OSError) as error:
            # Whatever the fault, a batch that is not recorded must not be confirmed.
            if not self._failing:
                self._failing = True
                log.warning(
                    "the inbox cannot record updates (%s); they are fetched again until it can",
                    type(error).__name__,
                )
            raise NetworkError(f"the inbox could not record updates: {type(error).__name__}") from error
        if self._failing:
            self._failing = False
            log.warning("the inbox records updates again")
        self._fetched.update((u.update_id, u.update_id in new) for u in updates)

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and self._db is not None:
            new = self._fetched.pop(item.update_id, None)
            if new is None:  # not from getUpdates (a webhook): record it alone
                new = item.update_id in await self._add([item], {})
            if not new:
                log.debug("update %s arrived again; handled once only", item.update_id)
                return
        await super().put(item)

    async def _add(self, updates: Sequence[Update], sent: Mapping[int, str]) -> set[int]:
        assert self._db is not None
        rows = [
            (u.update_id, u.effective_user.id if u.effective_user else None, sent.get(u.update_id) or u.to_json())
            for u in updates
        ]
        async with self._db.uow() as uow:
            new = await uow.inbox.add_many(rows, _now())
            await uow.commit()
        return new

    async def start(self, bot: Bot) -> None:
        """Queue what processes that stopped left waiting (this one before a restart
        included), then keep looking every `SWEEP_EVERY` seconds."""
        self._bot = bot
        await self.sweep()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever(), name="kimbot-inbox")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            try:
                await self._sweeper
            except asyncio.CancelledError:
                pass
            self._sweeper = None

    async def sweep(self, prune: bool = False) -> int:
        """Take over and queue the waiting updates of processes that are not alive."""
        assert self._db is not None and self._bot is not None
        async with self._db.uow() as uow:
            if prune:
                await uow.inbox.prune(_now() - KEEP_HANDLED)
            taken = await uow.inbox.take_orphans()
            await uow.commit()
        for _, payload in taken:
            await super().put(Update.de_json(json.loads(payload), self._bot))
        if taken:
            log.info("%d update(s) left by a process that stopped are handled now", len(taken))
        return len(taken)

    async def _sweep_forever(self) -> None:
        assert self._db is not None
        sweeps = 0
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            sweeps += 1
            try:
                await self.sweep(prune=sweeps % PRUNE_EVERY == 0)
            except Exception as error:
                if not unavailable(error):
                    log.error("the inbox could not look for waiting updates", exc_info=error)
                else:
                    self._db.health.failed(error)

    async def handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers of `update`; make sure it ends up handled."""
        if not isinstance(update, Update) or self._db is None:
            await coroutine
            return
        current = Handling(update.update_id, tries=self._tries.get(update.update_id, 0))
        token = handling.set(current)
        try:
            await coroutine
        finally:
            handling.reset(token)
        if not current.marked and not current.again:
            # No handler took it (or one without a transaction of its own).
            try:
                async with self._db.uow() as uow:
                    await uow.inbox.handled(update.update_id, _now())
                    await uow.commit()
            except Exception as error:
                if not unavailable(error):
                    raise
                self._db.health.failed(error)
                current.again = True
        if current.again:
            self._again_later(update, current.tries)
        else:
            self._tries.pop(update.update_id, None)

    def _again_later(self, update: Update, tries: int) -> None:
        """Handle the update again after a pause (the database failed meanwhile)."""
        self._tries[update.update_id] = tries + 1
        pause = min(AGAIN_MAX, AGAIN_FIRST * 2**tries)
        # From an empty context: the update's own context is over.
        asyncio.get_running_loop().call_later(
            pause, self.put_nowait, update, context=contextvars.Context()
        )  # asyncio.Queue's put: it is in the inbox already


class UpdatesRequest(WatchedRequest):
    """The HTTP client of getUpdates: it also keeps each update of the last answer as
    Telegram sent it, for the inbox to record. Writing an `Update` back as JSON
    (`to_json`) cost more than the rest of recording it."""

    def __init__(self, link: TelegramLink, **kwargs: Any) -> None:
        super().__init__(link, **kwargs)
        self.sent: dict[int, str] = {}

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        status, payload = await super().do_request(*args, **kwargs)
        self.sent = _as_sent(payload) if status == 200 else {}
        return status, payload


def _as_sent(payload: bytes) -> dict[int, str]:
    """Each update of a getUpdates answer as JSON, by its id (none if the answer is not one)."""
    try:
        result = json.loads(payload).get("result")
    except (ValueError, AttributeError):
        return {}
    if not isinstance(result, list):
        return {}
    return {
        update["update_id"]: json.dumps(update, ensure_ascii=False)
        for update in result
        if isinstance(update, dict) and isinstance(update.get("update_id"), int)
    }


class InboxBot(AnswerBot):
    """The bot whose getUpdates hands each batch to the `Inbox` to record, in one
    transaction, before python-telegram-bot puts it in the queue and confirms it."""

    def __init__(self, *args: Any, inbox: Inbox, get_updates_request: UpdatesRequest, **kwargs: Any) -> None:
        self._inbox = inbox
        self._updates_request = kwargs["get_updates_request"] = get_updates_request
        super().__init__(*args, **kwargs)

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        await self._inbox.record(updates, self._updates_request.sent)
        return updates


def _now() -> datetime:
    """The inbox keeps Telegram's real time, whatever the bot's clock says."""
    return datetime.now(UTC)


class ChatOrderedProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64, inbox: Inbox | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self.inbox = inbox
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._changed = asyncio.Condition()
        self.started = 0
        self.finished = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        self.started += 1
        try:
            async with lock:
                if self.inbox is None:
                    await coroutine
                else:
                    await self.inbox.handle(update, coroutine)
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
            self.finished += 1
            async with self._changed:
                self._changed.notify_all()

    async def wait_finished(self, count: int) -> None:
        """Wait until at least `count` updates have been processed completely."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.finished >= count)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _chat_key(update: object) -> int:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return 0
