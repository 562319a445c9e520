"""Pure logic without Telegram or a database: finding groups, button payloads,
the message catalogs, splitting long messages, and keeping the token out of
the logs."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import string
import sys
from typing import get_type_hints

import pytest

from bot.core.config import load_settings
from bot.core.errors import Refusal
from bot.core.groups import resolve_group
from bot.logs import REDACTED, RedactSecrets, install_redaction
from bot.render.texts import LANGUAGES, Html, Texts, escape
from bot.render.units import LIMIT, split_text
from handlers.payloads import (
    MAX_BYTES,
    AcknowledgePrivacy,
    ChooseLanguage,
    DecideRequest,
    JoinGroup,
    Payload,
    UseTelegramName,
)
from storage.models import Group
from storage.seed import GROUPS

# --- resolve_group ----------------------------------------------------------


@pytest.fixture
def groups() -> list[Group]:
    return [Group(id=i, slug=slug, name=name, note=note) for i, (slug, name, note) in enumerate(GROUPS, 1)]


def slug_of(groups: list[Group], text: str) -> str:
    return resolve_group(groups, text).slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("ak-eu", "ak-eu"),
        ("AK EU", "ak-eu"),
        ("ak eu", "ak-eu"),
        ("  Ak  Eu ", "ak-eu"),
        ("AK-EU", "ak-eu"),
        ("akeu", "ak-eu"),
        ("ak-ehrenamt", "ak-ehrenamt"),
        ("AK Ehrenamt", "ak-ehrenamt"),
        ("AK Arbeitsmarktintegration", "ak-arbeitsmarkt"),
        ("ag-soe", "ag-soe"),
        ("AG Süd-Ost-Europa", "ag-soe"),
        ("ag süd ost europa", "ag-soe"),
        ("lenkungskreis", "lenkungskreis"),
        ("Lenkungskreis Integration", "lenkungskreis"),
    ],
)
def test_resolve_group_by_slug_or_name(groups: list[Group], text: str, slug: str) -> None:
    assert slug_of(groups, text) == slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("eu", "ak-eu"),
        ("EU", "ak-eu"),
        ("ehren", "ak-ehrenamt"),
        ("Ehrenamt", "ak-ehrenamt"),
        ("lenk", "lenkungskreis"),
        ("LENK", "lenkungskreis"),
        ("arbeit", "ak-arbeitsmarkt"),
        ("ak-arb", "ak-arbeitsmarkt"),
        ("ak ehr", "ak-ehrenamt"),
        ("soe", "ag-soe"),
        ("süd", "ag-soe"),
        ("SÜD", "ag-soe"),
        ("ag", "ag-soe"),
        ("l", "lenkungskreis"),
    ],
)
def test_resolve_group_by_unambiguous_prefix(groups: list[Group], text: str, slug: str) -> None:
    assert slug_of(groups, text) == slug


AK_EU, AK_EHRENAMT, AK_ARBEIT = "AK EU", "AK Ehrenamt", "AK Arbeitsmarktintegration"
AG_SOE, LENKUNGSKREIS = "AG Süd-Ost-Europa", "Lenkungskreis Integration"


@pytest.mark.parametrize(
    ("text", "candidates"),
    [
        ("ak", {AK_EU, AK_EHRENAMT, AK_ARBEIT}),
        ("AK", {AK_EU, AK_EHRENAMT, AK_ARBEIT}),
        ("a", {AK_EU, AK_EHRENAMT, AK_ARBEIT, AG_SOE}),
        ("ak e", {AK_EU, AK_EHRENAMT}),
        ("e", {AK_EU, AK_EHRENAMT}),  # eu, ehrenamt once AK/AG is left out
    ],
)
def test_ambiguous_prefix_is_refused_naming_the_candidates(
    groups: list[Group], text: str, candidates: set[str]
) -> None:
    with pytest.raises(Refusal) as info:
        resolve_group(groups, text)
    assert info.value.key == "groups.ambiguous"
    assert info.value.params["text"] == text
    names = str(info.value.params["names"])
    for group in groups:
        assert (group.name in names) == (group.name in candidates), f"{group.name} in {names!r}"


def test_ak_lists_the_three_working_groups_not_the_ag(groups: list[Group]) -> None:
    with pytest.raises(Refusal) as info:
        resolve_group(groups, "ak")
    names = str(info.value.params["names"])
    assert "AK EU" in names and "AK Ehrenamt" in names and "AK Arbeitsmarktintegration" in names
    assert "Süd-Ost" not in names and "Lenkungskreis" not in names


@pytest.mark.parametrize("text", ["xyz", "ak-xyz", "eux", "Jobcenter", "", "   ", "-", "all"])
def test_unknown_group_is_refused(groups: list[Group], text: str) -> None:
    with pytest.raises(Refusal) as info:
        resolve_group(groups, text)
    assert info.value.key == "groups.unknown"
    assert info.value.params["text"] == text


def test_exact_match_wins_over_a_longer_group_with_the_same_prefix(groups: list[Group]) -> None:
    groups.append(Group(id=99, slug="ak-eu-sued", name="AK EU Süd"))
    assert slug_of(groups, "ak-eu") == "ak-eu"
    assert slug_of(groups, "AK EU") == "ak-eu"
    assert slug_of(groups, "ak-eu-s") == "ak-eu-sued"
    with pytest.raises(Refusal) as info:
        resolve_group(groups, "ak-e")
    assert info.value.key == "groups.ambiguous"


def test_a_renamed_group_is_found_by_its_new_name(groups: list[Group]) -> None:
    groups[0].name = "AK Europa"
    assert slug_of(groups, "AK Europa") == "ak-eu"
    assert slug_of(groups, "europa") == "ak-eu"
    assert slug_of(groups, "ak-eu") == "ak-eu"


def test_no_groups_at_all_refuses_as_unknown() -> None:
    with pytest.raises(Refusal) as info:
        resolve_group([], "ak-eu")
    assert info.value.key == "groups.unknown"


# --- payloads ---------------------------------------------------------------


def _largest(kind: type) -> object:
    return {int: 10**18 - 1, bool: True, str: "z" * 32}[kind]


def _samples(kind: type) -> list[object]:
    return {
        int: [0, 1, 7, 12345, 10**18 - 1],
        bool: [True, False],
        str: ["de", "en", "a", "ak-eu", "z" * 32, "0-9"],
    }[kind]


ALL_PAYLOADS = sorted(Payload.registry.values(), key=lambda cls: cls.prefix)


def test_every_button_kind_is_registered_with_its_own_prefix() -> None:
    assert len(ALL_PAYLOADS) >= 9
    prefixes = [cls.prefix for cls in ALL_PAYLOADS]
    assert len(set(prefixes)) == len(prefixes)
    for prefix in prefixes:
        assert re.fullmatch(r"[a-z]{1,4}", prefix)


def test_a_prefix_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError):

        @dataclasses.dataclass(frozen=True)
        class Duplicate(Payload, prefix="jn"):  # noqa: F841
            group_id: int


@pytest.mark.parametrize("cls", ALL_PAYLOADS, ids=lambda cls: cls.__name__)
def test_payload_round_trip(cls: type[Payload]) -> None:
    hints = get_type_hints(cls)
    fields = dataclasses.fields(cls)
    columns = [_samples(hints[f.name]) for f in fields]
    rows = max((len(c) for c in columns), default=1)
    for i in range(rows):
        payload = cls(**{f.name: column[i % len(column)] for f, column in zip(fields, columns, strict=True)})
        data = payload.encode()
        assert data.split(":")[0] == cls.prefix
        decoded = Payload.decode(data)
        assert decoded == payload
        assert type(decoded) is cls


@pytest.mark.parametrize("cls", ALL_PAYLOADS, ids=lambda cls: cls.__name__)
def test_payload_fits_telegrams_64_bytes_with_its_largest_values(cls: type[Payload]) -> None:
    hints = get_type_hints(cls)
    payload = cls(**{f.name: _largest(hints[f.name]) for f in dataclasses.fields(cls)})
    data = payload.encode()
    assert len(data.encode("utf-8")) <= MAX_BYTES == 64
    assert Payload.decode(data) == payload


def test_known_encodings() -> None:
    assert AcknowledgePrivacy().encode() == "pv"
    assert JoinGroup(3).encode() == "jn:3"
    assert DecideRequest(17, True).encode() == "dr:17:1"
    assert DecideRequest(17, False).encode() == "dr:17:0"
    assert ChooseLanguage("en").encode() == "lg:en"
    assert Payload.decode("dr:17:0") == DecideRequest(membership_id=17, approve=False)


def test_encoding_refuses_data_over_64_bytes() -> None:
    with pytest.raises(ValueError):
        ChooseLanguage("x" * 70).encode()


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        ":",
        "zz:1",  # unknown prefix
        "JN:1",  # prefixes are case-sensitive
        "jn",  # too few fields
        "jn:",  # an empty field
        "jn:1:2",  # too many fields
        "pv:",  # a field where none belongs
        "pv:1",
        "dr:17",
        "dr:17:1:1",
        "jn:abc",  # not digits
        "jn:1a",
        "jn: 1",
        "jn:1 ",
        "jn:1.0",
        "jn:1e3",
        "jn:0x1f",
        "jn:-1",  # negative
        "jn:+1",
        "jn:01",  # leading zero: not the canonical form
        "jn:\u0661\u0662",  # Arabic-Indic digits
        "jn:\u00b2",  # superscript two
        "jn:1\n",
        "jn:" + "9" * 19,  # more digits than any id
        "jn:" + "1" * 62,  # over 64 bytes
        "dr:17:2",  # bool other than 0/1
        "dr:17:true",
        "dr:17:",
        "dr:17:-0",
        "dr:17:01",
        "lg:",  # empty text
        "lg:EN",  # text outside [a-z0-9-]
        "lg:e n",
        "lg:de:en",
        "lg:<b>",
        "lg:" + "x" * 33,
        "lg:" + "x" * 62,  # over 64 bytes
        "jn:1" + "\u00e4" * 31,  # 66 bytes in fewer characters
    ],
)
def test_forged_or_malformed_data_decodes_to_none(data: str | None) -> None:
    assert Payload.decode(data) is None


def test_decoded_payload_has_the_declared_types() -> None:
    decoded = Payload.decode("dr:5:1")
    assert isinstance(decoded, DecideRequest)
    assert type(decoded.membership_id) is int and type(decoded.approve) is bool
    assert Payload.decode("nm") == UseTelegramName()


# --- texts ------------------------------------------------------------------


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts()


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_catalogs_have_exactly_the_same_keys(texts: Texts) -> None:
    de, en = set(texts.catalogs["de"]), set(texts.catalogs["en"])
    assert de == en, f"only German: {sorted(de - en)}; only English: {sorted(en - de)}"
    assert len(de) > 50


def test_catalogs_have_the_same_placeholders_per_key(texts: Texts) -> None:
    for key in texts.catalogs["de"]:
        assert _fields(texts.catalogs["de"][key]) == _fields(texts.catalogs["en"][key]), key
        assert texts.placeholders("de", key) == texts.placeholders("en", key), key


def test_placeholders_are_plain_names(texts: Texts) -> None:
    # `{0}`, `{}`, `{a.b}` or `{a[0]}` would let a catalog reach into objects.
    for lang in LANGUAGES:
        for key, template in texts.catalogs[lang].items():
            for name in _fields(template):
                assert re.fullmatch(r"[a-z_][a-z0-9_]*", name), f"{lang} {key}: {{{name}}}"


def test_no_text_is_empty(texts: Texts) -> None:
    for lang in LANGUAGES:
        for key, template in texts.catalogs[lang].items():
            assert template.strip(), f"{lang} {key} is empty"


HOSTILE = '<b>Maria</b> & "Co" <script>'
HOSTILE_ESCAPED = '&lt;b&gt;Maria&lt;/b&gt; &amp; "Co" &lt;script&gt;'


def test_every_parameter_is_html_escaped(texts: Texts) -> None:
    checked = 0
    for lang in LANGUAGES:
        for key in texts.catalogs[lang]:
            names = texts.placeholders(lang, key)
            if not names:
                continue
            rendered = texts.get(lang, key, **{name: HOSTILE for name in names})
            assert isinstance(rendered, Html)
            assert "<script>" not in rendered and "<b>Maria" not in rendered, f"{lang} {key}"
            assert rendered.count(HOSTILE_ESCAPED) >= len(names), f"{lang} {key}"
            checked += 1
    assert checked > 20


def test_html_parameters_are_not_escaped_twice(texts: Texts) -> None:
    already = Html("<b>AK EU</b> &amp; mehr")
    rendered = texts.get("en", "join.joined", group=already)
    assert "<b><b>AK EU</b> &amp; mehr</b>" in rendered
    assert escape(escape("a & b")) == "a &amp; b"
    assert escape(3) == "3"


def test_non_string_parameters_are_rendered(texts: Texts) -> None:
    assert "(12 characters)" in texts.get("en", "registration.name_too_long", length=12, max=64)


def test_plain_does_not_escape(texts: Texts) -> None:
    plain = texts.plain("en", "registration.ask_name", telegram_name="Tom & <Jerry>")
    assert "“Tom & <Jerry>”" in plain
    assert not isinstance(plain, Html)
    html_version = texts.get("en", "registration.ask_name", telegram_name="Tom & <Jerry>")
    assert "“Tom &amp; &lt;Jerry&gt;”" in html_version


def test_unknown_language_falls_back_to_german(texts: Texts) -> None:
    assert texts.get("fr", "errors.internal") == texts.get("de", "errors.internal")
    assert texts.get("en", "errors.internal") != texts.get("de", "errors.internal")


SAMPLES = {
    "name": "Maria Schmidt & Co",
    "telegram_name": "Maria <3",
    "organisation": "Caritas Wuppertal/Solingen e.V.",
    "group": "AK EU",
    "slug": "ak-eu",
    "status": "Mitglied",
    "text": "<ak>",
    "names": "AK EU, AK Ehrenamt",
    "username": "@maria_s",
    "user_id": 123456789,
    "count": 3,
    "length": 70,
    "max": 64,
    "link": "https://t.me/kimbot?start=abc_DEF-123",
    "until": "03.12.2026 14:00",
    "ref": "@nobody",
    "by": "Koordination",
    "command": "/frobnicate",
    "bot": "kim_bot",
    "value": "fr",
    "example": "/join ak-eu",
}


def test_every_text_is_valid_telegram_html(texts: Texts) -> None:
    from bot.dev.emulator.html import parse_html  # the strict emulator's own parser

    for lang in LANGUAGES:
        for key in texts.catalogs[lang]:
            params = {name: SAMPLES.get(name, f"<{name}> & more") for name in texts.placeholders(lang, key)}
            rendered = texts.get(lang, key, **params)
            try:
                plain, _entities = parse_html(rendered)
            except Exception as error:  # the parser's ApiError carries Telegram's reason
                pytest.fail(f"{lang} {key}: {error}\n{rendered}")
            assert plain.strip(), f"{lang} {key} renders empty"
            for value in params.values():
                assert str(value) in plain, f"{lang} {key} loses {value!r}"


# --- split_text -------------------------------------------------------------


def _content(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _words(count: int) -> str:
    words = ["Tagesordnung", "Sitzung", "AK", "EU", "Empfehlung", "&amp;", "Rückmeldung", "#12", "Ü"]
    return " ".join(words[i % len(words)] + str(i % 7) for i in range(count))


LONG_TEXTS = {
    "short": "Hallo Maria",
    "words": _words(3000),
    "lines": "\n".join(_words(12) for _ in range(400)),
    "paragraphs": "\n\n".join("\n".join(_words(10) for _ in range(3)) for _ in range(200)),
    "one long word": "x" * 10_000,
    "entities without spaces": "&amp;" * 3000,
    "mixed entities": ("a&lt;b&gt;c&amp;" * 900),
    "umlauts": "Ä" * 4001,
    "exactly the limit": "y" * LIMIT,
    "one over the limit": "y" * (LIMIT + 1),
}


@pytest.mark.parametrize("name", list(LONG_TEXTS))
def test_split_text_never_exceeds_the_limit_and_keeps_all_content(name: str) -> None:
    text = LONG_TEXTS[name]
    chunks = split_text(text)
    assert all(0 < len(chunk) <= LIMIT for chunk in chunks)
    assert _content("".join(chunks)) == _content(text)
    if len(text) <= LIMIT:
        assert chunks == [text]


@pytest.mark.parametrize("limit", [10, 37, 100, 4096])
def test_split_text_with_other_limits(limit: int) -> None:
    text = _words(2000)
    chunks = split_text(text, limit)
    assert all(len(chunk) <= limit for chunk in chunks)
    assert _content("".join(chunks)) == _content(text)


def test_split_text_cuts_at_whitespace_and_keeps_words_whole() -> None:
    text = _words(3000)
    chunks = split_text(text)
    assert len(chunks) > 1
    assert " ".join(chunks).split() == text.split()


def test_split_text_keeps_lines_whole() -> None:
    text = LONG_TEXTS["lines"]
    lines = [line for chunk in split_text(text) for line in chunk.split("\n")]
    assert lines == text.split("\n")


_WELL_FORMED = re.compile(r"(?:[^&]|&(?:amp|lt|gt|quot|#[0-9]+);)*")


@pytest.mark.parametrize("limit", [LIMIT, 4001, 4002, 4003, 4004, 50, 51, 52, 53, 54])
@pytest.mark.parametrize("unit", ["&amp;", "&lt;", "&gt;", "a&quot;", "&amp;&lt;x"])
def test_split_text_never_cuts_inside_an_entity(unit: str, limit: int) -> None:
    text = unit * (3 * limit // len(unit) + 1)
    chunks = split_text(text, limit)
    assert len(chunks) > 1
    assert "".join(chunks) == text
    for chunk in chunks:
        assert len(chunk) <= limit
        assert _WELL_FORMED.fullmatch(chunk), chunk[:20] + "…" + chunk[-20:]


def test_split_text_with_an_entity_right_at_the_limit() -> None:
    for shift in range(8):
        text = "x" * (LIMIT - shift) + "&amp;" + "y" * 10
        chunks = split_text(text)
        assert "".join(chunks) == text
        assert all(_WELL_FORMED.fullmatch(chunk) for chunk in chunks), shift


def test_split_text_of_empty_text() -> None:
    assert split_text("") == [""]
    assert split_text("  \n ") == [""]


# --- log redaction ----------------------------------------------------------

TOKEN = "987654321:AAHsecretTokenForTheLogs-xyz_123"


def _capture(logger_name: str, secrets: list[str]) -> tuple[logging.Logger, io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, stream, handler


def test_token_in_message_args_is_redacted() -> None:
    logger, stream, handler = _capture("kimbot.test.args", [TOKEN])
    try:
        logger.info("POST %s -> %d", f"https://api.telegram.org/bot{TOKEN}/getUpdates", 200)
        logger.warning(f"token inline {TOKEN}")
        logger.debug("dict %(url)s", {"url": f"/file/bot{TOKEN}/doc.pdf"})
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert TOKEN not in output
    assert "AAHsecret" not in output
    assert f"https://api.telegram.org/bot{REDACTED}/getUpdates -> 200" in output
    assert f"token inline {REDACTED}" in output
    assert f"dict /file/bot{REDACTED}/doc.pdf" in output


def test_token_in_an_exception_traceback_is_redacted() -> None:
    logger, stream, handler = _capture("kimbot.test.exc", [TOKEN])
    try:
        try:
            raise ConnectionError(f"cannot reach https://api.telegram.org/bot{TOKEN}/sendMessage")
        except ConnectionError:
            logger.exception("sending failed")
        try:
            raise RuntimeError("outer") from ValueError(f"inner {TOKEN}")
        except RuntimeError:
            logger.error("chained", exc_info=True)
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert TOKEN not in output
    assert "Traceback" in output
    assert f"ConnectionError: cannot reach https://api.telegram.org/bot{REDACTED}/sendMessage" in output
    assert f"ValueError: inner {REDACTED}" in output


def test_exc_info_tuple_is_redacted_too() -> None:
    logger, stream, handler = _capture("kimbot.test.excinfo", [TOKEN])
    try:
        try:
            raise KeyError(TOKEN)
        except KeyError:
            info = sys.exc_info()
        logger.error("later", exc_info=info)
    finally:
        logger.removeHandler(handler)
    assert TOKEN not in stream.getvalue()
    assert REDACTED in stream.getvalue()


def test_install_redaction_covers_the_root_handlers_with_token_and_webhook_secret() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": "hook-secret-77"})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        install_redaction(settings)
        install_redaction(settings)  # idempotent: one filter per handler
        assert sum(isinstance(f, RedactSecrets) for f in handler.filters) == 1
        logging.getLogger("telegram.ext.Updater").info("url %s secret %s", f"/bot{TOKEN}/getMe", "hook-secret-77")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    output = stream.getvalue()
    assert TOKEN not in output and "hook-secret-77" not in output
    assert f"url /bot{REDACTED}/getMe secret {REDACTED}" in output


def test_without_secrets_records_pass_unchanged() -> None:
    logger, stream, handler = _capture("kimbot.test.none", [])
    try:
        logger.info("value %s", 42)
    finally:
        logger.removeHandler(handler)
    assert "value 42" in stream.getvalue()


# --- a group named by the first words of a command's text ---------------------


def _groups():  # type: ignore[no-untyped-def]
    from storage.models import Group

    rows = [
        ("ak-eu", "AK EU"),
        ("ak-ehrenamt", "AK Ehrenamt"),
        ("ak-arbeitsmarkt", "AK Arbeitsmarktintegration"),
        ("ag-soe", "AG Süd-Ost-Europa"),
        ("lenkungskreis", "Lenkungskreis Integration"),
    ]
    return [Group(id=i, slug=slug, name=name) for i, (slug, name) in enumerate(rows, 1)]


@pytest.mark.parametrize(
    ("text", "slug", "rest", "exact"),
    [
        ("ak-eu Bericht  aus\nder Beratung", "ak-eu", " Bericht  aus\nder Beratung", True),
        ("AK EU Bericht", "ak-eu", " Bericht", True),
        ("eu Bericht", "ak-eu", " Bericht", False),
        ("AK Ehrenamt Freiwillige", "ak-ehrenamt", " Freiwillige", True),
        ("Lenkungskreis Integration Bericht", "lenkungskreis", " Bericht", True),
        ("ehrenamt", "ak-ehrenamt", "", False),
        ("ak-eu - Bericht", "ak-eu", " - Bericht", True),
        ("ak-eu . .", "ak-eu", " . .", True),
    ],
)
def test_leading_group_finds_the_longest_group_name(text: str, slug: str, rest: str, exact: bool) -> None:
    from bot.core.groups import leading_group

    found = leading_group(_groups(), text)
    assert found is not None
    group, remainder, is_exact = found
    assert (group.slug, remainder, is_exact) == (slug, rest, exact)


@pytest.mark.parametrize("text", ["Bericht aus der Beratung", "AK Bericht", "", "   "])
def test_leading_group_none_when_no_group_is_named(text: str) -> None:
    from bot.core.groups import leading_group

    assert leading_group(_groups(), text) is None
