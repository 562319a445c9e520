"""Dates and times as people type and read them (SPEC 3 and 4).

- `parse_date`: `DD.MM.YYYY`, `D.M.YYYY` and `YYYY-MM-DD` (also `YYYY-M-D`),
  in the years `MIN_YEAR` to `MAX_YEAR` (0001 or 9999 is a typing error, and
  Python's dates end there: a session's end or a time-zone shift would overflow).
- `parse_time`: `HH:MM` and `H:MM`; `14.30` (the way many Germans write a
  time) and a trailing `Uhr` are accepted too. `24:00` is not a time.
- `local_datetime`: a date and a wall time in a time zone, as an aware
  datetime. A wall time that does not exist because the clocks jump forward
  (29.03.2026 02:30 in Europe/Berlin) is refused with a suggestion one gap
  later; a wall time that exists twice because the clocks go back
  (25.10.2026 02:30) means the first of the two (`fold=0`, summer time), as
  RFC 5545 also reads it.
- `format_when`: German `Do., 03.12.2026, 14:00 Uhr`; English
  `Thu, 3 Dec 2026, 14:00`. English uses the month's name because `03.12.`
  reads as 3 December in Europe but as March 12 in the US; a name cannot be
  misread. `format_date` is the date part alone.
- Weekday and month names live in the one table `_NAMES` below, so nothing
  depends on the C locale. An unknown language falls back to German.

Every refusal carries the value as typed, for the catalog texts `dates.*`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.core.errors import Refusal

_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "de": {
        "weekday": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
        "weekday_long": (
            "Montag",
            "Dienstag",
            "Mittwoch",
            "Donnerstag",
            "Freitag",
            "Samstag",
            "Sonntag",
        ),
    },
    "en": {
        "weekday": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "weekday_long": (
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ),
        "month": (
            "Jan",
            "Feb",
            "Mar",
            "Apr",
            "May",
            "Jun",
            "Jul",
            "Aug",
            "Sep",
            "Oct",
            "Nov",
            "Dec",
        ),
    },
}

MIN_YEAR, MAX_YEAR = 1900, 2999

_GERMAN_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_TIME = re.compile(r"([0-9]{1,2})[:.]([0-9]{2})(?:\s*uhr)?", re.IGNORECASE)


def parse_date(text: str) -> date:
    """A calendar date from `03.12.2026`, `3.12.2026` or `2026-12-03`."""
    value = text.strip()
    if match := _GERMAN_DATE.fullmatch(value):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.fullmatch(value):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise Refusal("dates.bad_date", value=value)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Refusal("dates.bad_date", value=value)
    try:
        return date(year, month, day)
    except ValueError:
        raise Refusal("dates.bad_date", value=value) from None


def parse_time(text: str) -> time:
    """A wall time from `14:00`, `9:30`, `14.30` or `14:00 Uhr`."""
    value = text.strip()
    match = _TIME.fullmatch(value)
    if match is None:
        raise Refusal("dates.bad_time", value=value)
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise Refusal("dates.bad_time", value=value)
    return time(hour, minute)


def exists(wall: datetime, tz: ZoneInfo) -> bool:
    """Whether the naive wall time occurs in `tz` (False inside a spring-forward gap)."""
    aware = wall.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall.replace(fold=0)


def normalize(wall: datetime, tz: ZoneInfo) -> datetime:
    """The instant a naive wall time means in `tz`, as an aware datetime in `tz`.

    Ambiguous: the first occurrence (fold=0). Inside a gap: moved forward by
    the length of the gap (02:30 becomes 03:30 summer time), as RFC 5545 says.
    """
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def local_datetime(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The aware datetime of `day` at wall time `at` in `tz`; a skipped wall time is refused."""
    wall = datetime.combine(day, at)
    if not exists(wall, tz):
        raise Refusal(
            "dates.nonexistent_time",
            day=f"{day:%d.%m.%Y}",
            time=f"{at:%H:%M}",
            suggestion=f"{normalize(wall, tz):%H:%M}",
        )
    return normalize(wall, tz)


def _lang(lang: str) -> str:
    return lang if lang in _NAMES else "de"


def weekday_name(weekday: int, lang: str) -> str:
    """The full name of weekday 0 (Monday) to 6: `Dienstag`, `Tuesday`."""
    return _NAMES[_lang(lang)]["weekday_long"][weekday]


def format_date(day: date, lang: str) -> str:
    """`03.12.2026` in German, `3 Dec 2026` in English."""
    if _lang(lang) == "en":
        return f"{day.day} {_NAMES['en']['month'][day.month - 1]} {day.year}"
    return f"{day:%d.%m.%Y}"


def format_when(moment: datetime, tz: ZoneInfo, lang: str) -> str:
    """`Do., 03.12.2026, 14:00 Uhr` or `Thu, 3 Dec 2026, 14:00` for an aware `moment` in `tz`."""
    if moment.tzinfo is None:
        raise ValueError("format_when needs an aware datetime")
    local = moment.astimezone(UTC).astimezone(tz)  # via UTC: never trust an unnormalised wall time
    lang = _lang(lang)
    weekday = _NAMES[lang]["weekday"][local.weekday()]
    suffix = " Uhr" if lang == "de" else ""
    return f"{weekday}, {format_date(local.date(), lang)}, {local:%H:%M}{suffix}"
