"""Which half-year a report is about (SPEC 7; `/report`, `kimbot report`).

Rules that live here:

- A half-year is written `2026-H1` (January to June) or `2026-H2` (July to
  December), in TIMEZONE; `2026 h2`, `2026/H2` and `H2 2026` are read too.
- A half-year that has not begun yet, or that ended before the first thing
  was recorded (the first group, person, membership, session, agenda item
  or recommendation), is refused with an example that works. The running
  half-year is allowed; its report counts what happened until now.
- A guided /report offers the current half-year, and the previous one when
  there are data from before it ended. Only coordinators are offered any.

What the report on a half-year contains is `bot.core.report`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.people import require_coordinator
from storage.models import Person
from storage.uow import UnitOfWork

_HALF_YEAR = (
    re.compile(r"(?P<year>\d{4})\s*[-/ ]?\s*H(?P<half>[12])", re.IGNORECASE),
    re.compile(r"H(?P<half>[12])\s*[-/ ]?\s*(?P<year>\d{4})", re.IGNORECASE),
)


@dataclass(frozen=True, order=True)
class HalfYear:
    year: int
    half: int

    @classmethod
    def of(cls, year: int, half: int) -> HalfYear:
        """A half-year from its parts (a button's data); out of range is refused."""
        if half not in (1, 2) or not 1000 <= year <= 9999:
            raise Refusal("report.bad_half_year", value=f"{year}-H{half}")
        return cls(year, half)

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> HalfYear:
        local = moment.astimezone(tz)
        return cls(local.year, 1 if local.month <= 6 else 2)

    @property
    def label(self) -> str:
        return f"{self.year}-H{self.half}"

    @property
    def first_day(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def previous(self) -> HalfYear:
        return HalfYear(self.year - 1, 2) if self.half == 1 else HalfYear(self.year, 1)

    def following(self) -> HalfYear:
        return HalfYear(self.year, 2) if self.half == 1 else HalfYear(self.year + 1, 1)

    def start(self, tz: ZoneInfo) -> datetime:
        """The first moment, local midnight, in UTC."""
        return datetime(self.year, self.first_day.month, 1, tzinfo=tz).astimezone(UTC)

    def end(self, tz: ZoneInfo) -> datetime:
        """The moment after the last (the next half-year's start), in UTC."""
        return self.following().start(tz)


def parse_half_year(text: str) -> HalfYear:
    """`2026-H1`, `2026-h2`, `2026 H2`, `2026/H1` or `H2 2026`; anything else is refused."""
    value = " ".join(text.split())
    for pattern in _HALF_YEAR:
        if match := pattern.fullmatch(value):
            return HalfYear.of(int(match["year"]), int(match["half"]))
    raise Refusal("report.bad_half_year", value=value[:40])


@dataclass(frozen=True)
class Period:
    half: HalfYear
    start: datetime
    end: datetime
    until: datetime
    """The end, or now while the half-year runs."""
    now: datetime

    @property
    def running(self) -> bool:
        return self.until < self.end


async def period(uow: UnitOfWork, half: HalfYear, settings: Settings, now: datetime) -> Period:
    """The half-year as a period, or a Refusal when it has not begun or has no data."""
    tz = settings.timezone
    current = HalfYear.containing(now, tz)
    start = half.start(tz)
    if start > now:
        raise Refusal("report.future", value=half.label, start=half.first_day, example=current.label)
    end = half.end(tz)
    earliest = await uow.reports.earliest()
    if earliest is None:
        raise Refusal("report.no_data")
    if end <= earliest:
        raise Refusal(
            "report.before_data",
            value=half.label,
            first=earliest.astimezone(tz).date(),
            example=HalfYear.containing(earliest, tz).label,
        )
    return Period(half, start, end, min(end, now), now)


async def choices(uow: UnitOfWork, person: Person, settings: Settings, now: datetime) -> list[HalfYear]:
    """The half-years offered by a guided /report: the current one, and the previous
    one when there are data from before it ended."""
    require_coordinator(person, settings)
    current = HalfYear.containing(now, settings.timezone)
    previous = current.previous()
    earliest = await uow.reports.earliest()
    offered = [current]
    if earliest is not None and previous.end(settings.timezone) > earliest:
        offered.append(previous)
    return offered
