"""Membership: joining, deciding, leaving and invites (SPEC 2 and 3).

Rules that live here and nowhere else:
- only registered people (privacy notice acknowledged, name given) can join;
- with `JOIN_POLICY=approval` a request waits for a coordinator, with `open`
  it is approved at once; an invite link always approves at once;
- only coordinators decide requests, list members and create invites;
- a request is decided once; a second decision is refused and says who
  decided; a rejection may carry a reason, which the person reads; the
  "Ablehnen" button asks for that reason (optional) and a confirmation before
  anything changes (`ask_reject_reason`, `note_reject_reason`), the one-line
  `/reject <user> [group] [| reason]` acts at once;
- an archived group takes no new members (a request for it cannot be approved);
- every decision is written to the audit log (`membership.approve`,
  `membership.reject`);
- an invite is single-use and valid for `INVITE_VALIDITY`.
Every function takes a unit of work, commits only when all checks passed,
and returns data for the caller to tell the people concerned.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core import audit, steps
from bot.core.config import Settings
from bot.core.errors import Key, NotRegistered, Refusal
from bot.core.groups import require_active, resolve_group
from bot.core.people import coordinator_chat_ids, name_of, require_coordinator
from bot.core.steps import Step
from bot.core.text import clean_text
from storage.models import Group, Invite, Membership, MembershipStatus, Person
from storage.uow import UnitOfWork

INVITE_VALIDITY = timedelta(days=30)
ACTIVE = (MembershipStatus.APPROVED, MembershipStatus.PENDING)
ALL = ("all", "alle")
"""What `/members all` (and every command that takes a group) reads as every group."""
REASON_MAX = 500


@dataclass
class JoinResult:
    membership: Membership
    notify_coordinators: list[int] = field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.membership.status is MembershipStatus.APPROVED


def require_registered(person: Person) -> None:
    """Only registered people (privacy notice acknowledged, name given) join groups."""
    if person.registered_at is None:
        raise NotRegistered()


async def find_group(uow: UnitOfWork, text: str) -> Group:
    return resolve_group(await uow.groups.active(), text)


async def groups_to_choose(uow: UnitOfWork, coordinator: Person, settings: Settings) -> list[Group]:
    """Every active group, for a coordinator to choose from (`/meeting`, `/invite`,
    `/recommend` without a group); coordinators only."""
    require_coordinator(coordinator, settings)
    return list(await uow.groups.active())


async def get_group(uow: UnitOfWork, group_id: int) -> Group:
    group = await uow.groups.get(group_id)
    if group is None or group.archived_at is not None:
        raise Refusal("buttons.stale")
    return group


async def request_join(uow: UnitOfWork, person: Person, group: Group, settings: Settings, now: datetime) -> JoinResult:
    """Ask to join `group`; approved at once when JOIN_POLICY is open."""
    require_registered(person)
    membership = await uow.memberships.of(person.id, group.id)
    if membership is not None and membership.status is MembershipStatus.APPROVED:
        raise Refusal("join.already_member", group=group.name)
    if membership is not None and membership.status is MembershipStatus.PENDING:
        raise Refusal("join.already_pending", group=group.name)
    approve = settings.join_policy == "open"
    membership = _set_membership(
        uow, membership, person, group, MembershipStatus.APPROVED if approve else MembershipStatus.PENDING, now
    )
    await uow.memberships.flush()
    notify = [] if approve else await coordinator_chat_ids(uow, settings)
    await uow.flush()
    return JoinResult(membership, notify)


async def join_named(uow: UnitOfWork, person: Person, group_text: str, settings: Settings, now: datetime) -> JoinResult:
    """`/join <group>`: whether the person is registered is checked before the group is looked up."""
    require_registered(person)
    return await request_join(uow, person, await find_group(uow, group_text), settings, now)


async def joinable(uow: UnitOfWork, person: Person) -> list[Group]:
    """`/join` alone: the groups a registered person may still ask to join
    (refused when there is none left)."""
    require_registered(person)
    groups = await not_joined(uow, person)
    if not groups:
        raise Refusal("join.nothing_left")
    return groups


async def open_request(uow: UnitOfWork, decider: Person, membership_id: int, settings: Settings) -> Membership:
    """The open request `membership_id` (coordinators only); refused when it was
    already decided, naming the decision and who made it."""
    require_coordinator(decider, settings)
    membership = await uow.memberships.get(membership_id)
    if membership is None:
        raise Refusal("decide.not_found")
    if membership.status is not MembershipStatus.PENDING:
        raise Refusal(
            "decide.already_decided",
            name=name_of(membership.person),
            group=membership.group.name,
            status=Key(f"status.{membership.status.value}"),
            by=name_of(membership.decided_by),
        )
    return membership


async def decide(
    uow: UnitOfWork,
    decider: Person,
    membership_id: int,
    approve: bool,
    settings: Settings,
    now: datetime,
    reason: str | None = None,
) -> Membership:
    """Approve or reject one open request (a rejection with an optional reason
    the person reads); refused when it was already decided."""
    membership = await open_request(uow, decider, membership_id, settings)
    if approve:
        require_active(membership.group)
    membership.status = MembershipStatus.APPROVED if approve else MembershipStatus.REJECTED
    membership.decided_at = now
    membership.decided_by_id = decider.id
    membership.decided_by = decider
    membership.reason = None if approve else clean_reason(reason)
    audit.record(
        uow,
        decider,
        "membership.approve" if approve else "membership.reject",
        "membership",
        membership.id,
        now,
        name=name_of(membership.person),
        group=membership.group.name,
        reason=membership.reason,
    )
    await uow.flush()
    return membership


def clean_reason(text: str | None) -> str | None:
    """A reason as the person will read it: one line, at most `REASON_MAX` characters."""
    reason = clean_text(text or "")
    if len(reason) > REASON_MAX:
        raise Refusal("decide.reason_too_long", max=REASON_MAX, length=len(reason))
    return reason or None


async def ask_reject_reason(uow: UnitOfWork, decider: Person, membership_id: int, settings: Settings) -> Membership:
    """The "Ablehnen" button: nothing is decided yet; the coordinator's next text
    is the reason (optional), then a confirmation decides."""
    membership = await open_request(uow, decider, membership_id, settings)
    steps.ask(decider, Step.REJECT_REASON, {"membership": membership.id})
    return membership


async def note_reject_reason(uow: UnitOfWork, decider: Person, text: str, settings: Settings) -> Membership:
    """The reason typed after "Ablehnen": kept until the confirmation (a new text
    replaces it); the request must still be open."""
    membership = await open_request(uow, decider, steps.recall_id(decider, "membership"), settings)
    reason = clean_reason(text)
    steps.remember(decider, {"membership": membership.id, "reason": reason})
    return membership


def reason_noted(decider: Person, membership_id: int) -> str | None:
    """The reason the coordinator typed for this request, if they are still at that step."""
    if steps.current(decider) is not Step.REJECT_REASON or steps.recall_id(decider, "membership") != membership_id:
        return None
    reason = steps.recall(decider, "reason")
    return reason if isinstance(reason, str) else None


async def confirm_reject(
    uow: UnitOfWork, decider: Person, membership_id: int, settings: Settings, now: datetime
) -> Membership:
    """The confirmation after "Ablehnen": rejected with the reason noted (if any)."""
    reason = reason_noted(decider, membership_id)
    membership = await decide(uow, decider, membership_id, False, settings, now, reason)
    if steps.current(decider) is Step.REJECT_REASON:
        steps.end(decider)
    return membership


async def keep_request(uow: UnitOfWork, decider: Person, membership_id: int, settings: Settings) -> Membership:
    """ "Abbrechen" after "Ablehnen": nothing is decided, the step ends."""
    membership = await open_request(uow, decider, membership_id, settings)
    if steps.current(decider) is Step.REJECT_REASON:
        steps.end(decider)
    return membership


@dataclass
class DecisionByCommand:
    """The outcome of `/approve` or `/reject` with arguments: one request
    decided, or the person's open requests to choose from."""

    person: Person
    decided: Membership | None = None
    choices: list[Membership] = field(default_factory=list)


async def decide_by_reference(
    uow: UnitOfWork,
    decider: Person,
    ref: str,
    group_text: str | None,
    approve: bool,
    settings: Settings,
    now: datetime,
    reason: str | None = None,
) -> DecisionByCommand:
    """Decide the open request of the person `ref` (in `group_text`, if given);
    a rejection with `reason`, if given.

    With several open requests and no group, nothing is decided: the caller
    offers the requests to choose from.
    """
    require_coordinator(decider, settings)
    person = await find_person(uow, ref)
    pending = await pending_requests(uow, decider, settings, person)
    if group_text:
        group = await find_group(uow, group_text)
        pending = [m for m in pending if m.group_id == group.id]
    if not pending:
        raise Refusal("decide.nothing_pending", name=name_of(person))
    if len(pending) > 1:
        return DecisionByCommand(person, choices=pending)
    decided = await decide(uow, decider, pending[0].id, approve, settings, now, reason)
    return DecisionByCommand(person, decided=decided)


async def find_person(uow: UnitOfWork, ref: str) -> Person:
    """A person by Telegram user id or @username."""
    ref = ref.strip()
    person = None
    if re.fullmatch(r"\d{1,19}", ref):
        number = int(ref)  # beyond a 64-bit integer: no Telegram id, and no database takes it
        person = await uow.people.by_telegram_id(number) if number < 2**63 else None
    elif re.fullmatch(r"@?[A-Za-z0-9_]{3,32}", ref):
        person = await uow.people.by_username(ref.lstrip("@"))
    else:
        raise Refusal("people.bad_ref", ref=ref)
    if person is None:
        raise Refusal("people.unknown", ref=ref)
    return person


async def pending_requests(
    uow: UnitOfWork, requester: Person, settings: Settings, person: Person | None = None
) -> list[Membership]:
    """Open join requests, all or of one person (coordinators only)."""
    require_coordinator(requester, settings)
    if person is not None:
        return list(await uow.memberships.pending_of_person(person.id))
    return list(await uow.memberships.with_status([MembershipStatus.PENDING]))


async def leave(uow: UnitOfWork, person: Person, group: Group, now: datetime) -> Membership:
    membership = await uow.memberships.of(person.id, group.id)
    if membership is None or membership.status not in ACTIVE:
        raise Refusal("leave.not_member", group=group.name)
    membership.status = MembershipStatus.LEFT
    membership.left_at = now
    await uow.flush()
    return membership


async def statuses(uow: UnitOfWork, person: Person) -> list[tuple[Group, MembershipStatus | None]]:
    """Every active group with the person's status in it (None: no relation)."""
    by_group = {m.group_id: m.status for m in await uow.memberships.of_person(person.id)}
    return [(group, by_group.get(group.id)) for group in await uow.groups.active()]


async def active_groups(uow: UnitOfWork, person: Person) -> list[Group]:
    """Groups the person belongs to or asked to join."""
    return [g for g, status in await statuses(uow, person) if status in ACTIVE]


async def not_joined(uow: UnitOfWork, person: Person) -> list[Group]:
    """Groups the person neither belongs to nor asked to join."""
    return [g for g, status in await statuses(uow, person) if status not in ACTIVE]


async def members(
    uow: UnitOfWork, requester: Person, settings: Settings, group_text: str | None
) -> list[tuple[Group, list[Membership]]]:
    """Approved and pending members per group, of all groups (no group, or `all`)
    or of the one `group_text` names (coordinators only, checked before the group
    is looked up)."""
    require_coordinator(requester, settings)
    every = not group_text or group_text.strip().casefold() in ALL
    group = None if every else await find_group(uow, group_text or "")
    groups = [group] if group is not None else list(await uow.groups.active())
    found = await uow.memberships.with_status(ACTIVE, group.id if group else None)
    return [(g, [m for m in found if m.group_id == g.id]) for g in groups]


async def create_invite(uow: UnitOfWork, creator: Person, group: Group, settings: Settings, now: datetime) -> Invite:
    require_coordinator(creator, settings)
    invite = Invite(
        token=secrets.token_urlsafe(12),
        group_id=group.id,
        group=group,
        created_by_id=creator.id,
        created_at=now,
        expires_at=now + INVITE_VALIDITY,
    )
    uow.invites.add(invite)
    await uow.flush()
    return invite


async def invite_to(uow: UnitOfWork, creator: Person, group_text: str, settings: Settings, now: datetime) -> Invite:
    """`/invite <group>` (coordinators only, checked before the group is looked up)."""
    require_coordinator(creator, settings)
    return await create_invite(uow, creator, await find_group(uow, group_text), settings, now)


async def check_invite(uow: UnitOfWork, token: str, person: Person, now: datetime) -> Invite:
    """The usable invite behind a deep-link payload, or a Refusal saying why not."""
    invite = await uow.invites.by_token(token) if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token) else None
    if invite is None or invite.group.archived_at is not None:
        raise Refusal("invite.invalid")
    if invite.used_at is not None and invite.used_by_id != person.id:
        raise Refusal("invite.used")
    if invite.expires_at <= now:
        raise Refusal("invite.expired")
    return invite


async def redeem_invite(uow: UnitOfWork, person: Person, token: str, now: datetime) -> Membership:
    """Join the invite's group without approval; the invite is used up."""
    invite = await check_invite(uow, token, person, now)
    membership = await uow.memberships.of(person.id, invite.group_id)
    if membership is None or membership.status is not MembershipStatus.APPROVED:
        membership = _set_membership(uow, membership, person, invite.group, MembershipStatus.APPROVED, now)
        membership.invite_id = invite.id
    invite.used_at = invite.used_at or now
    invite.used_by_id = person.id
    await uow.flush()
    return membership


def _set_membership(
    uow: UnitOfWork,
    membership: Membership | None,
    person: Person,
    group: Group,
    status: MembershipStatus,
    now: datetime,
) -> Membership:
    if membership is None:
        membership = Membership(person_id=person.id, group_id=group.id, person=person, group=group)
        uow.memberships.add(membership)
    membership.status = status
    membership.requested_at = now
    membership.decided_at = now if status is MembershipStatus.APPROVED else None
    membership.decided_by_id = None
    membership.decided_by = None
    membership.left_at = None
    return membership
