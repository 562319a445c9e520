"""How the choices of the coordinator's session flows look: day and time buttons,
the "Abbrechen" row, how many people are told, a button naming a session
(`handlers.sessions`, `handlers.session_changes`, `handlers.attendance`, `handlers.minutes`)."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from bot.core.dates import format_date, format_when, local_datetime, weekday_name
from bot.core.session_choices import day_code, offered_days, offered_times, time_code
from bot.render.texts import Html, plural
from handlers import payloads as p
from handlers.common import Request
from storage.models import Occurrence

LABEL_MAX = 60
"""A session button's label is cut here (phones show about this much)."""


def session_label(occurrence: Occurrence, lang: str) -> str:
    """`#12 AK EU · Mi 18.11. 14:00 · Gesundheitliche Versorgung`: a button naming a session."""
    meeting = occurrence.meeting
    local = occurrence.starts_at.astimezone(ZoneInfo(meeting.timezone))
    label = f"#{occurrence.id} {meeting.group.name} · {short_day(local.date(), lang)} {local:%H:%M} · {meeting.title}"
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def short_day(day: date, lang: str) -> str:
    """`Do 10.12.` / `Th 10.12.`: a day button."""
    return f"{weekday_name(day.weekday(), lang)[:2]} {day:%d.%m.}"


def day_text(day: date, lang: str) -> str:
    """`Donnerstag, 10.12.2026`: a day in a sentence."""
    return f"{weekday_name(day.weekday(), lang)}, {format_date(day, lang)}"


def rows_of(buttons: list[tuple[str, p.Payload]], width: int) -> list[list[tuple[str, p.Payload]]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def day_rows(
    request: Request, make: type[p.MeetingDay] | type[p.MoveDay], owner: int, near: date | None = None
) -> list[list[tuple[str, p.Payload]]]:
    """The offered days (`bot.core.session_choices`), three to a row."""
    days = offered_days(request.now(), request.settings.timezone, near=near)
    return rows_of([(short_day(d, request.lang), make(owner, day_code(d))) for d in days], 3)


def time_rows(
    request: Request,
    day: date,
    make: type[p.MeetingTime] | type[p.MoveTime],
    owner: int,
    keep: time | None = None,
) -> list[list[tuple[str, p.Payload]]]:
    """The offered times of `day`, four to a row."""
    times = offered_times(day, request.now(), request.settings.timezone, keep)
    return rows_of([(f"{t:%H:%M}", make(owner, day_code(day), time_code(t))) for t in times], 4)


def when_text(request: Request, day: date, at: time, tz: ZoneInfo) -> str:
    return format_when(local_datetime(day, at, tz), tz, request.lang)


def abort_row(request: Request) -> list[tuple[str, p.Payload]]:
    return [(request.label("sessions.abort_button"), p.DropSessionDraft())]


def told(request: Request, count: int) -> Html:
    if count == 0:
        return request.t("sessions.told_none")
    return request.t(plural("sessions.told", count), count=count)
