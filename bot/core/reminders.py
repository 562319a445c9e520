"""Reminders: what is owed to whom, and when (SPEC 4, "No reminder lost, none doubled").

The same records and the same sender carry recommendations, the reminder
before a recommendation's deadline, its outcome, and notes to the authors of
agenda items, and the scheduled digests. The rules for sessions live here,
those for recommendations in `bot.core.recommendations.screen_due`, those for
digests in `bot.core.digest` (`plan`, `screen_due`), those for tasks in
`bot.core.tasks.screen_due`, those for review dates of tracked
recommendations in `bot.core.tracking_changes.screen_due`; a note to an
author is always sent.

The database is the source of truth. `plan` makes sure every (session, lead
time, member) within the planning window has one delivery record; `take_due`
decides which due records to send now and which to skip; the sender marks a
record sent only after Telegram accepted it. Timers are only derived from
`next_due_at`, so a restart, a late timer or a crash loses nothing.

The rules, in one place:
- a lead time that had already passed when the member was told about the
  session (the invitation, or the notice of a new time) is covered by that
  message and skipped;
- lead times that passed while the bot was down, or before the member
  joined, give one catch-up reminder (the latest one due), as long as the
  session has not started;
- members who answered "Absage" get no further reminders;
- a lead time removed from REMINDER_OFFSETS is not sent any more; one added
  is planned; nothing already sent is sent again;
- nothing is sent for a cancelled session except the cancellation notice,
  and nothing planned for an old time after a reschedule;
- a member's invitation, reminder or feedback request chosen to be sent gets
  a copy for the member's deputy in force (`bot.core.deputies`), sent in the
  next round only if the member's own message was sent;
- a message Telegram refused (blocked, bad request) is FAILED at once; one
  that failed through a passing fault (5xx, timeouts) is tried again later
  (`RETRY_AFTER`), then FAILED with its error: recorded, not forgotten.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import (
    agenda,
    deputies,
    digest,
    mail_routing,
    meetings,
    minutes_review,
    people,
    recommendations,
    tasks,
    tracking_changes,
)
from bot.core.config import Settings
from storage.models import (
    MINUTES_KINDS,
    RECOMMENDATION_KINDS,
    SESSION_KINDS,
    TASK_KINDS,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Occurrence,
    OccurrenceStatus,
    RsvpAnswer,
)
from storage.uow import UnitOfWork

PLAN_AHEAD = timedelta(days=1)
"""Sessions are planned this long before their earliest lead time falls due."""

NOTICES = (DeliveryKind.INVITATION, DeliveryKind.MOVED)

PLAN_CHUNK = 5
"""Sessions planned at a time (their records are built, checked and inserted together)."""


async def plan(uow: UnitOfWork, settings: Settings, now: datetime) -> int:
    """Create the missing delivery records for sessions inside the planning window.

    The timer's own long work, never part of an update: it commits in steps,
    so people's commands are answered in between (planning again finds what is
    planned and adds only what is missing)."""
    for meeting in await uow.meetings.series_to_extend(now + meetings.HORIZON - timedelta(days=30)):
        await meetings.materialize(uow, meeting, now + meetings.HORIZON)
    await agenda.carry_over(uow, now)
    await digest.plan(uow, settings, now)
    await recommendations.plan(uow, settings, now)  # late joiners get open recommendations
    offsets = settings.reminder_offsets
    if not offsets:
        await uow.commit()
        return 0
    window = now + max(offsets) + PLAN_AHEAD
    occurrences = await uow.meetings.starting_before(now, window)
    members_of: dict[int, list[int]] = {}
    created = 0
    # A few sessions at a time: the records of a whole window (in a big city
    # hundreds of thousands) are never held in memory at once, and each chunk is
    # committed (planning again finds what is planned and adds only what is missing).
    for start in range(0, len(occurrences), PLAN_CHUNK):
        chunk = occurrences[start : start + PLAN_CHUNK]
        for occurrence in chunk:
            group_id = occurrence.meeting.group_id
            if group_id not in members_of:
                members_of[group_id] = [p.id for p in await meetings.approved_members(uow, group_id)]
        rows = _missing_reminders(
            chunk,
            members_of,
            offsets,
            await uow.deliveries.keys(o.id for o in chunk),
            await uow.deliveries.told_at([o.id for o in chunk], [k.value for k in NOTICES]),
        )
        await uow.deliveries.insert_many(rows)
        created += len(rows)
        await uow.checkpoint()  # people's commands are answered between the chunks
    await uow.commit()
    return created


def _missing_reminders(
    occurrences: Sequence[Occurrence],
    members_of: dict[int, list[int]],
    offsets: Sequence[timedelta],
    records: set[tuple[int, int, str, int, int]],
    told: dict[tuple[int, int, int], datetime],
) -> list[dict[str, object]]:
    """The reminder records these sessions still lack; one already covered by a
    notice sent after its due time is created as skipped."""
    created: list[dict[str, object]] = []
    for occurrence in occurrences:
        for person_id in members_of[occurrence.meeting.group_id]:
            for lead in offsets:
                lead_s = int(lead.total_seconds())
                key = (occurrence.id, person_id, DeliveryKind.REMINDER.value, lead_s, occurrence.revision)
                if key in records:
                    continue
                due = occurrence.starts_at - lead
                told_at = told.get((occurrence.id, person_id, occurrence.revision))
                covered = told_at is not None and told_at >= due
                created.append(
                    {
                        "occurrence_id": occurrence.id,
                        "person_id": person_id,
                        "kind": DeliveryKind.REMINDER,
                        "lead_seconds": lead_s,
                        "revision": occurrence.revision,
                        "due_at": due,
                        "status": DeliveryStatus.SKIPPED if covered else DeliveryStatus.PENDING,
                        "error": "covered by the invitation" if covered else None,
                        "attempts": 0,
                    }
                )
                records.add(key)
    return created


@dataclass(frozen=True)
class Due:
    """One message to send now; what it is about depends on `kind`."""

    delivery_id: int
    kind: DeliveryKind
    occurrence_id: int | None
    chat_id: int
    person_id: int
    lead_seconds: int
    recommendation_id: int | None = None
    agenda_item_id: int | None = None
    scheduled_for: datetime | None = None
    tracking_id: int | None = None
    language: str | None = None
    """The reader's language when the record was taken (None: look it up)."""


async def take_due(uow: UnitOfWork, settings: Settings, now: datetime, limit: int = 1000) -> list[Due]:
    """The due records to send now, claimed by this process; the rest of the due
    ones are skipped with a reason."""
    offsets = {int(lead.total_seconds()) for lead in settings.reminder_offsets}
    everything = await uow.deliveries.due(now, limit)
    rows = [row for row in everything if row.kind in SESSION_KINDS]
    send: list[Delivery] = []
    others = [row for row in everything if row.kind not in SESSION_KINDS]
    reasons = await recommendations.screen_due(uow, [r for r in others if r.kind in RECOMMENDATION_KINDS], now)
    reasons |= await digest.screen_due(uow, [r for r in others if r.kind is DeliveryKind.DIGEST], settings, now)
    reasons |= await tasks.screen_due(uow, [r for r in others if r.kind in TASK_KINDS])
    reasons |= await minutes_review.screen_due(uow, [r for r in others if r.kind in MINUTES_KINDS])
    reasons |= await tracking_changes.screen_due(
        uow, [r for r in others if r.kind is DeliveryKind.REVIEW_DUE], settings
    )
    copies = await deputies.screen_copies(uow, [r for r in others if r.kind is DeliveryKind.DEPUTY_COPY], now, settings)
    reasons |= copies.reasons
    others = [row for row in others if row.id not in copies.waiting]  # the member's message is not sent yet
    for row in others:
        if row.person.telegram_id is None:
            _skip(row, "person forgotten")
        elif reason := reasons.get(row.id):
            _skip(row, reason)
        else:
            send.append(row)
    answers = {
        (r.occurrence_id, r.person_id): r.answer for r in await uow.meetings.rsvps({_session_id(row) for row in rows})
    }
    approved = await uow.memberships.approved_pairs({row.person_id for row in rows})
    sent: dict[tuple[int, int], list[Delivery]] = defaultdict(list)
    for other in await uow.deliveries.sent_of({_session_id(row) for row in rows}):
        sent[(_session_id(other), other.person_id)].append(other)
    reminders: dict[tuple[int, int], list[Delivery]] = defaultdict(list)
    for row in rows:
        occurrence = row.occurrence
        assert occurrence is not None
        skip = None
        if row.person.telegram_id is None:
            skip = "person forgotten"
        elif row.kind is DeliveryKind.CANCELLED:
            pass
        elif occurrence.status is OccurrenceStatus.CANCELLED:
            skip = "cancelled"
        elif row.revision != occurrence.revision:
            skip = "rescheduled"
        elif occurrence.starts_at <= now:
            skip = "session started"
        elif row.kind is DeliveryKind.REMINDER:
            if row.lead_seconds not in offsets:
                skip = "lead time no longer configured"
            elif answers.get((_session_id(row), row.person_id)) is RsvpAnswer.NO:
                skip = "declined"
            elif (row.person_id, occurrence.meeting.group_id) not in approved:
                skip = "no longer a member"
            else:
                reminders[(_session_id(row), row.person_id)].append(row)
                continue
        if skip:
            _skip(row, skip)
        else:
            send.append(row)
    for rows_of_pair in reminders.values():
        latest, *older = sorted(rows_of_pair, key=lambda r: r.lead_seconds)
        for row in older:
            _skip(row, "caught up by a later reminder")
        if _already_told(latest, sent[(_session_id(latest), latest.person_id)]):
            _skip(latest, "already told after this lead time")
        else:
            send.append(latest)
    await deputies.copy_for_deputies(uow, send, now, settings)  # the deputies' copies, sent next round
    send = await mail_routing.route(uow, settings, send, now)  # their mails, committed with the claim
    await uow.flush()
    await uow.deliveries.claim(send)  # this process sends them (see storage.cluster)
    return [
        due_of(r, r.person.telegram_id or 0, people.language_of(r.person, None, settings))
        for r in sorted(send, key=lambda r: (r.due_at, r.id))
    ]


def due_of(row: Delivery, chat_id: int, language: str | None = None) -> Due:
    """What the renderers need of a record, for the person's chat (0: none); the
    reader's `language` when the caller has the person at hand (a fan-out then
    renders without reading every reader again)."""
    return Due(
        row.id,
        row.kind,
        row.occurrence_id,
        chat_id,
        row.person_id,
        row.lead_seconds,
        row.recommendation_id,
        row.agenda_item_id,
        row.scheduled_for,
        row.tracking_id,
        language,
    )


def _session_id(row: Delivery) -> int:
    """The session a record of `SESSION_KINDS` is about (such a record always has one)."""
    assert row.occurrence_id is not None
    return row.occurrence_id


def calls_for_topics(item: Due, settings: Settings) -> bool:
    """Whether this message about a session also calls for agenda items: the
    invitation, and the reminder of the earliest lead time."""
    if item.kind is DeliveryKind.INVITATION:
        return True
    earliest = max(settings.reminder_offsets, default=timedelta(0))
    return item.kind is DeliveryKind.REMINDER and item.lead_seconds >= earliest.total_seconds()


def _already_told(row: Delivery, sent: Iterable[Delivery]) -> bool:
    """A reminder or notice for this session's time already went out after this lead time."""
    assert row.occurrence is not None
    point = row.occurrence.starts_at - timedelta(seconds=row.lead_seconds)
    return any(
        other.id != row.id
        and other.revision == row.revision
        and other.kind in (DeliveryKind.REMINDER, *NOTICES)
        and other.sent_at is not None
        and other.sent_at >= point
        for other in sent
    )


def _skip(row: Delivery, reason: str) -> None:
    row.status = DeliveryStatus.SKIPPED
    row.error = reason


async def mark(
    uow: UnitOfWork, delivery_id: int, status: DeliveryStatus, now: datetime, error: str | None = None
) -> None:
    """Record the outcome of one send (sent only after Telegram accepted it)."""
    await uow.deliveries.record(delivery_id, status, now, error[:200] if error else None)


RETRY_AFTER = (timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2))
"""When Telegram keeps failing (an outage, not a refusal), the record is tried again
after these pauses; after the last one it stays FAILED, with the error recorded."""


async def retry_later(uow: UnitOfWork, delivery_id: int, now: datetime, error: str | None) -> bool:
    """A passing fault outlived the sender's own retries: try again later.

    Returns False when the record has used up its later tries and is FAILED now.
    """
    row = await uow.deliveries.get(delivery_id)
    if row is None:
        return False
    row.attempts += 1
    row.error = error[:200] if error else None
    if row.attempts > len(RETRY_AFTER):
        row.status = DeliveryStatus.FAILED
    else:
        row.due_at = now + RETRY_AFTER[row.attempts - 1]
    await uow.flush()
    return row.status is DeliveryStatus.PENDING


async def next_due_at(uow: UnitOfWork) -> datetime | None:
    return await uow.deliveries.next_due_at()
