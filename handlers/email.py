"""/email (alias /mail, SPEC 15): giving an e-mail address, confirming it with
the code from the mail, choosing what comes by e-mail, erasing it (the rules
are `bot.core.email`).

- `/email` alone shows the state with its buttons: the choice (✓ on the
  current one) and "Adresse löschen" (asks first), or how to give an address.
- `/email <address>` asks for the confirmation; the code typed into the chat
  confirms (`Step.EMAIL_CODE`), and so does the page the mail's link opens.
- `/email off` (or `aus`) erases the address, a pending one, the unsent mails.

`confirmed_message` is the chat message after a confirmation, by code here or
on the confirmation page.
"""

from __future__ import annotations

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import email
from bot.core.commands import by_name
from bot.core.steps import Step
from bot.render.texts import Html, Texts
from handlers import email_payloads as ep
from handlers.common import Handler, Request, Rows, action
from handlers.payloads import Payload
from storage.mail_models import MailMode

OFF_WORDS = frozenset({"off", "aus"})
"""`/email off`: the words that erase the address."""

MODE_KEYS = {MailMode.ALL: "email.mode_all", MailMode.FALLBACK: "email.mode_fallback"}
"""The words of each choice; `<key>_button` is the button's label."""


def mode_rows(texts: Texts, lang: str, mode: MailMode) -> list[list[tuple[str, Payload]]]:
    """The two choices, one per row, the current one marked ✓."""
    return [
        [
            (
                ("✓ " if choice is mode else "") + texts.plain(lang, f"{MODE_KEYS[choice]}_button"),
                ep.ChooseMailMode(choice.value),
            )
        ]
        for choice in MailMode
    ]


def confirmed_message(texts: Texts, lang: str, address: str, mode: MailMode) -> tuple[Html, Rows]:
    """ "Bestätigt: <address>" with the two choices (✓ on the current one)."""
    text = texts.get(lang, "email.confirmed", address=address, mode=texts.get(lang, MODE_KEYS[mode]))
    return text, mode_rows(texts, lang, mode)


def status_message(texts: Texts, lang: str, state: email.Status, mail_on: bool) -> tuple[Html, Rows]:
    """What `/email` alone shows, with its buttons."""
    parts: list[str] = []
    rows: list[list[tuple[str, Payload]]] = []
    if state.address is not None and state.bounced:
        parts.append(texts.get(lang, "email.state_bounced", address=state.address))
    elif state.address is not None:
        parts.append(
            texts.get(lang, "email.state_confirmed", address=state.address, mode=texts.get(lang, MODE_KEYS[state.mode]))
        )
        rows += mode_rows(texts, lang, state.mode)
    if state.pending is not None:
        parts.append(texts.get(lang, "email.state_pending", address=state.pending))
    if state.address is None and state.pending is None:
        parts.append(texts.get(lang, "email.state_none"))
    else:
        rows.append([(texts.plain(lang, "email.remove_button"), ep.RemoveAddress("ask"))])
    if not mail_on:
        parts.append(texts.get(lang, "email.off_here"))
    return Html("\n\n".join(parts)), rows


async def _status(request: Request) -> tuple[Html, Rows]:
    state = await email.show(await request.uow(), await request.person(), request.now())
    return status_message(request.runtime.texts, request.lang, state, request.settings.mail_on)


@action
async def email_command(request: Request) -> None:
    """`/email`, `/email <address>`, `/email off`."""
    message = request.update.effective_message
    words = (message.text or "").split(maxsplit=1) if message else []
    argument = words[1].strip() if len(words) > 1 else ""
    uow, me, now = await request.uow(), await request.person(), request.now()
    if not argument:
        await request.reply(*await _status(request))
    elif argument.casefold() in OFF_WORDS:
        erased = await email.turn_off(uow, me, now)
        await request.reply(request.t("email.off_done" if erased else "email.off_nothing"))
    else:
        address = await email.request(uow, me, argument, request.settings, now)
        request.wake_deliveries()  # the timer's run wakes the mailer
        key = "email.sent" if request.settings.public_url else "email.sent_code"
        await request.reply(request.t(key, address=address))


async def code_typed(request: Request, text: str) -> None:
    """The six-digit code from the confirmation mail, typed into the chat."""
    me = await request.person()
    typed = await email.confirm_code(await request.uow(), me, text, request.settings, request.now())
    if typed.address is not None:
        entry = await email.current(await request.uow(), me)
        await request.reply(*confirmed_message(request.runtime.texts, request.lang, typed.address, entry.mode))
    elif typed.expired:
        await request.reply(request.t("email.request_expired"))
    elif typed.left > 0:
        await request.reply(
            request.t("email.code_wrong_one" if typed.left == 1 else "email.code_wrong", left=typed.left)
        )
    else:
        await request.reply(request.t("email.code_wrong_last"))


async def mode_pressed(request: Request) -> None:
    """A choice under the confirmation or `/email`: save it, show it marked ✓."""
    assert isinstance(request.payload, ep.ChooseMailMode)
    try:
        mode = MailMode(request.payload.mode)
    except ValueError:
        await request.answer(request.label("buttons.stale"))
        return
    state = await email.set_mode(await request.uow(), await request.person(), mode, request.now())
    await request.edit(*status_message(request.runtime.texts, request.lang, state, request.settings.mail_on))
    await request.answer(request.label("email.mode_saved", mode=request.label(MODE_KEYS[mode])))


async def remove_pressed(request: Request) -> None:
    """ "Adresse löschen": asks first; "Ja, löschen" erases, "Nein" shows the state again."""
    assert isinstance(request.payload, ep.RemoveAddress)
    step = request.payload.step
    if step == "ask":
        state = await email.current(await request.uow(), await request.person())
        if state.address is None and state.pending is None:
            await request.edit(request.t("email.off_nothing"))
            return
        await request.edit(
            request.t("email.remove_confirm", address=state.address or state.pending),
            [
                [(request.label("email.remove_yes_button"), ep.RemoveAddress("yes"))],
                [(request.label("email.remove_no_button"), ep.RemoveAddress("no"))],
            ],
        )
    elif step == "yes":
        erased = await email.turn_off(await request.uow(), await request.person(), request.now())
        await request.edit(request.t("email.off_done" if erased else "email.off_nothing"))
    else:
        await request.edit(*await _status(request))


def handlers() -> list[BaseHandler]:
    command = by_name("email")
    assert command is not None
    return [CommandHandler([command.name, *command.aliases], email_command, filters=filters.ChatType.PRIVATE)]


TEXT_ANSWERS = {Step.EMAIL_CODE: code_typed}

CALLBACKS: dict[type, Handler] = {ep.ChooseMailMode: mode_pressed, ep.RemoveAddress: remove_pressed}
