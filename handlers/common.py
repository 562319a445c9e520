"""Common: what every handler needs to translate between Telegram and the core.

- `Runtime`: the long-lived resources (settings, database, texts, clock),
  created in `post_init` and kept in `bot_data`.
- `Request`: one update as handlers see it: the caller, their language,
  the command arguments, the update's unit of work (`uow`), and `reply` /
  `edit` / `answer` / `send_document` / `notify` / `t` to answer.
- `action`: the decorator every handler uses; it is the edge of one update.
- `keyboard`: inline keyboards from (label, payload) rows.

**One transaction per update.** `request.uow()` is the same unit of work
however often a handler opens it; the core only flushes. When the handler
is done, `action` marks the update handled in that transaction and commits
it once: the update's effects and its mark are saved together or not at
all. What the handler says (replies, edits, button answers, documents,
messages to others) is collected meanwhile and sent only after the commit,
so no one is told of a change that was not saved, and no transaction waits
for Telegram. A `Refusal` undoes what the request did (a command still ends
the guided step the person was in, and so does a refusal raised
`ending_step()`), then the polite answer goes out. A database that does not
answer leaves the update waiting to be handled again (`bot.telegram.inbox`); a bug
is logged, the update marked, and the person gets an apology. When Telegram
does not take the answers (an outage), they are sent when it is back
(`Answers`); a person who blocked the bot is marked unreachable.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict

from sqlalchemy.exc import IntegrityError
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import CallbackContext, ExtBot

from bot.core import people, registration
from bot.core.config import Settings
from bot.core.errors import Key, Refusal
from bot.core.people import Caller
from bot.render.texts import Html, Texts
from handlers.payloads import Payload
from storage.database import Database, unavailable
from storage.inbox_repository import Handling, handling
from storage.models import Person
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


ANSWER_RETRY_PAUSE = 30.0
"""Seconds until answers Telegram did not take are tried again (or when it is back)."""
ANSWER_TRIES = 5
MAX_CONFLICT_TRIES = 3
"""An update whose transaction keeps colliding with another one (a unique key two
processes wrote at once) is handled again this often, then treated as a fault."""


@dataclass
class Runtime:
    settings: Settings
    db: Database
    texts: Texts
    clock: Callable[[], datetime] = utc_now
    answers: Answers = field(default_factory=lambda: Answers())
    wake: Callable[[], Awaitable[None]] | None = None
    """Tell the leader's timer that something became due (see bot.telegram.app)."""


class KimContext(CallbackContext[ExtBot[None], dict, dict, dict]):
    """Callback context with typed access to the runtime."""

    @property
    def runtime(self) -> Runtime:
        return self.application.bot_data["runtime"]  # type: ignore[no-any-return]


class SendOptions(TypedDict):
    """The keyword arguments of `HTML`, typed so that `**HTML` checks against each parameter."""

    parse_mode: str
    link_preview_options: LinkPreviewOptions


HTML: SendOptions = {"parse_mode": ParseMode.HTML, "link_preview_options": LinkPreviewOptions(is_disabled=True)}
"""How every text message is sent: Telegram's HTML, no link previews."""

Rows = Sequence[Sequence[tuple[str, Payload]]]


def keyboard(rows: Rows) -> InlineKeyboardMarkup | None:
    buttons = [[InlineKeyboardButton(label, callback_data=payload.encode()) for label, payload in row] for row in rows]
    buttons = [row for row in buttons if row]
    return InlineKeyboardMarkup(buttons) if buttons else None


@dataclass
class Outgoing:
    """One call to Telegram in answer to an update, made after its commit."""

    call: Callable[[], Awaitable[object]]
    chat_id: int | None
    """The private chat it goes to (a 403 there: that person blocked the bot)."""
    expires: bool = False
    """A button press's answer: Telegram takes it only for a few seconds."""


@dataclass
class Request:
    update: Update
    context: KimContext
    caller: Caller
    lang: str
    payload: Payload | None = None
    answered: bool = False
    outgoing: list[Outgoing] = field(default_factory=list)
    wakes: bool = False
    _uow: UnitOfWork | None = None

    @property
    def runtime(self) -> Runtime:
        return self.context.runtime

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def args(self) -> list[str]:
        return list(self.context.args or [])

    @property
    def is_command(self) -> bool:
        message = self.update.effective_message
        return self.update.callback_query is None and message is not None and (message.text or "").startswith("/")

    @asynccontextmanager
    async def uow(self) -> AsyncIterator[UnitOfWork]:
        """The update's unit of work: one transaction, committed by `action`."""
        if self._uow is None:
            raise RuntimeError("the unit of work of an update is opened by `action`")
        if not self._uow.opened:
            await self._uow.open()
            await self._prelude()
        yield self._uow

    async def reading_person(self) -> Person:
        """The caller's row, read without the write lock, for a command that then
        reads for long (digest, report) in `reader()`; on first contact it is created
        in the update's transaction."""
        async with self.reader() as uow:
            person = await uow.people.by_telegram_id(self.caller.telegram_id)
        if person is None:
            async with self.uow() as uow:
                person = await people.ensure_person(uow, self.caller, self.now())
        return person

    def reader(self) -> UnitOfWork:
        """A separate unit of work that only reads, for long reads (digest, report,
        export) that must not hold the write lock of the update's transaction."""
        return self.runtime.db.reader()

    async def _prelude(self) -> None:
        """What holds even when the request is refused: a person who writes is
        reachable again, under their current username, and a command ends the
        guided step they were in."""
        assert self._uow is not None
        person = await self._uow.people.by_telegram_id(self.caller.telegram_id)
        if person is None:
            return
        if person.username != self.caller.username:
            person.username = self.caller.username
        if person.unreachable_since is not None:
            person.unreachable_since = None
        if self.is_command:
            registration.leave_guided_step(person)

    def now(self) -> datetime:
        return self.runtime.clock()

    def t(self, key: str, **params: object) -> Html:
        return render(self.runtime.texts, self.lang, key, **params)

    def label(self, key: str, **params: object) -> str:
        """A plain text for a button label or a pop-up notice."""
        return self.runtime.texts.plain(self.lang, key, **params)

    def wake_deliveries(self) -> None:
        """The update made messages due (invitations, notices): after the commit, the
        timer sends them at once instead of at its next run."""
        self.wakes = True

    def _chat(self) -> tuple[int, bool]:
        chat = self.update.effective_chat
        assert chat is not None
        return chat.id, chat.type == "private"

    def _later(self, call: Callable[[], Awaitable[object]], chat_id: int | None, expires: bool = False) -> None:
        self.outgoing.append(Outgoing(call, chat_id, expires))

    async def reply(self, text: str, rows: Rows = ()) -> None:
        """A new message in the caller's chat (sent after the commit)."""
        chat_id, private = self._chat()
        markup = keyboard(rows)
        bot = self.context.bot
        self._later(
            lambda: bot.send_message(chat_id, text, reply_markup=markup, **HTML), chat_id if private else None
        )

    async def edit(self, text: str | None = None, rows: Rows = ()) -> None:
        """Change the message whose button was pressed (text, or only its buttons)."""
        query = self.update.callback_query
        message = query.message if query is not None else None
        # A message without text (a file, or one too old to reach) cannot take a new text.
        if query is None or message is None or (text is not None and getattr(message, "text", None) is None):
            if text is not None:
                await self.reply(text, rows)
            return
        markup = keyboard(rows)

        async def call() -> None:
            try:
                if text is None:
                    await query.edit_message_reply_markup(reply_markup=markup)
                else:
                    await query.edit_message_text(text, reply_markup=markup, **HTML)
            except BadRequest as error:
                if "not modified" not in error.message.lower():
                    raise

        chat_id, private = self._chat()
        self._later(call, chat_id if private else None)

    async def answer(self, text: str | None = None) -> None:
        """Answer the button press (once); a short notice if `text` is given."""
        query = self.update.callback_query
        if query is not None and not self.answered:
            self.answered = True
            self._later(lambda: query.answer(text), None, expires=True)

    async def send_document(self, data: bytes, filename: str, caption: str | None = None) -> None:
        """A file in the caller's chat; the caption in Telegram's HTML."""
        chat_id, private = self._chat()
        bot = self.context.bot
        self._later(
            lambda: bot.send_document(
                chat_id, InputFile(data, filename=filename), caption=caption, parse_mode=ParseMode.HTML
            ),
            chat_id if private else None,
        )

    async def typing(self, action: str) -> None:
        """A chat action (uploading a document ...) while a long answer is made: at once."""
        chat_id, _ = self._chat()
        try:
            await self.context.bot.send_chat_action(chat_id, action)
        except TelegramError:
            pass  # only a hint

    async def notify(self, chat_id: int, text: str, rows: Rows = ()) -> None:
        """A message to someone other than the caller (sent after the commit)."""
        markup = keyboard(rows)
        bot = self.context.bot
        self._later(lambda: bot.send_message(chat_id, text, reply_markup=markup, **HTML), chat_id)


def render(texts: Texts, lang: str, key: str, **params: object) -> Html:
    """A catalog text; parameters that are `Key`s are translated first."""
    resolved = {name: texts.get(lang, value) if isinstance(value, Key) else value for name, value in params.items()}
    return texts.get(lang, key, **resolved)


Handler = Callable[[Request], Awaitable[None]]


def action(handler: Handler) -> Callable[[Update, KimContext], Coroutine[Any, Any, None]]:
    """Wrap a handler as the edge of one update (see the module docstring)."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: KimContext) -> None:
        user = update.effective_user
        if user is None or user.is_bot:
            return
        caller = Caller(user.id, user.first_name, user.last_name, user.username, user.language_code)
        current = handling.get()
        try:
            await _handle(update, context, caller, handler, current)
        except Exception as error:
            if not _again_later(error, current):
                raise
            # Nothing was saved: the update waits in the inbox and is handled again.
            if unavailable(error):
                context.runtime.db.health.failed(error)

    return wrapper


async def _handle(
    update: Update, context: KimContext, caller: Caller, handler: Handler, current: Handling | None
) -> None:
    runtime = context.runtime
    # The language for the answers: read without the write lock (SQLite).
    async with runtime.db.reader() as reader:
        known = await reader.people.by_telegram_id(caller.telegram_id)
    lang = people.language_of(known, caller.language_code, runtime.settings)
    request = Request(update, context, caller, lang)
    if update.callback_query is not None:
        request.payload = Payload.decode(update.callback_query.data)
    async with runtime.db.uow(lazy=True) as uow:
        uow.for_update = current.update_id if current is not None else None
        request._uow = uow
        try:
            if known is not None and _prelude_changes(request, known):
                async with request.uow():
                    pass  # begin now: what the prelude changes holds whatever follows
            try:
                await handler(request)
            except Refusal as refusal:
                await _refused(request, refusal)
            if update.callback_query is not None:
                await request.answer()
            committed = await _commit(request, current)
        except Exception as error:
            if current is not None and (unavailable(error) or isinstance(error, IntegrityError)):
                raise  # the wrapper decides: again later, or a fault after all
            log.error("error while handling an update", exc_info=error)
            committed = await _give_up(request, current)
    runtime.db.health.fine()
    if not committed:
        return
    if request.wakes and runtime.wake is not None:
        try:
            await runtime.wake()
        except Exception as error:  # noqa: BLE001 - the timer finds the records on its next run
            log.warning("could not wake the delivery timer: %s", type(error).__name__)
    await runtime.answers.send(runtime, current.update_id if current else 0, request.outgoing)


def _prelude_changes(request: Request, person: Person) -> bool:
    """Whether the prelude has something to change for this (known) person."""
    caller = request.caller
    return (
        person.username != caller.username
        or person.unreachable_since is not None
        or (person.awaiting is not None and request.is_command)
    )


async def _refused(request: Request, refusal: Refusal) -> None:
    """Undo the request, keep what a refusal keeps, and say why."""
    uow = request._uow
    assert uow is not None
    if uow.opened:
        await uow.rollback()
        await request._prelude()
        if refusal.ends_step:
            person = await uow.people.by_telegram_id(request.caller.telegram_id)
            if person is not None:
                registration.leave_guided_step(person)
    text = request.t(refusal.key, **refusal.params)
    if request.update.callback_query is not None:
        await request.answer()
    await request.reply(text)


async def _commit(request: Request, current: Handling | None) -> bool:
    """Mark the update handled and commit, once. False when another process had
    handled it already: then nothing of this run is kept, nor sent."""
    uow = request._uow
    assert uow is not None
    if not uow.opened:
        await uow.open()
    if current is not None:
        if not await uow.inbox.handled(current.update_id, utc_now()):
            log.info("update %s was handled by another process; this run is dropped", current.update_id)
            await uow.rollback()
            current.marked = True
            return False
    await uow.commit()
    if current is not None:
        current.marked = True
    return True


def _again_later(error: BaseException, current: Handling | None) -> bool:
    """Whether the update is handled again later (`current.again`) instead of given
    up: the database did not answer, or the transaction collided with another one
    (a unique key two processes wrote at once; not forever)."""
    if current is None:
        return False
    if isinstance(error, IntegrityError) and not unavailable(error):
        if current.tries + 1 >= MAX_CONFLICT_TRIES:
            return False
    elif not unavailable(error):
        return False
    current.again = True
    return True


async def _give_up(request: Request, current: Handling | None) -> bool:
    """A fault of ours: nothing of the request is kept, the update is marked handled
    (it would fail again), and the person gets an apology."""
    uow = request._uow
    assert uow is not None
    if uow.opened:
        await uow.rollback()
    request.outgoing = [o for o in request.outgoing if o.expires]
    chat = request.update.effective_chat
    if chat is not None and chat.type == "private":
        await request.reply(request.t("errors.internal"))
    return await _commit(request, current)


class Answers:
    """Sends the answers of handled updates; keeps them when Telegram does not take
    them, and tries again when it is back (`retry_now`) or after a pause."""

    def __init__(self) -> None:
        self._waiting: dict[int, tuple[list[Outgoing], int]] = {}
        self._runtime: Runtime | None = None

    async def send(self, runtime: Runtime, update_id: int, outgoing: list[Outgoing], tries: int = 0) -> None:
        self._runtime = runtime
        # Sent outside the update's context: what follows (marking a person who
        # blocked the bot) is no part of the update's transaction.
        token = handling.set(None)
        try:
            for index, out in enumerate(outgoing):
                try:
                    await out.call()
                except Forbidden:
                    if out.chat_id is not None:
                        await blocked(runtime, out.chat_id)
                except BadRequest as error:
                    log.error("Telegram refused an answer: %s", error.message)
                except (NetworkError, RetryAfter) as error:
                    rest = [o for o in outgoing[index:] if not o.expires]
                    self._keep(update_id, rest, tries, error)
                    return
                except TelegramError as error:
                    log.warning("an answer could not be sent: %s: %s", type(error).__name__, error.message)
        finally:
            handling.reset(token)

    def _keep(self, update_id: int, rest: list[Outgoing], tries: int, error: TelegramError) -> None:
        if not rest:
            return
        if tries + 1 >= ANSWER_TRIES:
            log.warning("the answer to update %s was not sent after %d tries; given up", update_id, tries + 1)
            return
        log.info("an answer could not be sent (%s); it is sent when Telegram answers", type(error).__name__)
        self._waiting[update_id] = (rest, tries + 1)
        loop = asyncio.get_running_loop()
        loop.call_later(ANSWER_RETRY_PAUSE, self._again, update_id, context=contextvars.Context())

    def retry_now(self) -> None:
        """Telegram answers again: send what waited."""
        for update_id in list(self._waiting):
            self._again(update_id)

    def _again(self, update_id: int) -> None:
        waiting = self._waiting.pop(update_id, None)
        if waiting is None or self._runtime is None:
            return
        rest, tries = waiting
        asyncio.get_running_loop().create_task(self.send(self._runtime, update_id, rest, tries))

    @property
    def waiting(self) -> int:
        return len(self._waiting)


async def blocked(runtime: Runtime, chat_id: int) -> None:
    """Telegram refused a message to this person's private chat: they blocked the bot."""
    try:
        async with runtime.db.uow() as uow:
            await people.mark_unreachable(uow, chat_id, runtime.clock())
            await uow.commit()
    except Exception as error:
        if not unavailable(error):
            raise
        runtime.db.health.failed(error)
        return
    log.info("chat %s blocked the bot; marked unreachable", chat_id)


async def language_for(uow: UnitOfWork, settings: Settings, telegram_id: int) -> str:
    person = await uow.people.by_telegram_id(telegram_id)
    return people.language_of(person, None, settings)
