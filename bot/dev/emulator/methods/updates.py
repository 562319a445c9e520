"""Getting updates: getUpdates (long poll) and the webhook (setWebhook,
deleteWebhook, getWebhookInfo)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from ..base import EmulatorBase
from ..calls import CallContext
from ..errors import bad_request, conflict
from ..webhook import WebhookConfig
from .registry import method

_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


@method("getUpdates")
async def get_updates(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    if emu.webhook.active:
        raise conflict(
            "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
        )
    queue = emu.queue
    limit = max(1, min(100, params.get("limit", 100)))  # Telegram clamps
    timeout = max(0, params.get("timeout", 0))
    queue.set_allowed(params.get("allowed_updates"))
    if "offset" in params:
        queue.confirm(params["offset"])
    token = object()
    emu.poller = token
    emu.world.signal.fire()  # an older waiting poll sees it was superseded
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if emu.poller is not token:
            raise conflict("terminated by other getUpdates request; make sure that only one bot instance is running")
        if emu.webhook.active:
            raise conflict("terminated by setWebhook request")
        if ctx.disconnected.is_set():
            return []
        updates = queue.peek(limit)
        if updates:
            queue.mark_delivered(updates, "getUpdates")
            return [update.to_api() for update in updates]
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0 or emu.stopping:
            return []
        await emu.world.signal.wait(remaining)


@method("setWebhook")
async def set_webhook(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    url = params["url"]
    if not url:
        return await delete_webhook(emu, params, ctx)
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get("secret_token")
    if secret is not None and not _SECRET_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.get("max_connections", 40)
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    if params.get("drop_pending_updates"):
        emu.queue.drop_all()
    emu.queue.set_allowed(params.get("allowed_updates"))
    await emu.webhook.set(
        WebhookConfig(
            url=url,
            secret_token=secret,
            max_connections=max_connections,
            ip_address=params.get("ip_address"),
            allowed_updates=params.get("allowed_updates"),
            has_custom_certificate="certificate" in params,
        )
    )
    emu.world.signal.fire()
    return True


@method("deleteWebhook")
async def delete_webhook(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    await emu.webhook.clear()
    if params.get("drop_pending_updates"):
        emu.queue.drop_all()
    return True


@method("getWebhookInfo")
async def get_webhook_info(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    return emu.webhook.info()
