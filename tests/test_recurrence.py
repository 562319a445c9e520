"""Series of sessions: bot.core.recurrence, checked by hand and against dateutil's RRULE."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule

from bot.core.errors import Refusal
from bot.core.recurrence import (
    LAST,
    MAX_COUNT,
    Recurrence,
    from_rrule,
    nth_weekday,
    occurrences,
    parse_recurrence,
    to_rrule,
)
from bot.render.recurrence import describe as describe_with
from bot.render.texts import Texts

BERLIN = ZoneInfo("Europe/Berlin")

TEXTS = Texts()


def describe(rule: Recurrence, start: date | datetime, lang: str) -> str:
    return describe_with(TEXTS, rule, start, lang)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --- daylight saving time ---------------------------------------------------------


def test_a_weekly_10_oclock_series_stays_at_10_across_both_changes_in_2026_and_2027() -> None:
    start = datetime(2026, 1, 8, 10, 0)  # a Thursday in winter
    found = occurrences(start, "Europe/Berlin", Recurrence("weekly", until=date(2027, 12, 30)))
    assert len(found) == 104
    assert all(moment.tzinfo is BERLIN for moment in found)
    assert {(moment.hour, moment.minute) for moment in found} == {(10, 0)}
    for moment in found:
        summer = moment.dst() != timedelta(0)
        assert moment.astimezone(UTC).hour == (8 if summer else 9), moment
    instants = {moment.astimezone(UTC) for moment in found}
    # last Sundays: 29.03.2026, 25.10.2026, 28.03.2027, 31.10.2027
    for before, after in [
        (utc(2026, 3, 26, 9), utc(2026, 4, 2, 8)),
        (utc(2026, 10, 22, 8), utc(2026, 10, 29, 9)),
        (utc(2027, 3, 25, 9), utc(2027, 4, 1, 8)),
        (utc(2027, 10, 28, 8), utc(2027, 11, 4, 9)),
    ]:
        assert before in instants and after in instants
    assert found[-1].astimezone(UTC) == utc(2027, 12, 30, 9)


def test_every_two_weeks() -> None:
    found = occurrences(datetime(2026, 3, 5, 10), "Europe/Berlin", Recurrence("weekly", 2, count=5))
    assert [moment.astimezone(UTC) for moment in found] == [
        utc(2026, 3, 5, 9),
        utc(2026, 3, 19, 9),
        utc(2026, 4, 2, 8),
        utc(2026, 4, 16, 8),
        utc(2026, 4, 30, 8),
    ]


def test_monthly_on_the_second_tuesday() -> None:
    start = datetime(2026, 1, 13, 14, 0)
    assert nth_weekday(start.date()) == 2
    found = occurrences(start, "Europe/Berlin", Recurrence("monthly", count=6))
    assert [moment.date() for moment in found] == [
        date(2026, 1, 13),
        date(2026, 2, 10),
        date(2026, 3, 10),
        date(2026, 4, 14),
        date(2026, 5, 12),
        date(2026, 6, 9),
    ]
    assert all(moment.weekday() == 1 and moment.hour == 14 for moment in found)
    assert found[3].astimezone(UTC) == utc(2026, 4, 14, 12)


def test_a_start_on_the_fifth_friday_means_the_last_friday() -> None:
    start = datetime(2026, 5, 29, 9, 30)  # the 5th Friday of May 2026
    assert nth_weekday(start.date()) == LAST
    rule = Recurrence("monthly", count=4)
    found = occurrences(start, "Europe/Berlin", rule)
    assert [moment.date() for moment in found] == [
        date(2026, 5, 29),
        date(2026, 6, 26),
        date(2026, 7, 31),
        date(2026, 8, 28),
    ]
    assert to_rrule(rule, start, "Europe/Berlin") == "FREQ=MONTHLY;BYDAY=-1FR;COUNT=4"
    assert describe(rule, start, "de") == "jeden letzten Freitag im Monat, 4 Termine"
    assert describe(rule, start, "en") == "every month on the last Friday, 4 sessions"


def test_every_second_month_keeps_the_nth_weekday() -> None:
    found = occurrences(datetime(2026, 1, 13, 14), "Europe/Berlin", Recurrence("monthly", 2, count=4))
    assert [moment.date() for moment in found] == [
        date(2026, 1, 13),
        date(2026, 3, 10),
        date(2026, 5, 12),
        date(2026, 7, 14),
    ]


def test_a_wall_time_in_the_gap_moves_forward_by_the_gap() -> None:
    start = datetime(2026, 3, 22, 2, 30)  # Sundays at 02:30; 29.03.2026 02:30 does not exist
    found = occurrences(start, "Europe/Berlin", Recurrence("weekly", count=3))
    assert [moment.astimezone(UTC) for moment in found] == [
        utc(2026, 3, 22, 1, 30),
        utc(2026, 3, 29, 1, 30),
        utc(2026, 4, 5, 0, 30),
    ]
    assert (found[1].hour, found[1].minute) == (3, 30)
    assert (found[2].hour, found[2].minute) == (2, 30)
    # the skipped instance is excluded whether it is named by its rule time or its moved time
    for excluded in (datetime(2026, 3, 29, 2, 30), datetime(2026, 3, 29, 3, 30)):
        left = occurrences(start, "Europe/Berlin", Recurrence("weekly", count=3), exdates={excluded})
        assert [moment.day for moment in left] == [22, 5]


def test_a_wall_time_that_exists_twice_is_the_first() -> None:
    found = occurrences(datetime(2026, 10, 18, 2, 30), "Europe/Berlin", Recurrence("weekly", count=3))
    assert [moment.astimezone(UTC) for moment in found] == [
        utc(2026, 10, 18, 0, 30),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 11, 1, 1, 30),
    ]


# --- ends, exclusions and windows ---------------------------------------------


def test_until_is_an_inclusive_local_date() -> None:
    start = datetime(2026, 3, 5, 10)
    assert len(occurrences(start, "Europe/Berlin", Recurrence("weekly", until=date(2026, 3, 26)))) == 4
    assert len(occurrences(start, "Europe/Berlin", Recurrence("weekly", until=date(2026, 3, 25)))) == 3
    late = datetime(2026, 3, 5, 23, 30)  # 22:30 UTC: the local date counts, not the UTC one
    assert occurrences(late, "Europe/Berlin", Recurrence("weekly", until=date(2026, 3, 12)))[-1].day == 12


def test_exdates_are_left_out_and_still_count_towards_count() -> None:
    start = datetime(2026, 3, 5, 10)
    found = occurrences(start, "Europe/Berlin", Recurrence("weekly", count=5), exdates={datetime(2026, 3, 19, 10)})
    assert [moment.date() for moment in found] == [
        date(2026, 3, 5),
        date(2026, 3, 12),
        date(2026, 3, 26),
        date(2026, 4, 2),
    ]
    # an exdate that names no instance changes nothing
    found = occurrences(start, "Europe/Berlin", Recurrence("weekly", count=5), exdates={datetime(2026, 3, 19, 11)})
    assert len(found) == 5


def test_after_limit_and_until_utc() -> None:
    start = datetime(2026, 3, 5, 10)
    weekly = Recurrence("weekly")
    found = occurrences(start, "Europe/Berlin", weekly, after=utc(2026, 3, 12, 9), limit=2)
    assert [moment.day for moment in found] == [19, 26]  # strictly after: 12.03. 10:00 is not included
    found = occurrences(start, "Europe/Berlin", weekly, until_utc=utc(2026, 3, 26, 9))
    assert [moment.day for moment in found] == [5, 12, 19, 26]  # up to and including
    assert occurrences(start, "Europe/Berlin", weekly, limit=0) == []
    with pytest.raises(ValueError):
        occurrences(start, "Europe/Berlin", weekly)  # open-ended needs a limit or a horizon


def test_a_single_session() -> None:
    found = occurrences(datetime(2026, 12, 3, 14), "Europe/Berlin", None)
    assert [moment.astimezone(UTC) for moment in found] == [utc(2026, 12, 3, 13)]
    assert occurrences(datetime(2026, 12, 3, 14), "Europe/Berlin", None, after=utc(2026, 12, 3, 13)) == []


def test_occurrences_takes_a_naive_start() -> None:
    with pytest.raises(ValueError):
        occurrences(datetime(2026, 12, 3, 14, tzinfo=BERLIN), "Europe/Berlin", None)


def test_recurrence_checks_its_fields() -> None:
    with pytest.raises(ValueError):
        Recurrence("daily")
    with pytest.raises(ValueError):
        Recurrence("weekly", until=date(2027, 1, 1), count=3)
    with pytest.raises(ValueError):
        Recurrence("weekly", 0)
    with pytest.raises(ValueError):
        Recurrence("weekly", count=MAX_COUNT + 1)
    assert Recurrence("weekly").open_ended and not Recurrence("weekly", count=2).open_ended


# --- RRULE --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "start", "tz", "text"),
    [
        (Recurrence("weekly"), datetime(2026, 3, 5, 10), "Europe/Berlin", "FREQ=WEEKLY;BYDAY=TH"),
        (
            Recurrence("weekly", 2, until=date(2027, 6, 30)),
            datetime(2026, 3, 5, 10),
            "Europe/Berlin",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;UNTIL=20270630T215959Z",
        ),
        (
            Recurrence("monthly", count=10),
            datetime(2026, 1, 13, 14),
            "Europe/Berlin",
            "FREQ=MONTHLY;BYDAY=2TU;COUNT=10",
        ),
        (
            Recurrence("monthly", 3, until=date(2026, 12, 31)),
            datetime(2026, 1, 13, 14),
            "Europe/Berlin",
            "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;UNTIL=20261231T225959Z",
        ),
        (
            Recurrence("weekly", until=date(2027, 6, 30)),
            datetime(2026, 3, 5, 18),
            "America/New_York",
            "FREQ=WEEKLY;BYDAY=TH;UNTIL=20270701T035959Z",
        ),
    ],
)
def test_to_rrule_and_back(rule: Recurrence, start: datetime, tz: str, text: str) -> None:
    assert to_rrule(rule, start, tz) == text
    assert to_rrule(rule, start.replace(tzinfo=ZoneInfo(tz))) == text
    assert from_rrule(text, tz) == rule
    assert from_rrule("RRULE:" + text, ZoneInfo(tz)) == rule


def test_from_rrule_reads_other_until_forms() -> None:
    assert from_rrule("FREQ=WEEKLY;UNTIL=20270630", BERLIN).until == date(2027, 6, 30)
    assert from_rrule("FREQ=WEEKLY;UNTIL=20270630T080000Z", BERLIN).until == date(2027, 6, 30)
    assert from_rrule("FREQ=WEEKLY;UNTIL=20270630T230000Z", BERLIN).until == date(2027, 7, 1)
    assert from_rrule("freq=monthly;interval=2;byday=-1fr;wkst=mo", BERLIN) == Recurrence("monthly", 2)


@pytest.mark.parametrize("text", ["FREQ=DAILY", "FREQ=WEEKLY;BYHOUR=10", "INTERVAL=2", "FREQ=WEEKLY;COUNT", ""])
def test_from_rrule_refuses_what_it_cannot_keep(text: str) -> None:
    with pytest.raises(ValueError):
        from_rrule(text, BERLIN)


def test_to_rrule_needs_the_time_zone() -> None:
    with pytest.raises(ValueError):
        to_rrule(Recurrence("weekly"), datetime(2026, 3, 5, 10))


@pytest.mark.parametrize(
    ("rule", "start"),
    [
        (Recurrence("weekly", until=date(2027, 12, 30)), datetime(2026, 1, 8, 10)),
        (Recurrence("weekly", 2, count=30), datetime(2026, 3, 5, 10)),
        (Recurrence("weekly", count=20), datetime(2026, 3, 1, 2, 30)),  # through the gap
        (Recurrence("weekly", count=20), datetime(2026, 9, 6, 2, 30)),  # through the fold
        (Recurrence("monthly", count=24), datetime(2026, 1, 13, 14)),
        (Recurrence("monthly", 2, until=date(2029, 1, 1)), datetime(2026, 5, 29, 9, 30)),
        (Recurrence("monthly", count=30), datetime(2026, 1, 31, 23, 30)),
    ],
)
def test_occurrences_agree_with_dateutil_expanding_the_rrule(rule: Recurrence, start: datetime) -> None:
    text = to_rrule(rule, start, BERLIN)
    expected = [moment.astimezone(UTC) for moment in rrule.rrulestr(text, dtstart=start.replace(tzinfo=BERLIN))]
    found = [moment.astimezone(UTC) for moment in occurrences(start, "Europe/Berlin", rule)]
    assert found == expected
    assert len(found) > 3


# --- what people type ---------------------------------------------------------------

START = date(2026, 3, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wöchentlich", Recurrence("weekly")),
        ("Wöchentlich", Recurrence("weekly")),
        ("woechentlich", Recurrence("weekly")),
        ("jede Woche", Recurrence("weekly")),
        ("weekly", Recurrence("weekly")),
        ("Every week", Recurrence("weekly")),
        ("alle 2 Wochen", Recurrence("weekly", 2)),
        ("alle zwei Wochen", Recurrence("weekly", 2)),
        ("every 2 weeks", Recurrence("weekly", 2)),
        ("every other week", Recurrence("weekly", 2)),
        ("jede zweite Woche", Recurrence("weekly", 2)),
        ("14-tägig", Recurrence("weekly", 2)),
        ("14tägig", Recurrence("weekly", 2)),
        ("zweiwöchentlich", Recurrence("weekly", 2)),
        ("2-wöchentlich", Recurrence("weekly", 2)),
        ("fortnightly", Recurrence("weekly", 2)),
        ("alle 3 Wochen", Recurrence("weekly", 3)),
        ("monatlich", Recurrence("monthly")),
        ("MONTHLY", Recurrence("monthly")),
        ("jeden Monat", Recurrence("monthly")),
        ("alle 2 Monate", Recurrence("monthly", 2)),
        ("every 3 months", Recurrence("monthly", 3)),
        ("wöchentlich bis 30.06.2027", Recurrence("weekly", until=date(2027, 6, 30))),
        ("wöchentlich, bis zum 30.6.2027", Recurrence("weekly", until=date(2027, 6, 30))),
        ("weekly until 2027-06-30", Recurrence("weekly", until=date(2027, 6, 30))),
        ("alle 2 Wochen bis 05.03.2026", Recurrence("weekly", 2, until=date(2026, 3, 5))),
        ("monatlich 10 mal", Recurrence("monthly", count=10)),
        ("monatlich 10-mal", Recurrence("monthly", count=10)),
        ("weekly 10x", Recurrence("weekly", count=10)),
        ("every 2 weeks 10 times", Recurrence("weekly", 2, count=10)),
        ("  alle  2   Wochen ,  6 Termine ", Recurrence("weekly", 2, count=6)),
    ],
)
def test_parse_recurrence(text: str, expected: Recurrence) -> None:
    assert parse_recurrence(text, START) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "täglich",
        "daily",
        "alle 0 Wochen",
        "alle 60 Wochen",
        "alle 13 Monate",
        "wöchentlich 0 mal",
        "bis 30.06.2027",
        "10 mal",
        "wöchentlich 10 mal bis 30.06.2027",
        "jährlich",
        "wöchentlich irgendwann",
    ],
)
def test_parse_recurrence_refuses_what_it_does_not_understand(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_recurrence(text, START)
    assert refused.value.key == "recurrence.bad"
    assert refused.value.params == {"value": " ".join(text.split())}


def test_parse_recurrence_refuses_a_bad_end() -> None:
    with pytest.raises(Refusal) as refused:
        parse_recurrence("wöchentlich bis 31.02.2027", START)
    assert (refused.value.key, refused.value.params) == ("dates.bad_date", {"value": "31.02.2027"})
    with pytest.raises(Refusal) as refused:
        parse_recurrence("weekly until 2026-03-04", START)
    assert (refused.value.key, refused.value.params) == (
        "recurrence.until_before_start",
        {"until": "04.03.2026", "start": "05.03.2026"},
    )
    with pytest.raises(Refusal) as refused:
        parse_recurrence("weekly 101 times", START)
    assert (refused.value.key, refused.value.params) == ("recurrence.too_many", {"max": MAX_COUNT})


def test_refusal_texts_exist_in_both_languages_with_their_parameters() -> None:
    texts = Texts()
    for text in ("täglich", "weekly until 2026-03-04", "weekly 101 times"):
        with pytest.raises(Refusal) as refused:
            parse_recurrence(text, START)
        for lang in ("de", "en"):
            assert texts.placeholders(lang, refused.value.key) == set(refused.value.params)
    assert "„täglich“" in texts.get("de", "recurrence.bad", value="täglich")


# --- what people read ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "start", "german", "english"),
    [
        (Recurrence("weekly"), date(2026, 3, 5), "jede Woche", "every week"),
        (Recurrence("weekly", 2), date(2026, 3, 5), "alle 2 Wochen", "every 2 weeks"),
        (Recurrence("monthly"), date(2026, 1, 13), "jeden 2. Dienstag im Monat", "every month on the 2nd Tuesday"),
        (
            Recurrence("monthly", 2, until=date(2027, 6, 30)),
            date(2026, 1, 13),
            "alle 2 Monate am 2. Dienstag, bis 30.06.2027",
            "every 2 months on the 2nd Tuesday, until 30 Jun 2027",
        ),
        (
            Recurrence("weekly", until=date(2027, 6, 30)),
            date(2026, 3, 5),
            "jede Woche, bis 30.06.2027",
            "every week, until 30 Jun 2027",
        ),
        (Recurrence("weekly", count=10), date(2026, 3, 5), "jede Woche, 10 Termine", "every week, 10 sessions"),
        (
            Recurrence("monthly", count=1),
            date(2026, 3, 2),
            "jeden 1. Montag im Monat, 1 Termin",
            "every month on the 1st Monday, 1 session",
        ),
    ],
)
def test_describe(rule: Recurrence, start: date, german: str, english: str) -> None:
    assert describe(rule, start, "de") == german
    assert describe(rule, datetime.combine(start, datetime.min.time()), "en") == english
