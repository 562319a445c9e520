"""python-telegram-bot 22's real requests pass the emulator's strict validation."""

from __future__ import annotations

import asyncio
import io
import warnings
from collections.abc import AsyncIterator

import pytest
import tornado.netutil
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MenuButtonCommands,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.dev.emulator import Emulator


@pytest.fixture
async def ptb(emu: Emulator) -> AsyncIterator[Bot]:
    bot = Bot(emu.token, base_url=emu.base_url + "/bot", base_file_url=emu.base_url + "/file/bot")
    async with bot:
        yield bot


def keyboard(*labels: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data) for text, data in labels]])


async def test_get_me_and_bad_token(emu: Emulator, ptb: Bot) -> None:
    me = await ptb.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "kim_test_bot", True)
    with pytest.raises(InvalidToken):
        async with Bot("123456:WRONG", base_url=emu.base_url + "/bot") as wrong:
            await wrong.get_me()


async def test_conversation_with_html_keyboard_edit_and_callback(emu: Emulator, ptb: Bot) -> None:
    alice = emu.add_user("Alice", username="alice", language_code="de")
    sent = await ptb.send_message(
        alice.id,
        "<b>AK EU</b> – Sitzung am <i>Do., 03.12.2026, 14:00 Uhr</i>\nOrt: Rathaus &amp; online",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(("Zusage", "rsvp:1:yes"), ("Absage", "rsvp:1:no")),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        disable_notification=True,
        protect_content=False,
    )
    assert sent.text.startswith("AK EU – Sitzung") and "Rathaus & online" in sent.text
    message = await emu.wait_for_message(alice, after=0, timeout=5)
    assert message.html.startswith("<b>AK EU</b>")
    assert message.buttons == [[("Zusage", "rsvp:1:yes"), ("Absage", "rsvp:1:no")]]

    update_id = emu.press_button(alice, message, "Zusage")
    updates = await ptb.get_updates(timeout=5)
    assert [u.update_id for u in updates] == [update_id]
    query = updates[0].callback_query
    assert query is not None and query.data == "rsvp:1:yes" and query.from_user.id == alice.id
    assert await query.answer("Danke für Ihre Zusage!")
    assert emu.callback_answer(update_id).answer_text == "Danke für Ihre Zusage!"
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await query.answer()

    edited = await ptb.edit_message_text(
        "<b>AK EU</b> – Sie haben zugesagt.",
        chat_id=alice.id,
        message_id=sent.message_id,
        parse_mode=ParseMode.HTML,
    )
    assert edited.text == "AK EU – Sie haben zugesagt."
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await ptb.edit_message_text(
            "<b>AK EU</b> – Sie haben zugesagt.",
            chat_id=alice.id,
            message_id=sent.message_id,
            parse_mode="HTML",
        )
    await ptb.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=keyboard(("Ändern", "rsvp:1:change")))
    assert emu.messages(alice)[0].edits == 2
    reply = await ptb.send_message(
        alice.id,
        "Antwort",
        reply_parameters=ReplyParameters(sent.message_id),
        reply_markup=ReplyKeyboardMarkup([["Ja", "Nein"]]),
    )
    assert reply.reply_to_message is not None and reply.reply_to_message.message_id == sent.message_id
    assert await ptb.delete_message(alice.id, reply.message_id)
    assert await ptb.send_chat_action(alice.id, ChatAction.TYPING)


async def test_updates_with_offset_and_commands(emu: Emulator, ptb: Bot) -> None:
    alice = emu.add_user("Alice", language_code="de")
    first = emu.send_text(alice, "/start invite-abc123")
    second = emu.send_text(alice, "Hallo")
    updates = await ptb.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [first, second]
    assert updates[0].message is not None and updates[0].message.text == "/start invite-abc123"
    assert updates[0].message.entities[0].type == "bot_command"
    assert await ptb.get_updates(offset=second + 1, timeout=0) == ()
    assert emu.pending_updates == 0 and emu.queue.pending == 0


async def test_documents_upload_download_and_resend(emu: Emulator, ptb: Bot) -> None:
    alice = emu.add_user("Alice")
    content = "# Halbjahresbericht 2026-H1\nÄÖÜ\n".encode()
    sent = await ptb.send_document(
        alice.id,
        io.BytesIO(content),
        filename="bericht-2026-H1.md",
        caption="Der <b>Bericht</b>",
        parse_mode="HTML",
    )
    assert sent.document is not None and sent.document.file_name == "bericht-2026-H1.md"
    file = await ptb.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content
    again = await ptb.send_document(alice.id, sent.document.file_id, caption="Nochmal")
    assert again.document is not None and again.document.file_unique_id == sent.document.file_unique_id
    stored = emu.messages(alice)
    assert [m.document.name for m in stored if m.document] == ["bericht-2026-H1.md"] * 2
    assert stored[0].caption == "Der Bericht" and stored[0].document.data == content
    photo = await ptb.send_photo(alice.id, io.BytesIO(_png(3, 2)), caption="Teilnahme")
    assert photo.photo[-1].width == 3 and photo.photo[-1].height == 2

    update_id = emu.send_document(alice, "tagesordnung.txt", b"TOP 1", caption="Vorschlag")
    update = (await ptb.get_updates(timeout=1))[-1]
    assert update.update_id == update_id and update.message is not None
    incoming = update.message.document
    assert incoming is not None and incoming.file_name == "tagesordnung.txt"
    assert bytes(await (await ptb.get_file(incoming.file_id)).download_as_bytearray()) == b"TOP 1"


async def test_commands_menu_and_chat(emu: Emulator, ptb: Bot) -> None:
    alice = emu.add_user("Alice")
    commands = [BotCommand("start", "Anmelden"), BotCommand("help", "Hilfe")]
    assert await ptb.set_my_commands(commands)
    assert await ptb.set_my_commands(
        [BotCommand("meetings", "Sitzungen")],
        scope=BotCommandScopeChat(alice.id),
        language_code="de",
    )
    assert await ptb.set_my_commands(
        [BotCommand("start", "Sign up")], scope=BotCommandScopeAllPrivateChats(), language_code="en"
    )
    assert [c.command for c in await ptb.get_my_commands()] == ["start", "help"]
    assert [c.command for c in await ptb.get_my_commands(scope=BotCommandScopeChat(alice.id), language_code="de")] == [
        "meetings"
    ]
    assert await ptb.get_my_commands(scope=BotCommandScopeChat(alice.id)) == ()
    assert await ptb.delete_my_commands()
    assert await ptb.get_my_commands() == ()
    assert await ptb.set_chat_menu_button(alice.id, MenuButtonCommands())
    assert isinstance(await ptb.get_chat_menu_button(alice.id), MenuButtonCommands)
    chat = await ptb.get_chat(alice.id)
    assert chat.first_name == "Alice" and chat.type == "private"
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await ptb.get_chat(1)


async def test_errors_reach_ptb_as_its_exceptions(emu: Emulator, ptb: Bot) -> None:
    alice = emu.add_user("Alice")
    emu.block(alice)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await ptb.send_message(alice.id, "x")
    emu.unblock(alice)
    emu.set_rate_limits(enabled=True)
    await ptb.send_message(alice.id, "1")
    with pytest.raises(RetryAfter) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's note on the future type of retry_after
        await ptb.send_message(alice.id, "2")
    assert "Retry in 1" in str(caught.value)
    emu.set_rate_limits(enabled=False)
    emu.inject_fault("sendMessage", status=502)
    with pytest.raises(NetworkError):
        await ptb.send_message(alice.id, "x")
    emu.inject_fault("sendMessage", drop=True)
    with pytest.raises(NetworkError):
        await ptb.send_message(alice.id, "x")
    with pytest.raises(BadRequest, match="(?i)can.t parse entities"):
        await ptb.send_message(alice.id, "<b>offen", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await ptb.send_message(alice.id, "x", reply_markup=keyboard(("a", "x" * 65)))


async def test_long_poll_of_ptb_wakes_on_update(emu: Emulator, ptb: Bot) -> None:
    alice = emu.add_user("Alice")
    poll = asyncio.create_task(ptb.get_updates(timeout=20))
    await asyncio.sleep(0.2)
    update_id = emu.send_text(alice, "jetzt")
    updates = await asyncio.wait_for(poll, 10)
    assert [u.update_id for u in updates] == [update_id]


def _png(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


async def test_ptb_application_in_webhook_mode(emu: Emulator) -> None:
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    for sock in sockets:
        sock.close()

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        await context.bot.send_message(update.effective_chat.id, f"Echo: {update.effective_message.text}")

    application = Application.builder().token(emu.token).base_url(emu.api_url).base_file_url(emu.file_url).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    alice = emu.add_user("Alice")
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="geheim-123",
        )
        emu.send_text(alice, "über den Webhook")
        reply = await emu.wait_for_message(alice, after=0, timeout=10)
        assert reply.text == "Echo: über den Webhook"
        assert emu.webhook.config is not None and emu.webhook.config.secret_token == "geheim-123"
        await application.updater.stop()
        await application.stop()
