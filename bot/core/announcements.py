"""Announcements (/announce, SPEC 3): a message of the coordination to every
member of one group, several groups or all of them.

- One line, `/announce <group|all|g1,g2> <text>`: sent at once (lines and
  spacing kept as written); the reply says to how many people, with its id
  (`#5`). The target is read as for `/recommend`
  (`bot.core.recommendation_parsing.parse_targets`): `all`/`alle`, a slug, a
  name, an unambiguous prefix, or a comma-separated list.
- Guided, `/announce` alone: the groups and "Alle Gruppen" as buttons, then
  the text; `/announce <group>` alone asks for the text at once. A document
  sent while the bot waits (as a reply to its question, or simply next) is
  attached: its caption is the text when it has one, otherwise the bot asks
  for the text. A new text replaces the prepared one; a new document
  replaces the attached one. Then a preview: the message as members will
  read it, the attachment's name, and how many people will get it, with
  "Senden" and "Abbrechen". Nothing is sent before "Senden".
- Sending writes the announcement and one delivery record per reachable
  approved member of the target groups (a person in two of them gets one) in
  one transaction; the delivery timer sends them paced, crash-safe, exactly
  as reminders (a crash repeats at most what was in flight). The document is
  kept as Telegram's `file_id` and sent after the text, as a second message.
- Archived groups take no announcements: `all` means the active groups; an
  archived group named is refused with "groups.archived" (`only_active`).
- Audit entry `announcement.send`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from bot.core import audit, steps
from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.groups import require_active
from bot.core.people import require_coordinator
from bot.core.recommendation_parsing import Targets, only_active, parse_targets
from bot.core.steps import Step
from bot.core.text import free_text, telegram_length
from storage.admin_models import Announcement
from storage.models import DeliveryKind, DeliveryStatus, Person
from storage.uow import UnitOfWork

TEXT_MAX = 3500
"""The text's length as Telegram counts it; with the heading it fits one message."""
FILE_NAME_MAX = 200


@dataclass
class TextWanted:
    """The bot now waits for the text (and an optional document)."""

    targets: Targets
    file_name: str | None = None


@dataclass
class Prepared:
    """A guided /announce before "Senden"."""

    targets: Targets
    text: str
    file_name: str | None
    recipients: int
    version: int = 0
    """Which preview this is; its buttons send only while it is the newest."""


@dataclass
class Sent:
    announcement: Announcement
    recipients: int


def announcement_text(text: str) -> str:
    value = free_text(text, TEXT_MAX, "announcements.text")
    if (length := telegram_length(value)) > TEXT_MAX:
        raise Refusal("announcements.text_too_long", max=TEXT_MAX, length=length)
    return value


async def announce(
    uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime
) -> Sent | TextWanted:
    """`/announce <group|all|g1,g2> [<text>]`: sent at once, or (no text) ask for it."""
    require_coordinator(coordinator, settings)
    try:
        targets, body = parse_targets(await uow.groups.including_archived(), text)
    except Refusal as refusal:
        key = refusal.key.replace("recommendations.", "announcements.")
        raise Refusal(key, **refusal.params) from None
    targets = only_active(targets)
    if not body.strip():
        await _wait_for_text(uow, coordinator, targets)
        return TextWanted(targets)
    return await _send(uow, coordinator, targets, body, None, None, now)


async def start_guided(uow: UnitOfWork, coordinator: Person, group_id: int, settings: Settings) -> Targets:
    """The target chosen by button (0: all groups): wait for the text."""
    require_coordinator(coordinator, settings)
    groups = await uow.groups.active()
    if group_id == 0:
        targets = Targets(list(groups), everyone=True)
    else:
        group = next((g for g in groups if g.id == group_id), None)
        if group is None:
            raise Refusal("buttons.stale")
        targets = Targets([group])
    await _wait_for_text(uow, coordinator, targets)
    return targets


async def _wait_for_text(uow: UnitOfWork, coordinator: Person, targets: Targets) -> None:
    steps.ask(coordinator, Step.ANNOUNCEMENT_TEXT, {"all": targets.everyone, "groups": [g.id for g in targets.groups]})
    await uow.flush()


async def _kept_targets(uow: UnitOfWork, coordinator: Person) -> Targets:
    groups = await uow.groups.active()
    if steps.recall(coordinator, "all"):
        return Targets(list(groups), everyone=True)
    wanted = {int(i) for i in cast("list[int]", steps.recall(coordinator, "groups", []) or [])}
    targets = Targets([g for g in groups if g.id in wanted])
    if not targets.groups:
        raise Refusal("announcements.target_gone").ending_step()
    return targets


async def _prepared(uow: UnitOfWork, coordinator: Person, targets: Targets) -> Prepared:
    text = steps.recall(coordinator, "text")
    file_name = steps.recall(coordinator, "file_name")
    recipients = await uow.memberships.reachable_members(g.id for g in targets.groups)
    return Prepared(
        targets,
        text if isinstance(text, str) else "",
        file_name if isinstance(file_name, str) else None,
        len(recipients),
        steps.recall_id(coordinator, "version"),
    )


async def submit_text(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings) -> Prepared:
    """The text of a guided /announce: kept for the preview (a new one replaces it)."""
    require_coordinator(coordinator, settings)
    targets = await _kept_targets(uow, coordinator)
    value = announcement_text(text)
    version = steps.recall_id(coordinator, "version") + 1
    steps.remember(coordinator, {**(coordinator.awaiting_data or {}), "text": value, "version": version})
    await uow.flush()
    return await _prepared(uow, coordinator, targets)


async def submit_document(
    uow: UnitOfWork, coordinator: Person, file_id: str, file_name: str | None, caption: str | None, settings: Settings
) -> Prepared | TextWanted:
    """A document while the bot waits for an announcement: attached (a new one replaces
    it); its caption, if any, is the text. Without a text yet, the bot asks for it."""
    require_coordinator(coordinator, settings)
    if steps.current(coordinator) is not Step.ANNOUNCEMENT_TEXT:
        raise Refusal("announcements.document_unexpected")
    targets = await _kept_targets(uow, coordinator)
    name = (file_name or "Dokument")[:FILE_NAME_MAX]
    version = steps.recall_id(coordinator, "version") + 1
    kept: dict[str, object] = {
        **(coordinator.awaiting_data or {}),
        "file_id": file_id,
        "file_name": name,
        "version": version,
    }
    if caption and caption.strip():
        kept["text"] = announcement_text(caption)
    steps.remember(coordinator, kept)
    await uow.flush()
    if not isinstance(kept.get("text"), str):
        return TextWanted(targets, name)
    return await _prepared(uow, coordinator, targets)


def _require_preview(coordinator: Person, version: int) -> str:
    """The prepared text, if `version` is the preview shown last."""
    text = steps.recall(coordinator, "text")
    if steps.current(coordinator) is not Step.ANNOUNCEMENT_TEXT or not isinstance(text, str):
        raise Refusal("announcements.nothing_prepared")
    if steps.recall_id(coordinator, "version") != version:
        raise Refusal("announcements.preview_outdated")
    return text


async def send_prepared(uow: UnitOfWork, coordinator: Person, version: int, settings: Settings, now: datetime) -> Sent:
    """Senden under the preview (only the newest preview sends)."""
    require_coordinator(coordinator, settings)
    text = _require_preview(coordinator, version)
    targets = await _kept_targets(uow, coordinator)
    file_id, file_name = steps.recall(coordinator, "file_id"), steps.recall(coordinator, "file_name")
    return await _send(
        uow,
        coordinator,
        targets,
        text,
        file_id if isinstance(file_id, str) else None,
        file_name if isinstance(file_name, str) else None,
        now,
    )


async def cancel_prepared(uow: UnitOfWork, coordinator: Person, version: int, settings: Settings) -> None:
    """Abbrechen under the preview: nothing is sent."""
    require_coordinator(coordinator, settings)
    _require_preview(coordinator, version)
    steps.end(coordinator)
    await uow.flush()


async def _send(
    uow: UnitOfWork,
    coordinator: Person,
    targets: Targets,
    body: str,
    file_id: str | None,
    file_name: str | None,
    now: datetime,
) -> Sent:
    """The announcement and its delivery records, in one transaction."""
    if not targets.groups:
        raise Refusal("announcements.usage")
    for group in targets.groups:
        require_active(group)
    text = announcement_text(body)
    announcement = Announcement(
        text=text,
        all_groups=targets.everyone,
        document_file_id=file_id,
        document_name=file_name,
        created_by_id=coordinator.id,
        created_at=now,
        groups=list(targets.groups),
    )
    uow.announcements.add(announcement)
    await uow.flush()
    person_ids = await uow.memberships.reachable_members(g.id for g in targets.groups)
    await uow.deliveries.insert_many(
        [
            {
                "announcement_id": announcement.id,
                "person_id": person_id,
                "kind": DeliveryKind.ANNOUNCEMENT,
                "lead_seconds": 0,
                "revision": 0,
                "due_at": now,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
            }
            for person_id in person_ids
        ]
    )
    audit.record(
        uow,
        coordinator,
        "announcement.send",
        "announcement",
        announcement.id,
        now,
        groups=", ".join(g.name for g in targets.groups),
        recipients=len(person_ids),
        document=file_name,
    )
    steps.end(coordinator)
    await uow.flush()
    return Sent(announcement, len(person_ids))


async def announcement_of(uow: UnitOfWork, delivery_id: int, pending: dict[int, int]) -> int:
    """The announcement a due delivery is about (`pending`: the timer's map of
    delivery id to announcement id, read once per run)."""
    return pending.get(delivery_id) or await uow.announcements.of_delivery(delivery_id) or 0


async def shown(uow: UnitOfWork, announcement_id: int) -> Announcement:
    """The announcement with its groups, for the timer (read once per run)."""
    announcement = await uow.announcements.get(announcement_id)
    if announcement is None:
        raise LookupError(f"announcement {announcement_id} is gone")
    return announcement
