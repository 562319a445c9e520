"""Common: what every handler needs to translate between Telegram and the core.

- `Runtime`: the long-lived resources (settings, database, texts, clock),
  created in `post_init` and kept in `bot_data`.
- `Request`: one update as handlers see it: the caller, their language,
  the command arguments, and `reply` / `edit` / `t` to answer.
- `action`: the decorator every handler uses. It builds the `Request`,
  answers a `Refusal` from the core with its polite text, and answers every
  button press exactly once. A caller who blocked the bot before the answer
  is marked unreachable; that is no error.
- `keyboard`: inline keyboards from (label, payload) rows.
- `notify`: a message to someone else; a blocked person is marked unreachable
  and nothing is raised.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackContext, ExtBot

from bot import people, registration
from bot.config import Settings
from bot.errors import Key, Refusal
from bot.people import Caller
from bot.texts import Html, Texts
from handlers.payloads import Payload
from storage.database import Database
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    texts: Texts
    clock: Callable[[], datetime] = utc_now


class KimContext(CallbackContext[ExtBot[None], dict, dict, dict]):
    """Callback context with typed access to the runtime."""

    @property
    def runtime(self) -> Runtime:
        return self.application.bot_data["runtime"]  # type: ignore[no-any-return]


HTML = {"parse_mode": ParseMode.HTML, "link_preview_options": LinkPreviewOptions(is_disabled=True)}
"""How every text message is sent: Telegram's HTML, no link previews."""

Rows = Sequence[Sequence[tuple[str, Payload]]]


def keyboard(rows: Rows) -> InlineKeyboardMarkup | None:
    buttons = [[InlineKeyboardButton(label, callback_data=payload.encode()) for label, payload in row] for row in rows]
    buttons = [row for row in buttons if row]
    return InlineKeyboardMarkup(buttons) if buttons else None


@dataclass
class Request:
    update: Update
    context: KimContext
    caller: Caller
    lang: str
    payload: Payload | None = None
    answered: bool = False

    @property
    def runtime(self) -> Runtime:
        return self.context.runtime

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def args(self) -> list[str]:
        return list(self.context.args or [])

    def uow(self) -> UnitOfWork:
        return self.runtime.db.uow()

    def now(self) -> datetime:
        return self.runtime.clock()

    def t(self, key: str, **params: object) -> Html:
        return render(self.runtime.texts, self.lang, key, **params)

    def label(self, key: str, **params: object) -> str:
        """A plain text for a button label or a pop-up notice."""
        return self.runtime.texts.plain(self.lang, key, **params)

    async def reply(self, text: str, rows: Rows = ()) -> None:
        """A new message in the caller's chat."""
        chat = self.update.effective_chat
        assert chat is not None
        await self.context.bot.send_message(chat.id, text, reply_markup=keyboard(rows), **HTML)

    async def edit(self, text: str | None = None, rows: Rows = ()) -> None:
        """Change the message whose button was pressed (text, or only its buttons)."""
        query = self.update.callback_query
        message = query.message if query is not None else None
        # A message without text (a file, or one too old to reach) cannot take a new text.
        if query is None or message is None or (text is not None and getattr(message, "text", None) is None):
            if text is not None:
                await self.reply(text, rows)
            return
        try:
            if text is None:
                await query.edit_message_reply_markup(reply_markup=keyboard(rows))
            else:
                await query.edit_message_text(text, reply_markup=keyboard(rows), **HTML)
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                raise

    async def answer(self, text: str | None = None) -> None:
        """Answer the button press (once); a short notice if `text` is given."""
        query = self.update.callback_query
        if query is not None and not self.answered:
            self.answered = True
            await query.answer(text)


def render(texts: Texts, lang: str, key: str, **params: object) -> Html:
    """A catalog text; parameters that are `Key`s are translated first."""
    resolved = {name: texts.get(lang, value) if isinstance(value, Key) else value for name, value in params.items()}
    return texts.get(lang, key, **resolved)


Handler = Callable[[Request], Awaitable[None]]


def action(handler: Handler) -> Callable[[Update, KimContext], Awaitable[None]]:
    """Wrap a handler: build the Request, answer refusals and button presses."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: KimContext) -> None:
        user = update.effective_user
        if user is None or user.is_bot:
            return
        caller = Caller(user.id, user.first_name, user.last_name, user.username, user.language_code)
        runtime = context.runtime
        # Read only (no write lock on SQLite), unless a command leaves a guided step.
        async with runtime.db.reader() as uow:
            person = await uow.people.by_telegram_id(user.id)
        lang = people.language_of(person, user.language_code, runtime.settings)
        message = update.effective_message
        is_command = update.callback_query is None and message is not None and (message.text or "").startswith("/")
        if person is not None and is_command and person.awaiting is not None:
            async with runtime.db.uow() as uow:
                person = await uow.people.by_telegram_id(user.id)
                if person is not None and registration.leave_guided_step(person):
                    await uow.commit()
        request = Request(update, context, caller, lang)
        if update.callback_query is not None:
            request.payload = Payload.decode(update.callback_query.data)
        try:
            try:
                await handler(request)
            except Refusal as refusal:
                text = request.t(refusal.key, **refusal.params)
                if update.callback_query is not None:
                    await request.answer()
                await request.reply(text)
            finally:
                if update.callback_query is not None and not request.answered:
                    await request.answer()
        except Forbidden:
            # No fault of ours: the person blocked the bot between writing and our answer
            # (or a group chat removed the bot; that says nothing about the person).
            chat = update.effective_chat
            if chat is None or chat.type != "private":
                log.info("chat %s does not take the bot's messages", chat.id if chat else None)
                return
            await blocked(runtime, user.id)

    return wrapper


async def notify(application: Application, chat_id: int, text: str, rows: Rows = ()) -> bool:
    """Send to someone other than the caller; False when Telegram refused."""
    runtime: Runtime = application.bot_data["runtime"]
    try:
        await application.bot.send_message(chat_id, text, reply_markup=keyboard(rows), **HTML)
        return True
    except Forbidden:
        await blocked(runtime, chat_id)
    except TelegramError as error:
        log.warning("could not send to chat %s: %s", chat_id, error)
    return False


async def blocked(runtime: Runtime, chat_id: int) -> None:
    """Telegram refused a message to this person's private chat: they blocked the bot."""
    async with runtime.db.uow() as uow:
        await people.mark_unreachable(uow, chat_id, runtime.clock())
    log.info("chat %s blocked the bot; marked unreachable", chat_id)


async def language_for(runtime: Runtime, telegram_id: int) -> str:
    async with runtime.db.uow() as uow:
        person = await uow.people.by_telegram_id(telegram_id)
    return people.language_of(person, None, runtime.settings)
