"""Telegram's parse modes and entity offsets, as the emulator implements them."""

from __future__ import annotations

import pytest

from bot.dev.emulator.entities import command_entities, finish, render_html, utf16_len
from bot.dev.emulator.errors import ApiError
from bot.dev.emulator.formatting import format_text, parse
from bot.dev.emulator.html import parse_html
from bot.dev.emulator.markdown import parse_markdown, parse_markdown_v2


def html(text: str) -> tuple[str, list[dict]]:
    return finish(*parse_html(text))


def test_html_tags_become_entities_with_utf16_offsets() -> None:
    text, entities = html("😀 <b>fett</b> &amp; <i>kursiv <u>unter</u></i>")
    assert text == "😀 fett & kursiv unter"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 4},  # the emoji is 2 UTF-16 units
        {"type": "italic", "offset": 10, "length": 12},
        {"type": "underline", "offset": 17, "length": 5},
    ]


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("<strong>x</strong>", "bold"),
        ("<em>x</em>", "italic"),
        ("<ins>x</ins>", "underline"),
        ("<s>x</s>", "strikethrough"),
        ("<strike>x</strike>", "strikethrough"),
        ("<del>x</del>", "strikethrough"),
        ("<tg-spoiler>x</tg-spoiler>", "spoiler"),
        ('<span class="tg-spoiler">x</span>', "spoiler"),
        ("<code>x</code>", "code"),
        ("<pre>x</pre>", "pre"),
        ("<blockquote>x</blockquote>", "blockquote"),
        ("<blockquote expandable>x</blockquote>", "expandable_blockquote"),
        ("<B>x</B>", "bold"),
    ],
)
def test_every_supported_tag(source: str, kind: str) -> None:
    text, entities = html(source)
    assert text == "x"
    assert [e["type"] for e in entities] == [kind]


def test_links_pre_with_language_emoji_and_numeric_entities() -> None:
    text, entities = html('<a href="https://example.org/?a=1&amp;b=2">Link</a>')
    assert entities == [{"type": "text_link", "offset": 0, "length": 4, "url": "https://example.org/?a=1&b=2"}]
    text, entities = html('<pre><code class="language-python">x = 1</code></pre>')
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]
    text, entities = html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>')
    assert entities[0]["type"] == "custom_emoji"
    assert html("&#65;&#x42;&lt;&gt;&quot;")[0] == 'AB<>"'


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("<b>fett", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag, expected "</b>", found "</i>" at byte offset 4'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("Müller & Söhne", 'Unescaped "&" (write &amp;) at byte offset 8'),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;" at byte offset 0'),
        ('<span class="rot">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
def test_malformed_html_is_refused(source: str, reason: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_html(source)
    assert caught.value.status == 400
    assert caught.value.description.startswith("Bad Request: can't parse entities: ")
    assert reason in caught.value.description


def test_text_is_trimmed_and_measured_in_utf16() -> None:
    assert format_text({"text": "  \n hallo \n"}) == ("hallo", [])
    with pytest.raises(ApiError, match="message text is empty"):
        format_text({"text": "<b> </b>", "parse_mode": "HTML"})
    format_text({"text": "a" * 4096})
    with pytest.raises(ApiError, match="message is too long"):
        format_text({"text": "a" * 4097})
    # 2048 emoji are 4096 UTF-16 units; one more character is too long
    format_text({"text": "😀" * 2048})
    with pytest.raises(ApiError, match="message is too long"):
        format_text({"text": "😀" * 2048 + "a"})
    assert utf16_len("😀a") == 3


def test_unknown_parse_mode_is_refused() -> None:
    with pytest.raises(ApiError, match="unsupported parse_mode"):
        parse("x", "html5", None)


def test_render_html_escapes_and_nests() -> None:
    text, entities = html("<b>a &lt;<i>b</i></b> &amp; c")
    assert render_html(text, entities) == "<b>a &lt;<i>b</i></b> &amp; c"
    overlapping = [
        {"type": "bold", "offset": 0, "length": 3},
        {"type": "italic", "offset": 2, "length": 3},
    ]
    assert render_html("abcde", overlapping) == "<b>ab<i>c</i></b><i>de</i>"
    link = [{"type": "text_link", "offset": 0, "length": 1, "url": 'https://x.org/"><script>'}]
    assert render_html("<", link) == '<a href="https://x.org/&quot;&gt;&lt;script&gt;">&lt;</a>'


def test_markdown_v2_subset() -> None:
    text, entities = finish(*parse_markdown_v2("*fett* _kursiv_ __unter__ ~weg~ ||geheim|| `code`"))
    assert text == "fett kursiv unter weg geheim code"
    assert [e["type"] for e in entities] == [
        "bold", "italic", "underline", "strikethrough", "spoiler", "code",
    ]  # fmt: skip
    text, entities = finish(*parse_markdown_v2("[Seite](https://example.org) 1\\.0"))
    assert text == "Seite 1.0"
    assert entities == [{"type": "text_link", "offset": 0, "length": 5, "url": "https://example.org"}]
    with pytest.raises(ApiError, match="Character '.' is reserved"):
        parse_markdown_v2("Ende.")
    with pytest.raises(ApiError, match="Can't find end of Bold entity"):
        parse_markdown_v2("*offen")
    text, entities = finish(*parse_markdown_v2("```python\nx = 1\n```"))
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


def test_legacy_markdown() -> None:
    text, entities = finish(*parse_markdown("*fett* und _kursiv_ [a](https://x.org)"))
    assert text == "fett und kursiv a"
    assert [e["type"] for e in entities] == ["bold", "italic", "text_link"]
    with pytest.raises(ApiError, match="Can't find end of the entity"):
        parse_markdown("*offen")


def test_bot_command_entity() -> None:
    assert command_entities("/join ak-eu") == [{"type": "bot_command", "offset": 0, "length": 5}]
    assert command_entities("/start@kim_test_bot x")[0]["length"] == 19
    assert command_entities("hallo /join") == []


def test_telegram_detects_commands_links_addresses_and_mentions() -> None:
    text, entities = parse(
        "Mehr unter https://example.org/kim. Fragen an kim@example.org, /help oder @sabine_kim",
        None,
        None,
    )
    assert [(e["type"], text[e["offset"] : e["offset"] + e["length"]]) for e in entities] == [
        ("url", "https://example.org/kim"),
        ("email", "kim@example.org"),
        ("bot_command", "/help"),
        ("mention", "@sabine_kim"),
    ]
    text, entities = parse("<code>/help</code> <a href='https://x.org'>https://x.org</a>", "HTML", None)
    assert [e["type"] for e in entities] == ["code", "text_link"]
