"""Files: sendDocument and sendPhoto (an upload or a known file_id), and getFile.

Uploads are kept in memory up to Telegram's 50 MB; getFile answers the
``file_path`` under which the server's ``/file/bot<token>/`` route serves
the bytes.
"""

from __future__ import annotations

from typing import Any

from ..base import EmulatorBase
from ..calls import CallContext
from ..errors import ApiError, bad_request
from ..formatting import format_caption
from ..spec import Upload
from ..state import Document, StoredFile
from .common import bot_message, reply_to, split_markup, target_chat
from .registry import method

UPLOAD_LIMIT = 50 * 1024 * 1024


def _stored_file(emu: EmulatorBase, value: Upload | str, kind: str) -> StoredFile:
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


async def _send_file(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext, field_name: str, kind: str) -> Any:
    chat = target_chat(emu, ctx, params["chat_id"])
    caption, entities = format_caption(params)
    inline, other = split_markup(params)
    reply_to_id = reply_to(emu, chat, params)
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
        reply_to_message_id=reply_to_id,
    )
    return bot_message(emu, msg)


@method("sendDocument")
async def send_document(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    return await _send_file(emu, params, ctx, "document", "document")


@method("sendPhoto")
async def send_photo(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    return await _send_file(emu, params, ctx, "photo", "photo")


@method("getFile")
async def get_file(emu: EmulatorBase, params: dict[str, Any], ctx: CallContext) -> Any:
    stored = emu.world.files.get(params["file_id"])
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
        "file_path": stored.file_path,
    }
