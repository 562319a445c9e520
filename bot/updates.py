"""Updates: how incoming updates are received and processed.

`Inbox` is the application's update queue. python-telegram-bot confirms an
update to Telegram (the next getUpdates offset, or the webhook's answer 200)
right after putting it in this queue, before a handler has run. The inbox
therefore records the update in the database first: a batch from getUpdates
in one transaction (`InboxBot`), an update from a webhook in `Inbox.put`. A
process killed after that handles the update after its restart (`replay`),
and an update that arrives a second time (Telegram delivering again what was
not confirmed, or another process behind the same webhook) is handled once.
If the database cannot record a batch, getUpdates counts as failed and is
repeated after a pause, without confirming it; a webhook's update is
answered with an error, and Telegram delivers it again. The handler's first
commit marks the update handled, in the same transaction
(storage.inbox_repository); an update whose handler commits nothing is
marked when it has finished. An update that changed nothing and whose answer
Telegram did not take (`answer_failed`: Telegram went away just after
delivering it) is handled again when Telegram answers, or after
`RETRY_PAUSE`, up to `MAX_TRIES` times. Once handled, the record keeps only
the id, for a few days.

`ChatOrderedProcessor` lets updates of different chats run at the same
time (one slow conversation does not hold up the others) while the updates
of one chat run strictly in order, so a person's quick "/join" followed by a
button press is never answered out of order. It also counts finished
updates, so a harness can wait until the bot is idle (`wait_idle`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Update
from telegram.error import NetworkError
from telegram.ext import BaseUpdateProcessor, ExtBot

from storage.database import Database
from storage.inbox_repository import Handling, handling

log = logging.getLogger(__name__)

KEEP_HANDLED = timedelta(days=3)
"""How long the id of a handled update is kept to recognise a repeat (Telegram keeps
unconfirmed updates for 24 hours)."""
PRUNE_EVERY = 500
RETRY_PAUSE = 30.0
"""Seconds until an update whose answer Telegram did not take is handled again."""
MAX_TRIES = 5


class Inbox(asyncio.Queue[object]):
    """The update queue, backed by the `inbox` table once `attach`ed."""

    def __init__(self) -> None:
        super().__init__()
        self._db: Database | None = None
        self._handled = 0
        self._later: dict[int, Update] = {}
        self._tries: dict[int, int] = {}
        self._fetched: dict[int, bool] = {}
        """Updates `record`ed from getUpdates, not yet put: whether each was new."""
        self._failing = False

    def attach(self, db: Database) -> None:
        self._db = db

    async def record(self, updates: Sequence[Update]) -> None:
        """Record a batch fetched with getUpdates, in one transaction (before the next
        getUpdates confirms it). A database fault is raised as a `NetworkError`, so that
        python-telegram-bot fetches the batch again after a pause instead of confirming it."""
        if self._db is None or not updates:
            return
        try:
            new = await self._add(updates)
        except (SQLAlchemyError, OSError) as error:
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
                new = item.update_id in await self._add([item])
            if not new:
                log.debug("update %s arrived again; handled once only", item.update_id)
                return
        await super().put(item)

    async def _add(self, updates: Sequence[Update]) -> set[int]:
        assert self._db is not None
        rows = [
            (u.update_id, u.effective_user.id if u.effective_user else None, u.to_json())
            for u in updates
        ]
        async with self._db.uow() as uow:
            new = await uow.inbox.add_many(rows, _now())
            await uow.commit()
        return new

    async def replay(self, bot: Bot) -> int:
        """Queue the updates a previous process received but did not finish."""
        assert self._db is not None
        async with self._db.uow() as uow:
            await uow.inbox.prune(_now() - KEEP_HANDLED)
            waiting = await uow.inbox.waiting()
            await uow.commit()
        for _, payload in waiting:
            await super().put(Update.de_json(json.loads(payload), bot))
        if waiting:
            log.info("%d update(s) received before the restart are handled now", len(waiting))
        return len(waiting)

    async def handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers of `update`; make sure it ends up marked handled."""
        if not isinstance(update, Update) or self._db is None:
            await coroutine
            return
        current = Handling(update.update_id)
        token = handling.set(current)
        try:
            await coroutine
        finally:
            handling.reset(token)
        if current.unanswered and not current.marked and self._again_later(update):
            return
        self._tries.pop(update.update_id, None)
        self._handled += 1
        if current.marked and self._handled % PRUNE_EVERY:
            return
        async with self._db.uow() as uow:
            if not current.marked:
                await uow.inbox.handled(update.update_id, _now())
            if self._handled % PRUNE_EVERY == 0:
                await uow.inbox.prune(_now() - KEEP_HANDLED)
            await uow.commit()

    def _again_later(self, update: Update) -> bool:
        """Keep an update whose answer Telegram did not take and that changed nothing,
        to handle it again when Telegram answers (`retry_now`) or after a pause."""
        tries = self._tries.get(update.update_id, 0) + 1
        if tries > MAX_TRIES:
            log.warning(
                "update %s not answered after %d tries; given up", update.update_id, tries - 1
            )
            return False
        self._tries[update.update_id] = tries
        self._later[update.update_id] = update
        asyncio.get_running_loop().call_later(RETRY_PAUSE, self._again, update.update_id)
        return True

    def retry_now(self) -> None:
        """Telegram answers again: handle the kept updates now."""
        for update_id in list(self._later):
            self._again(update_id)

    def _again(self, update_id: int) -> None:
        update = self._later.pop(update_id, None)
        if update is not None:
            self.put_nowait(update)  # asyncio.Queue's: it is in the inbox already


def answer_failed() -> None:
    """The update being handled could not be answered: Telegram did not take the
    answer (no connection, timeout, 5xx). If the update changed nothing yet, the
    inbox handles it again later instead of marking it handled."""
    current = handling.get()
    if current is not None:
        current.unanswered = True


class InboxBot(ExtBot[None]):
    """The bot whose getUpdates hands each batch to the `Inbox` to record, in one
    transaction, before python-telegram-bot puts it in the queue and confirms it."""

    def __init__(self, *args: Any, inbox: Inbox, **kwargs: Any) -> None:
        self._inbox = inbox
        super().__init__(*args, **kwargs)

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        await self._inbox.record(updates)
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
