"""Registration handlers: /start, the privacy notice, name, organisation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.core import registration
from bot.core.people import ensure_person
from bot.core.registration import Progress, Step
from bot.render.notice import privacy_notice
from bot.render.texts import escape
from bot.render.units import split_text
from handlers import payloads as p
from handlers.common import Request, action

TextAnswer = Callable[[Request, str], Awaitable[None]]
"""Handles the text a person sends while the bot waits for it (`Person.awaiting`)."""


@action
async def start(request: Request) -> None:
    """Welcome, registration step by step, or use a deep-link invite."""
    payload = request.args[0] if request.args else None
    async with request.uow() as uow:
        progress = await registration.start(uow, request.caller, payload, request.settings, request.now())
    await show_progress(request, progress)


async def acknowledge_privacy(request: Request) -> None:
    """The person confirms they have read the privacy notice."""
    async with request.uow() as uow:
        progress = await registration.acknowledge_privacy(uow, request.caller, request.settings, request.now())
    await request.answer(request.label("registration.ack_done"))
    await request.edit(rows=())
    await show_progress(request, progress)


async def use_telegram_name(request: Request) -> None:
    """The person takes the name Telegram knows as display name."""
    async with request.uow() as uow:
        progress = await registration.use_telegram_name(uow, request.caller, request.settings, request.now())
    await request.edit(rows=())
    await show_progress(request, progress)


async def skip_organisation(request: Request) -> None:
    """The person gives no organisation."""
    async with request.uow() as uow:
        progress = await registration.skip_organisation(uow, request.caller, request.settings, request.now())
    await request.edit(rows=())
    await show_progress(request, progress)


def answer_question(text_answers: Mapping[str, TextAnswer]) -> Callable:
    """A plain text: the answer to the bot's last question. Registration answers
    are handled here; the features' guided steps by `text_answers`."""

    @action
    async def answer(request: Request) -> None:
        message = request.update.effective_message
        assert message is not None and message.text is not None
        async with request.uow() as uow:
            person = await ensure_person(uow, request.caller, request.now())
            feature = text_answers.get(person.awaiting or "")
            if feature is None:
                progress = await registration.submit_text(
                    uow, request.caller, message.text, request.settings, request.now()
                )
        if feature is not None:
            await feature(request, message.text)
            return
        await show_progress(request, progress)

    return answer


async def show_progress(request: Request, progress: Progress) -> None:
    """Say what comes next in registration."""
    person = progress.person
    if progress.step is Step.PRIVACY:
        await request.reply(request.t("registration.welcome"))
        chunks = split_text(escape(privacy_notice(request.settings, request.lang)))
        for chunk in chunks[:-1]:
            await request.reply(chunk)
        await request.reply(
            chunks[-1] + "\n\n" + request.t("registration.ack_question"),
            [[(request.label("registration.ack_button"), p.AcknowledgePrivacy())]],
        )
    elif progress.step is Step.NAME:
        name = request.caller.full_name[:64] or "?"
        await request.reply(
            request.t("registration.ask_name", telegram_name=name),
            [[(name, p.UseTelegramName())]],
        )
    elif progress.step is Step.ORGANISATION:
        await request.reply(
            request.t("registration.ask_organisation", name=person.display_name),
            [[(request.label("registration.skip_organisation_button"), p.SkipOrganisation())]],
        )
    elif progress.step is Step.JOIN:
        text: str = request.t("registration.done", name=person.display_name)
        if progress.notice_key:
            text = request.t(progress.notice_key) + "\n\n" + text
        if progress.joinable:
            text += "\n\n" + request.t("registration.choose_group")
        await request.reply(text, [[(g.name, p.JoinGroup(g.id))] for g in progress.joinable])
    elif progress.step is Step.WELCOME_BACK:
        await request.reply(request.t("registration.welcome_back", name=person.display_name))
    elif progress.step is Step.JOINED_BY_INVITE:
        assert progress.joined is not None
        await request.reply(request.t("invite.joined", group=progress.joined.group.name))


def handlers(text_answers: Mapping[str, TextAnswer]) -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        MessageHandler(filters.TEXT & ~filters.COMMAND & private, answer_question(text_answers)),
    ]


CALLBACKS = {
    p.AcknowledgePrivacy: acknowledge_privacy,
    p.UseTelegramName: use_telegram_name,
    p.SkipOrganisation: skip_organisation,
}
