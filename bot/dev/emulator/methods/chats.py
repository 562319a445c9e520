"""Chats: getChat, getChatMember and sendChatAction."""

from __future__ import annotations

from typing import Any

from ..base import EmulatorBase
from ..calls import CallContext
from ..errors import bad_request
from ..payloads import chat_full_info
from ..state import User
from .common import target_chat
from .registry import method

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip


@method("getChat")
async def get_chat(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    return chat_full_info(emu.world.resolve_chat(params["chat_id"]))


@method("getChatMember")
async def get_chat_member(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    chat = emu.world.resolve_chat(params["chat_id"])
    user_id = params["user_id"]
    user: User | None
    if user_id == emu.bot.id:
        status = "kicked" if chat.user is not None and chat.user.blocked else "member"
        user = emu.bot
    else:
        user = emu.world.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        status = "member" if user in chat.members else "left"
    member: dict[str, Any] = {"status": status, "user": user.to_api()}
    if status == "kicked":
        member["until_date"] = 0
    return member


@method("sendChatAction")
async def send_chat_action(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    target_chat(emu, ctx, params["chat_id"])
    if params["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True
