"""/profile (alias /profil): correct one's display name and organisation,
in one line or with buttons (rules in `bot.core.profile`)."""

from __future__ import annotations

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import profile
from bot.core.commands import by_name
from bot.core.steps import Step
from bot.render.texts import Html
from handlers import payloads as p
from handlers.common import Handler, Request, action


@action
async def show_profile(request: Request) -> None:
    """`/profile [name|organisation <text>]`."""
    message = request.update.effective_message
    words = (message.text or "").split(maxsplit=1) if message else []
    uow, me = await request.uow(), await request.person()
    changed = await profile.command(uow, me, words[1] if len(words) > 1 else "")
    if changed is not None:
        await request.reply(_changed(request, changed))
        return
    profile.show(me)
    rows = [
        [(request.label("profile.name_button"), p.ChangeProfile("name"))],
        [(request.label("profile.organisation_button"), p.ChangeProfile("organisation"))],
    ]
    if me.organisation:
        rows.append([(request.label("profile.no_organisation_button"), p.ChangeProfile("no-organisation"))])
    organisation = me.organisation or request.t("profile.none")
    await request.reply(request.t("profile.shown", name=me.display_name, organisation=organisation), rows)


async def change_pressed(request: Request) -> None:
    """A button under /profile: ask for the new text, or remove the organisation."""
    assert isinstance(request.payload, p.ChangeProfile)
    result = await profile.button(await request.uow(), await request.person(), request.payload.field)
    await request.edit(rows=())
    if isinstance(result, str):
        await request.reply(request.t(f"profile.ask_{result}"))
    else:
        await request.reply(_changed(request, result))


async def new_text(request: Request, text: str) -> None:
    """The new name or organisation after a change button."""
    await request.reply(_changed(request, await profile.submit(await request.uow(), await request.person(), text)))


def _changed(request: Request, changed: profile.Changed) -> Html:
    none = request.t("profile.none")
    if changed.field == "organisation" and changed.new is None:
        return request.t("profile.organisation_removed", old=changed.old or none)
    if changed.old == changed.new:
        return request.t(f"profile.{changed.field}_same", new=changed.new or none)
    return request.t(f"profile.{changed.field}_changed", old=changed.old or none, new=changed.new or none)


def handlers() -> list[BaseHandler]:
    command = by_name("profile")
    assert command is not None
    return [CommandHandler([command.name, *command.aliases], show_profile, filters=filters.ChatType.PRIVATE)]


TEXT_ANSWERS = {Step.PROFILE_NAME: new_text, Step.PROFILE_ORGANISATION: new_text}

CALLBACKS: dict[type, Handler] = {p.ChangeProfile: change_pressed}
