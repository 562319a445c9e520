"""A series of sessions as people read it: `jeden 2. Dienstag im Monat, bis 30.06.2027`."""

from __future__ import annotations

from datetime import date, datetime

from bot.core.dates import format_date, weekday_name
from bot.core.recurrence import LAST, Recurrence, nth_weekday
from bot.render.texts import Texts, plural


def describe(texts: Texts, rec: Recurrence, start_local: datetime | date, lang: str) -> str:
    """`jeden 2. Dienstag im Monat, bis 30.06.2027` / `every 2 weeks, 10 sessions`
    (texts under `[recurrence]` of the catalogs)."""
    day = start_local.date() if isinstance(start_local, datetime) else start_local
    if rec.freq == "weekly":
        parts = [texts.plain(lang, plural("recurrence.weekly", rec.interval), count=rec.interval)]
    else:
        nth = nth_weekday(day)
        which = texts.plain(lang, "recurrence.nth_last" if nth == LAST else f"recurrence.nth_{nth}")
        weekday = weekday_name(day.weekday(), lang)
        key = plural("recurrence.monthly", rec.interval)
        parts = [texts.plain(lang, key, count=rec.interval, which=which, weekday=weekday)]
    if rec.until is not None:
        parts.append(texts.plain(lang, "recurrence.until", date=format_date(rec.until, lang)))
    if rec.count is not None:
        parts.append(texts.plain(lang, plural("recurrence.sessions", rec.count), count=rec.count))
    return ", ".join(parts)
