"""Series of sessions: weekly or monthly, at one local wall time (SPEC 4).

A series is stored as its IANA time-zone name, the naive local start, an
RFC 5545 RRULE and the excluded instances (EXDATE), so a 10:00 series stays
at 10:00 local time when daylight saving time begins or ends; its UTC
instant moves by an hour instead.

- `Recurrence`: `weekly` every `interval` weeks on the start's weekday, or
  `monthly` every `interval` months on the n-th weekday of the start date
  (`nth_weekday`: the 2nd Tuesday stays the 2nd Tuesday). A start on the
  5th weekday of its month, which most months lack, means the *last* such
  weekday (`BYDAY=-1FR`). At most one of `until` (a local date, inclusive)
  and `count` (instances generated, excluded ones included, as RFC 5545
  counts them). Neither means open-ended: callers then ask `occurrences`
  for a horizon (`until_utc`) or a `limit`.
- `to_rrule` / `from_rrule`: the RRULE value. `UNTIL` is written in UTC, as
  RFC 5545 requires when DTSTART carries a TZID: the end of the `until` day
  in the series' time zone. So both need the time zone.
- `occurrences`: the aware instants. A wall time inside a spring-forward gap
  is moved forward by the gap (02:30 becomes 03:30 summer time); one that
  exists twice is the first (fold=0); both as RFC 5545 reads a DTSTART.
  Exclusions are compared as instants, so an EXDATE of either 02:30 or 03:30
  removes the moved instance.
- `parse_recurrence`: the words people type, German and English;
  `bot.render.recurrence.describe` says it back (`jeden 2. Dienstag im Monat,
  bis 30.06.2027`).

The two frequencies are generated here directly rather than with
python-dateutil, which is only a dependency of icalendar, not of KIM-Bot;
the tests check this code against dateutil's RRULE expansion.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import normalize, parse_date
from bot.core.errors import Refusal

FREQUENCIES = ("weekly", "monthly")
MAX_INTERVAL = {"weekly": 52, "monthly": 12}
MAX_COUNT = 100
LAST = -1

_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Recurrence:
    """How a series repeats; see the module docstring."""

    freq: str
    interval: int = 1
    until: date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.freq not in FREQUENCIES:
            raise ValueError(f"freq must be one of {FREQUENCIES}, not {self.freq!r}")
        if not 1 <= self.interval <= MAX_INTERVAL[self.freq]:
            raise ValueError(f"interval {self.interval} out of range for {self.freq}")
        if self.until is not None and self.count is not None:
            raise ValueError("a series ends by until or by count, not both")
        if self.count is not None and not 1 <= self.count <= MAX_COUNT:
            raise ValueError(f"count must be 1 to {MAX_COUNT}, not {self.count}")

    @property
    def open_ended(self) -> bool:
        return self.until is None and self.count is None


def _zone(tz: ZoneInfo | str) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def nth_weekday(day: date) -> int:
    """Which weekday of its month `day` is: 1 to 4, or `LAST` (-1) for a 5th."""
    nth = (day.day - 1) // 7 + 1
    return LAST if nth == 5 else nth


def _nth_weekday_in(year: int, month: int, weekday: int, nth: int) -> date:
    """The `nth` (1 to 4, or -1 for last) `weekday` of a month."""
    if nth == LAST:
        last = date(year, month, calendar.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


# --- RRULE ------------------------------------------------------------------


def to_rrule(rec: Recurrence, start_local: datetime, tz: ZoneInfo | str | None = None) -> str:
    """The RRULE value, e.g. `FREQ=MONTHLY;BYDAY=2TU;COUNT=10`.

    `start_local` is the first session: aware, or naive with `tz` given.
    """
    zone = _zone(tz) if tz is not None else start_local.tzinfo
    if not isinstance(zone, ZoneInfo):
        raise ValueError("to_rrule needs the ZoneInfo of the series: an aware start or tz")
    first = start_local.replace(tzinfo=None)
    weekday = _BYDAY[first.weekday()]
    parts = [f"FREQ={rec.freq.upper()}"]
    if rec.interval != 1:
        parts.append(f"INTERVAL={rec.interval}")
    nth = "" if rec.freq == "weekly" else str(nth_weekday(first.date()))
    parts.append(f"BYDAY={nth}{weekday}")
    if rec.until is not None:
        end_of_day = normalize(datetime.combine(rec.until + timedelta(days=1), time()), zone)
        parts.append(f"UNTIL={(end_of_day - timedelta(seconds=1)).astimezone(UTC):%Y%m%dT%H%M%SZ}")
    if rec.count is not None:
        parts.append(f"COUNT={rec.count}")
    return ";".join(parts)


def from_rrule(text: str, tz: ZoneInfo | str) -> Recurrence:
    """The `Recurrence` of an RRULE value; a UTC `UNTIL` is read as a local date in `tz`.

    BYDAY is not kept: it always follows from the start date.
    Malformed or unsupported rules raise ValueError (they are stored data, not input).
    """
    value = text.strip()
    if value.upper().startswith("RRULE:"):
        value = value[6:]
    parts: dict[str, str] = {}
    for part in value.split(";"):
        name, sep, content = part.partition("=")
        if not sep or not content:
            raise ValueError(f"malformed RRULE part {part!r}")
        parts[name.strip().upper()] = content.strip().upper()
    freq = {"WEEKLY": "weekly", "MONTHLY": "monthly"}.get(parts.pop("FREQ", ""))
    if freq is None:
        raise ValueError(f"unsupported RRULE {text!r}")
    interval = int(parts.pop("INTERVAL", "1"))
    count = int(parts["COUNT"]) if "COUNT" in parts else None
    parts.pop("COUNT", None)
    until = _until_date(parts.pop("UNTIL"), _zone(tz)) if "UNTIL" in parts else None
    parts.pop("BYDAY", None)
    parts.pop("WKST", None)
    if parts:
        raise ValueError(f"unsupported RRULE parts {sorted(parts)}")
    return Recurrence(freq, interval, until, count)


def _until_date(value: str, tz: ZoneInfo) -> date:
    if len(value) == 8:
        return datetime.strptime(value, "%Y%m%d").date()
    if value.endswith("Z"):
        moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return moment.astimezone(tz).date()
    return datetime.strptime(value, "%Y%m%dT%H%M%S").date()


# --- occurrences --------------------------------------------------------------


def _wall_times(start: datetime, rec: Recurrence | None) -> Iterator[datetime]:
    """The naive local wall times of the series, honouring `until` and `count`."""
    if rec is None:
        yield start
        return
    nth = nth_weekday(start.date())
    index = 0
    while rec.count is None or index < rec.count:
        if rec.freq == "weekly":
            wall = start + timedelta(weeks=index * rec.interval)
        else:
            months = start.year * 12 + start.month - 1 + index * rec.interval
            day = _nth_weekday_in(months // 12, months % 12 + 1, start.weekday(), nth)
            wall = datetime.combine(day, start.time())
        if rec.until is not None and wall.date() > rec.until:
            return
        yield wall
        index += 1


def occurrences(
    start_local_naive: datetime,
    tz_name: str | ZoneInfo,
    rec: Recurrence | None,
    *,
    exdates: Collection[datetime] = frozenset(),
    after: datetime | None = None,
    limit: int | None = None,
    until_utc: datetime | None = None,
) -> list[datetime]:
    """The sessions of a series as aware datetimes in its zone, in order.

    `exdates`: naive local wall times left out. `after`: only instants strictly
    later. `until_utc`: only instants up to and including it. `limit`: at most
    that many. An open-ended series needs `limit` or `until_utc`.
    """
    if start_local_naive.tzinfo is not None:
        raise ValueError("occurrences takes the naive local start")
    if rec is not None and rec.open_ended and limit is None and until_utc is None:
        raise ValueError("an open-ended series needs limit or until_utc")
    tz = _zone(tz_name)
    excluded = {normalize(wall, tz).astimezone(UTC) for wall in exdates}
    after_utc = after.astimezone(UTC) if after is not None else None
    end_utc = until_utc.astimezone(UTC) if until_utc is not None else None
    found: list[datetime] = []
    if limit is not None and limit <= 0:
        return found
    for wall in _wall_times(start_local_naive, rec):
        moment = normalize(wall, tz)
        instant = moment.astimezone(UTC)
        if end_utc is not None and instant > end_utc:
            break
        if instant in excluded or (after_utc is not None and instant <= after_utc):
            continue
        found.append(moment)
        if limit is not None and len(found) >= limit:
            break
    return found


# --- what people type -----------------------------------------------------------

_NUMBERS = {
    "zwei": 2,
    "zweite": 2,
    "two": 2,
    "second": 2,
    "other": 2,
    "drei": 3,
    "dritte": 3,
    "three": 3,
    "third": 3,
    "vier": 4,
    "vierte": 4,
    "four": 4,
    "fourth": 4,
}
_N = r"(?P<n>[0-9]{1,2}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
_RHYTHMS: tuple[tuple[re.Pattern[str], str, int | None], ...] = tuple(
    (re.compile(pattern), freq, interval)
    for pattern, freq, interval in (
        (r"wochentlich|jede woche|weekly|every week|once a week", "weekly", 1),
        (r"(?:alle|every) " + _N + r" (?:wochen|weeks)", "weekly", None),
        (r"(?:jede|every) " + _N + r"(?:\.|nd|rd|th)? (?:woche|week)", "weekly", None),
        (_N + r"-? ?wochentlich", "weekly", None),
        (r"(?:14|vierzehn)-? ?tagig|fortnightly", "weekly", 2),
        (r"monatlich|jeden monat|monthly|every month|once a month", "monthly", 1),
        (r"(?:alle|every) " + _N + r" (?:monate|months)", "monthly", None),
        (r"(?:jeden|every) " + _N + r"(?:\.|nd|rd|th)? (?:monat|month)", "monthly", None),
    )
)
_UNTIL = re.compile(r"(?P<head>.*?) ?\b(?:bis|until|till)(?: zum| einschlie(?:ss|ß)lich)? (?P<date>\S+)")
_COUNT = re.compile(r"(?P<head>.*?) ?\b(?P<count>[0-9]+) ?-?(?:x|mal|times|termine|sessions)")
_FOLD = str.maketrans({"ö": "o", "ä": "a", "ü": "u"})


def _simplify(text: str) -> str:
    """Lower case, single spaces, no commas, umlauts plain (`wöchentlich`, `woechentlich`)."""
    folded = text.lower().replace(",", " ").replace("oe", "o").replace("ae", "a").translate(_FOLD)
    return " ".join(folded.split())


def parse_recurrence(text: str, start: date) -> Recurrence:
    """A `Recurrence` from `wöchentlich`, `alle 2 Wochen bis 30.06.2027`, `monthly 10 times`…"""
    value = " ".join(text.split())
    simple = _simplify(value)
    until: date | None = None
    count: int | None = None
    if match := _UNTIL.fullmatch(simple):
        simple = match["head"]
        until = parse_date(match["date"])
        if until < start:
            raise Refusal("recurrence.until_before_start", until=f"{until:%d.%m.%Y}", start=f"{start:%d.%m.%Y}")
    elif match := _COUNT.fullmatch(simple):
        simple, count = match["head"], int(match["count"])
        if count == 0:
            raise Refusal("recurrence.bad", value=value)
        if count > MAX_COUNT:
            raise Refusal("recurrence.too_many", max=MAX_COUNT)
    for pattern, freq, interval in _RHYTHMS:
        if match := pattern.fullmatch(simple):
            if interval is None:
                word = match["n"]
                interval = _NUMBERS[word] if word in _NUMBERS else int(word)
            if not 1 <= interval <= MAX_INTERVAL[freq]:
                raise Refusal("recurrence.bad", value=value)
            return Recurrence(freq, interval, until, count)
    raise Refusal("recurrence.bad", value=value)
