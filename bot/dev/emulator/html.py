"""Telegram's HTML parse mode: HTML text -> plain text + MessageEntity list.

Follows the rules of the Bot API ("HTML style") and the error wording of
Telegram's parser, strictly:

- tags: ``b strong i em u ins s strike del tg-spoiler span class="tg-spoiler"
  a href tg-emoji emoji-id code pre`` (``<pre><code class="language-x">`` gives
  a ``pre`` entity with ``language``) ``blockquote`` (``expandable``); tag and
  attribute names are case-insensitive, nesting is allowed;
- entities ``&lt; &gt; &amp; &quot;`` and numeric ``&#NN;`` ``&#xHH;``;
- an unsupported tag, an unclosed or mismatched tag, a bare ``<`` or an ``&``
  that does not start one of those entities is ``ApiError(400, "Bad Request:
  can't parse entities: <reason> at byte offset N")`` where N counts UTF-8
  bytes of the source. (Telegram itself keeps an unknown ``&`` literally; the
  emulator refuses it so that unescaped user input is caught in tests.)

Offsets and lengths of the produced entities are UTF-16 code units. The
result is not yet trimmed: ``entities.finish`` does that for every parse mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .entities import Entity, sort_entities, utf16_len
from .errors import ApiError, bad_request

_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
SUPPORTED_TAGS = frozenset(_SIMPLE) | {"a", "span", "tg-emoji", "blockquote"}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_NAME_TOKEN_RE = re.compile(r"[A-Za-z0-9.\-]*")
_PLAIN_RE = re.compile(r"[^<&]+")  # a run of text without tags or entities, taken at once


@dataclass
class _Open:
    tag: str
    offset: int  # UTF-16 offset in the output
    index: int  # where the tag begins in the source (its byte offset is counted for an error only)
    argument: str = ""


def _fail(source: str, index: int, reason: str) -> ApiError:
    byte_offset = len(source[:index].encode("utf-8"))
    return bad_request(f"can't parse entities: {reason} at byte offset {byte_offset}")


def _decode_entity(source: str, index: int) -> tuple[str, int] | None:
    """The character of the HTML entity at ``index`` and its source length."""
    match = _ENTITY_RE.match(source, index)
    if not match:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        char = _NAMED.get(name)
        if char is None:
            return None
        return char, match.end() - index
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end() - index


def _bad_ampersand(source: str, index: int) -> str:
    match = _ENTITY_RE.match(source, index)
    if match:
        return f'Unsupported HTML entity "{match.group(0)}"'
    return 'Unescaped "&" (write &amp;)'


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Parse Telegram-HTML; raises ``ApiError(400)`` on malformed input."""
    out: list[str] = []
    units = 0  # UTF-16 length of the output so far
    stack: list[_Open] = []
    entities: list[Entity] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "&":
            decoded = _decode_entity(source, i)
            if decoded is None:
                raise _fail(source, i, _bad_ampersand(source, i))
            char, consumed = decoded
            out.append(char)
            units += utf16_len(char)
            i += consumed
            continue
        if ch != "<":
            plain = _PLAIN_RE.match(source, i)
            assert plain is not None
            out.append(plain.group())
            units += utf16_len(plain.group())
            i = plain.end()
            continue
        begin = i
        if i + 1 < n and source[i + 1] == "/":
            i = _close_tag(source, begin, stack, entities, units)
        else:
            i, opened = _open_tag(source, begin, units)
            stack.append(opened)
    if stack:
        top = stack[-1]
        raise _fail(source, top.index, f'Can\'t find end tag corresponding to start tag "{top.tag}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return "".join(out), sort_entities(entities)


def _open_tag(source: str, begin: int, units: int) -> tuple[int, _Open]:
    n = len(source)
    i = begin + 1
    while i < n and not source[i].isspace() and source[i] != ">":
        i += 1
    if i >= n:
        raise _fail(source, begin, "Unclosed start tag")
    tag = source[begin + 1 : i].lower()
    if tag not in SUPPORTED_TAGS:
        raise _fail(source, begin, f'Unsupported start tag "{tag}"')
    opened = _Open(tag, units, begin)
    while True:
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise _fail(source, begin, "Unclosed start tag")
        if source[i] == ">":
            i += 1
            break
        name_start = i
        while i < n and not source[i].isspace() and source[i] not in "=>":
            i += 1
        attribute = source[name_start:i].lower()
        if not attribute:
            raise _fail(source, begin, f'Empty attribute name in the tag "{tag}"')
        while i < n and source[i].isspace():
            i += 1
        if i >= n or source[i] != "=":
            if tag == "blockquote" and attribute == "expandable":
                opened.argument = "expandable"
                continue
            raise _fail(
                source,
                begin,
                f'Expected equal sign in declaration of an attribute of the tag "{tag}"',
            )
        i += 1
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise _fail(source, begin, "Unclosed start tag")
        if source[i] in "\"'":
            quote = source[i]
            i += 1
            value_chars: list[str] = []
            while i < n and source[i] != quote:
                if source[i] == "&":
                    decoded = _decode_entity(source, i)
                    if decoded is None:
                        raise _fail(source, i, _bad_ampersand(source, i))
                    value_chars.append(decoded[0])
                    i += decoded[1]
                else:
                    value_chars.append(source[i])
                    i += 1
            if i >= n:
                raise _fail(source, begin, "Unclosed start tag")
            i += 1
            value = "".join(value_chars)
        else:
            match = _NAME_TOKEN_RE.match(source, i)
            assert match is not None
            value = match.group(0).lower()
            i = match.end()
            if i < n and not source[i].isspace() and source[i] != ">":
                raise _fail(source, i, "Unexpected end of name token")
        _apply_attribute(opened, attribute, value)
    if opened.tag == "span" and opened.argument != "spoiler":
        raise _fail(source, begin, 'Tag "span" must have class "tg-spoiler"')
    return i, opened


def _apply_attribute(opened: _Open, attribute: str, value: str) -> None:
    if opened.tag == "a" and attribute == "href":
        opened.argument = value
    elif opened.tag == "code" and attribute == "class" and value.startswith("language-"):
        opened.argument = value[len("language-") :]
    elif opened.tag == "span" and attribute == "class" and value.startswith("tg-"):
        opened.argument = value[len("tg-") :]
    elif opened.tag == "tg-emoji" and attribute == "emoji-id":
        opened.argument = value
    elif opened.tag == "blockquote" and attribute == "expandable":
        opened.argument = "expandable"
    # other attributes are ignored, as Telegram does


def _close_tag(source: str, begin: int, stack: list[_Open], entities: list[Entity], units: int) -> int:
    n = len(source)
    if not stack:
        raise _fail(source, begin, "Unexpected end tag")
    i = begin + 2
    while i < n and not source[i].isspace() and source[i] != ">":
        i += 1
    name = source[begin + 2 : i].lower()
    while i < n and source[i].isspace():
        i += 1
    if i >= n or source[i] != ">":
        raise _fail(source, begin, "Unclosed end tag")
    top = stack[-1]
    if name and name != top.tag:
        raise _fail(source, begin, f'Unmatched end tag, expected "</{top.tag}>", found "</{name}>"')
    stack.pop()
    length = units - top.offset
    entity = _entity_for(top, length)
    if entity is not None:
        if entity["type"] == "pre" and entities:
            last = entities[-1]
            if (
                last["type"] == "code"
                and last["offset"] == top.offset
                and last["length"] == length
                and last.get("language")
            ):
                entities.pop()
                entity["language"] = last["language"]
        entities.append(entity)
    return i + 1


def _entity_for(opened: _Open, length: int) -> Entity | None:
    if length <= 0:
        return None
    base: Entity = {"offset": opened.offset, "length": length}
    tag = opened.tag
    if tag == "a":
        if not opened.argument:
            return None
        if opened.argument.startswith("tg://user?id="):
            user_id = opened.argument[len("tg://user?id=") :]
            if user_id.isdigit():
                return {"type": "text_mention", **base, "user": _mentioned_user(int(user_id))}
        return {"type": "text_link", **base, "url": opened.argument}
    if tag == "span":
        return {"type": "spoiler", **base}
    if tag == "tg-emoji":
        return {"type": "custom_emoji", **base, "custom_emoji_id": opened.argument}
    if tag == "blockquote":
        kind = "expandable_blockquote" if opened.argument == "expandable" else "blockquote"
        return {"type": kind, **base}
    entity: Entity = {"type": _SIMPLE[tag], **base}
    if tag == "code" and opened.argument:
        entity["language"] = opened.argument  # only kept when merged into <pre>
    return entity


def _mentioned_user(user_id: int) -> dict[str, object]:
    return {"id": user_id, "is_bot": False, "first_name": str(user_id)}
