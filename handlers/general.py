"""General handlers: /help, /language, unknown input, group chats, blocking,
the button router and the error handler.

Free text the bot does not expect (no question asked) gets a short menu of
buttons instead of a bare "not understood" (`unexpected_text`): for members
and coordinators "Sitzungen", "Thema vorschlagen", "Rückmeldungen", "Hilfe";
for guests "Gruppen", "Beitreten", "Hilfe". A menu button runs the command
as if it had been typed without arguments: the same handler, found in the
application's command table, with the same checks (`menu_pressed`); only the
commands of `MENU` can be run that way.
"""

from __future__ import annotations

import functools
import logging

from telegram import ChatMemberUpdated, Message, MessageEntity, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, NetworkError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core import commands, people
from bot.core.errors import Refusal
from bot.core.people import Role
from bot.render.texts import Texts
from handlers import payloads as p
from handlers.common import HTML, Handler, KimContext, Request, Rows, action, render

log = logging.getLogger(__name__)


@action
async def show_help(request: Request) -> None:
    """The commands this person may use, with one example each."""
    await help_text(request)


async def help_text(request: Request) -> None:
    role = await people.role_of(await request.uow(), await request.person(), request.settings)
    texts = request.runtime.texts
    await request.reply(help_message(texts, request.lang, role, tuple(texts.examples().items())))


@functools.lru_cache(maxsize=64)
def help_message(texts: Texts, lang: str, role: Role, examples: tuple[tuple[str, str], ...]) -> str:
    """The help of a role in a language with the example dates of the day: the
    same text for everyone, so it is put together once (a tenth of a
    millisecond of every `/help`). `examples` (what `Texts` puts in) only keys the cache."""
    lines: list[str] = [render(texts, lang, f"help.intro_{role.name.lower()}")]
    for command in commands.available(role):
        lines.append("")
        text = render(texts, lang, f"help.{command.name}")
        lines.append(render(texts, lang, "help.entry", command=command.name, text=text))
        example = render(texts, lang, f"help.{command.name}_example")
        lines.append(render(texts, lang, "help.example", example=example))
    if role is Role.GUEST:
        lines.append("")
        lines.append(render(texts, lang, "help.guest_hint"))
    return "\n".join(lines)


@action
async def choose_language(request: Request) -> None:
    """`/language de|en`; without an argument, buttons."""
    if not request.args:
        await request.reply(
            request.t("language.choose"),
            [[("Deutsch", p.ChooseLanguage("de")), ("English", p.ChooseLanguage("en"))]],
        )
        return
    await set_language(request, request.args[0].lower())


async def language_pressed(request: Request) -> None:
    assert isinstance(request.payload, p.ChooseLanguage)
    await request.edit(rows=())
    await set_language(request, request.payload.language)


async def set_language(request: Request, lang: str) -> None:
    await people.set_language(await request.uow(), request.caller, lang, request.now())
    request.lang = lang
    await request.reply(request.t("language.done"))


@action
async def unknown_command(request: Request) -> None:
    """A command the bot does not know."""
    message = request.update.effective_message
    word = (message.text or "").split()[0] if message and message.text else "/"
    await request.reply(request.t("errors.unknown_command", command=word[:40]))


@action
async def not_text(request: Request) -> None:
    """A photo, sticker, voice message …: the bot only reads text."""
    await request.reply(request.t("errors.text_only"))


@action
async def group_chat_command(request: Request) -> None:
    """Commands in group chats: the bot works in private chats only."""
    await request.reply(request.t("errors.private_only", bot=request.context.bot.username))


@action
async def chat_member_changed(request: Request) -> None:
    """The person blocked or unblocked the bot."""
    change: ChatMemberUpdated | None = request.update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    uow = await request.uow()
    if change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        await people.mark_unreachable(uow, change.chat.id, request.now())
    else:
        await people.mark_reachable(uow, change.chat.id)


async def on_error(update: object, context: KimContext) -> None:
    """Log a fault that no handler caught (never the message text), and apologise
    to the person if there is one.

    A fault of Telegram itself (no answer, 5xx) while fetching updates is logged
    by the `TelegramLink`, once per outage; the answers to handled updates are
    sent by `handlers.common`, which keeps them while Telegram is away."""
    error = context.error
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        return
    log.error("error while handling an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None or update.effective_chat.type != "private":
        return
    try:
        lang = "de"
        if update.effective_user is not None:
            lang = people.language_of(None, update.effective_user.language_code, context.runtime.settings)
        # A button press was already answered by `action`; only the apology is left.
        await context.bot.send_message(
            update.effective_chat.id, context.runtime.texts.get(lang, "errors.internal"), **HTML
        )
    except Exception:  # noqa: BLE001 - the apology itself may fail; the bot goes on
        log.warning("could not send the apology", exc_info=True)


def button_router(routes: dict[type[p.Payload], Handler]) -> CallbackQueryHandler:
    """One handler for every button: decode, then route by payload type.

    Stale or forged data (no payload, unknown type) only gets a short notice,
    and so does a press outside a private chat: the bot puts no button in a
    group, and its answer would be shown to the whole group.
    """

    @action
    async def button_pressed(request: Request) -> None:
        chat = request.update.effective_chat
        route = routes.get(type(request.payload)) if request.payload else None
        if route is None or chat is None or chat.type != "private":
            await request.answer(request.label("buttons.stale"))
            return
        await route(request)

    return CallbackQueryHandler(button_pressed)


# --- free text the bot does not expect: a menu ------------------------------------------

MENU: dict[Role, tuple[str, ...]] = {
    Role.GUEST: ("groups", "join", "help"),
    Role.MEMBER: ("meetings", "propose", "feedback", "help"),
    Role.COORDINATOR: ("meetings", "propose", "feedback", "help"),
}
"""The menu's buttons per role: command names (`propose` is the agenda's "Thema vorschlagen")."""
MENU_COMMANDS = frozenset(name for names in MENU.values() for name in names) - {"propose"}


async def unexpected_text(request: Request) -> None:
    """A text while the bot asked nothing: what the person can do, as buttons."""
    role = await people.role_of(await request.uow(), await request.person(), request.settings)
    buttons: list[tuple[str, p.Payload]] = []
    for name in MENU[role]:
        payload: p.Payload = p.ProposeItem(0) if name == "propose" else p.MenuCommand(name)
        buttons.append((request.label(f"menu.{name}"), payload))
    rows: Rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    await request.reply(request.t("input.unexpected"), rows)


async def menu_pressed(request: Request) -> None:
    """A menu button: the command's own handler, as if `/<command>` had been typed
    (the handler reads a message with that text, in the same unit of work; its
    answers are collected and sent like any other)."""
    assert isinstance(request.payload, p.MenuCommand)
    name = request.payload.command
    command = _command_handler(request, name) if name in MENU_COMMANDS else None
    query = request.update.callback_query
    if command is None or query is None or query.message is None:
        raise Refusal("buttons.stale")
    await request.answer()
    typed = Message(
        message_id=query.message.message_id,
        date=query.message.date,
        chat=query.message.chat,
        from_user=query.from_user,
        text=f"/{name}",
        entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, len(name) + 1)],
    )
    pressed = request.update
    request.update = Update(pressed.update_id, message=typed)
    try:
        await command(request)
    finally:
        request.update = pressed


def _command_handler(request: Request, name: str) -> Handler | None:
    """The undecorated handler (`action` keeps it as `__wrapped__`) of `/<name>`."""
    for group in request.context.application.handlers.values():
        for handler in group:
            if isinstance(handler, CommandHandler) and name in handler.commands:
                inner = getattr(handler.callback, "__wrapped__", None)
                if inner is not None:
                    return inner  # type: ignore[no-any-return]  # `action` wraps a Handler
    return None


CALLBACKS: dict[type[p.Payload], Handler] = {p.ChooseLanguage: language_pressed, p.MenuCommand: menu_pressed}


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler(["help", "hilfe"], show_help, filters=private),
        CommandHandler(["language", "sprache"], choose_language, filters=private),
        ChatMemberHandler(chat_member_changed, ChatMemberHandler.MY_CHAT_MEMBER),
    ]


def fallbacks() -> list[BaseHandler]:
    """Registered last: whatever no feature handled."""
    private = filters.ChatType.PRIVATE
    return [
        MessageHandler(filters.COMMAND & private, unknown_command),
        MessageHandler(filters.COMMAND & filters.ChatType.GROUPS, group_chat_command),
        MessageHandler(private & ~filters.COMMAND & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text),
    ]
