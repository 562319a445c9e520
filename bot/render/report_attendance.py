"""The report's texts on participation and minutes (SPEC 13), for `bot.render.report_layout`.

- Zusagen always with their denominator: "Zusagen: 2 von 3 eingeladenen
  Mitgliedern"; the response rate of a group or of the half-year is over the
  invitations.
- Attendance only where it was taken, with its own denominator ("anwesend:
  3 von 4 Mitgliedern", guests beside); elsewhere "Anwesenheit nicht
  erfasst". The attendance rate counts only the sessions where it was taken;
  a no-show is "Zusage, aber abwesend", counted.
- The participation chart shows the members present where attendance was
  taken and the Zusagen elsewhere (those bars hatched when both occur), and
  its caption says which (`chart_basis`).
- Approved minutes under their session: per item the result, the decisions
  and the tasks with their state (owner by organisation only).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.report import GroupReport, Report, SessionLine
from bot.core.report_followup import MinutesReport, TaskLine
from bot.render.report_blocks import Block, Bullets, Heading, Paragraph
from bot.render.report_text import counted, day_text, number, shorten, t

RESULT_LENGTH = 1500
LINE_LENGTH = 300
TITLE_LENGTH = 120


def rate(part: int, whole: int) -> str:
    """`75 %`, German style; a dash without a denominator."""
    if not whole:
        return t("none")
    return f"{round(100 * part / whole)} %"


def _guests(count: int) -> str:
    return counted("guests", count)


def participation(
    held: int, invited: int, confirmed: int, taken: int, present: int, recorded: int, guests: int, no_shows: int
) -> str:
    """The sentences on invitations and attendance of a group or of the half-year."""
    if not held:
        return ""
    parts = [t("invited_rate", confirmed=number(confirmed), invited=number(invited), rate=rate(confirmed, invited))]
    if not taken:
        parts.append(t("attendance_never"))
    else:
        parts.append(
            t(
                "attendance_rate",
                taken=number(taken),
                held=number(held),
                present=number(present),
                recorded=number(recorded),
                rate=rate(present, recorded),
                guests=_guests(guests),
            )
        )
        parts.append(counted("no_shows", no_shows))
    return " ".join(p for p in parts if p)


def of_report(report: Report) -> str:
    return participation(
        report.held,
        report.invited,
        report.confirmed_members,
        report.attendance_taken,
        report.present,
        report.recorded,
        report.guests,
        report.no_shows,
    )


def of_group(group: GroupReport) -> str:
    return participation(
        group.held,
        group.invited,
        group.confirmed_members,
        group.attendance_taken,
        group.present,
        group.recorded,
        group.guests,
        group.no_shows,
    )


def session_line(session: SessionLine) -> str:
    """`10.09.2026, Auftakt: Zusagen: 2 von 3 eingeladenen Mitgliedern; anwesend: ...`."""
    confirmed = t("session_confirmed", confirmed=number(session.confirmed_members), invited=number(session.invited))
    attendance = session.attendance
    if attendance is None:
        seen = t("session_not_taken")
    else:
        seen = t(
            "session_present",
            present=number(attendance.present),
            recorded=number(attendance.recorded),
            guests=_guests(attendance.guests),
        )
        if attendance.no_shows:
            seen += t("session_no_shows", count=number(attendance.no_shows))
    return t(
        "session_participation",
        date=day_text(session.day),
        title=shorten(session.title, TITLE_LENGTH),
        confirmed=confirmed,
        attendance=seen,
    )


def sessions(listed: Sequence[SessionLine]) -> list[Block]:
    """Participation per session (the sessions of the group's table), then the approved minutes."""
    if not listed:
        return []
    blocks: list[Block] = [
        Paragraph("", lead=t("participation_lead")),
        Bullets(tuple(session_line(s) for s in listed)),
    ]
    for session in listed:
        if session.minutes is not None:
            blocks += minutes(session, session.minutes)
    return blocks


def _task(task: TaskLine) -> str:
    state = t("task_done", date=day_text(task.done_on)) if task.done_on else t("task_open", date=day_text(task.due))
    owner = t("task_owner", organisation=task.organisation) if task.organisation else ""
    return t("task", text=shorten(task.text, LINE_LENGTH), owner=owner, state=state)


def minutes(session: SessionLine, report: MinutesReport) -> list[Block]:
    """The approved minutes of one session: a heading, then per item its result, decisions and tasks."""
    blocks: list[Block] = [
        Heading(
            3,
            t("minutes_heading", date=day_text(session.day), title=shorten(session.title, TITLE_LENGTH)),
        ),
        Paragraph(t("minutes_approved", date=day_text(report.approved_on))),
    ]
    if not report.items:
        blocks.append(Paragraph(t("minutes_empty")))
    for number_, item in enumerate(report.items, start=1):
        result = item.result or t("minutes_no_result")
        if len(result) > RESULT_LENGTH:
            result = result[: RESULT_LENGTH - 1].rstrip() + "…"
        blocks.append(
            Paragraph(result, lead=t("minutes_item", number=number_, title=shorten(item.title, TITLE_LENGTH)))
        )
        lines = [t("decision", text=shorten(d, LINE_LENGTH)) for d in item.decisions]
        lines += [_task(task) for task in item.tasks]
        if lines:
            blocks.append(Bullets(tuple(lines)))
    return blocks


def chart_basis(report: Report) -> str:
    """What the chart's bars count: `rsvp` (no attendance taken), `attendance` (taken
    for every held session) or `mixed`."""
    lines = [s for g in report.groups for s in g.sessions]
    taken = sum(1 for s in lines if s.attendance is not None)
    if not taken:
        return "rsvp"
    return "attendance" if taken == len(lines) else "mixed"


def chart_value(session: SessionLine) -> int:
    """Members present where attendance was taken, else the Zusagen."""
    return session.attendance.present if session.attendance is not None else session.confirmations
