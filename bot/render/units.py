"""Messages: fitting long texts into Telegram's 4096-character limit.

`split_text` splits plain or escaped text; `split_html` splits Telegram HTML
with tags (bold headings, code) and keeps every part valid on its own.
"""

from __future__ import annotations

import html
import re

LIMIT = 4000  # below 4096, room for a closing question or a line break


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
    parsing (tags removed, `&lt;` one character)."""
    plain = html.unescape(re.sub(r"<[^>]*>", "", text))
    return len(plain.encode("utf-16-le")) // 2


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
    return len(html.unescape(token).encode("utf-16-le")) // 2


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
            width = 2 if ord(char) > 0xFFFF else 1
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
