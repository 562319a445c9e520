"""/mydata and /forget (SPEC 8): the person's data as a readable document and as a
JSON file, and erasing it.

/forget asks first, with two buttons; only "yes" erases. The answer after
erasing is in the language the person had, as nothing of them is left to
look it up.
"""

from __future__ import annotations

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import privacy as core
from bot.core.commands import by_name
from bot.render.my_data import readable
from handlers import payloads as p
from handlers.common import Handler, Request, action


@action
async def my_data(request: Request) -> None:
    data = await request.read(core.my_data, request.caller, request.now())
    if data is None:
        await request.reply(request.t("privacy.nothing_stored"))
        return
    tz = request.settings.timezone
    document = readable(request.runtime.texts, request.lang, data, tz)
    await request.send_document(document, request.label("privacy.document_name"), request.t("privacy.document_caption"))
    await request.send_document(core.as_json(data, tz), core.FILE_NAME, caption=request.t("privacy.json_caption"))


@action
async def forget(request: Request) -> None:
    await request.reply(
        request.t("privacy.forget_confirm"),
        [
            [(request.label("privacy.forget_yes_button"), p.ConfirmForget(True))],
            [(request.label("privacy.forget_no_button"), p.ConfirmForget(False))],
        ],
    )


async def forget_pressed(request: Request) -> None:
    assert isinstance(request.payload, p.ConfirmForget)
    await request.edit(rows=())
    if not request.payload.erase:
        await request.reply(request.t("privacy.forget_kept"))
        return
    erased = await core.forget(await request.uow(), request.caller, request.now())
    await request.reply(request.t("privacy.forgotten" if erased else "privacy.nothing_stored"))


def handlers() -> list[BaseHandler]:
    result: list[BaseHandler] = []
    for name, callback in (("mydata", my_data), ("forget", forget)):
        command = by_name(name)
        assert command is not None
        result.append(CommandHandler([command.name, *command.aliases], callback, filters=filters.ChatType.PRIVATE))
    return result


CALLBACKS: dict[type, Handler] = {p.ConfirmForget: forget_pressed}
