"""Dates and times as people type and read them (SPEC 3 and 4).

- `parse_date`: `DD.MM.YYYY`, `D.M.YYYY` and `YYYY-MM-DD` (also `YYYY-M-D`),
  in the years `MIN_YEAR` to `MAX_YEAR` (0001 or 9999 is a typing error, and
  Python's dates end there: a session's end or a time-zone shift would overflow).
  Friendlier forms people type: `18.12.26` (a two-digit year is 20yy) and
  `18.12.` without a year: the next such date from `today` on (a date in the
  past with `past=True`, for "since"); 29.02. is the next 29 February. `18.12`
  without the final dot is not a date (it reads as the time 18:12).
- `parse_time`: `HH:MM` and `H:MM`; `14.30` (the way many Germans write a
  time), a trailing `Uhr` or `h`, and a full hour with `Uhr` or `h` (`9 Uhr`,
  `14 h`, `14h`). A bare number (`9`) is not a time. `24:00` is not a time.
  `take_time` reads a time from words, where `9 Uhr` is two words.
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
- `example_day` / `examples`: the dates that help texts, prompts and errors
  show as examples, computed from the bot's clock so that an example is never
  in the past (`bot.render.texts` fills `{example_date}`, `{example_iso}` and
  the others of `EXAMPLE_NAMES` into every text by itself).

Every refusal carries the value as typed, for the catalog texts `dates.*`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
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
_SHORT_YEAR = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{2})")
_NO_YEAR = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_TIME = re.compile(r"([0-9]{1,2})(?:[:.]([0-9]{2}))?\s*(uhr|h)?", re.IGNORECASE)
_TIME_SUFFIXES = ("uhr", "h")

DATE_WORD = re.compile(r"[0-9]{1,2}\.[0-9]{1,2}\.(?:[0-9]{2}|[0-9]{4})?|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
"""One word that is meant as a date in any form `parse_date` reads (for parsers that
look for the date among the words of a command)."""


def parse_date(text: str, today: date | None = None, *, past: bool = False) -> date:
    """A calendar date from `03.12.2026`, `3.12.2026`, `2026-12-03`, `03.12.26` or
    `03.12.` (the next 3 December from `today` on; the latest up to `today` when
    `past`). Without `today` a date without a year is read from the current UTC
    date: callers that know the bot's clock pass its local date."""
    value = text.strip()
    if match := _GERMAN_DATE.fullmatch(value):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.fullmatch(value):
        year, month, day = (int(part) for part in match.groups())
    elif match := _SHORT_YEAR.fullmatch(value):
        day, month, short = (int(part) for part in match.groups())
        year = 2000 + short
    elif match := _NO_YEAR.fullmatch(value):
        day, month = (int(part) for part in match.groups())
        return _without_year(day, month, today or datetime.now(UTC).date(), past, value)
    else:
        raise Refusal("dates.bad_date", value=value)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Refusal("dates.bad_date", value=value)
    try:
        return date(year, month, day)
    except ValueError:
        raise Refusal("dates.bad_date", value=value) from None


def _without_year(day: int, month: int, today: date, past: bool, value: str) -> date:
    """The next (or, `past`, the latest) valid `day`.`month`. from `today`; a 29
    February is looked for up to eight years away."""
    step = -1 if past else 1
    for offset in range(9):
        try:
            candidate = date(today.year + step * offset, month, day)
        except ValueError:
            if not 1 <= month <= 12 or not 1 <= day <= 31:
                break
            continue
        if (candidate <= today) if past else (candidate >= today):
            return candidate
    raise Refusal("dates.bad_date", value=value)


def parse_time(text: str) -> time:
    """A wall time from `14:00`, `9:30`, `14.30`, `14:00 Uhr`, `9 Uhr`, `14 h` or `14h`."""
    value = text.strip()
    match = _TIME.fullmatch(value)
    if match is None or (match.group(2) is None and match.group(3) is None):
        raise Refusal("dates.bad_time", value=value)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise Refusal("dates.bad_time", value=value)
    return time(hour, minute)


def take_time(words: list[str], index: int) -> tuple[time, int]:
    """The time that begins at `words[index]`, and the index of the word after it:
    `9 Uhr` and `14 h` are two words, `9:30`, `9.30` and `14h` one."""
    if index >= len(words):
        raise Refusal("dates.bad_time", value="")
    if index + 1 < len(words) and words[index + 1].casefold() in _TIME_SUFFIXES:
        return parse_time(f"{words[index]} {words[index + 1]}"), index + 2
    return parse_time(words[index]), index + 1


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


EXAMPLE_NAMES = (
    "example_date",
    "example_iso",
    "example_short",
    "example_later",
    "example_until",
    "example_since",
    "example_since_iso",
    "example_half",
)
"""The placeholders every catalog text may use without the caller passing them."""


def example_day(now: datetime, tz: ZoneInfo) -> date:
    """The day an example shows: the Thursday one to two weeks after today (local).

    Always in the future, a working day, and far enough ahead that a session
    could really be planned for it; the same all week, so the help a person
    reads on Monday still matches what they read on Wednesday.
    """
    today = now.astimezone(tz).date() if now.tzinfo is not None else now.date()
    ahead = today + timedelta(days=7)
    return ahead + timedelta(days=(3 - ahead.weekday()) % 7)


def examples(now: datetime, tz: ZoneInfo) -> dict[str, str]:
    """The example values of `EXAMPLE_NAMES` at `now`:

    - `example_date` `DD.MM.YYYY` and `example_iso` `YYYY-MM-DD`: `example_day`;
    - `example_short` `DD.MM.`: the same day without the year (SPEC: the next such date);
    - `example_later`: a week after it (a new date for a moved session, a deadline);
    - `example_until`: the end of a series, the last day of the month five months on;
    - `example_since` / `example_since_iso`: a day in the past for "since", the first
      of the current month (of the previous month on the 1st, so it is never today);
    - `example_half`: the last half-year that is over, for `/report` (`2026-H1`).
    """
    day = example_day(now, tz)
    today = now.astimezone(tz).date() if now.tzinfo is not None else now.date()
    later = day + timedelta(days=7)
    month = day.month + 5
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    until = following - timedelta(days=1)
    since = today.replace(day=1)
    if since == today:
        since = (since - timedelta(days=1)).replace(day=1)
    half = f"{today.year - 1}-H2" if today.month <= 6 else f"{today.year}-H1"
    return {
        "example_date": f"{day:%d.%m.%Y}",
        "example_iso": day.isoformat(),
        "example_short": f"{day:%d.%m.}",
        "example_later": f"{later:%d.%m.%Y}",
        "example_until": f"{until:%d.%m.%Y}",
        "example_since": f"{since:%d.%m.%Y}",
        "example_since_iso": since.isoformat(),
        "example_half": half,
    }
