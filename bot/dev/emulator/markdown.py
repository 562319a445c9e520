"""Telegram's Markdown parse modes: text -> plain text + MessageEntity list.

A reasonable subset, with Telegram's error wording ("Bad Request: can't parse
entities: ..."):

- ``MarkdownV2``: ``*bold*`` ``_italic_`` ``__underline__`` ``~strike~``
  ``||spoiler||`` ``[text](url)`` (``tg://user?id=`` gives a text mention)
  `` `code` `` and fenced ``pre`` with a language, ``>`` blockquote lines,
  ``\\`` escapes; every other reserved character ``_*[]()~`>#+-=|{}.!``
  outside an entity must be escaped, else 400.
- legacy ``Markdown``: ``*bold*`` ``_italic_`` `` `code` `` fenced ``pre`` and
  ``[text](url)``, no nesting, ``\\`` escapes ``_ * ` [``.

Not covered: custom emoji ``![..](tg://emoji?id=)``, expandable blockquotes
(``**>``) and the finer points of ``___`` ambiguity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .entities import Entity, sort_entities, utf16_len
from .errors import ApiError, bad_request

RESERVED_V2 = frozenset("_*[]()~`>#+-=|{}.!")
_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


def _byte(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


@dataclass
class _Builder:
    out: list[str] = field(default_factory=list)
    units: int = 0
    entities: list[Entity] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.out.append(text)
        self.units += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: object) -> None:
        if self.units > start:
            self.entities.append({"type": kind, "offset": start, "length": self.units - start, **extra})

    def result(self) -> tuple[str, list[Entity]]:
        return "".join(self.out), sort_entities(self.entities)


@dataclass
class _Open:
    kind: str
    start: int
    index: int
    language: str = ""


def _link_entity(url: str, start: int, builder: _Builder) -> None:
    if url.startswith("tg://user?id=") and url[len("tg://user?id=") :].isdigit():
        user_id = int(url[len("tg://user?id=") :])
        builder.entity("text_mention", start, user={"id": user_id, "is_bot": False, "first_name": str(user_id)})
    elif url:
        builder.entity("text_link", start, url=url)


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    b = _Builder()
    stack: list[_Open] = []
    quote_start: int | None = None
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        at_line_start = i == 0 or source[i - 1] == "\n"
        inside_code = bool(stack) and stack[-1].kind in ("code", "pre")
        if ch == "\\" and i + 1 < n and 0 < ord(source[i + 1]) <= 126:
            b.add(source[i + 1])
            i += 2
            continue
        if inside_code:
            top = stack[-1]
            if top.kind == "pre" and source.startswith("```", i):
                stack.pop()
                extra = {"language": top.language} if top.language else {}
                b.entity("pre", top.start, **extra)
                i += 3
            elif top.kind == "code" and ch == "`":
                stack.pop()
                b.entity("code", top.start)
                i += 1
            else:
                b.add(ch)
                i += 1
            continue
        if ch == "\n" and quote_start is not None and not source.startswith(">", i + 1):
            b.entity("blockquote", quote_start)
            quote_start = None
        if ch not in RESERVED_V2:
            b.add(ch)
            i += 1
            continue
        if ch == ">" and at_line_start:
            if quote_start is None:
                quote_start = b.units
            i += 1
            continue
        if ch == "`":
            if source.startswith("```", i):
                i += 3
                newline = source.find("\n", i)
                language = ""
                if newline != -1 and source[i:newline].strip() and " " not in source[i:newline]:
                    language = source[i:newline]
                    i = newline + 1
                elif newline == i:
                    i += 1
                stack.append(_Open("pre", b.units, i, language))
            else:
                stack.append(_Open("code", b.units, i))
                i += 1
            continue
        if ch == "[":
            stack.append(_Open("text_link", b.units, i))
            i += 1
            continue
        if ch == "]" and stack and stack[-1].kind == "text_link":
            top = stack.pop()
            if not source.startswith("(", i + 1):
                raise _error(f"Can't find end of a URL at byte offset {_byte(source, i)}")
            j = i + 2
            url: list[str] = []
            while j < n and source[j] != ")":
                if source[j] == "\\" and j + 1 < n:
                    j += 1
                url.append(source[j])
                j += 1
            if j >= n:
                raise _error(f"Can't find end of a URL at byte offset {_byte(source, i)}")
            _link_entity("".join(url), top.start, b)
            i = j + 1
            continue
        kind, width = _v2_delimiter(source, i)
        if kind is None:
            raise _error(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        if stack and stack[-1].kind == kind:
            top = stack.pop()
            b.entity(kind, top.start)
        elif any(item.kind == kind for item in stack):
            top = stack[-1]
            raise _error(f"Can't find end of {_NAMES[top.kind]} entity at byte offset {_byte(source, top.index)}")
        else:
            stack.append(_Open(kind, b.units, i))
        i += width
    if stack:
        top = stack[-1]
        raise _error(f"Can't find end of {_NAMES[top.kind]} entity at byte offset {_byte(source, top.index)}")
    if quote_start is not None:
        b.entity("blockquote", quote_start)
    return b.result()


def _v2_delimiter(source: str, i: int) -> tuple[str | None, int]:
    ch = source[i]
    if ch == "*":
        return "bold", 1
    if ch == "_":
        return ("underline", 2) if source.startswith("__", i) else ("italic", 1)
    if ch == "~":
        return "strikethrough", 1
    if ch == "|" and source.startswith("||", i):
        return "spoiler", 2
    return None, 0


_LEGACY = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Legacy ``Markdown`` parse mode."""
    b = _Builder()
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            b.add(source[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            b.add(ch)
            i += 1
            continue
        begin = i
        start = b.units
        if source.startswith("```", i):
            end = source.find("```", i + 3)
            if end == -1:
                raise _error(f"Can't find end of the entity starting at byte offset {_byte(source, begin)}")
            body = source[i + 3 : end]
            language = ""
            first, sep, rest = body.partition("\n")
            if sep and first.strip() and " " not in first:
                language, body = first, rest
            b.add(body)
            b.entity("pre", start, **({"language": language} if language else {}))
            i = end + 3
            continue
        if ch == "[":
            close = source.find("]", i + 1)
            if close == -1 or not source.startswith("(", close + 1):
                raise _error(f"Can't find end of the entity starting at byte offset {_byte(source, begin)}")
            end = source.find(")", close + 2)
            if end == -1:
                raise _error(f"Can't find end of the entity starting at byte offset {_byte(source, begin)}")
            b.add(source[i + 1 : close])
            _link_entity(source[close + 2 : end], start, b)
            i = end + 1
            continue
        end = source.find(ch, i + 1)
        if end == -1:
            raise _error(f"Can't find end of the entity starting at byte offset {_byte(source, begin)}")
        b.add(source[i + 1 : end])
        b.entity(_LEGACY[ch], start)
        i = end + 1
    return b.result()
