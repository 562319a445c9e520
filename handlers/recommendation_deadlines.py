"""After a recommendation's deadline: the coordinator's buttons (`bot.core.recommendation_deadlines`).

The message after the deadline (rendered in `handlers.recommendation_messages`)
has "Abschließen" (handled as under /feedback), "Ohne Antwort erinnern" and
"Frist verlängern". The latter two ask for a new deadline: buttons for the end
of the day in 3, 7 and 14 days, or a date typed. The buttons of the message
pressed are taken away once the choice is made, so it is not made twice.
"""

from __future__ import annotations

from bot.core import recommendation_deadlines as core
from bot.core.dates import format_date, format_when
from bot.core.errors import Refusal
from bot.core.steps import Step
from bot.render.texts import plural
from handlers import payloads as p
from handlers.common import Handler, Request
from handlers.recommendation_messages import dates_for_reader
from handlers.registration import TextAnswer


@dates_for_reader
async def after_deadline_pressed(request: Request) -> None:
    """ "Ohne Antwort erinnern" / "Frist verlängern": ask for the new deadline."""
    assert isinstance(request.payload, p.AfterDeadline)
    action = request.payload.action
    if action not in ("remind", "extend"):
        raise Refusal("buttons.stale")
    remind = action == "remind"
    now = request.now()
    view = await core.ask_new_deadline(
        await request.uow(), await request.person(), request.payload.recommendation_id, remind, request.settings
    )
    rid = view.recommendation.id
    buttons = [
        (
            request.label(
                "recommendations.deadline_button",
                date=format_date(core.offered_deadline(days, request.settings, now).date(), request.lang),
            ),
            p.NewDeadline(rid, days, remind),
        )
        for days in core.OFFERED_DAYS
    ]
    key = "recommendations.ask_deadline_remind" if remind else "recommendations.ask_deadline_extend"
    await request.answer()
    await request.edit(rows=())
    await request.reply(request.t(key, id=rid, silent=view.silent), [buttons])


@dates_for_reader
async def new_deadline_pressed(request: Request) -> None:
    """A new deadline chosen by button."""
    assert isinstance(request.payload, p.NewDeadline)
    payload = request.payload
    extended = await core.extend_by_days(
        await request.uow(),
        await request.person(),
        payload.recommendation_id,
        payload.days,
        payload.remind,
        request.settings,
        request.now(),
    )
    await request.answer()
    await request.edit(rows=())
    await _confirm(request, extended)


@dates_for_reader
async def deadline_text(request: Request, text: str) -> None:
    """A new deadline typed."""
    extended = await core.extend_by_text(
        await request.uow(), await request.person(), text, request.settings, request.now()
    )
    await _confirm(request, extended)


async def _confirm(request: Request, extended: core.Extended) -> None:
    recommendation = extended.recommendation
    assert recommendation.deadline is not None
    when = format_when(recommendation.deadline, request.settings.timezone, request.lang)
    if extended.remind:
        text = request.t(
            plural("recommendations.extended_reminded", extended.reminded),
            id=recommendation.id,
            when=when,
            count=extended.reminded,
        )
    else:
        view = await core.state(await request.uow(), recommendation)
        text = request.t("recommendations.extended", id=recommendation.id, when=when, silent=view.silent)
    await request.reply(text)
    request.wake_deliveries()


TEXT_ANSWERS: dict[Step, TextAnswer] = {Step.RECOMMENDATION_DEADLINE: deadline_text}

CALLBACKS: dict[type, Handler] = {
    p.AfterDeadline: after_deadline_pressed,
    p.NewDeadline: new_deadline_pressed,
}
