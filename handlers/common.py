"""Common: the edge of one update, and what every handler needs to translate
between Telegram and the core.

- `Runtime`: the long-lived resources (settings, database, texts, clock),
  created in `post_init` and kept in `bot_data`; the texts take the example
  dates (`{example_date}`, `{example_iso}`, ...) from its clock.
- `Request`: one update as handlers see it: the caller, their language, the
  command arguments, the caller's row (`person()`) in the update's unit of
  work (`uow()`), separate reads (`read()`), and `reply` / `edit` / `answer` /
  `send_document` / `notify` / `t` to answer.
- `action`: the decorator every handler uses; it is the edge of one update.
  It makes the `Request`, hands it to the handler, commits and answers.
- `keyboard`: inline keyboards from (label, payload) rows.

**One transaction per update.** A handler never opens a unit of work nor
commits: `request.uow()` is the same unit of work however often a handler
asks for it, and `request.person()` the caller's row in it, created on first
contact; the core only flushes. `action` begins that transaction before the
handler runs, with the update's "handled" mark and the caller's row (one
statement on PostgreSQL, `bot.core.updates.begin`): read once per update
(locked), the contact noted, the answers' language taken from it; an update
another process has marked already is dropped there. Every update commits
its "handled" mark anyway, so nothing is gained by reading the caller apart;
only a handler that reads for long (`read`: digest, report, export) before
using the transaction lets it go first, so that on SQLite no write lock is
held during the long read. When the handler is done, `action` commits that
transaction once (marking the update again if it was rolled back meanwhile):
the update's effects and its mark are saved together or not at all. What the handler says
(replies, edits, button answers, documents, messages to others) is collected
meanwhile and sent only after the commit (`handlers.answers`), so no one is
told of a change that was not saved, and no transaction waits for Telegram;
a button press is answered first (its spinner stops), then the rest is sent.
A `Refusal` undoes what the request did (a command still ends the guided
step the person was in, and so does a refusal raised `ending_step()`), then
the polite answer goes out. A
database that does not answer, or a transaction that collided with another
one (`storage.database.again_later`), leaves the update waiting to be handled again
(`bot.telegram.inbox`); a bug is logged, the update marked, and the person
gets an apology. When Telegram does not take the answers (an outage), they
are sent when it is back (`Answers`); a person who blocked the bot is marked
unreachable.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypedDict, TypeVar

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackContext

from bot.core import commands, people, updates
from bot.core.config import Settings
from bot.core.errors import Key, Refusal
from bot.core.people import Caller, Role
from bot.render.texts import Html, Texts
from handlers.answers import AnswerBot, Answers, Outgoing
from handlers.payloads import Payload
from storage.database import Database, again_later, unavailable, worth_again
from storage.inbox_repository import Handling, handling
from storage.models import Person
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    texts: Texts
    clock: Callable[[], datetime] = utc_now
    answers: Answers = field(default_factory=Answers)
    wake: Callable[[], Awaitable[None]] | None = None
    """Tell the leader's timer that something became due (see bot.telegram.app)."""

    def __post_init__(self) -> None:
        # Every text rendered through the runtime gets its example dates from the
        # bot's clock in TIMEZONE (bot.render.texts): examples are never in the past.
        self.texts.use_clock(self.clock, self.settings.timezone)


class KimContext(CallbackContext[AnswerBot, dict, dict, dict]):
    """Callback context with typed access to the runtime."""

    @property
    def runtime(self) -> Runtime:
        return self.application.bot_data["runtime"]  # type: ignore[no-any-return]  # bot_data holds Any; the composition puts the Runtime there


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
    _person: Person | None = None
    _looked_up: bool = False
    """The caller's row was looked for in the open transaction (`_person` None: not there)."""
    _used: bool = False
    """The handler asked for the unit of work (or the caller's row)."""
    _noted: bool = False
    """Noting the contact changed the caller's row: what it noted must hold."""
    _marked: bool | None = None
    """The open transaction holds the update's "handled" mark (True), or another
    process had marked it (False: nothing of this run may be kept); None: not marked."""

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

    async def begin(self) -> None:
        """Begin the update's transaction with the caller's row (`edge`): read once,
        locked, the contact noted; the answers' language comes from it."""
        await self._open()
        self.lang = people.language_of(self._person, self.caller.language_code, self.settings)

    async def uow(self) -> UnitOfWork:
        """The update's unit of work: one transaction, begun by `action` before the
        handler runs (or again after a long `read`), committed by `action` when the
        handler is done."""
        if self._uow is None:
            raise RuntimeError("the unit of work of an update is opened by `action`")
        self._used = True
        if not self._uow.opened:
            await self._open()
        return self._uow

    async def _open(self) -> None:
        assert self._uow is not None
        await self._uow.open()
        await self.note_contact()

    async def person(self) -> Person:
        """The caller's row in the update's transaction, created on first contact,
        under their current username, and locked until the edge commits."""
        if self._person is None:
            uow = await self.uow()
            if self._person is None:
                now = self.now()
                found = self._looked_up  # looked for in this transaction, and not there
                create = people.first_contact if found else people.ensure_person
                self._person = await create(uow, self.caller, now)
        self._used = True
        return self._person

    async def note_contact(self, ends_step: bool = False) -> None:
        """What holds even when the request is refused: a person who writes is
        reachable again, under their current username, and a command (or a refusal
        that `ends_step`) ends the guided step they were in. Keeps the caller's row
        (None before their first contact) for `person`."""
        uow = self._uow
        assert uow is not None
        if uow.for_update is not None and self._marked is None:
            self._marked, person = await updates.begin(uow, uow.for_update, self.caller.telegram_id, utc_now())
        else:
            person = await people.known_locked(uow, self.caller.telegram_id)
        changed = people.note_contact(person, self.caller, ends_step or self.is_command)
        self._noted = self._noted or changed
        self._person, self._looked_up = person, True

    def forget_rows(self) -> None:
        """The transaction was rolled back: rows read in it are read again, and the
        update's mark went with it."""
        self._person, self._looked_up, self._marked = None, False, None

    async def read(
        self, query: Callable[Concatenate[UnitOfWork, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`query(uow, ...)` in a separate unit of work that only reads, for long
        reads (digest, report, export) that must not hold the write lock of the
        update's transaction. When the handler has used that transaction for
        nothing yet (it holds only the caller's row, unchanged), it ends first and
        begins again when needed: the long read holds no lock."""
        await self._step_aside()
        async with self.runtime.db.reader() as reader:
            return await query(reader, *args, **kwargs)

    async def _step_aside(self) -> None:
        uow = self._uow
        if uow is None or not uow.opened or self._used or self._noted:
            return
        await uow.close()  # `uow()` begins it again, with the caller's row
        self.forget_rows()

    async def reading_person(self) -> Person:
        """The caller's row for a command that then reads for long (digest, report)
        with `read`: the row read when the update began; on first contact it is
        created in the update's transaction (which then stays open)."""
        if self._person is not None and self._looked_up:
            return self._person
        return await self.person()

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
        out = Outgoing(call, chat_id, expires)
        if expires:
            # A button press is answered before anything else is sent: the
            # person's button stops spinning at once, and Telegram takes the
            # answer only for a few seconds.
            self.outgoing.insert(0, out)
        else:
            self.outgoing.append(out)

    async def reply(self, text: str, rows: Rows = ()) -> None:
        """A new message in the caller's chat (sent after the commit)."""
        chat_id, private = self._chat()
        markup = keyboard(rows)
        bot = self.context.bot
        self._later(lambda: bot.send_answer(chat_id, text, reply_markup=markup, **HTML), chat_id if private else None)

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
        bot = self.context.bot
        chat, message_id = message.chat.id, message.message_id

        async def call() -> None:
            try:
                if text is None:
                    await bot.edit_answer(chat, message_id, None, reply_markup=markup)
                else:
                    await bot.edit_answer(chat, message_id, text, reply_markup=markup, **HTML)
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
        self._later(lambda: bot.send_answer(chat_id, text, reply_markup=markup, **HTML), chat_id)

    async def set_menu(self, chat_id: int, role: Role) -> None:
        """Telegram's command menu in this person's chat (after the commit): the
        coordinator's, or (`Role.MEMBER`, rights taken back) the menu everyone has."""
        bot, scope = self.context.bot, BotCommandScopeChat(chat_id)
        if role is Role.COORDINATOR:
            entries = command_menu(self.runtime.texts, role, self.settings.default_language)
            self._later(lambda: bot.set_my_commands(entries, scope=scope), None)
        else:
            self._later(lambda: bot.delete_my_commands(scope=scope), None)

    async def language_of(self, telegram_id: int) -> str:
        """The language of someone other than the caller (read in the update's transaction)."""
        return await people.language_for(await self.uow(), telegram_id, self.settings)


def command_menu(texts: Texts, role: Role, lang: str) -> list[BotCommand]:
    """Telegram's command menu for `role`: the commands of `bot.core.commands` this role may use."""
    return [BotCommand(c.name, texts.plain(lang, f"help.{c.name}")[:256]) for c in commands.available(role)]


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
            if current is None or not again_later(error, current.tries):
                raise
            current.again = True
            # Nothing was saved: the update waits in the inbox and is handled again.
            if unavailable(error):
                context.runtime.db.health.failed(error)

    return wrapper


async def _handle(
    update: Update, context: KimContext, caller: Caller, handler: Handler, current: Handling | None
) -> None:
    runtime = context.runtime
    # Telegram's language until the caller's row is read (`begin`).
    request = Request(update, context, caller, people.language_of(None, caller.language_code, runtime.settings))
    if update.callback_query is not None:
        request.payload = Payload.decode(update.callback_query.data)
    async with runtime.db.uow(lazy=True) as uow:
        uow.for_update = current.update_id if current is not None else None
        request._uow = uow
        try:
            await request.begin()
            if request._marked is not False:  # False: another process handled it; `_commit` drops this run
                try:
                    await handler(request)
                except Refusal as refusal:
                    await _refused(request, refusal)
                if update.callback_query is not None:
                    await request.answer()
            committed = await _commit(request, current)
        except Exception as error:
            if current is not None and worth_again(error):
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
    await runtime.answers.send(runtime.db, runtime.clock, current.update_id if current else 0, request.outgoing)


async def _refused(request: Request, refusal: Refusal) -> None:
    """Undo the request, keep what a refusal keeps, and say why."""
    uow = request._uow
    assert uow is not None
    if uow.opened:
        await uow.rollback()
        request.forget_rows()
        await request.note_contact(ends_step=refusal.ends_step)
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
        if request._marked is None:
            request._marked = await updates.mark_handled(uow, current.update_id, utc_now())
        if not request._marked:
            log.info("update %s was handled by another process; this run is dropped", current.update_id)
            await uow.rollback()
            current.marked = True
            return False
    await uow.commit()
    if current is not None:
        current.marked = True
    return True


async def _give_up(request: Request, current: Handling | None) -> bool:
    """A fault of ours: nothing of the request is kept, the update is marked handled
    (it would fail again), and the person gets an apology."""
    uow = request._uow
    assert uow is not None
    if uow.opened:
        await uow.rollback()
        request.forget_rows()
    request.outgoing = [o for o in request.outgoing if o.expires]
    chat = request.update.effective_chat
    if chat is not None and chat.type == "private":
        await request.reply(request.t("errors.internal"))
    return await _commit(request, current)
