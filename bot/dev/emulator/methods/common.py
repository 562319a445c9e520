"""Steps shared by the methods that send and edit messages: the target chat,
the replied-to message, the reply markup, and the answer's message object."""

from __future__ import annotations

from typing import Any

from ..base import EmulatorBase
from ..calls import CallContext
from ..errors import bad_request
from ..markup import check_reply_markup, inline_markup
from ..payloads import message as message_payload
from ..state import Chat, SentMessage


def target_chat(emu: EmulatorBase, ctx: CallContext, chat_id: int | str) -> Chat:
    """The chat the bot writes to (403 if it may not); noted on the call."""
    chat = emu.world.writable_chat(chat_id)
    ctx.chat_id, ctx.is_group = chat.id, chat.is_group
    return chat


def reply_to(emu: EmulatorBase, chat: Chat, params: dict[str, Any]) -> int | None:
    """The id of the message named by ``reply_parameters``, if in the same chat."""
    reply = params.get("reply_parameters")
    if not reply:
        return None
    target_chat = chat
    if "chat_id" in reply:
        target_chat = emu.world.resolve_chat(reply["chat_id"])
    found = emu.world.find_message(target_chat.id, reply["message_id"])
    if found is None or found.deleted:
        if reply.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return found.message_id if target_chat is chat else None


def split_markup(params: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(inline markup kept on the message, other reply markup)."""
    markup = params.get("reply_markup")
    check_reply_markup(markup)
    inline = inline_markup(markup)
    if inline is not None and not inline["inline_keyboard"]:
        inline = None
    other = markup if markup is not None and "inline_keyboard" not in markup else None
    return inline, other


def bot_message(emu: EmulatorBase, msg: SentMessage) -> dict[str, Any]:
    """The Bot API ``Message`` object of a message the bot sent."""
    return message_payload(emu.world, emu.bot, msg)
