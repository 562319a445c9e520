"""Registration handlers: /start, the privacy notice, name, organisation; and
/profile to correct them later (`handlers.profile`, composed here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.core import registration, steps
from bot.core.errors import Refusal
from bot.core.registration import Progress, Stage
from bot.core.steps import Step
from bot.render.notice import privacy_notice
from bot.render.texts import escape
from bot.render.units import split_text
from handlers import payloads as p
from handlers import profile
from handlers.common import Request, action
from handlers.general import unexpected_text

TextAnswer = Callable[[Request, str], Awaitable[None]]
"""Handles the text a person sends while the bot waits for it (a guided step, `bot.core.steps`)."""


@action
async def start(request: Request) -> None:
    """Welcome, registration step by step, or use a deep-link invite."""
    payload = request.args[0] if request.args else None
    progress = await registration.start(await request.uow(), request.caller, payload, request.settings, request.now())
    await show_progress(request, progress)


async def acknowledge_privacy(request: Request) -> None:
    """The person confirms they have read the privacy notice."""
    progress = await registration.acknowledge_privacy(
        await request.uow(), request.caller, request.settings, request.now()
    )
    await request.answer(request.label("registration.ack_done"))
    await request.edit(rows=())
    await show_progress(request, progress)


async def use_telegram_name(request: Request) -> None:
    """The person takes the name Telegram knows as display name."""
    progress = await registration.use_telegram_name(
        await request.uow(), request.caller, request.settings, request.now()
    )
    await request.edit(rows=())
    await show_progress(request, progress)


async def skip_organisation(request: Request) -> None:
    """The person gives no organisation."""
    progress = await registration.skip_organisation(
        await request.uow(), request.caller, request.settings, request.now()
    )
    await request.edit(rows=())
    await show_progress(request, progress)


def answer_question(text_answers: Mapping[Step, TextAnswer]) -> Callable:
    """A plain text: the answer to the bot's last question. Registration answers
    are handled here; the features' guided steps by `text_answers`."""

    @action
    async def answer(request: Request) -> None:
        message = request.update.effective_message
        assert message is not None and message.text is not None
        step = steps.current(await request.person())
        feature = {**profile.TEXT_ANSWERS, **text_answers}.get(step) if step is not None else None
        if feature is not None:
            await feature(request, message.text)
            return
        try:
            progress = await registration.submit_text(
                await request.uow(), request.caller, message.text, request.settings, request.now()
            )
        except Refusal as refusal:
            if refusal.key != "input.unexpected":
                raise
            await unexpected_text(request)  # no question asked: a short menu (handlers.general)
            return
        await show_progress(request, progress)

    return answer


async def show_progress(request: Request, progress: Progress) -> None:
    """Say what comes next in registration."""
    person = progress.person
    if progress.stage is Stage.PRIVACY:
        await request.reply(request.t("registration.welcome"))
        chunks = split_text(escape(privacy_notice(request.settings, request.lang)))
        for chunk in chunks[:-1]:
            await request.reply(chunk)
        await request.reply(
            chunks[-1] + "\n\n" + request.t("registration.ack_question"),
            [[(request.label("registration.ack_button"), p.AcknowledgePrivacy())]],
        )
    elif progress.stage is Stage.NAME:
        name = request.caller.full_name[:64] or "?"
        await request.reply(
            request.t("registration.ask_name", telegram_name=name),
            [[(name, p.UseTelegramName())]],
        )
    elif progress.stage is Stage.ORGANISATION:
        await request.reply(
            request.t("registration.ask_organisation", name=person.display_name),
            [[(request.label("registration.skip_organisation_button"), p.SkipOrganisation())]],
        )
    elif progress.stage is Stage.JOIN:
        text: str = request.t("registration.done", name=person.display_name)
        if progress.notice_key:
            text = request.t(progress.notice_key) + "\n\n" + text
        if progress.joinable:
            text += "\n\n" + request.t("registration.choose_group")
        await request.reply(text, [[(g.name, p.JoinGroup(g.id))] for g in progress.joinable])
    elif progress.stage is Stage.WELCOME_BACK:
        await request.reply(request.t("registration.welcome_back", name=person.display_name))
    elif progress.stage is Stage.JOINED_BY_INVITE:
        assert progress.joined is not None
        request.wake_deliveries()  # open recommendations reach the new member at once
        await request.reply(request.t("invite.joined", group=progress.joined.group.name))


def handlers(text_answers: Mapping[Step, TextAnswer]) -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        *profile.handlers(),
        MessageHandler(filters.TEXT & ~filters.COMMAND & private, answer_question(text_answers)),
    ]


CALLBACKS = {
    p.AcknowledgePrivacy: acknowledge_privacy,
    p.UseTelegramName: use_telegram_name,
    p.SkipOrganisation: skip_organisation,
    **profile.CALLBACKS,
}
