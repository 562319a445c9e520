"""Announcement handlers: /announce (alias /mitteilung, /rundschreiben), its
buttons, the document attached to it, and what the delivery timer sends.

- `/announce <group|all> <text>`: sent at once; the reply names the groups,
  the number of recipients and the id (`#5`).
- `/announce` alone: the groups and "Alle Gruppen" as buttons; then the
  text, and optionally a document (a reply to the bot's question, or sent
  next; its caption may be the text); then the preview with "Senden" and
  "Abbrechen". The rules are in `bot.core.announcements`.
- Each member receives the text under a heading naming the coordination and
  the groups, then the document, if any.
"""

from __future__ import annotations

from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.core import announcements as core
from bot.core import membership, people, steps
from bot.core.commands import by_name
from bot.core.errors import Refusal
from bot.core.recommendation_parsing import Targets
from bot.core.reminders import Due
from bot.core.steps import Step
from bot.render.texts import Html, Texts, escape, plural
from handlers import payloads as p
from handlers.common import Handler, Request, Rows, Runtime, action
from handlers.outbox import Batch, Document, Message, Part, Renderer
from handlers.recommendation_messages import group_names
from handlers.registration import TextAnswer
from storage.admin_models import Announcement
from storage.models import DeliveryKind
from storage.uow import UnitOfWork


def _targets_words(texts: Texts, lang: str, targets: Targets) -> str:
    if targets.everyone:
        return texts.plain(lang, "announcements.all_groups")
    return group_names(texts, lang, targets.groups)


def _announcement_groups(texts: Texts, lang: str, announcement: Announcement) -> str:
    if announcement.all_groups:
        return texts.plain(lang, "announcements.all_groups")
    return group_names(texts, lang, announcement.groups)


def message_text(texts: Texts, lang: str, groups: str, text: str) -> Html:
    """What a member reads: the heading, then the text as written."""
    return Html(texts.get(lang, "announcements.heading", groups=groups) + "\n\n" + escape(text))


@action
async def announce_command(request: Request) -> None:
    """`/announce <group|all|g1,g2> <text>`; guided without arguments."""
    message = request.update.effective_message
    words = (message.text or "").split(maxsplit=1) if message is not None else []
    uow, me = await request.uow(), await request.person()
    if len(words) < 2:
        groups = await membership.groups_to_choose(uow, me, request.settings)
        rows: Rows = [[(g.name, p.AnnounceTo(g.id))] for g in groups]
        rows = [*rows, [(request.label("announcements.all_groups_button"), p.AnnounceTo(0))]]
        await request.reply(request.t("announcements.choose_target"), rows)
        return
    result = await core.announce(uow, me, words[1], request.settings, request.now())
    if isinstance(result, core.TextWanted):
        await _ask_for_text(request, result.targets)
    else:
        await _confirm_sent(request, result)


async def _ask_for_text(request: Request, targets: Targets) -> None:
    groups = _targets_words(request.runtime.texts, request.lang, targets)
    await request.reply(request.t("announcements.ask_text", groups=groups, max=core.TEXT_MAX))


async def target_pressed(request: Request) -> None:
    """Guided /announce: the target was chosen; ask for the text."""
    assert isinstance(request.payload, p.AnnounceTo)
    targets = await core.start_guided(
        await request.uow(), await request.person(), request.payload.group_id, request.settings
    )
    await request.answer()
    await request.edit(rows=())
    await _ask_for_text(request, targets)


async def guided_text(request: Request, text: str) -> None:
    """The text of a guided /announce: the preview."""
    prepared = await core.submit_text(await request.uow(), await request.person(), text, request.settings)
    await _preview(request, prepared)


@action
async def document_received(request: Request) -> None:
    """A document: attached to the announcement the bot is waiting for."""
    message = request.update.effective_message
    assert message is not None and message.document is not None
    known = await request.read(people.known, request.caller.telegram_id)
    if known is None or steps.current(known) is not Step.ANNOUNCEMENT_TEXT:
        await request.reply(request.t("errors.text_only"))  # as for any file the bot does not expect
        return
    me = await request.person()
    document = message.document
    result = await core.submit_document(
        await request.uow(), me, document.file_id, document.file_name, message.caption, request.settings
    )
    if isinstance(result, core.TextWanted):
        await request.reply(request.t("announcements.document_kept", name=result.file_name or ""))
    else:
        await _preview(request, result)


async def _preview(request: Request, prepared: core.Prepared) -> None:
    texts, lang = request.runtime.texts, request.lang
    groups = _targets_words(texts, lang, prepared.targets)
    parts = [
        request.t("announcements.preview_title"),
        message_text(texts, lang, groups, prepared.text),
    ]
    if prepared.file_name:
        parts.append(request.t("announcements.preview_document", name=prepared.file_name))
    parts.append(request.t(plural("announcements.preview_count", prepared.recipients), count=prepared.recipients))
    parts.append(request.t("announcements.preview_how"))
    rows: Rows = [
        [
            (request.label("announcements.send_button"), p.AnnouncementPreview("send", prepared.version)),
            (request.label("announcements.cancel_button"), p.AnnouncementPreview("cancel", prepared.version)),
        ]
    ]
    await request.reply(Html("\n\n".join(parts)), rows)


async def preview_pressed(request: Request) -> None:
    """ "Senden" or "Abbrechen" under the preview."""
    assert isinstance(request.payload, p.AnnouncementPreview)
    uow, me = await request.uow(), await request.person()
    if request.payload.action == "send":
        sent = await core.send_prepared(uow, me, request.payload.version, request.settings, request.now())
        await request.answer()
        await request.edit(rows=())
        await _confirm_sent(request, sent)
    elif request.payload.action == "cancel":
        await core.cancel_prepared(uow, me, request.payload.version, request.settings)
        await request.answer()
        await request.edit(rows=())
        await request.reply(request.t("announcements.cancelled"))
    else:
        raise Refusal("buttons.stale")


async def _confirm_sent(request: Request, sent: core.Sent) -> None:
    announcement = sent.announcement
    groups = _announcement_groups(request.runtime.texts, request.lang, announcement)
    key = plural("announcements.sent", sent.recipients)
    text = request.t(key, id=announcement.id, groups=groups, count=sent.recipients)
    if announcement.document_name:
        text = Html(text + "\n" + request.t("announcements.sent_document", name=announcement.document_name))
    await request.reply(text)
    request.wake_deliveries()


# --- what the delivery timer sends ---------------------------------------------


async def render_delivery(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
    """One member's copy of an announcement: the text, then the document."""
    pending = await batch.memo(("announcement-deliveries",), uow.announcements.pending_deliveries)
    announcement_id = await core.announcement_of(uow, item.delivery_id, pending)
    announcement = await batch.memo(("announcement", announcement_id), lambda: core.shown(uow, announcement_id))
    texts = runtime.texts
    groups = _announcement_groups(texts, lang, announcement)
    parts: list[Part] = [Message(message_text(texts, lang, groups, announcement.text))]
    if announcement.document_file_id:
        parts.append(Document(b"", announcement.document_name or "Dokument", file_id=announcement.document_file_id))
    return parts


RENDERERS: dict[DeliveryKind, Renderer] = {DeliveryKind.ANNOUNCEMENT: render_delivery}


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    command = by_name("announce")
    assert command is not None
    return [
        CommandHandler([command.name, *command.aliases], announce_command, filters=private),
        MessageHandler(filters.Document.ALL & private, document_received),
    ]


TEXT_ANSWERS: dict[Step, TextAnswer] = {Step.ANNOUNCEMENT_TEXT: guided_text}

CALLBACKS: dict[type, Handler] = {
    p.AnnounceTo: target_pressed,
    p.AnnouncementPreview: preview_pressed,
}
