"""Digest handlers: /digest, and the scheduled digest as the timer sends it.

Both use the same Telegram rendering (`render`): the layout of
`bot.render.digest` in Telegram's HTML, bold section titles, "•" entries.
The header and "Was fehlt" come first, then one section per group; messages
are filled section by section (`bot.render.units.pack_blocks`), so a long
digest is split at group boundaries (a section longer than one message is
split between its lines). When that would take more than `MAX_MESSAGES`
messages, the coordinator gets one message with the header, "Was fehlt" and
one line of numbers per group, and the whole digest as a Markdown document. A scheduled
digest with nothing new is one line.
"""

from __future__ import annotations

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import digest as core
from bot.core.commands import by_name
from bot.core.reminders import Due
from bot.render.digest import (
    Section,
    document_caption,
    document_name,
    html_writer,
    nothing_new,
    sections,
    summary,
    to_markdown,
)
from bot.render.texts import Html, Texts
from bot.render.units import pack_blocks
from handlers.common import Handler, Request, Runtime, action
from handlers.outbox import Batch, Document, Message, Part, Renderer
from storage.models import DeliveryKind
from storage.uow import UnitOfWork

MAX_MESSAGES = 5
"""More messages than this, and the digest comes as a document."""
_PREFIX = {0: "", 1: "• ", 2: "    "}


def section_html(texts: Texts, lang: str, section: Section) -> Html:
    writer = html_writer(texts, lang)
    lines = [f"<b>{writer.line(section.title)}</b>"] if section.title is not None else []
    lines += [_PREFIX[line.level] + writer.line(line) for line in section.lines]
    return Html("\n".join(lines))


def render(texts: Texts, lang: str, digest: core.Digest) -> list[Part]:
    """The digest as Telegram messages, or as a short message and a document."""
    writer = html_writer(texts, lang)
    if digest.scheduled and digest.nothing_new:
        return [Message(Html(writer.line(nothing_new(digest, lang))))]
    layout = sections(digest, lang)
    messages = pack_blocks(section_html(texts, lang, s) for s in layout)
    if len(messages) <= MAX_MESSAGES:
        return [Message(m) for m in messages]
    first = pack_blocks(section_html(texts, lang, s) for s in summary(digest, lang))
    document = Document(
        to_markdown(texts, lang, digest, layout).encode("utf-8"),
        document_name(texts, lang, digest),
        Html(writer.line(document_caption(digest, lang))),
    )
    return [*(Message(m) for m in first), document]


async def render_delivery(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
    """The scheduled digest for one coordinator: one or more messages, or a document."""
    assert item.scheduled_for is not None
    digest = await core.for_schedule(uow, runtime.settings, item.scheduled_for, runtime.clock())
    return render(runtime.texts, lang, digest)


@action
async def digest_command(request: Request) -> None:
    """`/digest [group|all] [period]` (coordination)."""
    # Read-only: a long digest must not hold SQLite's write lock.
    me = await request.reading_person()
    digest = await request.read(core.for_command, me, " ".join(request.args), request.settings, request.now())
    for part in render(request.runtime.texts, request.lang, digest):
        if isinstance(part, Document):
            await request.send_document(part.data, part.filename, caption=part.caption)
        else:
            await request.reply(part.text, part.rows)


def handlers() -> list[BaseHandler]:
    command = by_name("digest")
    assert command is not None
    return [CommandHandler([command.name, *command.aliases], digest_command, filters=filters.ChatType.PRIVATE)]


CALLBACKS: dict[type, Handler] = {}


RENDERERS: dict[DeliveryKind, Renderer] = {DeliveryKind.DIGEST: render_delivery}
