"""Dates and times as people type and read them: bot.core.dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.dates import format_date, format_when, local_datetime, parse_date, parse_time
from bot.core.errors import Refusal
from bot.render.texts import Texts

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
        "03.12.26",
        "3.12.",
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
    ],
)
def test_parse_time_accepts_hours_and_minutes(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "24:00", "12:60", "14", "14:5", "1400", "abc", "", "-1:00", "14:00:00"])
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
    assert "„31.02.2026“" in rendered and "03.12.2026" in rendered
