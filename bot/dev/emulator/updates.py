"""The bot's update queue with Telegram's getUpdates semantics.

- ``push`` appends an update (ids grow by one, starting at 100001);
- ``take(offset, limit)``: updates with ``update_id < offset`` are confirmed
  and forgotten; a negative offset keeps only the last ``-offset`` updates;
  the result is at most ``limit`` updates from the front, which stay queued
  until confirmed by a later offset (or, with a webhook, by a 2xx answer);
- ``allowed_updates`` persists between calls as on Telegram (the default is
  every type except ``chat_member``, ``message_reaction`` and
  ``message_reaction_count``); updates of other types are dropped when met;
- ``delivered_ids`` / ``deliveries`` record every update handed to the bot, by
  getUpdates or webhook, and ``undelivered`` counts those never handed out;
- the hooks ``on_delivered`` and ``on_confirmed`` are called with the ids of
  updates handed to the bot, and of updates it confirmed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .state import Signal

OPT_IN_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
FIRST_UPDATE_ID = 100_001


@dataclass
class QueuedUpdate:
    update_id: int
    kind: str
    payload: dict[str, Any]
    delivered: bool = False

    def to_api(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass(frozen=True)
class Delivery:
    update_id: int
    via: str  # "getUpdates" or "webhook"
    at: float


class UpdateQueue:
    def __init__(self, signal: Signal, clock: Callable[[], float] = time.monotonic) -> None:
        self._signal = signal
        self._clock = clock
        self._next_id = FIRST_UPDATE_ID
        self.reset()
        self.on_delivered: Callable[[list[int]], None] | None = None
        self.on_confirmed: Callable[[list[int]], None] | None = None

    def reset(self) -> None:
        self._items: deque[QueuedUpdate] = deque()
        self.allowed: frozenset[str] | None = None
        self.delivered_ids: dict[int, None] = {}
        self.deliveries: list[Delivery] = []
        self.undelivered = 0
        self.last_id = self._next_id - 1

    def push(self, kind: str, payload: dict[str, Any]) -> int:
        update = QueuedUpdate(self._next_id, kind, payload)
        self._next_id += 1
        self.last_id = update.update_id
        self._items.append(update)
        self.undelivered += 1
        self._signal.fire()
        return update.update_id

    @property
    def next_id(self) -> int:
        return self._next_id

    def continue_from(self, update_id: int) -> None:
        """Number new updates from `update_id` on (never backwards): a restarted
        emulator must not repeat ids a bot has seen, as Telegram never does."""
        self._next_id = max(self._next_id, update_id)
        self.last_id = self._next_id - 1

    @property
    def pending(self) -> int:
        """Updates not yet confirmed (Telegram's pending_update_count)."""
        return len(self._items)

    def set_allowed(self, allowed: list[str] | None) -> None:
        if allowed is None:
            return
        self.allowed = frozenset(allowed) if allowed else None

    def _is_allowed(self, kind: str) -> bool:
        if self.allowed is None:
            return kind not in OPT_IN_TYPES
        return kind in self.allowed

    def _forget(self, update: QueuedUpdate) -> None:
        if not update.delivered:
            self.undelivered -= 1

    def confirm(self, offset: int) -> None:
        """Apply getUpdates' offset: forget what it confirms."""
        confirmed: list[int] = []
        if offset < 0:
            keep = -offset
            while len(self._items) > keep:
                confirmed.append(self._items[0].update_id)
                self._forget(self._items.popleft())
        else:
            while self._items and self._items[0].update_id < offset:
                confirmed.append(self._items[0].update_id)
                self._forget(self._items.popleft())
        self._confirmed(confirmed)

    def _confirmed(self, update_ids: list[int]) -> None:
        if update_ids and self.on_confirmed is not None:
            self.on_confirmed(update_ids)

    def peek(self, limit: int) -> list[QueuedUpdate]:
        """The first ``limit`` queued updates of allowed types (others are dropped)."""
        result: list[QueuedUpdate] = []
        kept: deque[QueuedUpdate] = deque()
        dropped = False
        for update in self._items:
            if not self._is_allowed(update.kind):
                self._forget(update)
                dropped = True
                continue
            kept.append(update)
            if len(result) < limit:
                result.append(update)
        if dropped:
            self._items = kept
        return result

    def mark_delivered(self, updates: list[QueuedUpdate], via: str) -> None:
        if not updates:
            return
        now = self._clock()
        for update in updates:
            if not update.delivered:
                update.delivered = True
                self.undelivered -= 1
            self.delivered_ids[update.update_id] = None
            self.deliveries.append(Delivery(update.update_id, via, now))
        self._signal.fire()
        if self.on_delivered is not None:
            self.on_delivered([u.update_id for u in updates])

    def remove(self, update: QueuedUpdate) -> None:
        """Confirm one update (webhook delivery answered 2xx)."""
        try:
            self._items.remove(update)
        except ValueError:
            return
        self._forget(update)
        self._signal.fire()
        self._confirmed([update.update_id])

    def drop_all(self) -> None:
        while self._items:
            self._forget(self._items.popleft())
        self._signal.fire()
