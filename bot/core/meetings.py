"""Meetings: scheduling, moving and cancelling sessions, and the answers to them (SPEC 4).

Rules that live here:
- only coordinators create, move and cancel sessions;
- a session starts in the future, in the group's active state; its time is a
  local wall time in its time zone (a 10:00 series stays at 10:00);
- a series is stored as RRULE and materialised as one `Occurrence` per
  session up to `HORIZON` ahead (extended by the planner), and at least up
  to its first session however far ahead, so every session has its own id
  (#12), time and status;
- creating a session owes every approved member of the group one
  invitation; moving or cancelling one owes them a notice, and the reminders
  planned for the old time are dropped (`bot.core.reminders` plans the new ones);
- members answer Zusage / Absage / Vielleicht, and may change the answer;
- what a session's calendar file says: the series or the one session, its
  UID, the sessions left out of the series (`calendar_entry`);
- an archived group takes no new sessions; a group `/meeting` does not know is
  answered with a `/meeting` example (`sessions.unknown_group`);
- a cancellation may carry a reason, which the members read in the notice;
- creating, moving and cancelling are written to the audit log
  (`meeting.create`, `meeting.reschedule`, `meeting.cancel`, object `session`
  with the id people see, #12), in the same transaction.

The guided, tap-first forms of `/meeting`, `/reschedule` and `/cancel` (the
choices, the preview, the confirmations) are `bot.core.session_flows`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core import audit
from bot.core import recurrence as rec
from bot.core.config import Settings
from bot.core.dates import DATE_WORD, local_datetime, parse_date, take_time
from bot.core.errors import Refusal
from bot.core.groups import require_active, resolve_group
from bot.core.people import is_coordinator, require_coordinator
from bot.core.text import field_text
from storage.models import (
    LOCATION_MAX,
    REASON_MAX,
    TITLE_MAX,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Group,
    Meeting,
    MembershipStatus,
    Occurrence,
    OccurrenceStatus,
    Person,
    Rsvp,
    RsvpAnswer,
)
from storage.uow import UnitOfWork

HORIZON = timedelta(days=400)
DEFAULT_DURATION = timedelta(hours=2)


@dataclass(frozen=True)
class MeetingRequest:
    """What `/meeting <group> <date> <time> <title> [| <location> [| <recurrence>]]` says."""

    group_text: str
    day: date
    at: time
    title: str
    location: str | None = None
    recurrence_text: str | None = None


_DATE_LIKE = re.compile(r"\d{1,4}[.-]\d{1,2}[.-]\d{1,4}")
"""A word meant as a date even when it is not a valid one (`31.02.2026`: refused as a date)."""


def parse_meeting_command(text: str, today: date | None = None) -> MeetingRequest:
    """Split the arguments of `/meeting`; the group is everything before the date
    (`today`: the local date a date without a year counts from, `bot.core.dates`)."""
    main, *rest = [part.strip() for part in text.split("|")]
    words = main.split()
    dated = (i for i, word in enumerate(words) if DATE_WORD.fullmatch(word) or _DATE_LIKE.fullmatch(word))
    index = next(dated, 0)
    if index == 0 or len(words) < index + 3:
        raise Refusal("meetings.usage")
    day = parse_date(words[index], today)  # also `18.12.` (the next such date) and `18.12.26`
    at, after = take_time(words, index + 1)  # also `9 Uhr`, `14 h`, `9.30`
    title = field_text(" ".join(words[after:]), TITLE_MAX, "meetings.title")
    location = field_text(rest[0], LOCATION_MAX, "meetings.location") if rest and rest[0] else None
    recurrence_text = rest[1] if len(rest) > 1 and rest[1] else None
    if len(rest) > 2:
        raise Refusal("meetings.usage")
    return MeetingRequest(" ".join(words[:index]), day, at, title, location, recurrence_text)


@dataclass
class Scheduled:
    meeting: Meeting
    occurrences: list[Occurrence]
    invited: int


async def schedule_command(uow: UnitOfWork, creator: Person, text: str, settings: Settings, now: datetime) -> Scheduled:
    """`/meeting <group> <date> <time> <title> [| <location> [| <recurrence>]]`;
    only a coordinator's arguments are read at all."""
    require_coordinator(creator, settings)
    today = now.astimezone(settings.timezone).date()  # `18.12.`: the next 18 December from today
    return await schedule(uow, creator, parse_meeting_command(text, today), settings, now)


async def schedule(
    uow: UnitOfWork, creator: Person, request: MeetingRequest, settings: Settings, now: datetime
) -> Scheduled:
    """Create a session (or a series) and owe every member an invitation."""
    require_coordinator(creator, settings)
    group = await _group_for_meeting(uow, request.group_text)
    tz_name = settings.timezone_name
    start = local_datetime(request.day, request.at, ZoneInfo(tz_name))
    if start <= now:
        raise Refusal("meetings.in_past", when=f"{request.day:%d.%m.%Y} {request.at:%H:%M}")
    rule = rec.parse_recurrence(request.recurrence_text, request.day) if request.recurrence_text else None
    meeting = Meeting(
        group_id=group.id,
        group=group,
        title=request.title,
        location=request.location,
        timezone=tz_name,
        start_local=datetime.combine(request.day, request.at),
        duration_minutes=int(DEFAULT_DURATION.total_seconds() // 60),
        rrule=rec.to_rrule(rule, datetime.combine(request.day, request.at), tz_name) if rule else None,
        created_by_id=creator.id,
        created_at=now,
    )
    uow.meetings.add(meeting)
    await uow.meetings.flush()
    occurrences = await materialize(uow, meeting, max(now + HORIZON, start))
    first = occurrences[0]
    members = await approved_members(uow, group.id)
    for person in members:
        uow.deliveries.add(_notice(first, person, DeliveryKind.INVITATION, now))
    audit.record(
        uow,
        creator,
        "meeting.create",
        "session",
        first.id,
        now,
        title=meeting.title,
        group=group.name,
        when=f"{request.day:%d.%m.%Y} {request.at:%H:%M}",
        count=len(occurrences),
    )
    await uow.flush()
    return Scheduled(meeting, occurrences, len(members))


async def _group_for_meeting(uow: UnitOfWork, text: str) -> Group:
    """The active group `/meeting` names; an unknown or unclear one is answered with a
    `/meeting` example, an archived one says so."""
    try:
        return resolve_group(await uow.groups.active(), text)
    except Refusal as refusal:
        archived = [g for g in await uow.groups.including_archived() if g.archived_at is not None]
        try:
            require_active(resolve_group(archived, text))
        except Refusal as again:
            if again.key == "groups.archived":
                raise
        key = {"groups.unknown": "sessions.unknown_group", "groups.ambiguous": "sessions.ambiguous_group"}
        raise Refusal(key.get(refusal.key, refusal.key), **refusal.params) from None


def check_recurrence(request: MeetingRequest) -> None:
    """Refuse a series the coordinator wrote that cannot be read (before a preview)."""
    if request.recurrence_text:
        rec.parse_recurrence(request.recurrence_text, request.day)


async def materialize(uow: UnitOfWork, meeting: Meeting, until: datetime) -> list[Occurrence]:
    """Create the occurrence rows of `meeting` up to `until` that do not exist yet."""
    rule = rec.from_rrule(meeting.rrule, meeting.timezone) if meeting.rrule else None
    existing = {o.original_local: o for o in await uow.meetings.occurrences_of(meeting.id)}
    created = []
    for start in rec.occurrences(meeting.start_local, meeting.timezone, rule, until_utc=until):
        original = start.astimezone(ZoneInfo(meeting.timezone)).replace(tzinfo=None)
        if original in existing:
            continue
        occurrence = Occurrence(
            meeting_id=meeting.id,
            meeting=meeting,
            original_local=original,
            starts_at=start,
            status=OccurrenceStatus.SCHEDULED,
            revision=0,
        )
        uow.meetings.add(occurrence)
        created.append(occurrence)
    meeting.materialized_until = until
    await uow.meetings.flush()
    return sorted([*existing.values(), *created], key=lambda o: o.starts_at)


async def approved_members(uow: UnitOfWork, group_id: int) -> list[Person]:
    found = await uow.memberships.with_status([MembershipStatus.APPROVED], group_id)
    return [m.person for m in found if m.person.telegram_id is not None]


async def reschedule(
    uow: UnitOfWork, coordinator: Person, occurrence_id: int, day: date, at: time, settings: Settings, now: datetime
) -> Occurrence:
    """Move one session; members are owed a notice, old reminders are dropped."""
    require_coordinator(coordinator, settings)
    occurrence = await changeable(uow, occurrence_id, now)
    start = local_datetime(day, at, ZoneInfo(occurrence.meeting.timezone))
    if start <= now:
        raise Refusal("meetings.in_past", when=f"{day:%d.%m.%Y} {at:%H:%M}")
    if start == occurrence.starts_at:
        raise Refusal("meetings.same_time", id=occurrence.id)
    await uow.deliveries.skip_pending(occurrence.id, "rescheduled")
    before = occurrence.starts_at.astimezone(ZoneInfo(occurrence.meeting.timezone))
    occurrence.starts_at = start
    occurrence.revision += 1
    occurrence.changed_at = now
    await _owe_notice(uow, occurrence, DeliveryKind.MOVED, now)
    audit.record(
        uow,
        coordinator,
        "meeting.reschedule",
        "session",
        occurrence.id,
        now,
        title=occurrence.meeting.title,
        group=occurrence.meeting.group.name,
        before=f"{before:%d.%m.%Y %H:%M}",
        when=f"{day:%d.%m.%Y} {at:%H:%M}",
    )
    await uow.flush()
    return occurrence


async def reschedule_command(
    uow: UnitOfWork, coordinator: Person, args: Sequence[str], settings: Settings, now: datetime
) -> Occurrence:
    """`/reschedule <id> <date> <time>`; only a coordinator's arguments are read at all."""
    require_coordinator(coordinator, settings)
    if len(args) not in (3, 4):  # the time may be two words: `9 Uhr`
        raise Refusal("meetings.reschedule_usage")
    occurrence_id = parse_id(args[0])
    day = parse_date(args[1], now.astimezone(settings.timezone).date())
    at, after = take_time(list(args), 2)
    if after != len(args):
        raise Refusal("meetings.reschedule_usage")
    return await reschedule(uow, coordinator, occurrence_id, day, at, settings, now)


async def cancel_command(
    uow: UnitOfWork, coordinator: Person, args: Sequence[str], settings: Settings, now: datetime
) -> Occurrence:
    """`/cancel <id> [reason]`; only a coordinator's arguments are read at all. The
    words after the id are the reason the members read."""
    require_coordinator(coordinator, settings)
    if not args:
        raise Refusal("meetings.cancel_usage")
    occurrence_id = parse_id(args[0])
    reason = field_text(" ".join(args[1:]), REASON_MAX, "sessions.reason") if len(args) > 1 else None
    return await cancel(uow, coordinator, occurrence_id, settings, now, reason)


async def cancel(
    uow: UnitOfWork,
    coordinator: Person,
    occurrence_id: int,
    settings: Settings,
    now: datetime,
    reason: str | None = None,
) -> Occurrence:
    """Cancel one session; members are owed a notice (with the reason, if given),
    nothing else is sent for it."""
    require_coordinator(coordinator, settings)
    occurrence = await changeable(uow, occurrence_id, now)
    await uow.deliveries.skip_pending(occurrence.id, "cancelled")
    occurrence.status = OccurrenceStatus.CANCELLED
    occurrence.cancel_reason = reason
    occurrence.revision += 1
    occurrence.changed_at = now
    await _owe_notice(uow, occurrence, DeliveryKind.CANCELLED, now)
    audit.record(
        uow,
        coordinator,
        "meeting.cancel",
        "session",
        occurrence.id,
        now,
        title=occurrence.meeting.title,
        group=occurrence.meeting.group.name,
        reason=reason,
    )
    await uow.flush()
    return occurrence


async def changeable(uow: UnitOfWork, occurrence_id: int, now: datetime) -> Occurrence:
    """A session that may still be moved or cancelled: it exists, is not cancelled
    and has not begun."""
    occurrence = await uow.meetings.occurrence(occurrence_id)
    if occurrence is None:
        raise Refusal("meetings.unknown", id=occurrence_id)
    if occurrence.status is OccurrenceStatus.CANCELLED:
        raise Refusal("meetings.already_cancelled", id=occurrence_id)
    if occurrence.starts_at <= now:
        raise Refusal("meetings.already_started", id=occurrence_id)
    return occurrence


async def _owe_notice(uow: UnitOfWork, occurrence: Occurrence, kind: DeliveryKind, now: datetime) -> None:
    for person in await approved_members(uow, occurrence.meeting.group_id):
        uow.deliveries.add(_notice(occurrence, person, kind, now))


def _notice(occurrence: Occurrence, person: Person, kind: DeliveryKind, now: datetime) -> Delivery:
    return Delivery(
        occurrence_id=occurrence.id,
        person_id=person.id,
        kind=kind,
        lead_seconds=0,
        revision=occurrence.revision,
        due_at=now,
        status=DeliveryStatus.PENDING,
        attempts=0,
    )


@dataclass
class Upcoming:
    occurrence: Occurrence
    answer: RsvpAnswer | None
    counts: Counter[RsvpAnswer] = field(default_factory=Counter)


async def upcoming_for(
    uow: UnitOfWork, person: Person, settings: Settings, now: datetime, group: Group | None = None, limit: int = 10
) -> list[Upcoming]:
    """The next sessions of the person's groups (a coordinator: of all groups)."""
    coordinator = is_coordinator(person, settings)
    if group is not None:
        group_ids: list[int] | None = [group.id]
        if not coordinator and group.id not in await _member_group_ids(uow, person):
            raise Refusal("meetings.not_your_group", group=group.name)
    else:
        group_ids = None if coordinator else await _member_group_ids(uow, person)
    occurrences = await uow.meetings.upcoming(now, group_ids, limit)
    answers = await uow.meetings.rsvps(o.id for o in occurrences)
    result = []
    for occurrence in occurrences:
        mine = [a for a in answers if a.occurrence_id == occurrence.id]
        own = next((a.answer for a in mine if a.person_id == person.id), None)
        result.append(Upcoming(occurrence, own, Counter(a.answer for a in mine)))
    return result


async def _member_group_ids(uow: UnitOfWork, person: Person) -> list[int]:
    return [m.group_id for m in await uow.memberships.of_person(person.id) if m.status is MembershipStatus.APPROVED]


async def answer(
    uow: UnitOfWork, person: Person, occurrence_id: int, value: RsvpAnswer, settings: Settings, now: datetime
) -> Upcoming:
    """Record (or change) the person's answer for one session."""
    # The session, the membership check and the answer so far, read together (a press is frequent).
    found = await uow.meetings.for_answer(occurrence_id, person.id)
    if found is None:
        raise Refusal("buttons.stale")
    occurrence, member, rsvp = found
    if not member:
        raise Refusal("meetings.not_your_group", group=occurrence.meeting.group.name)
    if occurrence.status is OccurrenceStatus.CANCELLED:
        raise Refusal("meetings.already_cancelled", id=occurrence.id)
    if occurrence.starts_at <= now:
        raise Refusal("meetings.already_started", id=occurrence.id)
    if rsvp is None:
        rsvp = Rsvp(occurrence_id=occurrence.id, person_id=person.id, answer=value, answered_at=now)
        uow.meetings.add(rsvp)
    else:
        rsvp.answer, rsvp.answered_at = value, now
    await uow.meetings.flush()
    counts = await uow.meetings.answer_counts(occurrence.id)
    return Upcoming(occurrence, value, counts)


async def visible_occurrence(uow: UnitOfWork, person: Person, occurrence_id: int, settings: Settings) -> Occurrence:
    """One session the person may see: a member of its group, or a coordinator."""
    occurrence = await uow.meetings.occurrence(occurrence_id)
    if occurrence is None:
        raise Refusal("meetings.unknown", id=occurrence_id)
    if not is_coordinator(person, settings) and occurrence.meeting.group_id not in await _member_group_ids(uow, person):
        raise Refusal("meetings.not_your_group", group=occurrence.meeting.group.name)
    return occurrence


async def find_occurrence(uow: UnitOfWork, occurrence_id: int) -> Occurrence | None:
    """One session with its meeting and group, whoever asks (the delivery timer)."""
    return await uow.meetings.occurrence(occurrence_id)


@dataclass(frozen=True)
class CalendarEntry:
    """What the calendar file of one session says (`bot.render.ics` writes it).

    A session of a series that was never moved stands for the whole series: UID
    `kimbot-series-<meeting>@kimbot`, the series' first start, and one EXDATE per
    session that left the series (cancelled, or moved: a moved one has its own
    file). Any other session is its own event, `kimbot-session-<id>@kimbot`, and
    CANCELLED when it is. SEQUENCE is the session's revision, so calendars
    replace an older copy of the same UID."""

    uid: str
    summary: str
    title: str
    """The meeting's title alone (the file is named after it)."""
    start_local: datetime
    """Naive, in `tz_name`."""
    tz_name: str
    duration: timedelta
    location: str | None
    rrule: str | None
    exdates: list[datetime]
    sequence: int
    cancelled: bool


async def calendar_entry(uow: UnitOfWork, person: Person, occurrence_id: int, settings: Settings) -> CalendarEntry:
    """The calendar file's content for one session the person may see."""
    occurrence = await visible_occurrence(uow, person, occurrence_id, settings)
    siblings = await uow.meetings.occurrences_of(occurrence.meeting_id)
    meeting = occurrence.meeting
    tz = ZoneInfo(meeting.timezone)
    series = meeting.rrule is not None and occurrence.revision == 0
    start = meeting.start_local if series else occurrence.starts_at.astimezone(tz).replace(tzinfo=None)
    # Cancelled and moved sessions leave the series; a moved one has its own file.
    left = [o.original_local for o in siblings if o.status is OccurrenceStatus.CANCELLED or o.revision]
    return CalendarEntry(
        uid=f"kimbot-{'series' if series else 'session'}-{meeting.id if series else occurrence.id}@kimbot",
        summary=f"{meeting.group.name}: {meeting.title}",
        title=meeting.title,
        start_local=start,
        tz_name=meeting.timezone,
        duration=timedelta(minutes=meeting.duration_minutes),
        location=meeting.location,
        rrule=meeting.rrule,
        exdates=left if series else [],
        sequence=occurrence.revision,
        cancelled=not series and occurrence.status is OccurrenceStatus.CANCELLED,
    )


def parse_id(text: str) -> int:
    """`12` or `#12`."""
    match = re.fullmatch(r"#?(\d{1,9})", text.strip())
    if not match:
        raise Refusal("meetings.bad_id", value=text)
    return int(match.group(1))
