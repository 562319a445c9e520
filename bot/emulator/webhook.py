"""Webhook delivery: POST queued updates to the bot's URL, retrying on failure.

While a webhook is set (``setWebhook``), one background task sends the queued
updates in order, one request each, as JSON, with the header
``X-Telegram-Bot-Api-Secret-Token`` when a ``secret_token`` was set. A 2xx
answer confirms the update; any other answer or a connection error is recorded
(``last_error_date``, ``last_error_message`` in getWebhookInfo) and retried
after a growing pause (0.05 s doubling up to 2 s). Unlike Telegram, plain
``http://`` URLs on any port are accepted, since the bot runs on localhost.
Replies carrying a method in the webhook answer body are not executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .updates import UpdateQueue

RETRY_FIRST = 0.05
RETRY_MAX = 2.0


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
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0))
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
        pause = RETRY_FIRST
        signal = self.queue._signal  # noqa: SLF001 - same package
        while self.config is config:
            batch = self.queue.peek(1)
            if not batch:
                await signal.wait(1.0)
                continue
            update = batch[0]
            error = await self._post(config, update.to_api())
            if error is None:
                self.queue.mark_delivered([update], "webhook")
                self.queue.remove(update)
                pause = RETRY_FIRST
                continue
            self.status.last_error_date = int(time.time())
            self.status.last_error_message = error
            self.status.failures.append(error)
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX)

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
