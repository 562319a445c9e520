"""Calendar files (.ics) for sessions and series (SPEC 4), kept to plain RFC 5545.

`calendar_file` writes one VCALENDAR (METHOD:PUBLISH) with one VTIMEZONE and
one VEVENT: DTSTART and DTEND as local times with TZID, RRULE and one EXDATE
line per excluded instance (with TZID) for a series, UID, SEQUENCE (raise it
on every change so calendars replace the old copy), DTSTAMP, and STATUS
CONFIRMED or CANCELLED. A URL is also appended to the description, because
Outlook does not show the URL property.

The VTIMEZONE is built here from zoneinfo rather than with
`icalendar.Timezone.from_tzid`, which lists every change as an RDATE: Outlook
ignores RDATEs in a VTIMEZONE and then shows summer sessions an hour off. When
the zone follows one yearly rule per direction (as Europe/Berlin does: last
Sunday of March and of October), each observance gets a yearly RRULE, the form
Outlook, Google and Apple all read; its onset DTSTART is the local time before
the change, as RFC 5545 defines it. Zones without such a rule get one DTSTART
plus RDATEs per observance over the years the series can touch; zones without
changes get a single STANDARD observance.

`session_file` writes the entry `bot.core.meetings.calendar_entry` describes;
`filename` makes a plain ASCII name for Telegram: `2026-12-03-auftakt-ak-eu.ics`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, TimezoneDaylight, TimezoneStandard, vRecur
from icalendar import Timezone as VTimezone

from bot.core.dates import normalize
from bot.core.meetings import CalendarEntry

_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
YEARS_BEFORE = 1  # observances start in the year before the first session
YEARS_AFTER = 10  # rules are checked (and RDATEs listed) this far after it


def calendar_file(
    *,
    uid: str,
    title: str,
    start_local_naive: datetime,
    tz_name: str,
    duration: timedelta,
    location: str | None = None,
    description: str | None = None,
    url: str | None = None,
    rrule: str | None = None,
    exdates: Collection[datetime] = (),
    sequence: int = 0,
    cancelled: bool = False,
    prodid: str = "-//KIM-Bot//DE",
    stamp: datetime | None = None,
) -> bytes:
    """The .ics bytes of one session or series; `stamp` (DTSTAMP) defaults to now."""
    tz = ZoneInfo(tz_name)
    start = start_local_naive.replace(tzinfo=tz)
    end = (normalize(start_local_naive, tz).astimezone(UTC) + duration).astimezone(tz)

    calendar = Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(vtimezone(tz_name, start_local_naive.year))

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    event.add("sequence", sequence)
    event.add("dtstart", start)
    event.add("dtend", end)
    if rrule:
        event.add("rrule", vRecur.from_ical(rrule.removeprefix("RRULE:")))
        for excluded in sorted(exdates):
            event.add("exdate", excluded.replace(tzinfo=tz))
    event.add("summary", title)
    if location:
        event.add("location", location)
    text = description or ""
    if url and url not in text:
        text = f"{text}\n\n{url}" if text else url
    if text:
        event.add("description", text)
    if url:
        event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    calendar.add_component(event)
    return calendar.to_ical()


def session_file(entry: CalendarEntry) -> tuple[bytes, str]:
    """The .ics bytes and the file name of one session's calendar entry (what it
    says, UID and EXDATEs included, is decided by `bot.core.meetings.calendar_entry`)."""
    data = calendar_file(
        uid=entry.uid,
        title=entry.summary,
        start_local_naive=entry.start_local,
        tz_name=entry.tz_name,
        duration=entry.duration,
        location=entry.location,
        rrule=entry.rrule,
        exdates=entry.exdates,
        sequence=entry.sequence,
        cancelled=entry.cancelled,
    )
    return data, filename(entry.title, entry.start_local.date())


def filename(title: str, day: date) -> str:
    """`2026-12-03-auftakt-ak-eu.ics`: ASCII letters, digits and dashes only."""
    text = title.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:50].rstrip("-")
    return f"{day.isoformat()}-{slug or 'sitzung'}.ics"


# --- VTIMEZONE --------------------------------------------------------------


@dataclass(frozen=True)
class _Change:
    """One change of a zone's UTC offset: onset is the local time before it.

    Clocks going forward start a DAYLIGHT observance, going back a STANDARD
    one, as calendar programs expect (zoneinfo calls Irish winter time the
    daylight-saving time; calendars do not).
    """

    onset: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool


def _changes(tz: ZoneInfo, first: datetime, last: datetime) -> list[_Change]:
    """Every offset change between two UTC instants, found day by day, then to the second."""
    found = []
    day = timedelta(days=1)
    moment = first
    while moment < last:
        before, after = moment.astimezone(tz).utcoffset(), (moment + day).astimezone(tz).utcoffset()
        if before != after:
            low, high = moment, moment + day  # the offset changes in (low, high]
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle.astimezone(tz).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            local = high.astimezone(tz)
            assert before is not None and after is not None
            found.append(
                _Change(
                    onset=(high + before).replace(tzinfo=None),
                    offset_from=before,
                    offset_to=after,
                    name=local.tzname() or "",
                    daylight=after > before,
                )
            )
        moment += day
    return found


def _nth(day: date) -> set[int]:
    """The ways to name `day` as an n-th weekday of its month: {n}, plus -1 if it is the last."""
    ways = {(day.day - 1) // 7 + 1}
    if (day + timedelta(days=7)).month != day.month:
        ways.add(-1)
    return ways


def _yearly_rule(changes: list[_Change], years: range) -> str | None:
    """`FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU` if the changes follow one such rule every year."""
    if [change.onset.year for change in changes] != list(years):
        return None

    def shape(change: _Change) -> tuple[object, ...]:
        onset = change.onset
        return (onset.month, onset.weekday(), onset.time(), change.offset_from, change.offset_to, change.name)

    first = changes[0]
    ways = {-1, 1, 2, 3, 4, 5}
    for change in changes:
        if shape(change) != shape(first):
            return None
        ways &= _nth(change.onset.date())
    if not ways:
        return None
    nth = -1 if -1 in ways else min(ways)
    return f"FREQ=YEARLY;BYMONTH={first.onset.month};BYDAY={nth}{_BYDAY[first.onset.weekday()]}"


def _observance(change: _Change) -> TimezoneStandard | TimezoneDaylight:
    observance = TimezoneDaylight() if change.daylight else TimezoneStandard()
    observance.add("dtstart", change.onset)
    observance.add("tzoffsetfrom", change.offset_from)
    observance.add("tzoffsetto", change.offset_to)
    if change.name:
        observance.add("tzname", change.name)
    return observance


def vtimezone(tz_name: str, year: int) -> VTimezone:
    """The VTIMEZONE of `tz_name` for sessions from `year` on (see the module docstring)."""
    tz = ZoneInfo(tz_name)
    years = range(year - YEARS_BEFORE, year + YEARS_AFTER + 1)
    first = datetime(years.start, 1, 1, tzinfo=tz).astimezone(UTC)
    last = datetime(years.stop, 1, 1, tzinfo=tz).astimezone(UTC)
    changes = _changes(tz, first, last)
    component = VTimezone()
    component.add("tzid", tz_name)

    daylight = [change for change in changes if change.daylight]
    standard = [change for change in changes if not change.daylight]
    rules = [_yearly_rule(daylight, years), _yearly_rule(standard, years)] if daylight and standard else []
    if rules and all(rules):
        for kind, rule in zip((daylight, standard), rules, strict=True):
            assert rule is not None  # all(rules)
            observance = _observance(kind[0])
            observance.add("rrule", vRecur.from_ical(rule))
            component.add_component(observance)
        return component

    start = first.astimezone(tz)
    offset = start.utcoffset()
    assert offset is not None
    name = start.tzname() or ""
    initial = _Change(start.replace(tzinfo=None), offset, offset, name, daylight=False)
    component.add_component(_observance(initial))
    groups: dict[tuple[timedelta, timedelta, str, bool], list[_Change]] = {}
    for change in changes:
        key = (change.offset_from, change.offset_to, change.name, change.daylight)
        groups.setdefault(key, []).append(change)
    for group in groups.values():
        observance = _observance(group[0])
        for later in group[1:]:
            observance.add("rdate", later.onset)
        component.add_component(observance)
    return component
