"""How a digest reads: one layout, written out as Telegram HTML, plain text,
Markdown, or JSON; and `kimbot digest`, the digest on the terminal.

What a digest contains is decided by the rules (`bot.core.digest`); how it
reads is here, in these modules:

- `digest_layout`: `sections`, the digest as sections of catalog lines (and
  `summary`, the short form for a digest sent as a document);
- `digest_formats`: those lines as Telegram HTML (`html_writer`), plain
  text (`to_text`), Markdown (`to_markdown`), and the data as JSON
  (`to_json`);
- this module: `command_line` (`kimbot digest`, for the terminal). The
  Telegram messages are put together by `handlers.digest`.

The names the callers (the chat handler, the tests) use of the layout and
the formats are exported here too (`__all__`), so the digest's rendering is
imported from one place.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from datetime import UTC, datetime
from typing import Protocol

from bot.core.config import Settings
from bot.core.digest import DEFAULT_PERIOD, build, parse_period, parse_scope
from bot.core.errors import Key, Refusal
from bot.render.digest_formats import (
    Writer,
    html_writer,
    markdown_escape,
    to_json,
    to_markdown,
    to_text,
)
from bot.render.digest_layout import (
    COMMENT_SHOWN,
    ORGANISATION_SHOWN,
    TEXT_SHOWN,
    Joined,
    Line,
    Section,
    document_caption,
    document_name,
    group_section,
    header,
    missing,
    nothing_new,
    sections,
    summary,
    summary_line,
)
from bot.render.texts import Texts
from storage.database import Database

__all__ = [
    # the layout
    "COMMENT_SHOWN",
    "ORGANISATION_SHOWN",
    "TEXT_SHOWN",
    "Joined",
    "Line",
    "Section",
    "document_caption",
    "document_name",
    "group_section",
    "header",
    "missing",
    "nothing_new",
    "sections",
    "summary",
    "summary_line",
    # the formats
    "Writer",
    "html_writer",
    "markdown_escape",
    "to_json",
    "to_markdown",
    "to_text",
    # the terminal
    "DigestArgs",
    "command_line",
]


class DigestArgs(Protocol):
    """The arguments of `kimbot digest` (as `bot.cli` parses them)."""

    group: str | None
    since: str | None
    format: str


def command_line(settings: Settings, args: DigestArgs) -> int:
    """`kimbot digest`: the digest on the terminal (text, md or json); 2 for a bad group or period."""
    return asyncio.run(_command_line(settings, args))


async def _command_line(settings: Settings, args: DigestArgs) -> int:
    texts = Texts()
    lang = settings.default_language
    now = datetime.now(UTC)
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        async with db.reader() as uow:
            try:
                groups = list(await uow.groups.active())
                scope = parse_scope(args.group or "all", groups)
                period = parse_period(args.since or DEFAULT_PERIOD, now, settings.timezone)
            except Refusal as refusal:
                print(f"kimbot digest: {_plain_refusal(texts, lang, refusal)}", file=sys.stderr)
                return 2
            digest = await build(uow, [scope] if scope else groups, period, now, settings, scope=scope)
    finally:
        await db.dispose()
    if args.format == "json":
        output = to_json(digest)
    elif args.format == "md":
        output = to_markdown(texts, lang, digest)
    else:
        output = to_text(texts, lang, digest)
    sys.stdout.write(output if output.endswith("\n") else output + "\n")
    return 0


def _plain_refusal(texts: Texts, lang: str, refusal: Refusal) -> str:
    """A refusal as a line for the terminal: the command line's example, no HTML."""
    params = {
        name: texts.get(lang, "digest.example_cli" if value == "digest.example" else value)
        if isinstance(value, Key)
        else value
        for name, value in refusal.params.items()
    }
    rendered = texts.get(lang, refusal.key, **params)
    return html.unescape(re.sub(r"<[^>]*>", "", rendered)).replace("\n", " ")
