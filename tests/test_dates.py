"""Dates and times as people type and read them: bot.core.dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.dates import (
    DATE_WORD,
    EXAMPLE_NAMES,
    example_day,
    examples,
    format_date,
    format_when,
    local_datetime,
    parse_date,
    parse_time,
    take_time,
)
from bot.core.digest_arguments import parse_arguments, parse_days, parse_period
from bot.core.errors import Refusal
from bot.render.texts import LOCALES, Texts

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03.12.2026", date(2026, 12, 3)),
        ("3.12.2026", date(2026, 12, 3)),
        ("3.1.2027", date(2027, 1, 3)),
        ("2026-12-03", date(2026, 12, 3)),
        ("2027-1-5", date(2027, 1, 5)),
        (" 03.12.2026 ", date(2026, 12, 3)),
        ("29.02.2028", date(2028, 2, 29)),
    ],
)
def test_parse_date_accepts_the_three_forms(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "31.02.2026",
        "29.02.2026",
        "2026-13-01",
        "00.01.2026",
        "32.01.2026",
        "morgen",
        "",
        "   ",
        "3.12",  # 3:12, not a date
        "31.02.",
        "0.0.",
        "03.12.2",
        "2026/12/03",
        "03-12-2026",
        "12/03/2026",
        "03.12.2026 14:00",
    ],
)
def test_parse_date_refuses_everything_else_with_the_value(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_date(text)
    assert refused.value.key == "dates.bad_date"
    assert refused.value.params == {"value": text.strip()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:00", time(14, 0)),
        ("9:30", time(9, 30)),
        ("09:05", time(9, 5)),
        ("0:00", time(0, 0)),
        ("23:59", time(23, 59)),
        ("14.30", time(14, 30)),
        ("14:00 Uhr", time(14, 0)),
        ("8.15 uhr", time(8, 15)),
        ("9 Uhr", time(9, 0)),
        ("9uhr", time(9, 0)),
        ("9.30", time(9, 30)),
        ("14 h", time(14, 0)),
        ("14h", time(14, 0)),
        ("9:30 h", time(9, 30)),
    ],
)
def test_parse_time_accepts_hours_and_minutes(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text", ["25:00", "24:00", "12:60", "14", "14:5", "1400", "abc", "", "-1:00", "14:00:00", "25 Uhr", "Uhr", "h"]
)
def test_parse_time_refuses_everything_else_with_the_value(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_time(text)
    assert refused.value.key == "dates.bad_time"
    assert refused.value.params == {"value": text.strip()}


def test_local_datetime_keeps_the_wall_time_in_winter_and_summer() -> None:
    winter = local_datetime(date(2026, 12, 3), time(14, 0), BERLIN)
    summer = local_datetime(date(2026, 7, 2), time(14, 0), BERLIN)
    assert (winter.hour, summer.hour) == (14, 14)
    assert winter.astimezone(UTC) == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert summer.astimezone(UTC) == datetime(2026, 7, 2, 12, 0, tzinfo=UTC)


def test_a_wall_time_in_the_spring_forward_gap_is_refused_with_a_suggestion() -> None:
    with pytest.raises(Refusal) as refused:
        local_datetime(date(2026, 3, 29), time(2, 30), BERLIN)
    assert refused.value.key == "dates.nonexistent_time"
    assert refused.value.params == {"day": "29.03.2026", "time": "02:30", "suggestion": "03:30"}
    # the edges of the gap exist
    assert local_datetime(date(2026, 3, 29), time(1, 59), BERLIN).utcoffset() == timedelta(hours=1)
    assert local_datetime(date(2026, 3, 29), time(3, 0), BERLIN).utcoffset() == timedelta(hours=2)


def test_an_ambiguous_wall_time_means_the_first_one_in_summer_time() -> None:
    moment = local_datetime(date(2026, 10, 25), time(2, 30), BERLIN)
    assert moment.utcoffset() == timedelta(hours=2)
    assert moment.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_format_when_german_and_english() -> None:
    moment = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert format_when(moment, BERLIN, "de") == "Do., 03.12.2026, 14:00 Uhr"
    assert format_when(moment, BERLIN, "en") == "Thu, 3 Dec 2026, 14:00"
    assert format_when(moment, BERLIN, "fr") == "Do., 03.12.2026, 14:00 Uhr"


def test_format_when_names_every_weekday_without_the_locale() -> None:
    monday = datetime(2026, 11, 30, 9, 5, tzinfo=BERLIN)
    german = [format_when(monday + timedelta(days=n), BERLIN, "de")[:4] for n in range(7)]
    english = [format_when(monday + timedelta(days=n), BERLIN, "en")[:4] for n in range(7)]
    assert german == ["Mo.,", "Di.,", "Mi.,", "Do.,", "Fr.,", "Sa.,", "So.,"]
    assert english == ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"]


def test_format_when_shows_summer_time_and_normalises_a_gap_time() -> None:
    assert format_when(datetime(2026, 7, 2, 12, 0, tzinfo=UTC), BERLIN, "de") == "Do., 02.07.2026, 14:00 Uhr"
    skipped = datetime(2026, 3, 29, 2, 30, tzinfo=BERLIN)  # does not exist: 03:30 summer time
    assert format_when(skipped, BERLIN, "de") == "So., 29.03.2026, 03:30 Uhr"


def test_format_when_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError):
        format_when(datetime(2026, 12, 3, 14, 0), BERLIN, "de")


def test_format_date() -> None:
    assert format_date(date(2027, 6, 30), "de") == "30.06.2027"
    assert format_date(date(2027, 6, 3), "en") == "3 Jun 2027"


def test_refusal_texts_exist_in_both_languages_with_their_parameters() -> None:
    texts = Texts()
    refusals = []
    for call in (
        lambda: parse_date("31.02.2026"),
        lambda: parse_time("25:00"),
        lambda: local_datetime(date(2026, 3, 29), time(2, 30), BERLIN),
    ):
        with pytest.raises(Refusal) as refused:
            call()
        refusals.append(refused.value)
    for refusal in refusals:
        for lang in ("de", "en"):
            assert texts.placeholders(lang, refusal.key) == set(refusal.params), (lang, refusal.key)
    rendered = texts.get("de", "dates.bad_date", **refusals[0].params)
    assert "„31.02.2026“" in rendered and texts.examples()["example_date"] in rendered


# --- examples are never in the past ---------------------------------------------


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 12, 5, 21, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # already 1 January in Berlin
        datetime(2027, 2, 28, 12, 0, tzinfo=UTC),
        datetime(2027, 3, 1, 0, 0, tzinfo=UTC),
        datetime(2028, 2, 24, 9, 0, tzinfo=UTC),
        datetime(2030, 6, 30, 22, 0, tzinfo=UTC),
    ],
)
def test_example_dates_are_in_the_future_and_parse(now: datetime) -> None:
    today = now.astimezone(BERLIN).date()
    day = example_day(now, BERLIN)
    assert today + timedelta(days=7) <= day <= today + timedelta(days=13)
    assert day.weekday() == 3  # a Thursday: a working day
    values = examples(now, BERLIN)
    assert set(values) == set(EXAMPLE_NAMES)
    assert parse_date(values["example_date"]) == day == parse_date(values["example_iso"])
    assert values["example_short"] == values["example_date"][:6]
    assert parse_date(values["example_later"]) > day
    assert parse_date(values["example_until"]) > parse_date(values["example_later"])
    assert parse_date(values["example_since"]) < today
    assert parse_date(values["example_since_iso"]) == parse_date(values["example_since"])
    year, half = values["example_half"].split("-H")
    ends = date(int(year), 6, 30) if half == "1" else date(int(year), 12, 31)
    assert ends < today <= ends + timedelta(days=184)


def test_no_text_puts_a_second_period_after_the_short_date() -> None:
    """`17.12.` ends with its own period: a sentence that ends with it read
    "oder kurz 17.12..", which looks like a typo to the person who got it wrong."""
    texts = Texts()
    for lang, catalog in texts.catalogs.items():
        for key, template in catalog.items():
            assert not re.search(r"\{example_short\}(</\w+>)*\.", template), (lang, key)
    rendered = texts.plain("de", "dates.bad_date", value="31.02.")
    assert ".." not in re.sub(r"</?code>", "", rendered)


def test_texts_fill_the_example_dates_from_their_clock() -> None:
    texts = Texts()
    texts.use_clock(lambda: datetime(2031, 5, 2, 10, 0, tzinfo=UTC), BERLIN)
    assert "15.05.2031" in texts.get("de", "dates.bad_date", value="x")
    assert "15.05.2031" in texts.plain("de", "help.meeting_example")
    assert "2031" in texts.get("en", "dates.bad_date", value="x")
    # a value passed explicitly wins; the automatic ones are not required parameters
    assert "01.01.2040" in texts.get("de", "dates.bad_date", value="x", example_date="01.01.2040")
    assert "example_date" not in texts.placeholders("de", "dates.bad_date")


_DATE_LIKE = re.compile(
    r"(?<![0-9{])(?:([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{2,4})|([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}))(?![0-9])"
)


def test_no_catalog_contains_a_literal_date() -> None:
    """Every example date in every catalog is a placeholder ({example_date}, ...):
    a literal one is in the past some day (issue 16: "03.12.2026" in December 2026)."""
    found = []
    for path in sorted(LOCALES.rglob("*.toml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _DATE_LIKE.search(line):
                found.append(f"{path.relative_to(LOCALES)}:{number}: {line.strip()[:100]}")
    assert not found, "literal dates in catalogs (use {example_date} etc.):\n" + "\n".join(found)


# --- friendlier input: dates without a year, short years, times in words, periods --------------

TODAY = date(2026, 12, 5)


@pytest.mark.parametrize(
    ("text", "expected", "latest"),
    [
        ("18.12.", date(2026, 12, 18), date(2025, 12, 18)),
        ("5.12.", date(2026, 12, 5), date(2026, 12, 5)),  # today is the next (and the latest) such date
        ("4.12.", date(2027, 12, 4), date(2026, 12, 4)),
        ("3.1.", date(2027, 1, 3), date(2026, 1, 3)),
        ("29.02.", date(2028, 2, 29), date(2024, 2, 29)),
        ("18.12.26", date(2026, 12, 18), date(2026, 12, 18)),
        ("1.7.27", date(2027, 7, 1), date(2027, 7, 1)),
    ],
)
def test_dates_without_a_year_or_with_a_short_one(text: str, expected: date, latest: date) -> None:
    assert parse_date(text, TODAY) == expected
    assert parse_date(text, TODAY, past=True) == latest


def test_take_time_reads_one_or_two_words() -> None:
    assert take_time(["9", "Uhr", "Auftakt"], 0) == (time(9, 0), 2)
    assert take_time(["14", "h", "Auftakt"], 0) == (time(14, 0), 2)
    assert take_time(["9.30", "Auftakt"], 0) == (time(9, 30), 1)
    assert take_time(["x", "14:00"], 1) == (time(14, 0), 2)
    with pytest.raises(Refusal):
        take_time(["9", "Auftakt"], 0)
    with pytest.raises(Refusal):
        take_time(["Auftakt"], 1)


def test_date_word_finds_every_form() -> None:
    for word in ("18.12.", "18.12.26", "18.12.2026", "2026-12-18", "1.1."):
        assert DATE_WORD.fullmatch(word), word
    for word in ("18.12", "14:00", "9", "Auftakt"):
        assert not DATE_WORD.fullmatch(word), word


LATER = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("30 Tage", 30),
        ("7 Tage", 7),
        ("1 Tag", 1),
        ("30tage", 30),
        ("2 Wochen", 14),
        ("1 Woche", 7),
        ("2w", 14),
        ("30 days", 30),
        ("2 weeks", 14),
        ("30d", 30),
    ],
)
def test_periods_in_words(text: str, days: int) -> None:
    assert parse_days(text) == days
    period = parse_period(text, LATER, BERLIN)
    assert (period.start, period.days) == (LATER - timedelta(days=days), days)


def test_since_a_date_without_a_year_is_the_latest_such_day() -> None:
    assert parse_period("seit 01.12.", LATER, BERLIN).since == date(2026, 12, 1)
    assert parse_period("since 18.12.", LATER, BERLIN).since == date(2025, 12, 18)


def test_digest_arguments_take_a_period_in_words() -> None:
    from types import SimpleNamespace

    eu = SimpleNamespace(id=1, slug="ak-eu", name="AK EU")
    group, period = parse_arguments("ak-eu 30 Tage", [eu], LATER, BERLIN)  # type: ignore[list-item]  # a stand-in group
    assert group is eu and period.days == 30
    group, period = parse_arguments("2 Wochen", [eu], LATER, BERLIN)  # type: ignore[list-item]  # a stand-in group
    assert group is None and period.days == 14
