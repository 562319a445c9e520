"""Text people type: how the core cleans it and how long it is.

- `field_text`: a short field on one line (a name, a title, a place).
- `free_text`: a longer text kept as written (an agenda item, a recommendation).
- `telegram_length`: the length as Telegram counts it, in UTF-16 code units
  (an emoji counts twice); the one definition of that count, used by the
  core's limits and by `bot.render.units` for every message.
"""

from __future__ import annotations

import unicodedata

from bot.core.errors import Refusal


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units): an emoji counts twice."""
    return len(text.encode("utf-16-le")) // 2


def clean_text(text: str) -> str:
    """One line: control characters removed, runs of white space folded."""
    visible = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return " ".join(visible.split())


def free_text(text: str, maximum: int, key: str) -> str:
    """A longer text as written (lines and spacing kept), or a Refusal
    (`<key>_empty`, `<key>_too_long`). Only the white space around it and
    control characters other than line breaks and tabs are removed."""
    value = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs") or ch in "\n\t").strip()
    if not value:
        raise Refusal(f"{key}_empty")
    if len(value) > maximum:
        raise Refusal(f"{key}_too_long", max=maximum, length=len(value))
    return value


def field_text(text: str, maximum: int, key: str) -> str:
    """`text` cleaned, or a Refusal (`<key>_empty`, `<key>_too_long`)."""
    value = clean_text(text)
    if not value:
        raise Refusal(f"{key}_empty")
    if len(value) > maximum:
        raise Refusal(f"{key}_too_long", max=maximum, length=len(value))
    return value
