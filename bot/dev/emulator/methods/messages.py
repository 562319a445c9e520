"""Text messages: sendMessage, the edits (editMessageText, editMessageCaption,
editMessageReplyMarkup), deleteMessage and deleteMessages.

An edit that changes nothing is refused like Telegram does ("message is not
modified"); every accepted edit keeps the previous version in the message's
history.
"""

from __future__ import annotations

from typing import Any

from ..base import EmulatorBase
from ..calls import CallContext
from ..errors import bad_request, not_implemented
from ..formatting import format_caption, format_text
from ..state import SentMessage, Version
from .common import bot_message, reply_to, split_markup, target_chat
from .registry import method

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


@method("sendMessage")
async def send_message(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    chat = target_chat(emu, ctx, params["chat_id"])
    text, entities = format_text(params)
    inline, other = split_markup(params)
    reply_to_id = reply_to(emu, chat, params)
    emu.check_rate(ctx)
    msg = emu.world.add_message(
        chat,
        from_bot=True,
        sender=None,
        text=text,
        entities=entities,
        reply_markup=inline,
        reply_keyboard=other,
        reply_to_message_id=reply_to_id,
    )
    return bot_message(emu, msg)


# ---------------------------------------------------------------------- edits


def _editable(emu: EmulatorBase, ctx: CallContext, params: dict[str, Any]) -> SentMessage:
    if params.get("inline_message_id") is not None:
        raise bad_request("message to edit not found")
    if params.get("chat_id") is None:
        raise bad_request("parameter 'chat_id' is required")
    if params.get("message_id") is None:
        raise bad_request("parameter 'message_id' is required")
    chat = target_chat(emu, ctx, params["chat_id"])
    msg = emu.world.find_message(chat.id, params["message_id"])
    if msg is None or msg.deleted:
        raise bad_request("message to edit not found")
    if not msg.from_bot:
        raise bad_request("message can't be edited")
    return msg


def _apply_edit(
    emu: EmulatorBase,
    msg: SentMessage,
    text: str,
    entities: list[dict[str, Any]],
    markup: dict[str, Any] | None,
) -> dict[str, Any]:
    if text == msg.text and entities == msg.entities and markup == msg.reply_markup:
        raise bad_request(NOT_MODIFIED)
    msg.history.append(Version(msg.text, msg.entities, msg.reply_markup, msg.edit_date or msg.date))
    msg.text, msg.entities, msg.reply_markup = text, entities, markup
    msg.edit_date = emu.world.now()
    emu.world.touch(msg)
    return bot_message(emu, msg)


@method("editMessageText")
async def edit_message_text(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    if params.get("rich_message") is not None:
        raise not_implemented("editMessageText with rich_message")
    if params.get("text") is None:
        raise bad_request("message text is empty")
    msg = _editable(emu, ctx, params)
    if msg.document is not None:
        raise bad_request("there is no text in the message to edit")
    text, entities = format_text(params)
    markup, _ = split_markup(params)
    emu.check_rate(ctx)
    return _apply_edit(emu, msg, text, entities, markup)


@method("editMessageCaption")
async def edit_message_caption(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    msg = _editable(emu, ctx, params)
    if msg.document is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = format_caption(params)
    markup, _ = split_markup(params)
    emu.check_rate(ctx)
    return _apply_edit(emu, msg, caption, entities, markup)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    msg = _editable(emu, ctx, params)
    markup, _ = split_markup(params)
    emu.check_rate(ctx)
    return _apply_edit(emu, msg, msg.text, msg.entities, markup)


# -------------------------------------------------------------------- deletes


@method("deleteMessage")
async def delete_message(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    chat = emu.world.resolve_chat(params["chat_id"])
    ctx.chat_id = chat.id
    msg = emu.world.find_message(chat.id, params["message_id"])
    if msg is None or msg.deleted:
        raise bad_request("message to delete not found")
    msg.deleted = True
    emu.world.touch(msg)
    return True


@method("deleteMessages")
async def delete_messages(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    chat = emu.world.resolve_chat(params["chat_id"])
    ctx.chat_id = chat.id
    ids = params["message_ids"]
    if not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 identifiers")
    for message_id in ids:
        msg = emu.world.find_message(chat.id, message_id)
        if msg is not None and not msg.deleted:
            msg.deleted = True
            emu.world.touch(msg)
    return True
