"""Text and caption formatting: parse mode dispatch and Telegram's length rules.

``format_text`` applies ``parse_mode`` (``HTML``, ``MarkdownV2``, ``Markdown``,
or none) or explicit ``entities``, trims like Telegram and enforces the
limits: message text 1-4096 UTF-16 code units after parsing ("message text is
empty" / "message is too long"), captions 0-1024 ("message caption is too
long"), callback query answers up to 200 characters.
"""

from __future__ import annotations

from typing import Any

from .entities import Entity, auto_entities, check_explicit, finish
from .errors import bad_request
from .html import parse_html
from .markdown import parse_markdown, parse_markdown_v2

PARSE_MODES = ("HTML", "MarkdownV2", "Markdown")
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200


def parse(text: str, parse_mode: str | None, entities: list[Entity] | None) -> tuple[str, list[Entity]]:
    """Plain text and entities of one text or caption (not yet length-checked)."""
    if entities is not None:
        plain, found = text, check_explicit(text, entities)
    elif parse_mode is None or parse_mode == "":
        plain, found = text, []
    elif parse_mode.lower() == "html":
        plain, found = parse_html(text)
    elif parse_mode.lower() == "markdownv2":
        plain, found = parse_markdown_v2(text)
    elif parse_mode.lower() == "markdown":
        plain, found = parse_markdown(text)
    else:
        raise bad_request("unsupported parse_mode")
    plain, found = finish(plain, found)
    return plain, auto_entities(plain, found)


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def format_text(params: dict[str, Any]) -> tuple[str, list[Entity]]:
    """``text``/``parse_mode``/``entities`` of sendMessage or editMessageText."""
    plain, entities = parse(params["text"], params.get("parse_mode"), params.get("entities"))
    if not plain:
        raise bad_request("message text is empty")
    if _units(plain) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return plain, entities


def format_caption(params: dict[str, Any]) -> tuple[str, list[Entity]]:
    """``caption``/``parse_mode``/``caption_entities`` of a media message (may be empty)."""
    caption = params.get("caption")
    if caption is None:
        return "", []
    plain, entities = parse(caption, params.get("parse_mode"), params.get("caption_entities"))
    if _units(plain) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return plain, entities
