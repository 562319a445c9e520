"""App: `build_application(settings)`, the only place that knows every handler.

The python-telegram-bot `Application` talks to `TELEGRAM_API_URL` (Telegram,
a self-hosted Bot API server or the local emulator). Long-lived resources,
the database and the texts, are created in `post_init` and closed in
`post_shutdown`; migrations are applied before the first update is handled.
Updates pass through the `Inbox` (bot.telegram.inbox): recorded before they are
confirmed to Telegram, so a crash loses none and a repeat is handled once.
Every HTTP call reports to one `TelegramLink` (bot.telegram.link), which logs
an outage once and holds broadcasts back until Telegram answers again.
Handlers are registered flat, feature by feature, with the fallbacks last.

No `Defaults(parse_mode=...)`: python-telegram-bot then also sends
`parse_mode` with methods that have no such parameter (editMessageReplyMarkup),
which a strict Bot API server refuses. `handlers.common` passes it explicitly.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.core import people
from bot.core.config import Settings
from bot.core.people import Role
from bot.mail.outbox import Mailer
from bot.mail.pages import LinkPages
from bot.mail.web import WebPages
from bot.render.texts import Texts
from bot.telegram.deliveries import Deliveries, schedule_tick
from bot.telegram.delivery import Pacer
from bot.telegram.inbox import ChatOrderedProcessor, Inbox, InboxBot, UpdatesRequest
from bot.telegram.link import TelegramLink, WatchedRequest
from bot.telegram.ratelimit import RetryAfterLimiter
from bot.telegram.shared_answers import ShareAnswers
from handlers import (
    administration,
    agenda,
    agenda_messages,
    announcements,
    attendance,
    deputies,
    digest,
    email,
    general,
    meetings,
    membership,
    minutes,
    privacy,
    recommendation_messages,
    recommendations,
    registration,
    report,
    sessions,
    tasks,
    tracking,
)
from handlers.common import HTML, KimContext, Rows, Runtime, command_menu, keyboard, utc_now
from storage.database import Database, unavailable
from storage.models import DeliveryKind

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]

RENDERERS = {
    **meetings.RENDERERS,
    **agenda_messages.RENDERERS,
    **recommendation_messages.RENDERERS,
    **announcements.RENDERERS,
    **digest.RENDERERS,
    **tasks.RENDERERS,
    **minutes.RENDERERS,
    **tracking.RENDERERS,
}
"""What the delivery timer sends, per delivery kind, from the features that own them."""
RENDERERS[DeliveryKind.DEPUTY_COPY] = deputies.copy_renderer(RENDERERS)  # a member's message, for the deputy


def build_application(
    settings: Settings, *, clock: Callable[[], datetime] = utc_now, long_running: bool = False
) -> Application:
    """The bot, ready for `run_polling`, `run_webhook` or manual start.

    `long_running` (`kimbot run`): once started, everything alive is exempted from
    later garbage collections (`settle_heap`)."""
    token = settings.require_token()
    api = settings.telegram_api_url.rstrip("/")

    inbox = Inbox()
    link = TelegramLink()
    limiter = RetryAfterLimiter()

    async def post_init(application: Application) -> None:
        db = Database(settings.database_url)
        await upgrade_when_reachable(db)
        inbox.attach(db)
        runtime = Runtime(settings, db, Texts(), clock, wake=db.cluster.wake)
        application.bot_data["runtime"] = runtime
        application.bot_data["link"] = link
        pacer = Pacer(application.bot, link=link)
        deliveries = Deliveries(application, pacer, db.cluster, RENDERERS)
        application.bot_data["deliveries"] = deliveries
        application.bot_data["share_answers"] = ShareAnswers(limiter, pacer, db.cluster)
        mailer = Mailer(lambda: runtime, db.cluster, RENDERERS, fetch_file=lambda f: telegram_file(application, f))
        application.bot_data["mailer"] = mailer
        deliveries.after_tick.append(mailer.wake)  # the timer's run may have queued mails
        link.on_back.append(lambda: schedule_tick(application, when=0))
        link.on_back.append(runtime.answers.retry_now)
        await db.cluster.start()  # the leader's timer starts with its leadership
        if settings.mail_on:
            mailer.start()
        if settings.mail_on and (web_address := settings.web_address()) is not None:
            web = WebPages(
                LinkPages(lambda: runtime, tell=lambda chat, text, rows: tell(application, chat, text, rows))
            )
            application.bot_data["web"] = web
            await web.start(*web_address)
        await inbox.start(application.bot)
        await publish_commands(application)
        if long_running:
            settle_heap()

    async def post_shutdown(application: Application) -> None:
        runtime: Runtime | None = application.bot_data.get("runtime")
        await inbox.stop()
        mailer: Mailer | None = application.bot_data.get("mailer")
        if mailer is not None:
            await mailer.stop()
        web: WebPages | None = application.bot_data.get("web")
        if web is not None:
            await web.stop()
        share_answers: ShareAnswers | None = application.bot_data.get("share_answers")
        if share_answers is not None:
            await share_answers.stop()
        if runtime is not None:
            await runtime.db.cluster.stop()
            await runtime.db.dispose()

    bot = InboxBot(
        token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=WatchedRequest(link, connection_pool_size=256),
        get_updates_request=UpdatesRequest(link, connection_pool_size=1),
        rate_limiter=limiter,
        inbox=inbox,
    )
    application = (
        Application.builder()
        .bot(bot)
        .context_types(ContextTypes(context=KimContext))
        .update_queue(inbox)
        .concurrent_updates(ChatOrderedProcessor(inbox=inbox))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    features = (registration, membership, meetings, sessions, agenda, recommendations, digest, report, privacy, general)
    callbacks = {route: handler for feature in features for route, handler in feature.CALLBACKS.items()}
    text_answers = {
        **sessions.TEXT_ANSWERS,
        **agenda.TEXT_ANSWERS,
        **recommendations.TEXT_ANSWERS,
        **report.TEXT_ANSWERS,
    }
    callbacks.update(administration.CALLBACKS)
    callbacks.update(announcements.CALLBACKS)
    callbacks.update(deputies.CALLBACKS)
    callbacks.update(tasks.CALLBACKS)
    callbacks.update(minutes.CALLBACKS)
    callbacks.update(tracking.CALLBACKS)
    text_answers.update(tracking.TEXT_ANSWERS)
    callbacks.update(email.CALLBACKS)
    text_answers.update(email.TEXT_ANSWERS)
    text_answers.update(minutes.TEXT_ANSWERS)
    callbacks.update(attendance.CALLBACKS)
    text_answers.update(attendance.TEXT_ANSWERS)
    text_answers.update(announcements.TEXT_ANSWERS)
    text_answers.update({**membership.TEXT_ANSWERS, **administration.TEXT_ANSWERS})
    application.add_handlers(
        [
            *registration.handlers(text_answers),
            *membership.handlers(),
            *administration.handlers(),
            *meetings.handlers(),
            *sessions.handlers(),
            *agenda.handlers(),
            *recommendations.handlers(),
            *announcements.handlers(),
            *deputies.handlers(),
            *tasks.handlers(),
            *minutes.handlers(),
            *tracking.handlers(),
            *attendance.handlers(),
            *digest.handlers(),
            *report.handlers(),
            *privacy.handlers(),
            *email.handlers(),
            *general.handlers(),
            general.button_router(callbacks),
            *general.fallbacks(),
        ]
    )
    application.add_error_handler(general.on_error)
    return application


async def tell(application: Application, chat_id: int, text: str, rows: Rows) -> None:
    """A message into a person's chat from outside an update (a page of an e-mail link)."""
    await application.bot.send_message(chat_id, text, reply_markup=keyboard(rows), **HTML)


async def telegram_file(application: Application, file_id: str) -> bytes:
    """A file Telegram has (a document the coordination attached), for a mail."""
    file = await application.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


START_RETRY = 5.0
"""Seconds between two tries to reach the database at start."""


async def upgrade_when_reachable(db: Database) -> None:
    """Apply the migrations; while the database does not answer, wait for it
    (one log line, then one when it answers), instead of exiting into a crash loop."""
    waited = False
    while True:
        try:
            await db.upgrade()
        except Exception as error:
            if not unavailable(error):
                raise
            if not waited:
                log.warning(
                    "the database is not reachable at start (%s); trying again every %.0f s",
                    type(error).__name__,
                    START_RETRY,
                )
                waited = True
            await asyncio.sleep(START_RETRY)
            continue
        if waited:
            log.warning("the database answers; starting")
        return


def settle_heap() -> None:
    """Collect once, then exempt what is alive after start-up (the libraries, the
    catalogs, the schema; it lives as long as the process) from later collections.
    A full collection then looks only at what was made since: in the digest
    benchmark, full collections over everything took 70 to 160 ms, and one that
    fell into a /digest stalled the event loop for 100 ms."""
    gc.collect()
    gc.freeze()


async def coordinator_chats(runtime: Runtime) -> list[int]:
    """The configured coordinators and those promoted by /promote (their menu is set
    at start; a promotion shows in /help at once). Without the database: the configured."""
    try:
        async with runtime.db.uow() as uow:
            return await people.coordinator_chat_ids(uow, runtime.settings)
    except Exception as error:
        if not unavailable(error):
            raise
        return sorted(runtime.settings.coordinator_ids)


async def publish_commands(application: Application) -> None:
    """Telegram's command menu in German and English; coordinators see theirs."""
    runtime: Runtime = application.bot_data["runtime"]
    bot = application.bot

    def menu(role: Role, lang: str) -> list[BotCommand]:
        return command_menu(runtime.texts, role, lang)

    menus: list[tuple[list[BotCommand], BotCommandScope, str | None]] = [
        (menu(Role.MEMBER, lang), BotCommandScopeDefault(), lang) for lang in ("de", "en")
    ]
    menus.append((menu(Role.MEMBER, runtime.settings.default_language), BotCommandScopeDefault(), None))
    menus += [
        (menu(Role.COORDINATOR, runtime.settings.default_language), BotCommandScopeChat(chat_id), None)
        for chat_id in await coordinator_chats(runtime)
    ]
    for entries, scope, lang in menus:
        try:
            await bot.set_my_commands(entries, scope=scope, language_code=lang)
        except TelegramError as error:
            # The menu is a convenience: a coordinator who never opened the chat, or a
            # passing fault of Telegram, must not keep the bot from starting.
            log.warning("command menu for %s not set: %s", scope.type, error.message)


@asynccontextmanager
async def running(application: Application, *, poll_timeout: int = 10) -> AsyncIterator[Application]:
    """Run the bot with long polling inside an event loop that is already running
    (the sandbox, the tests), with `post_init` and `post_shutdown` called as
    `run_polling` would."""
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        assert application.updater is not None

        def error_callback(error: TelegramError) -> None:
            application.create_task(application.process_error(None, error))

        await application.updater.start_polling(
            poll_interval=0.0,
            timeout=poll_timeout,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
            # As run_polling does: a failed getUpdates goes to the error handler
            # (a fault of Telegram is logged there by the TelegramLink, once).
            error_callback=error_callback,
        )
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
    finally:
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        await application.shutdown()
