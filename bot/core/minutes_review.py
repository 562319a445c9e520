"""Review and approval of the minutes (SPEC 13; the writing is `bot.core.minutes`).

- "Zur Korrektur senden" (`circulate`, coordination, draft minutes only):
  status REVIEW until `now + MINUTES_REVIEW`, and one MINUTES_DRAFT delivery
  to each person recorded PRESENT at the session (a check-in counts): the
  member, or the deputy who attended in the member's place; the coordination
  is not sent the draft (it writes it). Audit `minutes.circulate`.
- "Korrektur vorschlagen" (`start_correction`, `submit_correction`): whoever
  was sent the draft may propose a correction as one text while the minutes
  are in review and the review period lasts (after it: refused politely);
  it is stored (`MinutesCorrection`) and the coordination is told who
  proposed what. The coordination takes it into the text, or not.
- A draft still waiting to be sent when the minutes are approved is skipped
  (`screen_due`).
- "Freigeben", then confirmed (`approve`, minutes in review only, earlier
  than the end of the review if wished): APPROVED and locked, the draft
  tasks open (`bot.core.tasks.publish`, which tells their owners), and a
  MINUTES_FINAL delivery (text and Word document) to every reachable
  approved member of the group. Audit `minutes.approve`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core import audit, steps, tasks
from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.minutes import Record, editable, local_text, record_of
from bot.core.people import coordinator_chat_ids, is_coordinator
from bot.core.steps import Step
from bot.core.text import free_text
from storage.followup_models import AttendanceStatus, Minutes, MinutesCorrection, MinutesStatus
from storage.models import Delivery, DeliveryKind, DeliveryStatus, Person
from storage.uow import UnitOfWork

CORRECTION_MAX = 2000


@dataclass
class Circulated:
    record: Record
    recipients: int


async def circulate(
    uow: UnitOfWork, coordinator: Person, minutes_id: int, settings: Settings, now: datetime
) -> Circulated:
    """The draft goes to those present, for `MINUTES_REVIEW`."""
    minutes = await editable(uow, coordinator, minutes_id, settings)
    if minutes.status is not MinutesStatus.DRAFT:
        raise Refusal("minutes.already_circulated", id=minutes.occurrence_id)
    recipients: set[int] = set()
    for row in await uow.minutes.attendance(minutes.occurrence_id):
        if row.status is not AttendanceStatus.PRESENT:
            continue
        who = row.deputy if row.deputy_id is not None else row.person
        if who is not None and who.telegram_id is not None and not is_coordinator(who, settings):
            recipients.add(who.id)
    minutes.status = MinutesStatus.REVIEW
    minutes.circulated_at = now
    minutes.review_until = now + settings.minutes_review
    await uow.deliveries.insert_many(
        [_delivery(minutes, pid, DeliveryKind.MINUTES_DRAFT, now) for pid in sorted(recipients)]
    )
    audit.record(
        uow,
        coordinator,
        "minutes.circulate",
        "session",
        minutes.occurrence_id,
        now,
        title=minutes.occurrence.meeting.title,
        recipients=len(recipients),
    )
    steps.end(coordinator)
    await uow.flush()
    return Circulated(await record_of(uow, minutes), len(recipients))


def _delivery(minutes: Minutes, person_id: int, kind: DeliveryKind, now: datetime) -> dict[str, object]:
    return {
        "minutes_id": minutes.id,
        "person_id": person_id,
        "kind": kind,
        "lead_seconds": 0,
        "revision": 0,
        "due_at": now,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
    }


async def _reviewable(uow: UnitOfWork, person: Person, minutes_id: int, settings: Settings, now: datetime) -> Minutes:
    """Minutes this person was sent for review, still open for corrections."""
    minutes = await uow.minutes.get(minutes_id)
    if minutes is None or not await uow.minutes.got_draft(minutes.id, person.id):
        raise Refusal("minutes.not_recipient").ending_step()
    if minutes.status is MinutesStatus.APPROVED:
        raise Refusal("minutes.correction_locked", id=minutes.occurrence_id).ending_step()
    if minutes.review_until is not None and now > minutes.review_until:
        raise Refusal(
            "minutes.review_over", id=minutes.occurrence_id, until=local_text(minutes.review_until, settings)
        ).ending_step()
    return minutes


async def start_correction(
    uow: UnitOfWork, person: Person, minutes_id: int, settings: Settings, now: datetime
) -> Minutes:
    """ "Korrektur vorschlagen": the bot asks for the correction."""
    minutes = await _reviewable(uow, person, minutes_id, settings, now)
    steps.ask(person, Step.MINUTES_CORRECTION, {"minutes": minutes.id})
    await uow.flush()
    return minutes


@dataclass
class Corrected:
    minutes: Minutes
    correction: MinutesCorrection
    coordinators: list[int]
    """The Telegram ids of the coordination, to be told."""


async def submit_correction(uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime) -> Corrected:
    """The proposed correction: stored, and the coordination is to be told."""
    minutes = await _reviewable(uow, person, steps.recall_id(person, "minutes"), settings, now)
    correction = MinutesCorrection(
        minutes_id=minutes.id,
        person_id=person.id,
        text=free_text(text, CORRECTION_MAX, "minutes.correction"),
        created_at=now,
    )
    uow.minutes.add(correction)
    steps.end(person)
    await uow.flush()
    chats = [c for c in await coordinator_chat_ids(uow, settings) if c != person.telegram_id]
    return Corrected(minutes, correction, chats)


async def ask_approval(uow: UnitOfWork, coordinator: Person, minutes_id: int, settings: Settings) -> Minutes:
    """ "Freigeben": minutes in review, to be confirmed."""
    minutes = await editable(uow, coordinator, minutes_id, settings)
    if minutes.status is not MinutesStatus.REVIEW:
        raise Refusal("minutes.circulate_first", id=minutes.occurrence_id)
    return minutes


@dataclass
class Approved:
    record: Record
    recipients: int
    tasks: int


async def approve(uow: UnitOfWork, coordinator: Person, minutes_id: int, settings: Settings, now: datetime) -> Approved:
    """Confirmed "Freigeben": locked, tasks opened, the final minutes to the whole group."""
    minutes = await ask_approval(uow, coordinator, minutes_id, settings)
    minutes.status = MinutesStatus.APPROVED
    minutes.approved_at = now
    minutes.approved_by_id = coordinator.id
    await uow.flush()
    opened = await tasks.publish(uow, minutes, now, settings)
    members = await uow.memberships.reachable_members([minutes.occurrence.meeting.group_id])
    await uow.deliveries.insert_many([_delivery(minutes, pid, DeliveryKind.MINUTES_FINAL, now) for pid in members])
    audit.record(
        uow,
        coordinator,
        "minutes.approve",
        "session",
        minutes.occurrence_id,
        now,
        title=minutes.occurrence.meeting.title,
        recipients=len(members),
        tasks=len(opened),
    )
    if steps.current(coordinator) in (Step.MINUTES_RESULT, Step.MINUTES_TITLE):
        steps.end(coordinator)
    await uow.flush()
    return Approved(await record_of(uow, minutes), len(members), len(opened))


async def screen_due(uow: UnitOfWork, rows: Sequence[Delivery]) -> dict[int, str]:
    """The timer's screening of minutes messages: a draft that was not sent before
    the minutes were approved is not sent any more (the final minutes follow)."""
    drafts = [r for r in rows if r.kind is DeliveryKind.MINUTES_DRAFT and r.minutes_id is not None]
    statuses = await uow.minutes.statuses(r.minutes_id for r in drafts if r.minutes_id is not None)
    return {r.id: "minutes approved" for r in drafts if statuses.get(r.minutes_id or 0) is MinutesStatus.APPROVED}
