"""Calendar files: bot.render.ics, read back with icalendar and expanded with dateutil."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule
from icalendar import Calendar

from bot.core.recurrence import Recurrence, occurrences, to_rrule
from bot.render.ics import calendar_file, filename, vtimezone

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def series_file(**changes: object) -> bytes:
    start = datetime(2026, 3, 12, 10, 0)
    arguments: dict[str, object] = {
        "uid": "session-12@kim-bot",
        "title": "AK EU; Treffen, Teil 1",
        "start_local_naive": start,
        "tz_name": "Europe/Berlin",
        "duration": timedelta(hours=2),
        "location": "Rathaus Barmen, Raum 210",
        "description": "Tagesordnung folgt.",
        "url": "https://t.me/kim_bot",
        "rrule": to_rrule(Recurrence("weekly", count=6), start, BERLIN),
        "exdates": [datetime(2026, 4, 2, 10, 0)],
        "sequence": 3,
        "stamp": STAMP,
    }
    arguments.update(changes)
    return calendar_file(**arguments)  # type: ignore[arg-type]


def event_of(data: bytes):  # noqa: ANN201 - an icalendar Event
    calendar = Calendar.from_ical(data)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_the_series_file_reads_back_with_the_expected_instants() -> None:
    calendar, event = event_of(series_file())
    assert str(calendar["METHOD"]) == "PUBLISH" and str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//KIM-Bot//DE"
    start = event["DTSTART"].dt
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event["DTEND"].params["TZID"] == "Europe/Berlin"
    assert start.astimezone(UTC) == utc(2026, 3, 12, 9)
    assert event["DTEND"].dt - start == timedelta(hours=2)

    excluded = {value.dt.astimezone(UTC) for line in _list(event.get("EXDATE")) for value in line.dts}
    assert excluded == {utc(2026, 4, 2, 8)}
    assert all(line.params.get("TZID") == "Europe/Berlin" for line in _list(event.get("EXDATE")))
    text = event["RRULE"].to_ical().decode()
    expanded = [moment.astimezone(UTC) for moment in rrule.rrulestr(text, dtstart=start)]
    kept = [moment for moment in expanded if moment not in excluded]
    expected = [utc(2026, 3, 12, 9), utc(2026, 3, 19, 9), utc(2026, 3, 26, 9), utc(2026, 4, 9, 8), utc(2026, 4, 16, 8)]
    assert kept == expected
    ours = occurrences(
        datetime(2026, 3, 12, 10), "Europe/Berlin", Recurrence("weekly", count=6), exdates={datetime(2026, 4, 2, 10)}
    )
    assert [moment.astimezone(UTC) for moment in ours] == expected


def test_an_until_series_across_both_changes_expands_to_10_oclock_local() -> None:
    start = datetime(2026, 1, 8, 10, 0)
    text = to_rrule(Recurrence("weekly", 2, until=date(2027, 12, 31)), start, BERLIN)
    _, event = event_of(series_file(start_local_naive=start, rrule=text, exdates=[]))
    assert "UNTIL=20271231T225959Z" in event["RRULE"].to_ical().decode()
    expanded = list(rrule.rrulestr(event["RRULE"].to_ical().decode(), dtstart=event["DTSTART"].dt))
    assert len(expanded) == 52
    for moment in expanded:
        local = moment.astimezone(UTC).astimezone(BERLIN)
        assert (local.hour, local.minute) == (10, 0)
        assert moment.astimezone(UTC).hour == (8 if local.dst() else 9)


def _list(value: object) -> list:  # noqa: ANN401
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def test_the_event_carries_uid_sequence_status_and_texts() -> None:
    _, event = event_of(series_file())
    assert str(event["UID"]) == "session-12@kim-bot"
    assert int(event["SEQUENCE"]) == 3
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["DTSTAMP"].dt == STAMP
    assert str(event["SUMMARY"]) == "AK EU; Treffen, Teil 1"
    assert str(event["LOCATION"]) == "Rathaus Barmen, Raum 210"
    assert str(event["DESCRIPTION"]) == "Tagesordnung folgt.\n\nhttps://t.me/kim_bot"
    assert str(event["URL"]) == "https://t.me/kim_bot"


def test_a_cancelled_session_says_so() -> None:
    _, event = event_of(series_file(cancelled=True, sequence=4))
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 4


def test_a_single_session_has_no_rule_and_no_exclusions() -> None:
    data = series_file(rrule=None, exdates=[datetime(2026, 3, 19, 10)], location=None, description=None, url=None)
    _, event = event_of(data)
    assert "RRULE" not in event and "EXDATE" not in event
    assert "LOCATION" not in event and "DESCRIPTION" not in event and "URL" not in event
    assert event["DTSTART"].dt.astimezone(UTC) == utc(2026, 3, 12, 9)


def test_the_file_is_plain_rfc_5545_text() -> None:
    data = series_file(title="Sitzung " + "Ä" * 80)
    lines = data.split(b"\r\n")
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.count(b"BEGIN:VTIMEZONE") == 1 and data.count(b"BEGIN:VEVENT") == 1


def test_the_berlin_vtimezone_has_yearly_rules_as_outlook_needs() -> None:
    calendar, _ = event_of(series_file())
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Berlin"
    (daylight,) = zone.walk("DAYLIGHT")
    (standard,) = zone.walk("STANDARD")
    assert daylight["RRULE"]["BYDAY"] == ["-1SU"] and daylight["RRULE"]["BYMONTH"] == [3]
    assert standard["RRULE"]["BYDAY"] == ["-1SU"] and standard["RRULE"]["BYMONTH"] == [10]
    # onsets are local times before the change: 02:00 winter time, 03:00 summer time
    assert daylight["DTSTART"].dt == datetime(2025, 3, 30, 2, 0)
    assert standard["DTSTART"].dt == datetime(2025, 10, 26, 3, 0)
    assert daylight["TZOFFSETFROM"].td == timedelta(hours=1) and daylight["TZOFFSETTO"].td == timedelta(hours=2)
    assert standard["TZOFFSETFROM"].td == timedelta(hours=2) and standard["TZOFFSETTO"].td == timedelta(hours=1)
    assert "RDATE" not in daylight and "RDATE" not in standard


@pytest.mark.parametrize(
    ("tz_name", "shape"),
    [
        ("Europe/Berlin", "rules"),
        ("America/New_York", "rules"),
        ("Australia/Sydney", "rules"),
        ("Europe/Dublin", "rules"),
        ("Asia/Jerusalem", "dates"),  # Friday before the last Sunday: no RRULE form
        ("Asia/Tokyo", "fixed"),
        ("UTC", "fixed"),
    ],
)
def test_the_vtimezone_means_what_zoneinfo_means(tz_name: str, shape: str) -> None:
    component = vtimezone(tz_name, 2026)
    observances = component.subcomponents
    if shape == "rules":
        assert [o.name for o in observances] == ["DAYLIGHT", "STANDARD"]
        assert all("RRULE" in o and "RDATE" not in o for o in observances)
    elif shape == "dates":
        assert any("RDATE" in o for o in observances)
    else:
        assert [o.name for o in observances] == ["STANDARD"]
    # read it as a zone of its own (not by its name) and compare four times a day,
    # and every quarter of an hour on the days the offset changes
    theirs = Calendar.from_ical(component.to_ical()).to_tz(lookup_tzid=False)
    ours = ZoneInfo(tz_name)
    day, end = utc(2026, 1, 1), utc(2030, 1, 1)
    while day < end:
        changes = day.astimezone(ours).utcoffset() != (day + timedelta(days=1)).astimezone(ours).utcoffset()
        step = timedelta(minutes=15) if changes else timedelta(hours=6)
        moment = day
        while moment < day + timedelta(days=1):
            assert moment.astimezone(theirs).utcoffset() == moment.astimezone(ours).utcoffset(), moment
            moment += step
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("title", "day", "expected"),
    [
        ("Auftakt AK EU", date(2026, 12, 3), "2026-12-03-auftakt-ak-eu.ics"),
        ("Größe/Übergänge: Teil 2 & 3", date(2026, 1, 5), "2026-01-05-groesse-uebergaenge-teil-2-3.ics"),
        ("Café ../../etc", date(2026, 1, 5), "2026-01-05-cafe-etc.ics"),
        ("Встреча", date(2026, 1, 5), "2026-01-05-sitzung.ics"),
        ("", date(2026, 1, 5), "2026-01-05-sitzung.ics"),
    ],
)
def test_filename(title: str, day: date, expected: str) -> None:
    assert filename(title, day) == expected


def test_filename_is_short_and_safe() -> None:
    name = filename("x" * 500 + " / \\ \0", date(2026, 1, 5))
    assert name.isascii() and "/" not in name and "\\" not in name and name.endswith(".ics")
    assert len(name) <= 70
