"""The half-yearly report's values on what followed a session (SPEC 13): attendance
beside the Zusagen, and approved minutes; the rules are in `bot.core.report`'s
docstring, the queries in `storage.report_attendance` and `storage.report_minutes`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from storage.followup_models import Minutes, TaskStatus
from storage.report_minutes import TaskRow


@dataclass(frozen=True)
class SessionAttendance:
    """The attendance of a session where it was taken (`storage.report_attendance`)."""

    present: int
    """Members present (in person or by a deputy)."""
    recorded: int
    """Members on the coordination's list: the denominator."""
    excused: int = 0
    absent: int = 0
    guests: int = 0
    no_shows: int = 0
    """Zusage, aber abwesend."""


@dataclass(frozen=True)
class TaskLine:
    """A task from approved minutes; the owner by organisation only (no person is named)."""

    text: str
    organisation: str | None
    due: date
    done_on: date | None
    """None: still open."""


@dataclass(frozen=True)
class MinutesItemLine:
    title: str
    result: str | None
    decisions: tuple[str, ...] = ()
    tasks: tuple[TaskLine, ...] = ()


@dataclass(frozen=True)
class MinutesReport:
    """The approved minutes (*Ergebnisprotokoll*) of a held session."""

    approved_on: date
    items: tuple[MinutesItemLine, ...]


class _Session(Protocol):
    @property
    def invited(self) -> int: ...
    @property
    def confirmed_members(self) -> int: ...
    @property
    def attendance(self) -> SessionAttendance | None: ...


def participation_totals(sessions: Sequence[_Session]) -> dict[str, int]:
    """A group's invitations, Zusagen and attendance over its held sessions; attendance
    only over the sessions where it was taken."""
    taken = [s.attendance for s in sessions if s.attendance is not None]
    return {
        "invited": sum(s.invited for s in sessions),
        "confirmed_members": sum(s.confirmed_members for s in sessions),
        "attendance_taken": len(taken),
        "present": sum(a.present for a in taken),
        "recorded": sum(a.recorded for a in taken),
        "guests": sum(a.guests for a in taken),
        "no_shows": sum(a.no_shows for a in taken),
    }


def minutes_report(
    minutes: Minutes,
    tasks: Mapping[int, Sequence[TaskRow]],
    until: datetime,
    day: Callable[[datetime], date],
    _clean: Callable[[str | None], str],
) -> MinutesReport:
    """Approved minutes in local dates, user text cleaned (`_clean`, the report's rule);
    a task counts as done when it was done before `until`."""
    return MinutesReport(
        day(minutes.approved_at or until),
        tuple(
            MinutesItemLine(
                _clean(item.title),
                _clean(item.result).strip() or None,
                tuple(_clean(d.text) for d in item.decisions),
                tuple(
                    TaskLine(
                        _clean(task.text),
                        _clean(task.organisation).strip() or None,
                        task.due_on,
                        day(task.done_at)
                        if task.status == TaskStatus.DONE and task.done_at and task.done_at < until
                        else None,
                    )
                    for task in tasks.get(item.id, ())
                ),
            )
            for item in minutes.items
        ),
    )
