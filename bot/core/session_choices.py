"""Session choices: the dates and times a coordinator is offered as buttons in
the guided `/meeting` and `/reschedule` (SPEC 3: "dates are offered as buttons
where that helps (the next weekdays, common times)").

Decisions written down here:
- the days offered are the next `DAYS_OFFERED` working days (Monday to Friday),
  starting tomorrow in `TIMEZONE`: a session is rarely planned for the same day,
  and a weekend session is typed (`12.12.` is one date away); to move a
  session, the days start a week before its day (not before tomorrow), so its
  own day and the days around it are offered;
- the times offered are `COMMON_TIMES`, the hours working groups meet at, and
  for a moved session its own time too; on a day that is today only the times
  still ahead are offered;
- any other date or time is typed, in every format `bot.core.dates` reads;
- a button carries its value as a number (`day_code` `20261210`, `time_code`
  `1430`), so a button stays valid on its own, whatever was pressed before.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS_OFFERED = 10
"""Two working weeks."""
COMMON_TIMES = (time(9), time(10), time(11), time(13), time(14), time(15), time(16), time(18))


def offered_days(now: datetime, tz: ZoneInfo, count: int = DAYS_OFFERED, near: date | None = None) -> list[date]:
    """The next `count` working days after today (local); with `near` (the day of
    a session being moved), from a week before that day on, never before tomorrow."""
    today = now.astimezone(tz).date()
    day = today + timedelta(days=1)
    if near is not None:
        day = max(day, near - timedelta(days=7))
    found: list[date] = []
    while len(found) < count:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return found


def offered_times(day: date, now: datetime, tz: ZoneInfo, keep: time | None = None) -> list[time]:
    """The common times of `day` that are still ahead, and `keep` (a moved
    session's own time) among them in its place."""
    local_now = now.astimezone(tz).replace(tzinfo=None)
    candidates = sorted({*COMMON_TIMES, *([keep] if keep is not None else [])})
    return [at for at in candidates if datetime.combine(day, at) > local_now]


def day_code(day: date) -> int:
    """`2026-12-10` as `20261210`."""
    return day.year * 10000 + day.month * 100 + day.day


def from_day_code(code: int) -> date | None:
    """The date of a `day_code`; None for a number that is no date."""
    try:
        return date(code // 10000, code // 100 % 100, code % 100)
    except (ValueError, OverflowError):
        return None


def time_code(at: time) -> int:
    """`14:30` as `1430`."""
    return at.hour * 100 + at.minute


def from_time_code(code: int) -> time | None:
    """The time of a `time_code`; None for a number that is no time."""
    try:
        return time(code // 100, code % 100)
    except (ValueError, OverflowError):
        return None
