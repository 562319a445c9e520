"""Attendance (SPEC 13): who attended a session, recorded by the coordination
(`/attendance`), and members checking themselves in (`/here`, "Ich bin da").

The rules, in one place:
- The coordination records attendance from `RECORD_BEFORE` before a session's
  start until `RECORD_AFTER` after it. The list holds the group's approved
  members (and anyone who already has a row), each PRE-FILLED: the row
  written so far; else a check-in → anwesend; Absage → entschuldigt; Zusage
  → anwesend (the list says "Zusage" beside the name, so the coordinator sees
  it is only the answer); nothing → abwesend. A press writes that member's
  row at once (the coordinator's word overrides a check-in; `checked_in_at`
  stays as evidence). "Fertig" writes the remaining pre-filled rows and
  confirms the check-ins, so the list is complete. Guests are rows by name.
- A member checks in from `CHECK_IN_BEFORE` before the start until
  `CHECK_IN_AFTER` after it: a PRESENT row with `checked_in_at`. A check-in
  never lowers anything: over a row the coordination wrote, it sets
  anwesend (the person is there), keeping who recorded it, so attendance stays
  taken. A deputy in force (`uow.deputies.in_force_of_deputy`) checks in for
  each member of that group they stand in for (`deputy_id` = the deputy);
  the deputy need not be a member: the session is found through the members.
- The organisation is copied into a row each time it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core import audit, steps
from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.people import name_of, require_coordinator
from bot.core.steps import Step
from bot.core.text import field_text
from storage.followup_models import Attendance, AttendanceStatus, Deputy
from storage.models import (
    NAME_MAX,
    ORGANISATION_MAX,
    DeliveryKind,
    MembershipStatus,
    Occurrence,
    OccurrenceStatus,
    Person,
    RsvpAnswer,
)
from storage.uow import UnitOfWork

RECORD_BEFORE = timedelta(minutes=30)
RECORD_AFTER = timedelta(days=7)
CHECK_IN_BEFORE = timedelta(minutes=30)
CHECK_IN_AFTER = timedelta(hours=3)
CHOICES = 10
"""Sessions offered as buttons by the guided /attendance and /sheet."""
SHEET_AHEAD = timedelta(days=30)
"""How far ahead the guided /sheet offers sessions."""


def _local(moment: datetime, settings: Settings) -> datetime:
    return moment.astimezone(settings.timezone)


def _when(moment: datetime, settings: Settings) -> str:
    return f"{_local(moment, settings):%d.%m.%Y %H:%M}"


# --- the coordination's list ---------------------------------------------------


@dataclass
class Entry:
    """One member on the list: the status shown (written or pre-filled)."""

    person: Person
    status: AttendanceStatus
    written: bool
    """A row exists (False: only pre-filled)."""
    answer: RsvpAnswer | None
    checked_in: bool
    deputy: Person | None


@dataclass
class Sheet:
    occurrence: Occurrence
    entries: list[Entry]
    guests: list[Attendance] = field(default_factory=list)


@dataclass
class Summary:
    occurrence: Occurrence
    present: int
    excused: int
    absent: int
    guests: int


async def _occurrence(uow: UnitOfWork, occurrence_id: int) -> Occurrence:
    occurrence = await uow.meetings.occurrence(occurrence_id)
    if occurrence is None:
        raise Refusal("meetings.unknown", id=occurrence_id)
    if occurrence.status is OccurrenceStatus.CANCELLED:
        raise Refusal("meetings.already_cancelled", id=occurrence.id)
    return occurrence


async def recordable(uow: UnitOfWork, occurrence_id: int, settings: Settings, now: datetime) -> Occurrence:
    """A session whose attendance may be recorded now (see `RECORD_BEFORE`, `RECORD_AFTER`)."""
    occurrence = await _occurrence(uow, occurrence_id)
    opens, closes = occurrence.starts_at - RECORD_BEFORE, occurrence.starts_at + RECORD_AFTER
    if now < opens:
        raise Refusal(
            "attendance.too_early",
            id=occurrence.id,
            when=_when(occurrence.starts_at, settings),
            opens=_when(opens, settings),
        )
    if now > closes:
        raise Refusal(
            "attendance.too_late", id=occurrence.id, when=_when(occurrence.starts_at, settings), days=RECORD_AFTER.days
        )
    return occurrence


async def recent_sessions(uow: UnitOfWork, coordinator: Person, settings: Settings, now: datetime) -> list[Occurrence]:
    """The guided /attendance: sessions whose attendance may be recorded now, latest first."""
    require_coordinator(coordinator, settings)
    found = await uow.attendance.sessions_between(now - RECORD_AFTER, now + RECORD_BEFORE, None, 100)
    return list(reversed(found))[:CHOICES]


def _prefilled(row: Attendance | None, answer: RsvpAnswer | None) -> AttendanceStatus:
    if row is not None:
        return row.status
    if answer is RsvpAnswer.NO:
        return AttendanceStatus.EXCUSED
    if answer is RsvpAnswer.YES:
        return AttendanceStatus.PRESENT
    return AttendanceStatus.ABSENT


async def _sheet(uow: UnitOfWork, occurrence: Occurrence) -> Sheet:
    rows = await uow.attendance.of_occurrence(occurrence.id)
    by_person = {r.person_id: r for r in rows if r.person_id is not None}
    answers = {a.person_id: a.answer for a in await uow.meetings.rsvps([occurrence.id])}
    members = [
        m.person for m in await uow.memberships.with_status([MembershipStatus.APPROVED], occurrence.meeting.group_id)
    ]
    listed = {p.id for p in members}
    members += [r.person for r in rows if r.person is not None and r.person_id not in listed]
    entries = []
    for person in members:
        row = by_person.get(person.id)
        answer = answers.get(person.id)
        entries.append(
            Entry(
                person,
                _prefilled(row, answer),
                row is not None,
                answer,
                row is not None and row.checked_in_at is not None,
                row.deputy if row is not None else None,
            )
        )
    entries.sort(key=lambda e: name_of(e.person).casefold())
    guests = [r for r in rows if r.person_id is None and r.guest_name]
    return Sheet(occurrence, entries, guests)


async def open_list(
    uow: UnitOfWork, coordinator: Person, occurrence_id: int, settings: Settings, now: datetime
) -> Sheet:
    """`/attendance <id>`: the list of one session, pre-filled."""
    require_coordinator(coordinator, settings)
    occurrence = await recordable(uow, occurrence_id, settings, now)
    return await _sheet(uow, occurrence)


def _write(
    uow: UnitOfWork,
    row: Attendance | None,
    occurrence: Occurrence,
    person: Person,
    status: AttendanceStatus,
    now: datetime,
    recorded_by: Person | None,
) -> Attendance:
    """Create or update one member's row; the organisation copied now."""
    if row is None:
        row = Attendance(occurrence_id=occurrence.id, person_id=person.id, status=status, recorded_at=now)
        uow.attendance.add(row)
    row.status = status
    row.organisation = person.organisation
    row.recorded_at = now
    if recorded_by is not None:
        row.recorded_by_id = recorded_by.id
    return row


async def set_status(
    uow: UnitOfWork,
    coordinator: Person,
    occurrence_id: int,
    person_id: int,
    status: AttendanceStatus,
    settings: Settings,
    now: datetime,
) -> Sheet:
    """A press on the list: that member's row written (it overrides a check-in)."""
    require_coordinator(coordinator, settings)
    occurrence = await recordable(uow, occurrence_id, settings, now)
    sheet = await _sheet(uow, occurrence)
    entry = next((e for e in sheet.entries if e.person.id == person_id), None)
    if entry is None:
        raise Refusal("buttons.stale")
    row = await uow.attendance.of_member(occurrence.id, person_id)
    _write(uow, row, occurrence, entry.person, status, now, coordinator)
    audit.record(
        uow,
        coordinator,
        "attendance.set",
        "occurrence",
        occurrence.id,
        now,
        person=name_of(entry.person),
        status=status.value,
    )
    await uow.flush()
    return await _sheet(uow, occurrence)


async def complete(
    uow: UnitOfWork, coordinator: Person, occurrence_id: int, settings: Settings, now: datetime
) -> Summary:
    """ "Fertig": the pre-filled members written, the check-ins confirmed; the summary."""
    require_coordinator(coordinator, settings)
    occurrence = await recordable(uow, occurrence_id, settings, now)
    sheet = await _sheet(uow, occurrence)
    written = 0
    for entry in sheet.entries:
        row = await uow.attendance.of_member(occurrence.id, entry.person.id)
        if row is None:
            _write(uow, None, occurrence, entry.person, entry.status, now, coordinator)
            written += 1
        elif row.recorded_by_id is None:
            row.recorded_by_id = coordinator.id
    steps.end(coordinator)
    await uow.flush()
    summary = await summarize(uow, occurrence)
    audit.record(
        uow,
        coordinator,
        "attendance.complete",
        "occurrence",
        occurrence.id,
        now,
        present=summary.present,
        excused=summary.excused,
        absent=summary.absent,
        guests=summary.guests,
    )
    await uow.flush()
    return summary


async def summarize(uow: UnitOfWork, occurrence: Occurrence) -> Summary:
    rows = await uow.attendance.of_occurrence(occurrence.id)
    members = [r for r in rows if r.guest_name is None]
    return Summary(
        occurrence,
        sum(r.status is AttendanceStatus.PRESENT for r in members),
        sum(r.status is AttendanceStatus.EXCUSED for r in members),
        sum(r.status is AttendanceStatus.ABSENT for r in members),
        sum(r.guest_name is not None for r in rows),
    )


async def ask_guest(
    uow: UnitOfWork, coordinator: Person, occurrence_id: int, settings: Settings, now: datetime
) -> Occurrence:
    """ "Gast hinzufügen": the bot waits for "Name, Organisation"."""
    require_coordinator(coordinator, settings)
    occurrence = await recordable(uow, occurrence_id, settings, now)
    steps.ask(coordinator, Step.ATTENDANCE_GUEST, {"occurrence": occurrence.id})
    await uow.flush()
    return occurrence


def parse_guest(text: str) -> tuple[str, str | None]:
    """ "Name, Organisation" (the organisation optional)."""
    name, _, organisation = text.partition(",")
    clean_name = field_text(name, NAME_MAX, "attendance.guest_name")
    clean_organisation = organisation.strip()
    if clean_organisation:
        clean_organisation = field_text(clean_organisation, ORGANISATION_MAX, "attendance.guest_organisation")
    return clean_name, clean_organisation or None


async def add_guest(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime) -> Sheet:
    """The guest's "Name, Organisation": a row for the guest, present."""
    require_coordinator(coordinator, settings)
    occurrence_id = steps.recall_id(coordinator, "occurrence")
    try:
        occurrence = await recordable(uow, occurrence_id, settings, now)
    except Refusal as refusal:
        raise refusal.ending_step() from None
    name, organisation = parse_guest(text)
    uow.attendance.add(
        Attendance(
            occurrence_id=occurrence.id,
            guest_name=name,
            organisation=organisation,
            status=AttendanceStatus.PRESENT,
            recorded_by_id=coordinator.id,
            recorded_at=now,
        )
    )
    audit.record(
        uow, coordinator, "attendance.guest", "occurrence", occurrence.id, now, name=name, organisation=organisation
    )
    steps.end(coordinator)
    await uow.flush()
    return await _sheet(uow, occurrence)


# --- check-in ----------------------------------------------------------------


@dataclass
class CheckedIn:
    occurrence: Occurrence
    own: bool
    """The person checked in for themselves (a member of the group)."""
    represented: list[Person]
    """The members they checked in for as their deputy."""


@dataclass
class Choose:
    """Several sessions in the window: which one?"""

    sessions: list[Occurrence]


async def _reach(uow: UnitOfWork, person: Person, settings: Settings, now: datetime) -> tuple[set[int], list[Deputy]]:
    """The groups the person is a member of, and the deputyships in force they hold."""
    own = {m.group_id for m in await uow.memberships.of_person(person.id) if m.status is MembershipStatus.APPROVED}
    deputyships = await uow.deputies.in_force_of_deputy(person.id, _local(now, settings).date())
    return own, deputyships


async def _represented_in(uow: UnitOfWork, deputyships: list[Deputy], group_id: int) -> list[Person]:
    if not deputyships:
        return []
    pairs = await uow.memberships.approved_pairs(d.member_id for d in deputyships)
    return [d.member for d in deputyships if (d.member_id, group_id) in pairs]


async def _represented_groups(uow: UnitOfWork, deputyships: list[Deputy]) -> set[int]:
    if not deputyships:
        return set()
    return {group_id for _, group_id in await uow.memberships.approved_pairs(d.member_id for d in deputyships)}


async def check_in(
    uow: UnitOfWork, person: Person, occurrence_id: int | None, settings: Settings, now: datetime
) -> CheckedIn | Choose:
    """`/here` (no id: the session in the window, or a choice) or "Ich bin da" (an id)."""
    own, deputyships = await _reach(uow, person, settings, now)
    groups = own | await _represented_groups(uow, deputyships)
    if occurrence_id is None:
        found = await uow.attendance.sessions_between(now - CHECK_IN_AFTER, now + CHECK_IN_BEFORE, groups)
        if len(found) > 1:
            return Choose(found)
        if not found:
            if not groups:
                raise Refusal("attendance.here_no_groups")
            upcoming = await uow.meetings.upcoming(now, groups, 1)
            if not upcoming:
                raise Refusal("attendance.here_none_planned")
            nxt = upcoming[0]
            raise Refusal(
                "attendance.here_none",
                id=nxt.id,
                title=nxt.meeting.title,
                when=_when(nxt.starts_at, settings),
                opens=f"{_local(nxt.starts_at - CHECK_IN_BEFORE, settings):%H:%M}",
            )
        occurrence = found[0]
    else:
        occurrence = await _occurrence(uow, occurrence_id)
        if occurrence.meeting.group_id not in groups:
            raise Refusal("meetings.not_your_group", group=occurrence.meeting.group.name)
        opens = occurrence.starts_at - CHECK_IN_BEFORE
        if now < opens:
            raise Refusal(
                "attendance.here_too_early",
                id=occurrence.id,
                when=_when(occurrence.starts_at, settings),
                opens=f"{_local(opens, settings):%H:%M}",
                day=f"{_local(opens, settings):%d.%m.%Y}",
            )
        if now > occurrence.starts_at + CHECK_IN_AFTER:
            raise Refusal("attendance.here_too_late", id=occurrence.id, when=_when(occurrence.starts_at, settings))
    group_id = occurrence.meeting.group_id
    is_member = group_id in own
    if is_member:
        row = await uow.attendance.of_member(occurrence.id, person.id)
        row = _write(uow, row, occurrence, person, AttendanceStatus.PRESENT, now, None)
        row.checked_in_at = now
        row.deputy_id = None
    represented = await _represented_in(uow, deputyships, group_id)
    for member in represented:
        row = await uow.attendance.of_member(occurrence.id, member.id)
        row = _write(uow, row, occurrence, member, AttendanceStatus.PRESENT, now, None)
        row.checked_in_at = now
        row.deputy_id = person.id
    await uow.flush()
    return CheckedIn(occurrence, is_member, represented)


def offers_check_in(
    kind: DeliveryKind, lead_seconds: int, sent_at: datetime, starts_at: datetime, settings: Settings
) -> bool:
    """Whether a message about a session gets the "Ich bin da" button: the last
    reminder (the smallest configured lead time), or a notice (invitation, new
    time) sent when no reminder is coming any more (after the smallest lead
    time's moment, or no reminders configured)."""
    if kind not in (DeliveryKind.REMINDER, DeliveryKind.INVITATION, DeliveryKind.MOVED):
        return False
    reminder = kind is DeliveryKind.REMINDER
    offsets = settings.reminder_offsets
    if not offsets:
        return not reminder
    smallest = min(offsets)
    if reminder:
        return lead_seconds == int(smallest.total_seconds())
    return sent_at >= starts_at - smallest


# --- the sign-in sheet ---------------------------------------------------------


@dataclass
class SignIn:
    """What the printed sign-in sheet holds."""

    occurrence: Occurrence
    names: list[tuple[str, str]]
    """(name, organisation) of those who said Zusage, by name."""


async def sign_in(uow: UnitOfWork, coordinator: Person, occurrence_id: int, settings: Settings) -> SignIn:
    """`/sheet <id>`: the session and those who said Zusage (approved members)."""
    require_coordinator(coordinator, settings)
    occurrence = await _occurrence(uow, occurrence_id)
    yes = {a.person_id for a in await uow.meetings.rsvps([occurrence.id]) if a.answer is RsvpAnswer.YES}
    members = await uow.memberships.with_status([MembershipStatus.APPROVED], occurrence.meeting.group_id)
    names = sorted(
        ((name_of(m.person), m.person.organisation or "") for m in members if m.person_id in yes),
        key=lambda pair: pair[0].casefold(),
    )
    return SignIn(occurrence, names)


async def sheet_sessions(uow: UnitOfWork, coordinator: Person, settings: Settings, now: datetime) -> list[Occurrence]:
    """The guided /sheet: today's and the coming sessions."""
    require_coordinator(coordinator, settings)
    return await uow.attendance.sessions_between(now - CHECK_IN_AFTER, now + SHEET_AHEAD, None, CHOICES)
