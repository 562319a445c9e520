"""Webhook delivery: POST queued updates to the bot's URL, retrying on failure.

While a webhook is set (``setWebhook``), one background task sends the queued
updates, one request each, as JSON, with the header
``X-Telegram-Bot-Api-Secret-Token`` when a ``secret_token`` was set. Like
Telegram, it keeps up to ``max_connections`` requests (setWebhook's
parameter, default 40) in flight at once, while the updates of one chat (for
an update without a chat, of one sender) go one at a time, in the order they
came: the next of that chat only after the one before was confirmed. So a
bot behind a webhook gets updates of different chats in parallel (several
processes behind a proxy each get their share), and a person's steps still
in order.

A 2xx answer confirms the update: only then is it marked delivered
(``Emulator.deliveries``) and removed from the queue. Any other answer or a
connection error is recorded (``last_error_date``, ``last_error_message`` in
getWebhookInfo) and the update is retried after a growing pause (0.05 s,
doubling with each failure of that update up to 2 s); its chat waits
meanwhile, the other chats go on. Unlike Telegram, plain ``http://`` URLs on
any port are accepted, since the bot runs on localhost. Replies carrying a
method in the webhook answer body are not executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .updates import QueuedUpdate, UpdateQueue

RETRY_FIRST = 0.05
RETRY_MAX = 2.0
IDLE_CHECK = 1.0
"""Seconds between two looks at the queue when nothing woke the delivery."""


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    allowed_updates: list[str] | None = None
    has_custom_certificate: bool = False


@dataclass
class WebhookStatus:
    last_error_date: int | None = None
    last_error_message: str | None = None
    attempts: int = 0
    failures: list[str] = field(default_factory=list)


def queue_of(update: QueuedUpdate) -> int | tuple[str, int]:
    """The delivery queue an update belongs to: its chat, else its sender, else
    its own. Updates of one queue are sent one at a time, in order."""
    payload = update.payload
    chat = payload.get("chat")
    if not isinstance(chat, dict):
        message = payload.get("message")
        chat = message.get("chat") if isinstance(message, dict) else None
    if isinstance(chat, dict) and isinstance(chat.get("id"), int):
        return chat["id"]
    sender = payload.get("from") or payload.get("user")
    if isinstance(sender, dict) and isinstance(sender.get("id"), int):
        return sender["id"]
    return ("update", update.update_id)


class _Retries:
    """When each failed update may be sent again, and its next pause."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.pause: dict[int, float] = {}

    def failed(self, update_id: int, now: float) -> None:
        pause = self.pause.get(update_id, RETRY_FIRST)
        self.at[update_id] = now + pause
        self.pause[update_id] = min(pause * 2, RETRY_MAX)

    def succeeded(self, update_id: int) -> None:
        self.at.pop(update_id, None)
        self.pause.pop(update_id, None)


class WebhookDeliverer:
    def __init__(self, queue: UpdateQueue) -> None:
        self.queue = queue
        self.config: WebhookConfig | None = None
        self.status = WebhookStatus()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def active(self) -> bool:
        return self.config is not None

    async def set(self, config: WebhookConfig) -> None:
        await self.clear()
        self.config = config
        self.status = WebhookStatus()
        connections = config.max_connections
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        self._task = asyncio.create_task(self._run(config), name="emulator-webhook")

    async def clear(self) -> None:
        self.config = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.config.url if self.config else "",
            "has_custom_certificate": bool(self.config and self.config.has_custom_certificate),
            "pending_update_count": self.queue.pending,
        }
        if self.config is not None:
            info["max_connections"] = self.config.max_connections
            if self.config.ip_address:
                info["ip_address"] = self.config.ip_address
            if self.config.allowed_updates is not None:
                info["allowed_updates"] = list(self.config.allowed_updates)
        if self.status.last_error_date is not None:
            info["last_error_date"] = self.status.last_error_date
            info["last_error_message"] = self.status.last_error_message
        return info

    async def _run(self, config: WebhookConfig) -> None:
        """Start a request for every update that may go now, up to
        `max_connections` at once; look again when an update came, a request
        ended or a pause ran out."""
        loop = asyncio.get_running_loop()
        signal = self.queue._signal  # noqa: SLF001 - same package
        in_flight: dict[object, asyncio.Task[None]] = {}  # queue -> its request
        retries = _Retries()
        ended = 0  # requests finished so far

        async def deliver(key: object, update: QueuedUpdate) -> None:
            nonlocal ended
            try:
                error = await self._post(config, update.to_api())
                if self.config is not config:
                    return  # cleared meanwhile: the queue is no longer ours
                if error is None:
                    retries.succeeded(update.update_id)
                    self.queue.mark_delivered([update], "webhook")
                    self.queue.remove(update)
                else:
                    self.status.last_error_date = int(time.time())
                    self.status.last_error_message = error
                    self.status.failures.append(error)
                    retries.failed(update.update_id, loop.time())
            finally:
                del in_flight[key]
                ended += 1
                signal.fire()

        def start_what_may_go() -> float | None:
            """Start requests; returns the loop time of the next retry, if any waits."""
            now = loop.time()
            next_retry: float | None = None
            passed: set[object] = set()
            for update in self.queue.peek(self.queue.pending):
                if len(in_flight) >= config.max_connections:
                    break
                key = queue_of(update)
                if key in passed or key in in_flight:
                    continue  # an earlier update of its chat is still on its way or waiting
                passed.add(key)
                at = retries.at.get(update.update_id)
                if at is not None and at > now:
                    next_retry = at if next_retry is None else min(next_retry, at)
                    continue
                in_flight[key] = loop.create_task(deliver(key, update), name=f"emulator-webhook-{update.update_id}")
            return next_retry

        seen = (-1, -1)
        next_retry: float | None = None
        try:
            while self.config is config:
                now = loop.time()
                state = (self.queue.last_id, ended)
                if state != seen or (next_retry is not None and now >= next_retry):
                    seen = state
                    next_retry = start_what_may_go()
                timeout = IDLE_CHECK
                if next_retry is not None:
                    timeout = max(0.0, min(timeout, next_retry - loop.time()))
                await signal.wait(timeout)
        finally:
            tasks = list(in_flight.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _post(self, config: WebhookConfig, body: dict[str, Any]) -> str | None:
        assert self._client is not None
        headers = {}
        if config.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = config.secret_token
        self.status.attempts += 1
        try:
            response = await self._client.post(config.url, json=body, headers=headers)
        except httpx.HTTPError as error:
            return f"Connection failed: {type(error).__name__}"
        if 200 <= response.status_code < 300:
            return None
        return f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"
