"""The JSON shapes of the control API (``control.py``) and the sandbox page.

A message is ``{id, chat_id, seq, from_bot, from, date, text, html, entities,
buttons: [[{text, callback_data?, url?}]], keyboard: {rows: [[text]]} |
{remove: true} | null, document: {name, mime_type, size, file_id, kind, url} |
null, edited, edits, deleted, reply_to}``; ``html`` is rendered from the
entities with all text escaped.
"""

from __future__ import annotations

import json
from typing import Any

from .calls import CallRecord
from .state import CallbackQuery, Chat, SentMessage, User


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "language_code": user.language_code,
        "name": user.full_name,
        "started": user.started,
        "blocked": user.blocked,
    }


def chat_json(chat: Chat) -> dict[str, Any]:
    return {
        "id": chat.id,
        "type": chat.type,
        "title": chat.title if chat.user is None else chat.user.full_name,
        "member_ids": [member.id for member in chat.members],
    }


def message_json(msg: SentMessage, file_url: str = "/_emulator/files/") -> dict[str, Any]:
    document = None
    if msg.document is not None:
        document = {
            "name": msg.document.name,
            "mime_type": msg.document.mime_type,
            "size": len(msg.document.data),
            "file_id": msg.document.file_id,
            "kind": msg.document.kind,
            "url": file_url + msg.document.file_id,
        }
    buttons = [
        [{key: button[key] for key in ("text", "callback_data", "url") if key in button} for button in row]
        for row in (msg.reply_markup or {}).get("inline_keyboard", [])
    ]
    return {
        "id": msg.message_id,
        "chat_id": msg.chat_id,
        "seq": msg.seq,
        "from_bot": msg.from_bot,
        "from": None if msg.sender is None else {"id": msg.sender.id, "name": msg.sender.full_name},
        "date": msg.date,
        "text": msg.text,
        "html": msg.html,
        "entities": msg.entities,
        "buttons": buttons,
        "keyboard": _reply_keyboard(msg),
        "document": document,
        "edited": msg.edited,
        "edits": msg.edits,
        "deleted": msg.deleted,
        "reply_to": msg.reply_to_message_id,
    }


def _reply_keyboard(msg: SentMessage) -> dict[str, Any] | None:
    """A reply keyboard (``{"rows": [[text]]}``) or its removal (``{"remove": true}``)."""
    markup = msg.reply_keyboard
    if not markup:
        return None
    if "keyboard" in markup:
        return {"rows": [[button["text"] for button in row] for row in markup["keyboard"]]}
    if markup.get("remove_keyboard"):
        return {"remove": True}
    return None


def call_json(call: CallRecord) -> dict[str, Any]:
    """A recorded Bot API call; parameters that are not JSON become their ``repr``."""
    return {
        "seq": call.seq,
        "method": call.method,
        "params": _jsonable(call.params),
        "status": call.status,
        "description": call.description,
        "at": call.at,
        "duration": call.duration,
        "chat_id": call.chat_id,
        "fault": call.fault,
    }


def callback_query_json(query: CallbackQuery) -> dict[str, Any]:
    """A button press and the bot's answer to it."""
    return {
        "id": query.id,
        "update_id": query.update_id,
        "user_id": query.user.id,
        "chat_id": query.chat_id,
        "message_id": query.message_id,
        "data": query.data,
        "answered": query.answered,
        "answer_text": query.answer_text,
        "show_alert": query.show_alert,
    }


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        if isinstance(value, dict):
            return {k: _jsonable(v) for k, v in value.items()}
        if isinstance(value, list):
            return [_jsonable(v) for v in value]
        return repr(value)
