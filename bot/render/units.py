"""Text units: how long a text is as Telegram counts it, shortening, and
fitting long texts into Telegram's 4096-character limit. The one module for
these rules; everything that measures, cuts or packs a message uses it.

- Length: Telegram counts UTF-16 code units (an emoji counts twice) of the
  text after parsing. `telegram_length` measures plain text (defined with the
  core's limits, `bot.core.text`), `visible_length` Telegram HTML.
- Shortening: `shorten` cuts a text to a number of units with "…";
  `one_line` first folds it onto one line; `shorten_words` cuts a line
  between words (" …").
- Splitting: `split_text` splits plain or escaped text; `split_html` splits
  Telegram HTML with tags (bold headings, code) and keeps every part valid on
  its own.
- Packing: `pack` fills messages piece by piece (lines with their buttons,
  blocks), `pack_blocks` blocks that may each be longer than a message.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.core.text import telegram_length as telegram_length
from bot.render.texts import Html

LIMIT = 4000  # below 4096, room for a closing question or a line break
T = TypeVar("T")


def char_units(char: str) -> int:
    """The units of one character: 2 outside the Basic Multilingual Plane (an emoji), else 1."""
    return 2 if ord(char) > 0xFFFF else 1


def cut(text: str, limit: int) -> str:
    """The longest start of `text` of at most `limit` units (never half a character)."""
    used = 0
    for index, char in enumerate(text):
        used += char_units(char)
        if used > limit:
            return text[:index]
    return text


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 code units, with "…" when cut
    (lines kept as they are)."""
    if telegram_length(text) <= limit:
        return text
    return cut(text, limit - 1).rstrip() + "…"


def one_line(text: str, limit: int) -> str:
    """`text` on one line (runs of white space folded), at most `limit` units, "…" where cut."""
    return shorten(" ".join(text.split()), limit)


_WORD = re.compile(r"\S+")


def shorten_words(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` units, cut between words with " …"
    (a word longer than the limit is cut with "…"). Reads only as much of `text`
    as it keeps."""
    kept: list[str] = []
    used = 0
    word = ""
    for match in _WORD.finditer(text):
        word = match.group()
        width = telegram_length(word) + (1 if kept else 0)
        if used + width > limit:
            break
        kept.append(word)
        used += width
    else:
        return " ".join(kept)
    line = " ".join(kept)
    if used + 2 > limit or not kept:  # room for " …"; or one word longer than the limit
        return cut(line if kept else word, limit - 1).rstrip() + "…"
    return line + " …"


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Split at paragraph, then line, then word boundaries; never mid-entity.

    `text` must be plain or escaped text without HTML tags spanning a split
    point; escaped entities (`&amp;`) are kept whole.
    """
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cuts = [rest.rfind(sep, 0, limit) for sep in ("\n\n", "\n", " ")]
        cut = next((c for c in cuts if c > limit // 2), max(cuts))
        if cut <= 0:
            cut = limit
            amp = rest.rfind("&", cut - 8, cut)
            if amp != -1 and ";" not in rest[amp:cut]:
                cut = amp
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    chunks.append(rest)
    return [chunk for chunk in chunks if chunk] or [""]


_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|\s+|[^<&\s]+|[<&]")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)")


def visible_length(text: str) -> int:
    """The length Telegram counts for HTML: UTF-16 code units of the text after
    parsing (tags removed, `&lt;` one character). User text in it must be
    escaped, so that every `<` starts a tag."""
    return telegram_length(html.unescape(re.sub(r"<[^>]*>", "", text)))


def balanced(text: str) -> bool:
    """Whether every tag opened in `text` is closed in it (and none closed that was not opened)."""
    stack: list[str] = []
    for closing, name in _TAG.findall(text):
        if not closing:
            stack.append(name.lower())
        elif not stack or stack.pop() != name.lower():
            return False
    return not stack


def _width(token: str) -> int:
    if token.startswith("<") and len(token) > 1:
        return 0
    return telegram_length(html.unescape(token))


def _tokens(text: str, limit: int) -> list[str]:
    """Tags, entities, whitespace runs and words; a word too long for a part is cut
    into pieces (between characters, never inside a tag or an entity)."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if _width(token) <= limit // 2 or token[0] in "<&":
            tokens.append(token)
            continue
        piece, used = "", 0
        for char in token:
            width = char_units(char)
            if used + width > limit // 2:
                tokens.append(piece)
                piece, used = "", 0
            piece += char
            used += width
        tokens.append(piece)
    return tokens


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    """Split Telegram HTML into parts of at most `limit` visible characters (as Telegram
    counts them after parsing): at paragraph, then line, then word boundaries, else
    between characters; never inside a tag or an entity. A tag open at a cut is
    closed at the end of the part and opened again at the start of the next one, so
    every part is valid HTML on its own (a bold heading stays bold and balanced)."""
    tokens = _tokens(text.strip(), limit)
    parts: list[str] = []
    start = 0
    reopen: list[tuple[str, str]] = []  # the tags (name, opening tag) open at `start`
    while start < len(tokens):
        while start < len(tokens) and tokens[start].isspace():
            start += 1
        stack = list(reopen)
        used, index = 0, start
        cuts: dict[str, tuple[int, int, list[tuple[str, str]]]] = {}  # kind -> (index, used, stack)
        last: tuple[int, list[tuple[str, str]]] | None = None
        while index < len(tokens):
            token = tokens[index]
            width = _width(token)
            if used + width > limit:
                break
            if token.isspace():
                kind = "\n\n" if token.count("\n") > 1 else "\n" if "\n" in token else " "
                cuts[kind] = (index, used, list(stack))
            elif match := _TAG.match(token):
                closing, name = match.group(1), match.group(2).lower()
                if closing:
                    for position in range(len(stack) - 1, -1, -1):
                        if stack[position][0] == name:
                            del stack[position]
                            break
                else:
                    stack.append((name, token))
            used += width
            index += 1
            last = (index, list(stack))
        if index >= len(tokens):
            end, open_tags, next_start = len(tokens), stack, len(tokens)
        else:
            chosen = next((cuts[k] for k in ("\n\n", "\n", " ") if k in cuts and cuts[k][1] > limit // 2), None)
            if chosen is None and cuts:
                chosen = max(cuts.values(), key=lambda cut: cut[1])
            if chosen is not None and chosen[0] > start:
                end, open_tags, next_start = chosen[0], chosen[2], chosen[0] + 1
            else:
                assert last is not None, "a single token wider than the limit"
                end, open_tags, next_start = last[0], last[1], last[0]
        body = "".join(tag for _, tag in reopen) + "".join(tokens[start:end]).rstrip()
        body += "".join(f"</{name}>" for name, _ in reversed(open_tags))
        if html.unescape(re.sub(r"<[^>]*>", "", body)).strip():
            parts.append(body)
        start, reopen = next_start, open_tags
    return parts or [""]


# --- packing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece(Generic[T]):
    """One piece of a message: its text (Telegram HTML), what joins it to the piece
    before it in the same message, and what it brings along (a button)."""

    text: str
    joiner: str = "\n"
    extra: T | None = None


def pack(pieces: Iterable[Piece[T]], limit: int = LIMIT, most_extras: int | None = None) -> list[tuple[Html, list[T]]]:
    """Pieces into as few messages as possible, in order: a piece goes into the
    current message while that stays within `limit` units (joiners counted) and,
    for a piece that brings something, within `most_extras` of them; otherwise it
    starts the next message. A piece is never cut (cut it before: `split_html`).
    Each message comes with the extras of its pieces; line breaks around a
    message are dropped, and a message left empty is."""
    messages: list[tuple[Html, list[T]]] = []
    parts: list[str] = []
    extras: list[T] = []
    size = 0

    def flush() -> None:
        text = "".join(parts).strip("\n")
        if text:
            messages.append((Html(text), list(extras)))

    for piece in pieces:
        width = visible_length(piece.text)
        joiner = piece.joiner if parts else ""
        full = most_extras is not None and piece.extra is not None and len(extras) >= most_extras
        if parts and (size + len(joiner) + width > limit or full):
            flush()
            parts, extras, size, joiner = [], [], 0, ""
        parts.append(joiner + piece.text)
        size += len(joiner) + width
        if piece.extra is not None:
            extras.append(piece.extra)
    flush()
    return messages


def _block_pieces(block: str, limit: int) -> list[Piece[None]]:
    """A block as pieces that each fit a message: itself, else its lines (each line
    of a layout is complete HTML), or `split_html`'s parts where a line is not."""
    if visible_length(block) <= limit:
        return [Piece(block, "\n\n")]
    lines = block.split("\n")
    if not all(balanced(line) and visible_length(line) <= limit for line in lines):
        lines = split_html(block, limit)
    return [Piece(line, "\n\n" if n == 0 else "\n") for n, line in enumerate(lines)]


def pack_blocks(blocks: Iterable[str], limit: int = LIMIT) -> list[Html]:
    """Blocks (a blank line between two) into as few messages as possible, cut only
    between blocks; a block longer than a message is cut between its lines."""
    pieces = [piece for block in blocks for piece in _block_pieces(block, limit)]
    return [text for text, _ in pack(pieces, limit)]
