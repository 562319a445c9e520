"""Payloads of what follows a session (SPEC 13): tasks, attendance and the
sign-in sheet, minutes, deputies. Encoded and decoded as every payload
(`handlers.payloads`, which re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.payloads import Payload

# --- tasks from the minutes (handlers.tasks) ---


@dataclass(frozen=True)
class TaskDone(Payload, prefix="td"):
    """ "Erledigt" under a task: `view` "one" (the task's own message) or the
    /tasks list it is on ("me", "all", "g<group id>"), shown again after the press."""

    task_id: int
    view: str


# --- attendance, check-in and sign-in sheet (handlers.attendance) ---


@dataclass(frozen=True)
class CheckIn(Payload, prefix="ha"):
    """ "Ich bin da" for a session (under its last reminder, or /here's choice)."""

    occurrence_id: int


@dataclass(frozen=True)
class AttendanceOpen(Payload, prefix="ho"):
    """The guided /attendance: a session chosen."""

    occurrence_id: int


@dataclass(frozen=True)
class AttendanceSet(Payload, prefix="hs"):
    """On the attendance list: member `person_id` set to `status` (1 present, 2 excused, 3 absent)."""

    occurrence_id: int
    person_id: int
    status: int


@dataclass(frozen=True)
class AttendanceGuest(Payload, prefix="hg"):
    """ "Gast hinzufügen" on the attendance list."""

    occurrence_id: int


@dataclass(frozen=True)
class AttendanceDone(Payload, prefix="hf"):
    """ "Fertig" on the attendance list: the rest written, the summary shown."""

    occurrence_id: int


@dataclass(frozen=True)
class SheetFor(Payload, prefix="hl"):
    """The guided /sheet: a session chosen."""

    occurrence_id: int


# --- minutes (handlers.minutes) ---


@dataclass(frozen=True)
class MinutesFor(Payload, prefix="eo"):
    """The guided /minutes: a session chosen."""

    occurrence_id: int


@dataclass(frozen=True)
class MinutesGo(Payload, prefix="eg"):
    """ "Überspringen", "Zurück", "Bearbeiten": item `index` (0-based) of minutes `minutes_id`; past the last, the overview."""

    minutes_id: int
    index: int


@dataclass(frozen=True)
class MinutesAdd(Payload, prefix="ea"):
    """ "Punkt hinzufügen": a new item of minutes `minutes_id`."""

    minutes_id: int


@dataclass(frozen=True)
class MinutesCirculate(Payload, prefix="ec"):
    """ "Zur Korrektur senden": the draft to those present."""

    minutes_id: int


@dataclass(frozen=True)
class MinutesApprove(Payload, prefix="ef"):
    """ "Freigeben" (`confirmed` False: asks first) of minutes in review."""

    minutes_id: int
    confirmed: bool


@dataclass(frozen=True)
class MinutesCorrect(Payload, prefix="ek"):
    """ "Korrektur vorschlagen" under the draft minutes."""

    minutes_id: int


# --- deputies (handlers.deputies) ---


@dataclass(frozen=True)
class DecideDeputy(Payload, prefix="wa"):
    """ "Annehmen" (`accept`) / "Ablehnen" of the person asked to be a member's deputy."""

    deputyship_id: int
    accept: bool


@dataclass(frozen=True)
class EndDeputy(Payload, prefix="we"):
    """ "Beenden": the member or the deputy ends a deputyship."""

    deputyship_id: int


@dataclass(frozen=True)
class AnswerFor(Payload, prefix="wr"):
    """Zusage / Absage / Vielleicht (`answer` 0, 1, 2) of a deputy, for the member `member_id`
    (a person id); the answer is a number so that two ids fit into 64 bytes."""

    occurrence_id: int
    member_id: int
    answer: int


@dataclass(frozen=True)
class StanceFor(Payload, prefix="ws"):
    """Zustimmung / Bedenken / Ablehnung (`stance` 0, 1, 2) of a deputy, for the member `member_id`."""

    recommendation_id: int
    member_id: int
    stance: int


@dataclass(frozen=True)
class CalendarFor(Payload, prefix="wk"):
    """The calendar file of a session, in a deputy's copy of the member's message."""

    occurrence_id: int
    member_id: int
