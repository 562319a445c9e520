"""Membership handlers: /groups, /join, /leave, /pending, /approve, /reject,
/members, /invite, and their buttons; "Ablehnen" asks for a reason and a
confirmation (`reject_step_pressed`, the reason typed: `reject_reason_text`)."""

from __future__ import annotations

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import email, membership, people
from bot.core.commands import by_name
from bot.core.errors import Key, Refusal
from bot.core.membership import JoinResult
from bot.core.steps import Step
from bot.render.texts import Html
from bot.render.units import split_text
from handlers import payloads as p
from handlers.common import Request, Rows, action, render
from storage.models import Group, Invite, Membership, MembershipStatus, Person

PENDING_SHOWN = 20


@action
async def list_groups(request: Request) -> None:
    """All groups with the caller's status in each."""
    rows = await membership.statuses(await request.uow(), await request.person())
    lines: list[str] = [request.t("groups.title")]
    for group, status in rows:
        state = request.t(f"status.{status.value}" if status else "status.none")
        lines.append(request.t("groups.line", name=group.name, slug=group.slug, status=state))
    lines.append("")
    lines.append(request.t("groups.hint"))
    await request.reply("\n".join(lines))


@action
async def ask_to_join(request: Request) -> None:
    """`/join <group>`; without a group, the groups as buttons."""
    uow, person = await request.uow(), await request.person()
    if request.args:
        result = await membership.join_named(uow, person, " ".join(request.args), request.settings, request.now())
        await tell_join_result(request, result)
        return
    joinable = await membership.joinable(uow, person)
    await request.reply(request.t("join.choose"), [[(g.name, p.JoinGroup(g.id))] for g in joinable])


async def join_pressed(request: Request) -> None:
    """A group button from /join or the end of registration."""
    assert isinstance(request.payload, p.JoinGroup)
    uow, person = await request.uow(), await request.person()
    group = await membership.get_group(uow, request.payload.group_id)
    result = await membership.request_join(uow, person, group, request.settings, request.now())
    await request.answer()
    await tell_join_result(request, result)


async def tell_join_result(request: Request, result: JoinResult) -> None:
    m = result.membership
    if result.approved:
        request.wake_deliveries()  # open recommendations reach the new member at once
        await request.reply(request.t("join.joined", group=m.group.name))
        return
    await request.reply(request.t("join.requested", group=m.group.name))
    for chat_id in result.notify_coordinators:
        lang = await request.language_of(chat_id)
        text = request_card(request, lang, m)
        await request.notify(
            chat_id,
            text,
            [
                [
                    (request.runtime.texts.plain(lang, "decide.approve_button"), p.DecideRequest(m.id, True)),
                    (request.runtime.texts.plain(lang, "decide.reject_button"), p.DecideRequest(m.id, False)),
                ]
            ],
        )


def request_card(request: Request, lang: str, m: Membership) -> Html:
    """How a join request looks to a coordinator."""
    person = m.person
    return render(
        request.runtime.texts,
        lang,
        "decide.card",
        name=people.name_of(person),
        organisation=person.organisation or render(request.runtime.texts, lang, "members.no_organisation"),
        username=f"@{person.username}" if person.username else "—",
        user_id=person.telegram_id or "—",
        group=m.group.name,
    )


@action
async def leave_group(request: Request) -> None:
    """`/leave <group>`; without a group, the caller's groups as buttons."""
    uow, person = await request.uow(), await request.person()
    if request.args:
        group = await membership.find_group(uow, " ".join(request.args))
        await membership.leave(uow, person, group, request.now())
    else:
        groups = await membership.active_groups(uow, person)
    if request.args:
        await request.reply(request.t("leave.done", group=group.name))
    elif groups:
        await request.reply(request.t("leave.choose"), [[(g.name, p.LeaveGroup(g.id))] for g in groups])
    else:
        raise Refusal("leave.no_groups")


async def leave_pressed(request: Request) -> None:
    """A group button from /leave."""
    assert isinstance(request.payload, p.LeaveGroup)
    uow, person = await request.uow(), await request.person()
    group = await membership.get_group(uow, request.payload.group_id)
    await membership.leave(uow, person, group, request.now())
    await request.edit(rows=())
    await request.reply(request.t("leave.done", group=group.name))


@action
async def show_pending(request: Request) -> None:
    """Open join requests, each with approve and reject buttons."""
    pending = await membership.pending_requests(await request.uow(), await request.person(), request.settings)
    await show_requests(request, pending)


async def show_requests(request: Request, pending: list[Membership]) -> None:
    if not pending:
        await request.reply(request.t("pending.none"))
        return
    await request.reply(request.t("pending.title", count=len(pending)))
    for m in pending[:PENDING_SHOWN]:
        await request.reply(request_card(request, request.lang, m), decision_buttons(request, m))
    if len(pending) > PENDING_SHOWN:
        await request.reply(request.t("pending.more", count=len(pending) - PENDING_SHOWN))


def decision_buttons(request: Request, m: Membership) -> list[list[tuple[str, p.Payload]]]:
    return [
        [
            (request.label("decide.approve_button"), p.DecideRequest(m.id, True)),
            (request.label("decide.reject_button"), p.DecideRequest(m.id, False)),
        ]
    ]


@action
async def approve_request(request: Request) -> None:
    """`/approve <user> [group]`."""
    await decide_by_command(request, approve=True)


@action
async def reject_request(request: Request) -> None:
    """`/reject <user> [group]`."""
    await decide_by_command(request, approve=False)


async def decide_by_command(request: Request, approve: bool) -> None:
    """With a user: decide their request (`/reject <user> [group] | <reason>`: with
    a reason the person reads). Without: the open requests as cards."""
    uow, me = await request.uow(), await request.person()
    if request.args:
        head, _, reason = " ".join(request.args).partition("|")
        words = head.split() or [""]
        group_text = " ".join(words[1:]) or None
        result = await membership.decide_by_reference(
            uow, me, words[0], group_text, approve, request.settings, request.now(), None if approve else reason
        )
    else:
        pending = await membership.pending_requests(uow, me, request.settings)
    if not request.args:
        if pending:
            await request.reply(request.t("decide.usage_approve" if approve else "decide.usage_reject"))
        await show_requests(request, pending)
    elif result.decided is not None:
        await request.reply(outcome_line(request, result.decided))
        await tell_decision(request, result.decided)
    else:
        await request.reply(request.t("decide.which_group", name=people.name_of(result.person)))
        for m in result.choices:
            await request.reply(request_card(request, request.lang, m), decision_buttons(request, m))


async def decision_pressed(request: Request) -> None:
    """Approve from a request card at once; "Ablehnen" first asks for an optional
    reason and a confirmation (nothing is decided yet)."""
    assert isinstance(request.payload, p.DecideRequest)
    uow, me = await request.uow(), await request.person()
    try:
        if request.payload.approve:
            decided = await membership.decide(
                uow, me, request.payload.membership_id, True, request.settings, request.now()
            )
        else:
            asked = await membership.ask_reject_reason(uow, me, request.payload.membership_id, request.settings)
    except Refusal as refusal:
        if refusal.key == "decide.already_decided":
            await request.edit(rows=())
        raise
    if not request.payload.approve:
        await request.answer()
        await request.reply(
            request.t("decide.reason_ask", name=people.name_of(asked.person), group=asked.group.name),
            [
                [
                    (request.label("decide.skip_reason_button"), p.RejectRequest(asked.id, "skip")),
                    (request.label("decide.keep_button"), p.RejectRequest(asked.id, "no")),
                ]
            ],
        )
        return
    card = request_card(request, request.lang, decided)
    await request.answer(request.label(f"status.{decided.status.value}"))
    await request.edit(card + "\n\n" + outcome_line(request, decided))
    await tell_decision(request, decided)


def reject_confirmation(request: Request, m: Membership, reason: str | None) -> tuple[Html, Rows]:
    """The question before a rejection: whose request, which reason, and the two buttons."""
    text = request.t(
        "decide.reject_confirm",
        name=people.name_of(m.person),
        group=m.group.name,
        reason=reason or request.t("decide.no_reason"),
    )
    rows = [
        [
            (request.label("decide.confirm_button"), p.RejectRequest(m.id, "yes")),
            (request.label("decide.keep_button"), p.RejectRequest(m.id, "no")),
        ]
    ]
    return text, rows


async def reject_reason_text(request: Request, text: str) -> None:
    """The reason typed after "Ablehnen": shown back with the confirmation."""
    uow, me = await request.uow(), await request.person()
    m = await membership.note_reject_reason(uow, me, text, request.settings)
    question, rows = reject_confirmation(request, m, membership.reason_noted(me, m.id))
    await request.reply(question, rows)


async def reject_step_pressed(request: Request) -> None:
    """ "Ohne Grund", "Ja, ablehnen" or "Abbrechen" after "Ablehnen"."""
    assert isinstance(request.payload, p.RejectRequest)
    uow, me = await request.uow(), await request.person()
    membership_id, step = request.payload.membership_id, request.payload.action
    if step == "skip":
        m = await membership.open_request(uow, me, membership_id, request.settings)
        question, rows = reject_confirmation(request, m, None)
        await request.edit(question, rows)
    elif step == "yes":
        decided = await membership.confirm_reject(uow, me, membership_id, request.settings, request.now())
        await request.answer(request.label("status.rejected"))
        await request.edit(outcome_line(request, decided))
        await tell_decision(request, decided)
    elif step == "no":
        m = await membership.keep_request(uow, me, membership_id, request.settings)
        await request.edit(request.t("decide.kept", name=people.name_of(m.person), group=m.group.name))
    else:
        raise Refusal("buttons.stale")


def outcome_line(request: Request, m: Membership) -> Html:
    if m.status is MembershipStatus.APPROVED:
        return request.t("decide.approved", name=people.name_of(m.person), group=m.group.name)
    if m.reason:
        return request.t("decide.rejected_reason", name=people.name_of(m.person), group=m.group.name, reason=m.reason)
    return request.t("decide.rejected", name=people.name_of(m.person), group=m.group.name)


async def tell_decision(request: Request, m: Membership) -> None:
    """Tell the person who asked what the coordination decided (and why, when a
    reason was given)."""
    if m.status is MembershipStatus.APPROVED:
        request.wake_deliveries()  # open recommendations reach the new member at once
    if m.person.telegram_id is None:
        return
    lang = await request.language_of(m.person.telegram_id)
    texts = request.runtime.texts
    if m.status is MembershipStatus.APPROVED:
        text = render(texts, lang, "decide.you_approved", group=m.group.name)
    elif m.reason:
        text = render(texts, lang, "decide.you_rejected_reason", group=m.group.name, reason=m.reason)
    else:
        text = render(texts, lang, "decide.you_rejected", group=m.group.name)
    await request.notify(m.person.telegram_id, text)


@action
async def list_members(request: Request) -> None:
    """`/members [group]`: members with organisation and status."""
    uow = await request.uow()
    listing = await membership.members(uow, await request.person(), request.settings, " ".join(request.args) or None)
    reached = await email.channels(uow, (m.person for _, found in listing for m in found), request.settings)
    await send_members(request, listing, reached)


async def send_members(
    request: Request, listing: list[tuple[Group, list[Membership]]], reached: dict[int, email.Channel]
) -> None:
    blocks = []
    for group, found in listing:
        lines = [
            request.t(
                "members.group", group=group.name, count=sum(m.status is MembershipStatus.APPROVED for m in found)
            )
        ]
        if not found:
            lines.append(request.t("members.empty"))
        for m in found:
            lines.append(member_line(request, m.person, m.status, reached.get(m.person.id)))
        blocks.append("\n".join(lines))
    for chunk in split_text("\n\n".join(blocks)):
        await request.reply(chunk)


def member_line(request: Request, person: Person, status: MembershipStatus, channel: email.Channel | None) -> Html:
    if person.unreachable_since is not None:
        state = Key("status.unreachable")
    else:
        state = Key(f"status.{status.value}")
    said = request.t(state)
    if channel is not None and request.settings.mail_on:
        # SPEC 15: each member's channels ("Telegram + E-Mail", "E-Mail (Telegram blockiert)", ...)
        said = request.t("email.member_status", status=said, channel=request.t(f"email.channel_{channel.value}"))
    return request.t(
        "members.line",
        name=people.name_of(person),
        organisation=person.organisation or request.t("members.no_organisation"),
        status=said,
    )


@action
async def create_invite(request: Request) -> None:
    """`/invite <group>`: a single-use deep link into the group."""
    uow, me = await request.uow(), await request.person()
    if request.args:
        invite = await membership.invite_to(uow, me, " ".join(request.args), request.settings, request.now())
        await send_invite(request, invite)
        return
    groups = await membership.groups_to_choose(uow, me, request.settings)
    await request.reply(request.t("invite.choose"), [[(g.name, p.InviteToGroup(g.id))] for g in groups])


async def invite_pressed(request: Request) -> None:
    assert isinstance(request.payload, p.InviteToGroup)
    uow, me = await request.uow(), await request.person()
    group = await membership.get_group(uow, request.payload.group_id)
    invite = await membership.create_invite(uow, me, group, request.settings, request.now())
    await request.edit(rows=())
    await send_invite(request, invite)


async def send_invite(request: Request, invite: Invite) -> None:
    link = f"https://t.me/{request.context.bot.username}?start={invite.token}"
    local = invite.expires_at.astimezone(request.settings.timezone)
    await request.reply(
        request.t("invite.created", group=invite.group.name, link=link, until=local.strftime("%d.%m.%Y"))
    )


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    table = {
        "groups": list_groups,
        "join": ask_to_join,
        "leave": leave_group,
        "pending": show_pending,
        "approve": approve_request,
        "reject": reject_request,
        "members": list_members,
        "invite": create_invite,
    }
    return [
        CommandHandler([name, *by_name(name).aliases], callback, filters=private)  # type: ignore[union-attr]  # every name listed here is in the command table
        for name, callback in table.items()
    ]


CALLBACKS = {
    p.JoinGroup: join_pressed,
    p.LeaveGroup: leave_pressed,
    p.DecideRequest: decision_pressed,
    p.RejectRequest: reject_step_pressed,
    p.InviteToGroup: invite_pressed,
}

TEXT_ANSWERS = {Step.REJECT_REASON: reject_reason_text}
