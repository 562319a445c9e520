"""The Bot API methods the emulator implements, registered by name.

Each implementation receives the emulator, the already validated and typed
parameters (see ``spec.py``) and the ``CallContext``; it returns the
``result`` of the answer or raises ``ApiError``. Methods present in the
specification but absent from ``METHODS`` are answered 501 by the dispatcher.

Implemented: getMe, logOut, close; getUpdates, setWebhook, deleteWebhook,
getWebhookInfo; sendMessage, sendDocument, sendPhoto, editMessageText,
editMessageCaption, editMessageReplyMarkup, deleteMessage, deleteMessages,
answerCallbackQuery, getFile, sendChatAction; setMyCommands, getMyCommands,
deleteMyCommands, setChatMenuButton, getChatMenuButton, set/getMyName,
set/getMyDescription, set/getMyShortDescription; getChat, getChatMember.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import payloads
from .errors import ApiError, bad_request, conflict, not_implemented
from .formatting import CALLBACK_ANSWER_LIMIT, format_caption, format_text
from .markup import check_reply_markup, inline_markup
from .spec import Upload
from .state import Chat, Document, SentMessage, StoredFile, User, Version
from .webhook import WebhookConfig

if TYPE_CHECKING:
    from .emulator import Emulator

UPLOAD_LIMIT = 50 * 1024 * 1024
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


@dataclass
class CallContext:
    """One HTTP call: lets long polls notice a dropped client or a newer poll."""

    method: str
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    chat_id: int | None = None
    is_group: bool = False


Handler = Callable[["Emulator", dict[str, Any], CallContext], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name] = handler
        return handler

    return register


# ---------------------------------------------------------------------- helpers


def _target(emu: Emulator, ctx: CallContext, chat_id: int | str) -> Chat:
    chat = emu.world.writable_chat(chat_id)
    ctx.chat_id, ctx.is_group = chat.id, chat.is_group
    return chat


def _reply_to(emu: Emulator, chat: Chat, params: dict[str, Any]) -> int | None:
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


def _markup(params: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(inline markup kept on the message, other reply markup)."""
    markup = params.get("reply_markup")
    check_reply_markup(markup)
    inline = inline_markup(markup)
    if inline is not None and not inline["inline_keyboard"]:
        inline = None
    other = markup if markup is not None and "inline_keyboard" not in markup else None
    return inline, other


def _bot_message(emu: Emulator, msg: SentMessage) -> dict[str, Any]:
    return payloads.message(emu.world, emu.bot, msg)


def _editable(emu: Emulator, ctx: CallContext, params: dict[str, Any]) -> SentMessage:
    if params.get("inline_message_id") is not None:
        raise bad_request("message to edit not found")
    if params.get("chat_id") is None:
        raise bad_request("parameter 'chat_id' is required")
    if params.get("message_id") is None:
        raise bad_request("parameter 'message_id' is required")
    chat = _target(emu, ctx, params["chat_id"])
    msg = emu.world.find_message(chat.id, params["message_id"])
    if msg is None or msg.deleted:
        raise bad_request("message to edit not found")
    if not msg.from_bot:
        raise bad_request("message can't be edited")
    return msg


def _apply_edit(
    emu: Emulator,
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
    return _bot_message(emu, msg)


def _stored_file(emu: Emulator, value: Upload | str, kind: str) -> StoredFile:
    if isinstance(value, Upload):
        if not value.data:
            raise bad_request("file must be non-empty")
        if len(value.data) > UPLOAD_LIMIT:
            raise ApiError(413, "Request Entity Too Large")
        name = value.filename or ("photo.jpg" if kind == "photo" else "document")
        mime = value.content_type or "application/octet-stream"
        return emu.world.store_file(value.data, name, mime, kind)
    stored = emu.world.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return stored


def _scope_key(emu: Emulator, params: dict[str, Any]) -> tuple[str, int | None, int | None, str]:
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


# ------------------------------------------------------------------------ bot


@method("getMe")
async def get_me(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    return payloads.bot_user(emu.bot)


@method("logOut")
async def log_out(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    return True


@method("close")
async def close(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    return True


# -------------------------------------------------------------------- updates


@method("getUpdates")
async def get_updates(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    if emu.webhook.active:
        raise conflict(
            "can't use getUpdates method while webhook is active; use deleteWebhook to "
            "delete the webhook first"
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
            raise conflict(
                "terminated by other getUpdates request; make sure that only one bot "
                "instance is running"
            )
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
async def set_webhook(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
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
async def delete_webhook(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    await emu.webhook.clear()
    if params.get("drop_pending_updates"):
        emu.queue.drop_all()
    return True


@method("getWebhookInfo")
async def get_webhook_info(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    return emu.webhook.info()


# ------------------------------------------------------------------- messages


@method("sendMessage")
async def send_message(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    chat = _target(emu, ctx, params["chat_id"])
    text, entities = format_text(params)
    inline, other = _markup(params)
    reply_to = _reply_to(emu, chat, params)
    emu.check_rate(ctx)
    msg = emu.world.add_message(
        chat,
        from_bot=True,
        sender=None,
        text=text,
        entities=entities,
        reply_markup=inline,
        reply_keyboard=other,
        reply_to_message_id=reply_to,
    )
    return _bot_message(emu, msg)


async def _send_file(
    emu: Emulator, params: dict[str, Any], ctx: CallContext, field_name: str, kind: str
) -> Any:
    chat = _target(emu, ctx, params["chat_id"])
    caption, entities = format_caption(params)
    inline, other = _markup(params)
    reply_to = _reply_to(emu, chat, params)
    stored = _stored_file(emu, params[field_name], kind)
    emu.check_rate(ctx)
    document = Document(
        name=stored.file_name,
        data=stored.data,
        mime_type=stored.mime_type,
        file_id=stored.file_id,
        file_unique_id=stored.file_unique_id,
        kind=kind,
    )
    msg = emu.world.add_message(
        chat,
        from_bot=True,
        sender=None,
        text=caption,
        entities=entities,
        reply_markup=inline,
        reply_keyboard=other,
        document=document,
        reply_to_message_id=reply_to,
    )
    return _bot_message(emu, msg)


@method("sendDocument")
async def send_document(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    return await _send_file(emu, params, ctx, "document", "document")


@method("sendPhoto")
async def send_photo(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    return await _send_file(emu, params, ctx, "photo", "photo")


@method("editMessageText")
async def edit_message_text(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    if params.get("rich_message") is not None:
        raise not_implemented("editMessageText with rich_message")
    if params.get("text") is None:
        raise bad_request("message text is empty")
    msg = _editable(emu, ctx, params)
    if msg.document is not None:
        raise bad_request("there is no text in the message to edit")
    text, entities = format_text(params)
    markup, _ = _markup(params)
    emu.check_rate(ctx)
    return _apply_edit(emu, msg, text, entities, markup)


@method("editMessageCaption")
async def edit_message_caption(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    msg = _editable(emu, ctx, params)
    if msg.document is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = format_caption(params)
    markup, _ = _markup(params)
    emu.check_rate(ctx)
    return _apply_edit(emu, msg, caption, entities, markup)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    msg = _editable(emu, ctx, params)
    markup, _ = _markup(params)
    emu.check_rate(ctx)
    return _apply_edit(emu, msg, msg.text, msg.entities, markup)


@method("deleteMessage")
async def delete_message(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    chat = emu.world.resolve_chat(params["chat_id"])
    ctx.chat_id = chat.id
    msg = emu.world.find_message(chat.id, params["message_id"])
    if msg is None or msg.deleted:
        raise bad_request("message to delete not found")
    msg.deleted = True
    emu.world.touch(msg)
    return True


@method("deleteMessages")
async def delete_messages(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
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


@method("answerCallbackQuery")
async def answer_callback_query(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
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


@method("getFile")
async def get_file(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    stored = emu.world.files.get(params["file_id"])
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
        "file_path": stored.file_path,
    }


@method("sendChatAction")
async def send_chat_action(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    _target(emu, ctx, params["chat_id"])
    if params["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


# ------------------------------------------------------------ commands, menus


@method("setMyCommands")
async def set_my_commands(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
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
async def get_my_commands(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    return [dict(c) for c in emu.world.commands.get(_scope_key(emu, params), [])]


@method("deleteMyCommands")
async def delete_my_commands(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    emu.world.commands.pop(_scope_key(emu, params), None)
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    chat_id = params.get("chat_id")
    if chat_id is not None:
        chat_id = emu.world.resolve_chat(chat_id).id
    emu.world.menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    chat_id = params.get("chat_id")
    if chat_id is not None:
        chat_id = emu.world.resolve_chat(chat_id).id
    buttons = emu.world.menu_buttons
    return buttons.get(chat_id) or buttons.get(None) or {"type": "default"}


def _bot_text(kind: str, limit: int) -> tuple[Handler, Handler]:
    async def setter(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
        value = params.get(kind) or ""
        if len(value) > limit:
            raise bad_request(f"{kind} is too long")
        emu.world.bot_texts[(kind, params.get("language_code") or "")] = value
        return True

    async def getter(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
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


# ---------------------------------------------------------------------- chats


@method("getChat")
async def get_chat(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
    return payloads.chat_full_info(emu.world.resolve_chat(params["chat_id"]))


@method("getChatMember")
async def get_chat_member(emu: Emulator, params: dict[str, Any], ctx: CallContext) -> Any:
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
