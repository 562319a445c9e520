"""Administration (SPEC 1, 2, 3): groups, further coordinators, taking a member
out of a group, and reading the audit log.

Rules that live here and nowhere else:
- only coordinators (configured in `COORDINATOR_IDS` or promoted) do any of this;
  it is checked before anything the command names is looked up;
- a new group's slug is 2-32 characters `a-z 0-9 -` and unique among all groups
  (archived ones too: old links and reports keep meaning what they meant); a
  name is 1-80 characters and unique among the active groups, case-insensitively;
  the guided `/addgroup` takes a name alone and derives the slug from it
  (`AK Wohnen` → `ak-wohnen`);
- renaming keeps the slug;
- archiving (after a confirmation button) cancels the group's future sessions
  through `bot.core.meetings.cancel` (members are owed the cancel notice as for
  any cancellation), ends its series (no further sessions are planned), and
  closes its open join requests (the people are told); memberships, sessions,
  topics and feedback stay, so the group remains in digests and reports. An
  archived group takes nothing new (`bot.core.groups.require_active`);
- promoting makes a registered person a coordinator; demoting takes it back,
  except for ids in `COORDINATOR_IDS`, which only the configuration changes;
- removing takes an approved (or pending) member out of one group; the
  membership is kept as `left` with the reason, so digests count the departure;
- every change writes one audit entry (`bot.core.audit`) in the same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from bot.core import audit, meetings, steps
from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.groups import require_active
from bot.core.membership import ACTIVE, ALL, find_group, find_person
from bot.core.people import is_coordinator, name_of, require_coordinator
from bot.core.steps import Step
from bot.core.text import clean_text, field_text
from storage.admin_models import AuditEntry
from storage.models import Group, Membership, MembershipStatus, Person
from storage.uow import UnitOfWork

SLUG = re.compile(r"[a-z0-9-]{2,32}")
NAME_MAX = 80
REASON_MAX = 500
CHOOSE_SHOWN = 30
"""The most people offered as buttons in the guided /promote."""


# --- groups -------------------------------------------------------------------------


def slug_for(name: str) -> str:
    """The slug the guided `/addgroup` derives from a name: `AG Süd-Ost` → `ag-sued-ost`."""
    text = name.casefold()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelled)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:32].strip("-")


def split_new_group(text: str) -> tuple[str, str]:
    """`<slug> <name>`, or a name alone (its slug derived), from what was typed: a
    first word without capital letters followed by more words is meant as the
    slug (and checked as one); `AK Wohnen` is a name alone."""
    words = text.split(maxsplit=1)
    if len(words) == 2 and not any(ch.isupper() for ch in words[0]):
        return words[0], words[1]
    return slug_for(text), text


def _clean_name(text: str) -> str:
    return field_text(text, NAME_MAX, "admin.name")


async def _name_free(uow: UnitOfWork, name: str, except_id: int | None = None) -> None:
    for group in await uow.groups.active():
        if group.id != except_id and group.name.casefold() == name.casefold():
            raise Refusal("admin.name_taken", name=group.name)


async def add_group(
    uow: UnitOfWork, coordinator: Person, slug: str, name: str, settings: Settings, now: datetime
) -> Group:
    """`/addgroup <slug> <name>`: a new, active group."""
    require_coordinator(coordinator, settings)
    slug = slug.strip().lower()
    if not SLUG.fullmatch(slug):
        raise Refusal("admin.bad_slug", slug=slug)
    name = _clean_name(name)
    if await uow.groups.by_slug(slug) is not None:
        raise Refusal("admin.slug_taken", slug=slug)
    await _name_free(uow, name)
    group = Group(slug=slug, name=name, created_at=now)
    uow.groups.add(group)
    await uow.flush()
    audit.record(uow, coordinator, "group.create", "group", group.id, now, name=name, slug=slug)
    return group


async def add_group_from_text(
    uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime
) -> Group:
    """`/addgroup` with its arguments in one text (or the guided step's answer)."""
    require_coordinator(coordinator, settings)
    if not text.strip():
        raise Refusal("admin.addgroup_usage")
    slug, name = split_new_group(" ".join(text.split()))
    if not slug:
        raise Refusal("admin.bad_slug", slug=text.strip())
    return await add_group(uow, coordinator, slug, name, settings, now)


async def rename_group(
    uow: UnitOfWork, coordinator: Person, group: Group, new_name: str, settings: Settings, now: datetime
) -> tuple[Group, str]:
    """Rename (the slug stays); returns the group and its old name."""
    require_coordinator(coordinator, settings)
    require_active(group)
    name = _clean_name(new_name)
    old = group.name
    if name == old:
        raise Refusal("admin.same_name", name=name)
    await _name_free(uow, name, except_id=group.id)
    group.name = name
    audit.record(uow, coordinator, "group.rename", "group", group.id, now, old=old, name=name, slug=group.slug)
    await uow.flush()
    return group, old


async def rename_by_text(
    uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime
) -> tuple[Group, str]:
    """`/renamegroup <group> <new name>`: the group is the longest run of leading
    words that names one group (slug, name or prefix); the rest is the new name."""
    require_coordinator(coordinator, settings)
    words = text.split()
    if len(words) < 2:
        raise Refusal("admin.renamegroup_usage")
    first_refusal: Refusal | None = None
    for count in range(len(words) - 1, 0, -1):
        try:
            group = await find_group(uow, " ".join(words[:count]))
        except Refusal as refusal:
            first_refusal = first_refusal or refusal
            continue
        return await rename_group(uow, coordinator, group, " ".join(words[count:]), settings, now)
    assert first_refusal is not None
    raise first_refusal


def ask_new_group(coordinator: Person, settings: Settings) -> None:
    """The guided /addgroup: the coordinator's next text is the new group's name."""
    require_coordinator(coordinator, settings)
    steps.ask(coordinator, Step.GROUP_NEW)


async def new_group_text(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime) -> Group:
    """The answer to the guided /addgroup; a refusal keeps the step (the name can be typed again)."""
    group = await add_group_from_text(uow, coordinator, text, settings, now)
    steps.end(coordinator)
    return group


async def ask_new_name(uow: UnitOfWork, coordinator: Person, group_id: int, settings: Settings) -> Group:
    """The guided /renamegroup after the group: the next text is its new name."""
    group = await active_group(uow, coordinator, group_id, settings)
    steps.ask(coordinator, Step.GROUP_RENAME, {"group": group.id})
    return group


async def new_name_text(
    uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime
) -> tuple[Group, str]:
    """The answer to the guided /renamegroup."""
    group = await active_group(uow, coordinator, steps.recall_id(coordinator, "group"), settings)
    renamed = await rename_group(uow, coordinator, group, text, settings, now)
    steps.end(coordinator)
    return renamed


async def groups_to_choose(uow: UnitOfWork, coordinator: Person, settings: Settings) -> list[Group]:
    """The active groups as buttons of a guided command (coordinators only)."""
    require_coordinator(coordinator, settings)
    return list(await uow.groups.active())


@dataclass
class Archived:
    group: Group
    cancelled: int = 0
    """Future sessions cancelled (their members are owed the cancel notice)."""
    closed_requests: list[Membership] = field(default_factory=list)
    """Open join requests that ended with the group (to tell the people)."""


async def archive_group(
    uow: UnitOfWork,
    coordinator: Person,
    group_id: int,
    settings: Settings,
    now: datetime,
    reason: str | None = None,
) -> Archived:
    """Archive after the confirmation (see the module docstring). Each future
    session is cancelled (with `reason` when one is given; without one, the
    notice says in each member's language that the group was archived); a
    member is told once per meeting or series, for its next session, not once
    for every session of a weekly series."""
    require_coordinator(coordinator, settings)
    group = await uow.groups.get(group_id)
    if group is None:
        raise Refusal("buttons.stale")
    if group.archived_at is not None:
        raise Refusal("admin.already_archived", name=group.name)
    result = Archived(group)
    told: set[int] = set()
    for occurrence in await uow.meetings.upcoming(now, [group.id], limit=10_000):
        await meetings.cancel(uow, coordinator, occurrence.id, settings, now, reason=reason)
        if occurrence.meeting_id in told:
            await uow.deliveries.skip_pending(occurrence.id, "archived")
        told.add(occurrence.meeting_id)
        result.cancelled += 1
    for membership in await uow.memberships.with_status([MembershipStatus.PENDING], group.id):
        membership.status = MembershipStatus.REJECTED
        membership.decided_at = now
        membership.decided_by_id = coordinator.id
        result.closed_requests.append(membership)
    group.archived_at = now
    audit.record(uow, coordinator, "group.archive", "group", group.id, now, name=group.name, cancelled=result.cancelled)
    await uow.flush()
    return result


async def group_of_button(uow: UnitOfWork, coordinator: Person, group_id: int, settings: Settings) -> Group:
    """A group a button names, archived or not (coordinators only)."""
    require_coordinator(coordinator, settings)
    group = await uow.groups.get(group_id)
    if group is None:
        raise Refusal("buttons.stale")
    return group


async def group_to_archive(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings) -> Group:
    """`/archivegroup <group>`: the group to ask about (nothing changes yet)."""
    require_coordinator(coordinator, settings)
    return await find_group(uow, text)


async def active_group(uow: UnitOfWork, coordinator: Person, group_id: int, settings: Settings) -> Group:
    """A group chosen with a button (coordinators only); stale when archived meanwhile."""
    require_coordinator(coordinator, settings)
    group = await uow.groups.get(group_id)
    if group is None or group.archived_at is not None:
        raise Refusal("buttons.stale")
    return group


async def upcoming_count(uow: UnitOfWork, group: Group, now: datetime) -> int:
    """How many future sessions archiving the group would cancel."""
    return len(await uow.meetings.upcoming(now, [group.id], limit=10_000))


# --- coordinators -------------------------------------------------------------------


async def promote(uow: UnitOfWork, coordinator: Person, person: Person, settings: Settings, now: datetime) -> Person:
    """Make a registered person a further coordinator."""
    require_coordinator(coordinator, settings)
    require_registered_person(person)
    if is_coordinator(person, settings):
        raise Refusal("admin.already_coordinator", name=name_of(person))
    person.is_coordinator = True
    audit.record(uow, coordinator, "person.promote", "person", person.id, now, name=name_of(person))
    await uow.flush()
    return person


async def demote(uow: UnitOfWork, coordinator: Person, person: Person, settings: Settings, now: datetime) -> Person:
    """Take a promoted coordinator's rights back (never those of COORDINATOR_IDS)."""
    require_coordinator(coordinator, settings)
    if person.telegram_id is not None and person.telegram_id in settings.coordinator_ids:
        raise Refusal("admin.configured_coordinator", name=name_of(person))
    if not person.is_coordinator:
        raise Refusal("admin.not_coordinator", name=name_of(person))
    person.is_coordinator = False
    audit.record(uow, coordinator, "person.demote", "person", person.id, now, name=name_of(person))
    await uow.flush()
    return person


def require_registered_person(person: Person) -> None:
    if person.registered_at is None:
        raise Refusal("admin.not_registered", name=name_of(person))


async def person_by_reference(uow: UnitOfWork, coordinator: Person, ref: str, settings: Settings) -> Person:
    """`<user>` of /promote, /demote, /remove (coordinators only, checked first)."""
    require_coordinator(coordinator, settings)
    return await find_person(uow, ref)


async def person_by_id(uow: UnitOfWork, coordinator: Person, person_id: int, settings: Settings) -> Person:
    """A person chosen with a button (coordinators only)."""
    require_coordinator(coordinator, settings)
    person = await uow.people.get(person_id) if 0 < person_id < 2**31 else None
    if person is None or person.telegram_id is None:
        raise Refusal("buttons.stale")
    return person


async def promotable(uow: UnitOfWork, coordinator: Person, settings: Settings) -> list[Person]:
    """The guided /promote: registered members who are not coordinators, by name."""
    require_coordinator(coordinator, settings)
    found: dict[int, Person] = {}
    for membership in await uow.memberships.with_status([MembershipStatus.APPROVED]):
        person = membership.person
        if person.registered_at is not None and not is_coordinator(person, settings):
            found.setdefault(person.id, person)
    return sorted(found.values(), key=lambda p: name_of(p).casefold())[:CHOOSE_SHOWN]


async def demotable(uow: UnitOfWork, coordinator: Person, settings: Settings) -> list[Person]:
    """The guided /demote: the promoted coordinators (not the configured ones)."""
    require_coordinator(coordinator, settings)
    return [
        p
        for p in await uow.people.coordinators(())
        if p.telegram_id is None or p.telegram_id not in settings.coordinator_ids
    ]


# --- removing a member ----------------------------------------------------------------


def _reason(text: str | None) -> str | None:
    reason = clean_text(text or "")
    if len(reason) > REASON_MAX:
        raise Refusal("admin.reason_too_long", max=REASON_MAX)
    return reason or None


async def removable(uow: UnitOfWork, coordinator: Person, person: Person, group: Group) -> Membership:
    membership = await uow.memberships.of(person.id, group.id)
    if membership is None or membership.status not in ACTIVE:
        raise Refusal("admin.not_member", name=name_of(person), group=group.name)
    return membership


async def remove(
    uow: UnitOfWork,
    coordinator: Person,
    membership_id: int,
    reason: str | None,
    settings: Settings,
    now: datetime,
) -> Membership:
    """Take a member out of a group; the membership stays as `left` with the reason."""
    require_coordinator(coordinator, settings)
    membership = await uow.memberships.get(membership_id)
    if membership is None or membership.status not in ACTIVE:
        raise Refusal("buttons.stale")
    membership.status = MembershipStatus.LEFT
    membership.left_at = now
    membership.reason = _reason(reason)
    membership.decided_by_id = coordinator.id
    membership.decided_by = coordinator
    audit.record(
        uow,
        coordinator,
        "membership.remove",
        "membership",
        membership.id,
        now,
        name=name_of(membership.person),
        group=membership.group.name,
        reason=membership.reason,
    )
    await uow.flush()
    return membership


async def remove_by_text(
    uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime
) -> list[Membership]:
    """`/remove <user> <group> [| <reason>]`; `all` for the group: out of every
    active group the person belongs to or asked to join."""
    require_coordinator(coordinator, settings)
    head, _, reason = text.partition("|")
    words = head.split()
    if len(words) < 2:
        raise Refusal("admin.remove_usage")
    person = await find_person(uow, words[0])
    group_text = " ".join(words[1:])
    if group_text.casefold() in ALL:
        found = [m for m in await uow.memberships.of_person(person.id) if m.status in ACTIVE]
        found = [m for m in found if m.group.archived_at is None]
        if not found:
            raise Refusal("admin.in_no_group", name=name_of(person))
    else:
        found = [await removable(uow, coordinator, person, await find_group(uow, group_text))]
    return [await remove(uow, coordinator, m.id, reason, settings, now) for m in found]


async def members_to_remove(
    uow: UnitOfWork, coordinator: Person, group_id: int, settings: Settings
) -> tuple[Group, list[Membership]]:
    """The guided /remove after the group: its approved and pending members."""
    group = await active_group(uow, coordinator, group_id, settings)
    return group, list(await uow.memberships.with_status(ACTIVE, group.id))


async def membership_to_remove(
    uow: UnitOfWork, coordinator: Person, membership_id: int, settings: Settings
) -> Membership:
    """The membership a remove button names (coordinators only); stale once it ended."""
    require_coordinator(coordinator, settings)
    membership = await uow.memberships.get(membership_id)
    if membership is None or membership.status not in ACTIVE:
        raise Refusal("buttons.stale")
    return membership


# --- the audit log ------------------------------------------------------------------


def parse_count(text: str) -> int:
    """`/log [n]`: 1 to `audit.MAX_ENTRIES`, default `audit.DEFAULT_ENTRIES`."""
    value = text.strip()
    if not value:
        return audit.DEFAULT_ENTRIES
    if not re.fullmatch(r"\d{1,6}", value) or not 1 <= int(value) <= audit.MAX_ENTRIES:
        raise Refusal("admin.bad_count", value=value, max=audit.MAX_ENTRIES)
    return int(value)


async def latest_entries(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings) -> list[AuditEntry]:
    """`/log [n]`: the newest entries, newest first (coordinators only, checked first)."""
    require_coordinator(coordinator, settings)
    return list(await uow.audit.latest(parse_count(text)))
