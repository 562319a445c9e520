"""Updates: how incoming updates are processed concurrently.

`ChatOrderedProcessor` lets updates of different chats run at the same
time (one slow conversation does not hold up the others) while the updates
of one chat run strictly in order, so a person's quick "/join" followed by a
button press is never answered out of order. It also counts finished
updates, so a harness can wait until the bot is idle (`wait_idle`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class ChatOrderedProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
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
                await coroutine
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
