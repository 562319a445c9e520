"""Button presses: answerCallbackQuery, once per query, with an optional text
(at most ``CALLBACK_ANSWER_LIMIT`` characters), alert or URL."""

from __future__ import annotations

from typing import Any

from ..base import EmulatorBase
from ..calls import CallContext
from ..errors import bad_request
from ..formatting import CALLBACK_ANSWER_LIMIT
from .registry import method


@method("answerCallbackQuery")
async def answer_callback_query(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    query = emu.world.queries.get(params["callback_query_id"])
    if query is None or query.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.get("text")
    if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    query.answer_text = text
    query.show_alert = bool(params.get("show_alert"))
    query.url = params.get("url")
    ctx.chat_id = query.chat_id
    emu.world.signal.fire()
    return True
