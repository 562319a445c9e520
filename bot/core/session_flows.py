"""Session flows: the guided, tap-first `/meeting`, `/reschedule` and `/cancel`
of the coordination (SPEC 3). `bot.core.meetings` does the change itself.

- Guided `/meeting`: group (button) → day (button or typed) → time (button or
  typed) → title (typed) → place (typed, or "Ohne Ort") → a PREVIEW that says
  how many people will get the invitation → "Senden". Nothing is created or
  sent before "Senden"; "Abbrechen" drops the draft. At the day step a date and
  a time may be typed together (on to the title), or the whole line
  (`<date> <time> <title> [| <place> [| <series>]]`), which goes straight to
  the preview (the only guided way to a series).
- Guided `/reschedule`: the upcoming sessions as buttons → day → time → a
  confirmation saying from when to when and how many are told → "Verschieben".
- Guided `/cancel`: the upcoming sessions as buttons → an optional reason
  (typed, or "Ohne Grund") → a confirmation → "Ja, absagen". The members read
  the reason in the cancel notice.

Where the draft lives: the guided step (`bot.core.steps`) keeps it on the
coordinator's row: `Step.MEETING` with `stage` (day, time, title, location,
preview) and what was chosen so far; `Step.RESCHEDULE` with the session and
`stage` (day, time, confirm); `Step.CANCEL_REASON` with the session and the
reason. The day and time buttons carry their values themselves, so an older
button still does what it says. A button whose draft is gone (sent already,
dropped, or ended by another command) answers `sessions.draft_gone` and
changes nothing: a second tap on "Senden" sends nothing twice.

Every function checks the coordinator first, before reading anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.core import meetings, steps
from bot.core.config import Settings
from bot.core.dates import local_datetime, parse_date, parse_time, take_time
from bot.core.errors import Refusal
from bot.core.groups import require_active
from bot.core.people import require_coordinator
from bot.core.steps import Step
from bot.core.text import field_text
from storage.models import LOCATION_MAX, REASON_MAX, TITLE_MAX, Group, Occurrence, Person
from storage.uow import UnitOfWork

SESSIONS_OFFERED = 12
"""`/reschedule` and `/cancel` without arguments offer this many upcoming sessions."""


class DraftGone(Refusal):
    """A button of a draft that is no longer open (sent, dropped, or ended)."""

    def __init__(self) -> None:
        super().__init__("sessions.draft_gone")


# --- guided /meeting ---------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A new session as far as the coordinator has told it; `stage` is what comes next."""

    group: Group
    stage: str
    day: date | None = None
    at: time | None = None
    title: str | None = None
    location: str | None = None
    recurrence: str | None = None
    recipients: int = 0
    """At the preview: how many people will get the invitation."""

    @property
    def start(self) -> datetime | None:
        if self.day is None or self.at is None:
            return None
        return datetime.combine(self.day, self.at)


async def _active_group(uow: UnitOfWork, group_id: int) -> Group:
    group = await uow.groups.get(group_id)
    if group is None:
        raise Refusal("buttons.stale")
    require_active(group)
    return group


def _future(day: date, at: time, tz: ZoneInfo, now: datetime) -> datetime:
    start = local_datetime(day, at, tz)
    if start <= now:
        raise Refusal("meetings.in_past", when=f"{day:%d.%m.%Y} {at:%H:%M}")
    return start


def _future_day(day: date, tz: ZoneInfo, now: datetime) -> None:
    if day < now.astimezone(tz).date():
        raise Refusal("sessions.day_in_past", when=f"{day:%d.%m.%Y}")


def _keep(coordinator: Person, group: Group, stage: str, **values: object) -> None:
    data: dict[str, object] = {"group": group.id, "stage": stage}
    data.update({name: value for name, value in values.items() if value is not None})
    steps.ask(coordinator, Step.MEETING, data)


async def begin(uow: UnitOfWork, coordinator: Person, group_id: int, settings: Settings) -> Draft:
    """The group was chosen: the day comes next."""
    require_coordinator(coordinator, settings)
    group = await _active_group(uow, group_id)
    _keep(coordinator, group, "day")
    await uow.flush()
    return Draft(group, "day")


async def choose_day(
    uow: UnitOfWork, coordinator: Person, group_id: int, day: date | None, settings: Settings, now: datetime
) -> Draft:
    """A day button (or a typed date): the time comes next."""
    require_coordinator(coordinator, settings)
    group = await _active_group(uow, group_id)
    if day is None:
        raise Refusal("buttons.stale")
    _future_day(day, settings.timezone, now)
    _keep(coordinator, group, "time", day=day.isoformat())
    await uow.flush()
    return Draft(group, "time", day)


async def choose_time(
    uow: UnitOfWork,
    coordinator: Person,
    group_id: int,
    day: date | None,
    at: time | None,
    settings: Settings,
    now: datetime,
) -> Draft:
    """A time button (or a typed time): the title comes next."""
    require_coordinator(coordinator, settings)
    group = await _active_group(uow, group_id)
    if day is None or at is None:
        raise Refusal("buttons.stale")
    _future(day, at, settings.timezone, now)
    _keep(coordinator, group, "title", day=day.isoformat(), time=f"{at:%H:%M}")
    await uow.flush()
    return Draft(group, "title", day, at)


def _draft_data(coordinator: Person) -> dict[str, object]:
    if steps.current(coordinator) is not Step.MEETING:
        raise DraftGone()
    return dict(coordinator.awaiting_data or {})


async def _draft(uow: UnitOfWork, coordinator: Person) -> Draft:
    data = _draft_data(coordinator)
    group_id = steps.recall_id(coordinator, "group")
    if not group_id:
        raise DraftGone().ending_step()  # a draft noted by an older version of the bot
    try:
        group = await _active_group(uow, group_id)
    except Refusal as refusal:
        raise refusal.ending_step() from None  # archived meanwhile: the draft cannot be sent
    day = date.fromisoformat(str(data["day"])) if "day" in data else None
    at = time.fromisoformat(str(data["time"])) if "time" in data else None

    def text(name: str) -> str | None:
        value = data.get(name)
        return str(value) if value is not None else None

    return Draft(group, str(data.get("stage", "day")), day, at, text("title"), text("location"), text("recurrence"))


async def _preview(uow: UnitOfWork, coordinator: Person, draft: Draft) -> Draft:
    _keep(
        coordinator,
        draft.group,
        "preview",
        day=draft.day.isoformat() if draft.day else None,
        time=f"{draft.at:%H:%M}" if draft.at else None,
        title=draft.title,
        location=draft.location,
        recurrence=draft.recurrence,
    )
    await uow.flush()
    recipients = len(await meetings.approved_members(uow, draft.group.id))
    return Draft(
        draft.group,
        "preview",
        draft.day,
        draft.at,
        draft.title,
        draft.location,
        draft.recurrence,
        recipients,
    )


async def answer_text(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime) -> Draft:
    """The coordinator's typed answer to the current question of the draft."""
    require_coordinator(coordinator, settings)
    draft = await _draft(uow, coordinator)
    tz = settings.timezone
    if draft.stage == "day":
        words, today = text.split(), now.astimezone(tz).date()
        if len(words) == 1:
            return await choose_day(uow, coordinator, draft.group.id, parse_date(text, today), settings, now)
        if "|" not in text:
            day = parse_date(words[0], today)
            at, after = take_time(words, 1)
            if after == len(words):  # a date and a time: the title comes next
                return await choose_time(uow, coordinator, draft.group.id, day, at, settings, now)
        whole = meetings.parse_meeting_command(f"{draft.group.slug} {text}", today)
        _future(whole.day, whole.at, tz, now)
        meetings.check_recurrence(whole)
        full = Draft(draft.group, "preview", whole.day, whole.at, whole.title, whole.location, whole.recurrence_text)
        return await _preview(uow, coordinator, full)
    if draft.stage == "time":
        return await choose_time(uow, coordinator, draft.group.id, draft.day, parse_time(text), settings, now)
    if draft.stage == "title":
        title = field_text(text, TITLE_MAX, "meetings.title")
        _keep(coordinator, draft.group, "location", day=_iso(draft.day), time=_hm(draft.at), title=title)
        await uow.flush()
        return Draft(draft.group, "location", draft.day, draft.at, title)
    if draft.stage == "location":
        location = field_text(text, LOCATION_MAX, "meetings.location")
        return await _preview(uow, coordinator, _with_location(draft, location))
    return await _preview(uow, coordinator, draft)  # at the preview: show it again


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _hm(at: time | None) -> str | None:
    return f"{at:%H:%M}" if at else None


def _with_location(draft: Draft, location: str | None) -> Draft:
    return Draft(draft.group, "preview", draft.day, draft.at, draft.title, location, draft.recurrence)


async def without_place(uow: UnitOfWork, coordinator: Person, settings: Settings) -> Draft:
    """The "Ohne Ort" button: the preview, without a place."""
    require_coordinator(coordinator, settings)
    draft = await _draft(uow, coordinator)
    if draft.stage not in ("location", "preview"):
        raise DraftGone()
    return await _preview(uow, coordinator, _with_location(draft, None))


async def send(uow: UnitOfWork, coordinator: Person, settings: Settings, now: datetime) -> meetings.Scheduled:
    """The "Senden" button under the preview: now the session is created and the invitations owed."""
    require_coordinator(coordinator, settings)
    draft = await _draft(uow, coordinator)
    if draft.stage != "preview" or draft.day is None or draft.at is None or draft.title is None:
        raise DraftGone()
    steps.end(coordinator)
    request = meetings.MeetingRequest(
        draft.group.slug, draft.day, draft.at, draft.title, draft.location, draft.recurrence
    )
    return await meetings.schedule(uow, coordinator, request, settings, now)


async def drop(uow: UnitOfWork, coordinator: Person, settings: Settings) -> None:
    """The "Abbrechen" button under a draft, a move or a cancellation: nothing is changed."""
    require_coordinator(coordinator, settings)
    if steps.current(coordinator) in (Step.MEETING, Step.RESCHEDULE, Step.CANCEL_REASON):
        steps.end(coordinator)
    await uow.flush()


# --- /reschedule and /cancel without arguments ---------------------------------------


async def sessions_to_change(
    uow: UnitOfWork, coordinator: Person, settings: Settings, now: datetime
) -> Sequence[Occurrence]:
    """The upcoming sessions of every group, to choose one to move or cancel."""
    require_coordinator(coordinator, settings)
    return await uow.meetings.upcoming(now, None, SESSIONS_OFFERED)


@dataclass(frozen=True)
class Change:
    """A move or a cancellation before its confirmation."""

    occurrence: Occurrence
    recipients: int
    """The members who are told."""
    day: date | None = None
    at: time | None = None
    reason: str | None = None


async def _change(
    uow: UnitOfWork, occurrence: Occurrence, day: date | None = None, at: time | None = None, reason: str | None = None
) -> Change:
    recipients = len(await meetings.approved_members(uow, occurrence.meeting.group_id))
    return Change(occurrence, recipients, day, at, reason)


async def _still_changeable(uow: UnitOfWork, coordinator: Person, now: datetime) -> Occurrence:
    """The session the guided step is about; when it began or was cancelled
    meanwhile, the refusal also ends the step (the next text is free again)."""
    try:
        return await meetings.changeable(uow, steps.recall_id(coordinator, "occurrence"), now)
    except Refusal as refusal:
        raise refusal.ending_step() from None


async def move_command(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime) -> Change:
    """`/reschedule <id>`: the day comes next; only a coordinator's argument is read."""
    require_coordinator(coordinator, settings)
    return await move_begin(uow, coordinator, meetings.parse_id(text), settings, now)


async def move_begin(
    uow: UnitOfWork, coordinator: Person, occurrence_id: int, settings: Settings, now: datetime
) -> Change:
    """A session to move was chosen: the new day comes next."""
    require_coordinator(coordinator, settings)
    occurrence = await meetings.changeable(uow, occurrence_id, now)
    steps.ask(coordinator, Step.RESCHEDULE, {"occurrence": occurrence.id, "stage": "day"})
    await uow.flush()
    return await _change(uow, occurrence)


async def move_day(
    uow: UnitOfWork, coordinator: Person, occurrence_id: int, day: date | None, settings: Settings, now: datetime
) -> Change:
    """The new day: the new time comes next."""
    require_coordinator(coordinator, settings)
    occurrence = await meetings.changeable(uow, occurrence_id, now)
    if day is None:
        raise Refusal("buttons.stale")
    _future_day(day, settings.timezone, now)
    steps.ask(coordinator, Step.RESCHEDULE, {"occurrence": occurrence.id, "stage": "time", "day": day.isoformat()})
    await uow.flush()
    return await _change(uow, occurrence, day=day)


async def move_time(
    uow: UnitOfWork,
    coordinator: Person,
    occurrence_id: int,
    day: date | None,
    at: time | None,
    settings: Settings,
    now: datetime,
) -> Change:
    """The new time: the confirmation comes next."""
    require_coordinator(coordinator, settings)
    occurrence = await meetings.changeable(uow, occurrence_id, now)
    if day is None or at is None:
        raise Refusal("buttons.stale")
    start = _future(day, at, ZoneInfo(occurrence.meeting.timezone), now)
    if start == occurrence.starts_at:
        raise Refusal("meetings.same_time", id=occurrence.id)
    steps.ask(
        coordinator,
        Step.RESCHEDULE,
        {"occurrence": occurrence.id, "stage": "confirm", "day": day.isoformat(), "time": f"{at:%H:%M}"},
    )
    await uow.flush()
    return await _change(uow, occurrence, day=day, at=at)


async def move_text(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime) -> Change:
    """A typed day or time while moving a session."""
    require_coordinator(coordinator, settings)
    occurrence_id = (await _still_changeable(uow, coordinator, now)).id
    stage = steps.recall(coordinator, "stage", "day")
    if stage == "day":
        today = now.astimezone(settings.timezone).date()
        return await move_day(uow, coordinator, occurrence_id, parse_date(text, today), settings, now)
    day = date.fromisoformat(str(steps.recall(coordinator, "day")))
    if stage == "time":
        return await move_time(uow, coordinator, occurrence_id, day, parse_time(text), settings, now)
    at = time.fromisoformat(str(steps.recall(coordinator, "time")))
    return await move_time(uow, coordinator, occurrence_id, day, at, settings, now)  # show the question again


async def move_confirm(
    uow: UnitOfWork,
    coordinator: Person,
    occurrence_id: int,
    day: date | None,
    at: time | None,
    settings: Settings,
    now: datetime,
) -> Occurrence:
    """The "Verschieben" button: the session moves, the members are told."""
    require_coordinator(coordinator, settings)
    if day is None or at is None:
        raise Refusal("buttons.stale")
    occurrence = await meetings.reschedule(uow, coordinator, occurrence_id, day, at, settings, now)
    if steps.current(coordinator) is Step.RESCHEDULE:
        steps.end(coordinator)
    return occurrence


async def cancel_begin(
    uow: UnitOfWork, coordinator: Person, occurrence_id: int, settings: Settings, now: datetime
) -> Change:
    """A session to cancel was chosen: the reason comes next (or "Ohne Grund")."""
    require_coordinator(coordinator, settings)
    occurrence = await meetings.changeable(uow, occurrence_id, now)
    steps.ask(coordinator, Step.CANCEL_REASON, {"occurrence": occurrence.id})
    await uow.flush()
    return await _change(uow, occurrence)


async def cancel_reason(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime) -> Change:
    """The typed reason: the confirmation comes next."""
    require_coordinator(coordinator, settings)
    occurrence = await _still_changeable(uow, coordinator, now)
    reason = field_text(text, REASON_MAX, "sessions.reason")
    steps.remember(coordinator, {"occurrence": occurrence.id, "reason": reason})
    await uow.flush()
    return await _change(uow, occurrence, reason=reason)


async def cancel_without_reason(
    uow: UnitOfWork, coordinator: Person, occurrence_id: int, settings: Settings, now: datetime
) -> Change:
    """The "Ohne Grund" button: the confirmation comes next."""
    require_coordinator(coordinator, settings)
    occurrence = await meetings.changeable(uow, occurrence_id, now)
    if steps.current(coordinator) is Step.CANCEL_REASON:
        steps.end(coordinator)
    await uow.flush()
    return await _change(uow, occurrence)


async def cancel_confirm(
    uow: UnitOfWork, coordinator: Person, occurrence_id: int, with_reason: bool, settings: Settings, now: datetime
) -> Occurrence:
    """The "Ja, absagen" button: the session is cancelled, the members read the reason."""
    require_coordinator(coordinator, settings)
    reason = None
    if with_reason:
        kept = steps.current(coordinator) is Step.CANCEL_REASON
        if not kept or steps.recall_id(coordinator, "occurrence") != occurrence_id:
            raise DraftGone()
        reason = str(steps.recall(coordinator, "reason", "")) or None
    occurrence = await meetings.cancel(uow, coordinator, occurrence_id, settings, now, reason)
    if steps.current(coordinator) is Step.CANCEL_REASON:
        steps.end(coordinator)
    return occurrence
