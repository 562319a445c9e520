"""Reading `/digest [group|all] [period]` and `kimbot digest --group --since`
(the rules of a period: `bot.core.digest`).

A period is a number of days or weeks back from now, as typed: `7d`, `30d`,
`30 Tage`, `1 Tag`, `2 Wochen`, `2w`, `30 days`, `2 weeks`; or a day it
starts: `since 2026-01-01`, `seit 01.12.`, `ab 1.12.2026`, or a bare date. A
date without a year is the latest such day up to today (`bot.core.dates`).
`parse_days` is the one reading of a number of days or weeks (taken wherever
a period is taken)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import normalize, parse_date
from bot.core.digest_model import Period
from bot.core.errors import Key, Refusal
from bot.core.groups import resolve_group
from storage.models import Group

DEFAULT_PERIOD = "7d"
MAX_DAYS = 3660
ALL = ("all", "alle")

_DAYS = re.compile(r"(\d{1,5})\s*(?:d|tag|tage|tagen|day|days)")
_WEEKS = re.compile(r"(\d{1,4})\s*(?:w|wo|woche|wochen|week|weeks)")
_SINCE = re.compile(r"(?:since|seit|ab)\s+(\S+)")


def parse_days(text: str) -> int | None:
    """The number of days in `30d`, `30 Tage`, `2 Wochen`, `2w`, `30 days`; None
    when `text` is not written that way (any case, any spacing)."""
    value = " ".join(text.split()).casefold()
    if match := _DAYS.fullmatch(value):
        return int(match.group(1))
    if match := _WEEKS.fullmatch(value):
        return 7 * int(match.group(1))
    return None


def parse_period(text: str, now: datetime, tz: ZoneInfo) -> Period:
    """`7d`, `30 Tage`, `2 Wochen`, `since 2026-01-01`, `seit 01.12.` or a bare date (see the module docstring)."""
    value = " ".join(text.split()).casefold() or DEFAULT_PERIOD
    if (days := parse_days(value)) is not None:
        if not 1 <= days <= MAX_DAYS:
            raise _bad_period(text)
        return Period(now - timedelta(days=days), now, days=days)
    match = _SINCE.fullmatch(value)
    day_text = match.group(1) if match else value
    try:
        day = parse_date(day_text, now.astimezone(tz).date(), past=True)
    except Refusal:
        raise _bad_period(text) from None
    if day > now.astimezone(tz).date():
        raise Refusal("digest.since_future", date=f"{day:%d.%m.%Y}", example=Key("digest.example"))
    start = normalize(datetime.combine(day, time(0, 0)), tz).astimezone(UTC)
    return Period(start, now, since=day)


def _bad_period(text: str) -> Refusal:
    return Refusal("digest.bad_period", value=" ".join(text.split()), example=Key("digest.example"))


def parse_scope(text: str, groups: Sequence[Group]) -> Group | None:
    """A group by slug, name or unambiguous prefix; None for `all` (or nothing)."""
    wanted = " ".join(text.split())
    if not wanted or wanted.casefold() in ALL:
        return None
    try:
        return resolve_group(groups, wanted)
    except Refusal as refusal:
        if refusal.key == "groups.ambiguous":
            raise Refusal(
                "digest.ambiguous_group", text=wanted, names=refusal.params["names"], example=Key("digest.example")
            ) from None
        raise Refusal("digest.unknown_group", text=wanted, example=Key("digest.example")) from None


def _looks_like_period(text: str) -> bool:
    first = text.split()[0].casefold() if text.split() else ""
    return first[:1].isdigit() or first in ("since", "seit", "ab")


def parse_arguments(text: str, groups: Sequence[Group], now: datetime, tz: ZoneInfo) -> tuple[Group | None, Period]:
    """`[group|all] [period]`: the group's words come first, the period last.

    Every split of the words into a leading group and a trailing period is
    tried, the longest group first. When none fits, the refusal names the part
    that is wrong: the period when the words before it name a group (or when
    it alone looks like a period, `/digest 7x`), else the group (the words
    before a valid period: `/digest mars 30d` is about "mars").
    """
    words = text.split()
    period_error: Refusal | None = None
    group_error: Refusal | None = None
    named_period = False  # whether `group_error` is about the words before a valid period
    for split in range(len(words), -1, -1):
        group_text, period_text = " ".join(words[:split]), " ".join(words[split:])
        try:
            period = parse_period(period_text, now, tz)
        except Refusal as refusal:
            if period_error is None and (group_text or _looks_like_period(period_text)):
                try:
                    parse_scope(group_text, groups)
                    period_error = refusal
                except Refusal:
                    pass
            continue
        try:
            return parse_scope(group_text, groups), period
        except Refusal as refusal:
            if group_error is None or (period_text and not named_period):
                group_error, named_period = refusal, bool(period_text)
    raise period_error or group_error or _bad_period(text)
