"""Administration handlers: /addgroup, /renamegroup, /archivegroup, /promote,
/demote, /remove, /log, each in one line or guided with buttons (the rules:
`bot.core.administration`)."""

from __future__ import annotations

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import administration, people
from bot.core.commands import by_name
from bot.core.people import Role
from bot.core.steps import Step
from bot.render.texts import Html
from bot.render.units import split_text
from handlers import payloads as p
from handlers.common import Request, action, render
from storage.admin_models import AuditEntry
from storage.models import Group, Membership, Person


@action
async def add_group(request: Request) -> None:
    """`/addgroup <slug> <name>` (or a name alone); without: asks for the name."""
    uow, me = await request.uow(), await request.person()
    if not request.args:
        administration.ask_new_group(me, request.settings)
        await request.reply(request.t("admin.addgroup_ask"))
        return
    group = await administration.add_group_from_text(uow, me, " ".join(request.args), request.settings, request.now())
    await request.reply(group_added(request, group))


async def new_group_text(request: Request, text: str) -> None:
    """The name typed in the guided /addgroup."""
    uow, me = await request.uow(), await request.person()
    group = await administration.new_group_text(uow, me, text, request.settings, request.now())
    await request.reply(group_added(request, group))


def group_added(request: Request, group: Group) -> Html:
    return request.t("admin.group_added", id=group.id, name=group.name, slug=group.slug)


def group_buttons(groups: list[Group], action_name: str) -> list[list[tuple[str, p.Payload]]]:
    return [[(g.name, p.AdminGroup(g.id, action_name))] for g in groups]


@action
async def rename_group(request: Request) -> None:
    """`/renamegroup <group> <new name>`; without: the groups as buttons."""
    uow, me = await request.uow(), await request.person()
    if request.args:
        group, old = await administration.rename_by_text(
            uow, me, " ".join(request.args), request.settings, request.now()
        )
        await request.reply(renamed(request, group, old))
        return
    groups = await administration.groups_to_choose(uow, me, request.settings)
    await request.reply(request.t("admin.rename_choose"), group_buttons(groups, "rename"))


async def new_name_text(request: Request, text: str) -> None:
    """The new name typed in the guided /renamegroup."""
    uow, me = await request.uow(), await request.person()
    group, old = await administration.new_name_text(uow, me, text, request.settings, request.now())
    await request.reply(renamed(request, group, old))


def renamed(request: Request, group: Group, old: str) -> Html:
    return request.t("admin.renamed", old=old, name=group.name, slug=group.slug)


@action
async def archive_group(request: Request) -> None:
    """`/archivegroup <group>`: asks for the confirmation; without: the groups as buttons."""
    uow, me = await request.uow(), await request.person()
    if request.args:
        group = await administration.group_to_archive(uow, me, " ".join(request.args), request.settings)
        await ask_archive(request, group)
        return
    groups = await administration.groups_to_choose(uow, me, request.settings)
    await request.reply(request.t("admin.archive_choose"), group_buttons(groups, "archive"))


async def ask_archive(request: Request, group: Group) -> None:
    sessions = await administration.upcoming_count(await request.uow(), group, request.now())
    await request.reply(
        request.t("admin.archive_confirm", name=group.name, sessions=sessions),
        [
            [
                (request.label("admin.archive_yes"), p.ConfirmArchive(group.id, True)),
                (request.label("admin.archive_no"), p.ConfirmArchive(group.id, False)),
            ]
        ],
    )


async def archive_pressed(request: Request) -> None:
    """ "Ja, archivieren" or "Abbrechen" under the question of /archivegroup."""
    assert isinstance(request.payload, p.ConfirmArchive)
    uow, me = await request.uow(), await request.person()
    if not request.payload.archive:
        group = await administration.active_group(uow, me, request.payload.group_id, request.settings)
        await request.edit(request.t("admin.archive_kept", name=group.name))
        return
    group = await administration.group_of_button(uow, me, request.payload.group_id, request.settings)
    # No reason is stored: each member reads "the group was archived" in their own language (render_session).
    result = await administration.archive_group(uow, me, group.id, request.settings, request.now())
    await request.answer()
    await request.edit(
        request.t(
            "admin.archived",
            name=result.group.name,
            sessions=result.cancelled,
            requests=len(result.closed_requests),
        )
    )
    for m in result.closed_requests:
        if m.person.telegram_id is not None:
            lang = await request.language_of(m.person.telegram_id)
            text = render(request.runtime.texts, lang, "admin.archived_request", group=result.group.name)
            await request.notify(m.person.telegram_id, text)
    request.wake_deliveries()


async def group_pressed(request: Request) -> None:
    """A group chosen in the guided /renamegroup, /archivegroup or /remove."""
    assert isinstance(request.payload, p.AdminGroup)
    uow, me = await request.uow(), await request.person()
    group_id, chosen = request.payload.group_id, request.payload.action
    if chosen == "rename":
        group = await administration.ask_new_name(uow, me, group_id, request.settings)
        await request.edit(rows=())
        await request.reply(request.t("admin.rename_ask", name=group.name, slug=group.slug))
    elif chosen == "archive":
        group = await administration.active_group(uow, me, group_id, request.settings)
        await request.edit(rows=())
        await ask_archive(request, group)
    elif chosen == "remove":
        group, found = await administration.members_to_remove(uow, me, group_id, request.settings)
        await request.edit(rows=())
        if not found:
            await request.reply(request.t("admin.remove_nobody", group=group.name))
            return
        await request.reply(
            request.t("admin.remove_choose_member", group=group.name),
            [[(people.name_of(m.person), p.RemoveMember(m.id, "ask"))] for m in found],
        )
    else:
        await administration.active_group(uow, me, group_id, request.settings)
        await request.answer(request.label("buttons.stale"))


@action
async def remove_member(request: Request) -> None:
    """`/remove <user> <group|all> [| <reason>]`; without: groups, then members as buttons."""
    uow, me = await request.uow(), await request.person()
    if request.args:
        found = await administration.remove_by_text(uow, me, " ".join(request.args), request.settings, request.now())
        for m in found:
            await removed(request, m)
        return
    groups = await administration.groups_to_choose(uow, me, request.settings)
    await request.reply(request.t("admin.remove_choose_group"), group_buttons(groups, "remove"))


async def remove_pressed(request: Request) -> None:
    """A member chosen in the guided /remove (then asked), or the answer to the question."""
    assert isinstance(request.payload, p.RemoveMember)
    uow, me = await request.uow(), await request.person()
    membership_id, step = request.payload.membership_id, request.payload.action
    if step == "yes":
        m = await administration.remove(uow, me, membership_id, None, request.settings, request.now())
        await request.answer()
        await request.edit(rows=())
        await removed(request, m)
        return
    m = await administration.membership_to_remove(uow, me, membership_id, request.settings)
    name, group = people.name_of(m.person), m.group.name
    if step == "no":
        await request.edit(request.t("admin.remove_kept", name=name, group=group))
        return
    await request.edit(
        request.t("admin.remove_confirm", name=name, group=group),
        [
            [
                (request.label("admin.remove_yes"), p.RemoveMember(m.id, "yes")),
                (request.label("admin.remove_no"), p.RemoveMember(m.id, "no")),
            ]
        ],
    )


async def removed(request: Request, m: Membership) -> None:
    """Say what was done, and tell the person politely (with the reason, if any)."""
    name = people.name_of(m.person)
    await request.reply(request.t("admin.removed", name=name, group=m.group.name))
    if m.person.telegram_id is None:
        return
    lang = await request.language_of(m.person.telegram_id)
    texts = request.runtime.texts
    text = render(texts, lang, "admin.you_removed", group=m.group.name)
    if m.reason:
        text = Html(text + "\n" + render(texts, lang, "admin.reason_line", reason=m.reason))
    await request.notify(m.person.telegram_id, text)


@action
async def promote(request: Request) -> None:
    """`/promote <user>`; without: the members who are not coordinators as buttons."""
    await set_coordinator_by_command(request, promote=True)


@action
async def demote(request: Request) -> None:
    """`/demote <user>`; without: the promoted coordinators as buttons."""
    await set_coordinator_by_command(request, promote=False)


async def set_coordinator_by_command(request: Request, promote: bool) -> None:
    uow, me = await request.uow(), await request.person()
    if request.args:
        person = await administration.person_by_reference(uow, me, " ".join(request.args), request.settings)
        await set_coordinator(request, person, promote)
        return
    if promote:
        found = await administration.promotable(uow, me, request.settings)
    else:
        found = await administration.demotable(uow, me, request.settings)
    prefix = "admin.promote" if promote else "admin.demote"
    if not found:
        await request.reply(request.t(f"{prefix}_none"))
        return
    await request.reply(
        request.t(f"{prefix}_choose"),
        [[(person_label(person), p.SetCoordinator(person.id, promote))] for person in found],
    )


def person_label(person: Person) -> str:
    name = people.name_of(person)
    return f"{name} ({person.organisation})" if person.organisation else name


async def coordinator_pressed(request: Request) -> None:
    """A person chosen in the guided /promote or /demote."""
    assert isinstance(request.payload, p.SetCoordinator)
    uow, me = await request.uow(), await request.person()
    person = await administration.person_by_id(uow, me, request.payload.person_id, request.settings)
    await set_coordinator(request, person, request.payload.promote)
    await request.answer()
    await request.edit(rows=())


async def set_coordinator(request: Request, person: Person, promote: bool) -> None:
    uow, me = await request.uow(), await request.person()
    if promote:
        await administration.promote(uow, me, person, request.settings, request.now())
    else:
        await administration.demote(uow, me, person, request.settings, request.now())
    key = "promoted" if promote else "demoted"
    await request.reply(request.t(f"admin.{key}", name=people.name_of(person)))
    if person.telegram_id is not None:
        await request.set_menu(person.telegram_id, Role.COORDINATOR if promote else Role.MEMBER)
    if person.telegram_id is not None and person.id != me.id:
        lang = await request.language_of(person.telegram_id)
        await request.notify(person.telegram_id, render(request.runtime.texts, lang, f"admin.you_{key}"))


@action
async def show_log(request: Request) -> None:
    """`/log [n]`: the newest n entries of the audit log (default 20)."""
    entries = await administration.latest_entries(
        await request.uow(), await request.person(), " ".join(request.args), request.settings
    )
    if not entries:
        await request.reply(request.t("admin.log_empty"))
        return
    lines = [request.t("admin.log_title", count=len(entries))]
    lines += [log_line(request, entry) for entry in entries]
    for chunk in split_text("\n".join(lines)):
        await request.reply(chunk)


def log_line(request: Request, entry: AuditEntry) -> Html:
    """One entry in words: when (local time), who, what (`audit.<object>_<verb>`)."""
    when = entry.at.astimezone(request.settings.timezone).strftime("%d.%m.%Y %H:%M")
    actor = people.name_of(entry.actor) if entry.actor is not None else request.t("admin.log_former")
    detail = dict(entry.detail or {})
    key = "audit." + entry.action.replace(".", "_")
    what: Html | None = None
    if key in request.runtime.texts.catalogs.get(request.lang, {}):
        try:
            what = request.t(key, **{**detail, "id": entry.object_id if entry.object_id is not None else ""})
        except (KeyError, IndexError, ValueError):
            what = None  # a text that needs more than the entry kept: the plain form below
    if what is None:
        what = request.t("admin.log_generic", action=entry.action, object=entry.object_type, id=entry.object_id)
    if detail.get("reason"):
        what = Html(what + " " + request.t("admin.log_reason", reason=detail["reason"]))
    return request.t("admin.log_line", when=when, actor=actor, what=what)


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    table = {
        "addgroup": add_group,
        "renamegroup": rename_group,
        "archivegroup": archive_group,
        "promote": promote,
        "demote": demote,
        "remove": remove_member,
        "log": show_log,
    }
    return [
        CommandHandler([name, *by_name(name).aliases], callback, filters=private)  # type: ignore[union-attr]  # every name listed here is in the command table
        for name, callback in table.items()
    ]


TEXT_ANSWERS = {Step.GROUP_NEW: new_group_text, Step.GROUP_RENAME: new_name_text}

CALLBACKS = {
    p.AdminGroup: group_pressed,
    p.ConfirmArchive: archive_pressed,
    p.RemoveMember: remove_pressed,
    p.SetCoordinator: coordinator_pressed,
}
