"""Reply markup rules beyond the type system, and reading buttons back.

``check_reply_markup`` applies Telegram's value rules after ``spec.py`` has
checked the shape: an inline button has non-empty text and exactly one action
field (``url``, ``callback_data``, ``web_app``, ...); ``callback_data`` is
1-64 bytes of UTF-8 (else "BUTTON_DATA_INVALID"); a ``url`` is http(s) or
tg://; at most 100 buttons. Reply keyboards need non-empty button texts.
``button_rows`` gives the rows of (text, callback_data or url) of a markup.
"""

from __future__ import annotations

from typing import Any

from .errors import bad_request

NOT_ACTIONS = frozenset({"text", "icon_custom_emoji_id", "style"})
BUTTON_STYLES = frozenset({"danger", "success", "primary"})
MAX_BUTTONS = 100
CALLBACK_DATA_MAX_BYTES = 64


def check_reply_markup(markup: dict[str, Any] | None) -> None:
    if not markup:
        return
    if "inline_keyboard" in markup:
        _check_inline(markup["inline_keyboard"])
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if sum(len(row) for row in rows) > MAX_BUTTONS:
            raise bad_request("reply markup is too long")
        for row in rows:
            for button in row:
                if not button["text"].strip():
                    raise bad_request("keyboard button text must be non-empty")


def _check_inline(rows: list[list[dict[str, Any]]]) -> None:
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            if not button["text"].strip():
                raise bad_request("inline keyboard button text must be non-empty")
            actions = sorted(key for key in button if key not in NOT_ACTIONS)
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise bad_request(
                    "inline keyboard button must have exactly one action field, got " + ", ".join(actions)
                )
            if "style" in button and button["style"] not in BUTTON_STYLES:
                raise bad_request("BUTTON_STYLE_INVALID")
            if "callback_data" in button:
                size = len(button["callback_data"].encode("utf-8"))
                if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                if not url.startswith(("http://", "https://", "tg://")) or len(url) < 8:
                    raise bad_request("BUTTON_URL_INVALID")


def inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a Message carries back: only inline keyboards are part of a Message."""
    if markup and "inline_keyboard" in markup:
        return markup
    return None


def button_rows(markup: dict[str, Any] | None) -> list[list[tuple[str, str | None]]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [
        [(button["text"], button.get("callback_data", button.get("url"))) for button in row]
        for row in markup["inline_keyboard"]
    ]
