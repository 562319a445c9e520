"""Bot API JSON objects built from the emulator's state.

``message`` (a Message as the bot sees it, in results and in updates),
``callback_query``, ``my_chat_member`` (block/unblock) and ``bot_user``
(getMe). Only fields the real API would send are produced, and only when set.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .state import Chat, SentMessage, User, World


def bot_user(bot: User) -> dict[str, Any]:
    data = bot.to_api()
    data.update(
        can_join_groups=True,
        can_read_all_group_messages=False,
        supports_inline_queries=False,
        can_connect_to_business=False,
        has_main_web_app=False,
    )
    return data


def message(world: World, bot: User, msg: SentMessage, *, nested: bool = False) -> dict[str, Any]:
    chat = world.chats[msg.chat_id]
    sender = bot if msg.from_bot else msg.sender
    data: dict[str, Any] = {"message_id": msg.message_id}
    if sender is not None:
        data["from"] = sender.to_api()
    data["chat"] = chat.to_api()
    data["date"] = msg.date
    if msg.edit_date is not None:
        data["edit_date"] = msg.edit_date
    if msg.reply_to_message_id is not None and not nested:
        replied = world.find_message(msg.chat_id, msg.reply_to_message_id)
        if replied is not None:
            data["reply_to_message"] = message(world, bot, replied, nested=True)
    if msg.document is not None:
        if msg.document.kind == "photo":
            data["photo"] = [photo_size(msg)]
        else:
            data["document"] = msg.document.to_api()
        if msg.text:
            data["caption"] = msg.text
            if msg.entities:
                data["caption_entities"] = [dict(e) for e in msg.entities]
    else:
        data["text"] = msg.text
        if msg.entities:
            data["entities"] = [dict(e) for e in msg.entities]
    if msg.reply_markup is not None:
        data["reply_markup"] = msg.reply_markup
    return data


def photo_size(msg: SentMessage) -> dict[str, Any]:
    assert msg.document is not None
    width, height = image_size(msg.document.data)
    return {
        "file_id": msg.document.file_id,
        "file_unique_id": msg.document.file_unique_id,
        "width": width,
        "height": height,
        "file_size": len(msg.document.data),
    }


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (other formats: a plausible default)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 800, 600


def chat_instance(chat: Chat) -> str:
    return str(int(hashlib.sha256(str(chat.id).encode()).hexdigest()[:15], 16))


def callback_query(world: World, bot: User, query_id: str, user: User, msg: SentMessage, data: str) -> dict[str, Any]:
    return {
        "id": query_id,
        "from": user.to_api(),
        "message": message(world, bot, msg),
        "chat_instance": chat_instance(world.chats[msg.chat_id]),
        "data": data,
    }


def my_chat_member(chat: Chat, user: User, bot: User, old: str, new: str, date: int) -> dict[str, Any]:
    def member(status: str) -> dict[str, Any]:
        item: dict[str, Any] = {"status": status, "user": bot.to_api()}
        if status == "kicked":
            item["until_date"] = 0
        return item

    return {
        "chat": chat.to_api(),
        "from": user.to_api(),
        "date": date,
        "old_chat_member": member(old),
        "new_chat_member": member(new),
    }


def chat_full_info(chat: Chat) -> dict[str, Any]:
    data = chat.to_api()
    data.update(
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types={
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    )
    return data
