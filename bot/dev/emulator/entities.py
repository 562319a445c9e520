"""Message entities: UTF-16 offsets, normalisation and rendering back to HTML.

Telegram measures ``offset`` and ``length`` of a ``MessageEntity`` in UTF-16
code units (an emoji outside the BMP counts 2). This module holds the helpers
every text path shares:

- ``utf16_len`` and ``Utf16Index`` (convert between code units and str indices);
- ``finish`` trims surrounding whitespace as Telegram does and drops empty
  entities, keeping offsets right;
- ``check_explicit`` validates an explicit ``entities`` array;
- ``command_entities`` marks ``/command`` (and ``/command@bot``) in user text;
- ``render_html`` turns text + entities into safe HTML (text escaped, only
  Telegram's tags), used for ``SentMessage.html`` and the sandbox page.
"""

from __future__ import annotations

import html as _html
import re
from itertools import pairwise
from typing import Any

from .errors import bad_request

Entity = dict[str, Any]

ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
        "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
        "expandable_blockquote", "code", "pre", "text_link", "text_mention",
        "custom_emoji", "date_time",
    }
)  # fmt: skip

_WHITESPACE = " \t\n\r\u00a0"
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,64})?")


def utf16_len(text: str) -> int:
    """Telegram's length of `text`: UTF-16 code units (a character beyond U+FFFF
    counts two). Encoded in C: the emulator shares the bot's event loop in tests
    and benchmarks, and a per-character loop over every long answer cost it more
    than the bot's own work."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class Utf16Index:
    """Maps UTF-16 code-unit offsets of one text to Python str indices."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._to_index: dict[int, int] = {}
        units = 0
        for index, ch in enumerate(text):
            self._to_index[units] = index
            units += 2 if ord(ch) > 0xFFFF else 1
        self._to_index[units] = len(text)
        self.length = units

    def index(self, units: int) -> int:
        """The str index at a code-unit offset (clamped; inside a pair: the pair)."""
        units = max(0, min(units, self.length))
        while units not in self._to_index:
            units -= 1
        return self._to_index[units]

    def slice(self, offset: int, length: int) -> str:
        return self.text[self.index(offset) : self.index(offset + length)]


def sort_entities(entities: list[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def finish(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim leading/trailing whitespace like Telegram; clip and drop empty entities."""
    stripped_left = text.lstrip(_WHITESPACE)
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_WHITESPACE)
    total = utf16_len(result)
    out: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            out.append({**entity, "offset": start, "length": end - start})
    return result, sort_entities(out)


def check_explicit(text: str, entities: list[Entity]) -> list[Entity]:
    """Validate an explicit ``entities`` parameter; clip to the text like Telegram."""
    total = utf16_len(text)
    out: list[Entity] = []
    for index, entity in enumerate(entities):
        kind = entity.get("type")
        if kind not in ENTITY_TYPES:
            raise bad_request(f"can't parse entities: unsupported entity type {kind!r}")
        if entity["offset"] < 0 or entity["length"] < 0:
            raise bad_request(f"can't parse entities: entity {index} has a negative offset")
        if kind == "text_link" and not entity.get("url"):
            raise bad_request("can't parse entities: text_link entity without url")
        end = min(entity["offset"] + entity["length"], total)
        if end > entity["offset"]:
            out.append({**entity, "length": end - entity["offset"]})
    return sort_entities(out)


_AUTO_PATTERNS = (
    (
        "bot_command",
        re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?(?![\w/@])"),
    ),
    ("url", re.compile(r"\bhttps?://[^\s<>\"']+")),
    ("email", re.compile(r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{4,31}\b")),
)
_NO_AUTO_INSIDE = frozenset({"code", "pre", "text_link", "text_mention", "url", "email", "mention", "bot_command"})


def auto_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """Add what Telegram detects by itself: commands, URLs, e-mail addresses, @mentions."""
    taken = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _NO_AUTO_INSIDE]
    found: list[Entity] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            value = match.group(0)
            if kind == "url":
                value = value.rstrip(".,;:!?)")
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(value)
            if any(start < stop and begin < end for begin, stop in taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return sort_entities(entities + found) if found else entities


def command_entities(text: str) -> list[Entity]:
    """A ``bot_command`` entity for a leading ``/command`` (Telegram marks it so)."""
    match = _COMMAND_RE.match(text)
    if not match:
        return []
    if match.end() < len(text) and not text[match.end()].isspace():
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]


_TAGS: dict[str, tuple[str, str]] = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ("<tg-spoiler>", "</tg-spoiler>"),
    "code": ("<code>", "</code>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote expandable>", "</blockquote>"),
}


def _open_tag(entity: Entity) -> tuple[str, str]:
    kind = entity["type"]
    if kind in _TAGS:
        return _TAGS[kind]
    if kind == "pre":
        if entity.get("language"):
            lang = _html.escape(entity["language"], quote=True)
            return f'<pre><code class="language-{lang}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{_html.escape(entity.get("url", ""), quote=True)}">', "</a>"
    if kind == "text_mention":
        user_id = int(entity.get("user", {}).get("id", 0))
        return f'<a href="tg://user?id={user_id}">', "</a>"
    if kind == "custom_emoji":
        emoji_id = _html.escape(str(entity.get("custom_emoji_id", "")), quote=True)
        return f'<tg-emoji emoji-id="{emoji_id}">', "</tg-emoji>"
    return "", ""  # mention, url, bot_command...: plain text in HTML


def render_html(text: str, entities: list[Entity]) -> str:
    """Text + entities as Telegram-HTML; text is escaped, overlaps are split."""
    index = Utf16Index(text)
    boundaries = {0, index.length}
    for entity in entities:
        boundaries.add(entity["offset"])
        boundaries.add(entity["offset"] + entity["length"])
    points = sorted(b for b in boundaries if 0 <= b <= index.length)
    ordered = sort_entities(entities)
    out: list[str] = []
    stack: list[Entity] = []
    for start, end in pairwise(points):
        active = [e for e in ordered if e["offset"] <= start and e["offset"] + e["length"] >= end]
        keep = 0
        while keep < len(stack) and keep < len(active) and stack[keep] is active[keep]:
            keep += 1
        for entity in reversed(stack[keep:]):
            out.append(_open_tag(entity)[1])
        stack = stack[:keep]
        for entity in active[keep:]:
            out.append(_open_tag(entity)[0])
            stack.append(entity)
        out.append(_html.escape(index.slice(start, end - start), quote=False))
    for entity in reversed(stack):
        out.append(_open_tag(entity)[1])
    return "".join(out)
