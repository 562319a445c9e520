"""The bot itself: getMe, logOut, close; the command lists (setMyCommands,
getMyCommands, deleteMyCommands, by scope and language); the menu button
(setChatMenuButton, getChatMenuButton); and its name, description and short
description (set/getMyName, set/getMyDescription, set/getMyShortDescription).
"""

from __future__ import annotations

import re
from typing import Any

from ..base import EmulatorBase
from ..calls import CallContext
from ..errors import bad_request
from ..payloads import bot_user
from .registry import METHODS, Handler, method

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")


@method("getMe")
async def get_me(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    return bot_user(emu.bot)


@method("logOut")
async def log_out(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    return True


@method("close")
async def close(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    return True


# ------------------------------------------------------------------- commands


def _scope_key(emu: EmulatorBase, params: dict[str, Any]) -> tuple[str, int | None, int | None, str]:
    scope = params.get("scope") or {"type": "default"}
    language = params.get("language_code") or ""
    if language and not _LANGUAGE_RE.fullmatch(language):
        raise bad_request("invalid language code specified")
    chat_id: int | None = None
    if "chat_id" in scope:
        chat_id = emu.world.resolve_chat(scope["chat_id"]).id
    user_id = scope.get("user_id")
    if user_id is not None and user_id not in emu.world.users:
        raise bad_request("user not found")
    return scope["type"], chat_id, user_id, language


@method("setMyCommands")
async def set_my_commands(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    commands = params["commands"]
    if len(commands) > 100:
        raise bad_request("too many commands")
    for command in commands:
        if not _COMMAND_RE.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"].strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    key = _scope_key(emu, params)
    if commands:
        emu.world.commands[key] = [dict(c) for c in commands]
    else:
        emu.world.commands.pop(key, None)
    return True


@method("getMyCommands")
async def get_my_commands(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    return [dict(c) for c in emu.world.commands.get(_scope_key(emu, params), [])]


@method("deleteMyCommands")
async def delete_my_commands(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    emu.world.commands.pop(_scope_key(emu, params), None)
    return True


# ---------------------------------------------------------------- menu button


@method("setChatMenuButton")
async def set_chat_menu_button(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    chat_id = params.get("chat_id")
    if chat_id is not None:
        chat_id = emu.world.resolve_chat(chat_id).id
    emu.world.menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    chat_id = params.get("chat_id")
    if chat_id is not None:
        chat_id = emu.world.resolve_chat(chat_id).id
    buttons = emu.world.menu_buttons
    return buttons.get(chat_id) or buttons.get(None) or {"type": "default"}


# ------------------------------------------------- name and descriptions


def _bot_text(kind: str, limit: int) -> tuple[Handler, Handler]:
    async def setter(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
        value = params.get(kind) or ""
        if len(value) > limit:
            raise bad_request(f"{kind} is too long")
        emu.world.bot_texts[(kind, params.get("language_code") or "")] = value
        return True

    async def getter(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
        value = emu.world.bot_texts.get((kind, params.get("language_code") or ""), "")
        if kind == "name" and not value:
            value = emu.bot.first_name
        return {kind: value}

    return setter, getter


for _kind, _limit, _suffix in (
    ("name", 64, "Name"),
    ("description", 512, "Description"),
    ("short_description", 120, "ShortDescription"),
):
    _setter, _getter = _bot_text(_kind, _limit)
    METHODS[f"setMy{_suffix}"] = _setter
    METHODS[f"getMy{_suffix}"] = _getter
