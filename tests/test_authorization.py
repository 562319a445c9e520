"""Who may use which command: generated from the command table (`bot.core.commands`).

Every coordinator command, with and without typical arguments, is refused for
a guest, a member of another group, a member of the group it names and a
coordinator who was promoted and then demoted, with the same answer and with
the database exactly as before. The configured coordinator and a promoted one
are not refused any of them; every button is tried the same way. Rights come
from the numeric user id and the database only: a guest who takes the
coordinator's username and name gains nothing.
"""

from __future__ import annotations

import html
import re
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.commands import COMMANDS
from bot.core.people import Role
from bot.render.texts import Texts
from handlers import email_payloads as ep
from handlers import followup_payloads as fp
from handlers import payloads as p
from handlers import tracking_payloads as tp
from storage.followup_models import Deputy, Minutes, MinutesItem, MinutesStatus, Task, TaskStatus
from storage.models import (
    AgendaItem,
    AgendaStatus,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Group,
    Membership,
    MembershipStatus,
    Occurrence,
    Person,
    Recommendation,
    RecommendationStatus,
    Rsvp,
    RsvpAnswer,
    Stance,
)
from storage.tracking_models import RecommendationResult, Tracking, TrackStatus
from tests import harness
from tests.factories import registered

ARGS = {
    "pending": "",
    "approve": "@gast_g",
    "reject": "@gast_g",
    "members": "ak-eu",
    "invite": "ak-eu",
    "meeting": "ak-eu 10.12.2026 14:00 Auftakt | Rathaus",
    "reschedule": "1 11.12.2026 15:00",
    "cancel": "1",
    "recommend": "ak-eu Mehr Sprachkurse am Abend",
    "digest": "all 30d",
    "report": "2026-H2",
    "remove": "@mira_m ak-eu",
    "addgroup": "ak-wohnen AK Wohnen",
    "renamegroup": "ak-eu AK EU-Zuwanderung",
    "archivegroup": "ak-eu",
    "promote": "@olga_o",
    "demote": "@paul_p",
    "log": "5",
    "announce": "ak-eu Die nächste Sitzung fällt aus.",
    "attendance": "1",
    "sheet": "1",
    "minutes": "1",
    "track": "1",
}
COORDINATOR_COMMANDS = [c for c in COMMANDS if c.role is Role.COORDINATOR]
REFUSED = "Das darf nur die KIM-Koordination. Es wurde nichts geändert."


def test_every_coordinator_command_has_typical_arguments_here() -> None:
    assert {c.name for c in COORDINATOR_COMMANDS} <= set(ARGS), "a new command needs a line in ARGS"


@pytest.fixture
async def people(bot, coordinator):  # type: ignore[no-untyped-def]
    """A guest (registered, in no group), a member of AK Ehrenamt, a member of AK EU,
    a member of AK EU who was a coordinator until demoted, a promoted coordinator
    (Paul), and one AK EU session (#1), so that every command has something to act on."""
    guest = await bot.person("Gast", username="gast_g")
    await guest.register()
    await guest.send("/join ak-eu")  # a pending request the members must not decide
    other = await bot.person("Olga", username="olga_o")
    await other.register()
    await other.send("/join ak-ehrenamt")
    await coordinator.send("/approve @olga_o")
    member = await bot.person("Mira", username="mira_m")
    await member.register()
    await member.send("/join ak-eu")
    await coordinator.send("/approve @mira_m")
    demoted = await bot.person("Dora", username="dora_d")
    await demoted.register()
    await demoted.send("/join ak-eu")
    await coordinator.send("/approve @dora_d")
    await coordinator.send("/promote @dora_d")
    await coordinator.send("/demote @dora_d")
    promoted = await bot.person("Paul", username="paul_p")
    await promoted.register()
    await coordinator.send("/promote @paul_p")
    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Auftakt")
    await bot.tick()
    return {
        "guest": guest,
        "member of another group": other,
        "member": member,
        "demoted coordinator": demoted,
        "promoted": promoted,
    }


REFUSED_ROLES = ("guest", "member of another group", "member", "demoted coordinator")


@pytest.mark.parametrize("command", COORDINATOR_COMMANDS, ids=lambda c: c.name)
async def test_coordinator_commands_are_refused_for_everyone_else(bot, coordinator, people, command) -> None:  # type: ignore[no-untyped-def]
    for who in REFUSED_ROLES:
        person = people[who]
        for name in (command.name, *command.aliases):
            for args in ("", ARGS[command.name]):
                before = await bot.every_row()
                text = f"/{name} {args}".strip()
                replies = await person.send(text)
                assert [r.text for r in replies] == [REFUSED], f"{who}: {text}"
                assert await bot.every_row() == before, f"{who}: {text} changed the database"
    nobody_else = [m for p in people.values() for m in p.messages if "Einladung" in m.text and "Rathaus" in m.text]
    assert nobody_else == [], "no session was scheduled by a refused command"

    for who, person in (("promoted", people["promoted"]), ("coordinator", coordinator)):
        for args in ("", ARGS[command.name]):
            replies = await person.send(f"/{command.name} {args}".strip())
            assert replies and all(r.text != REFUSED for r in replies), f"the {who} may /{command.name} {args}"


async def test_a_copied_name_and_username_give_no_rights(bot, coordinator) -> None:  # type: ignore[no-untyped-def]
    impostor = await bot.person("Sabine", username="sabine_kim_", last_name="Weber")
    await impostor.register(name="Sabine Weber")
    for text in ("/pending", "/approve @sabine_kim", "/members ak-eu"):
        assert [r.text for r in await impostor.send(text)] == [REFUSED]


async def test_email_is_for_everyone_registered_and_touches_only_their_own_data(bot, coordinator, people) -> None:  # type: ignore[no-untyped-def]
    """`/email` (SPEC 15) is no coordinator command: nobody is refused it, and without
    e-mail set up it changes nothing for anyone."""
    for who, person in (*people.items(), ("coordinator", coordinator)):
        for text in ("/email", "/mail", "/email ana@example.org", "/email off"):
            before = await bot.every_row()
            replies = await person.send(text)
            assert replies and all(r.text != REFUSED for r in replies), f"{who}: {text}"
            if text != "/email off":
                assert await bot.every_row() == before, f"{who}: {text} changed the database"


# --- buttons ---------------------------------------------------------------------
#
# Every payload type of `handlers.payloads`, pressed with data that points at real
# objects: a pending join request, a session, two agenda items, a recommendation.
# `may` names who may press it: who is not in it is refused (one polite answer,
# the database exactly as before, nobody else told anything); who is in it is not
# refused. ANYONE: the button acts on the presser's own data only (registration,
# language, joining, leaving, /forget); pressed out of turn it may be refused, and
# in no case does anyone gain a right.

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
ROLES = ("guest", "other", "member", "demoted", "promoted", "coordinator")
ANYONE = frozenset(ROLES)
COORDINATION = frozenset({"coordinator"})
MEMBER = frozenset({"member"})
GROUP = frozenset({"member", "coordinator"})
"""The member of AK EU, the group every object belongs to, and the coordination."""


def allowed(press: Press) -> frozenset[str]:
    """Who may press: a promoted coordinator may whatever the configured one may
    (`may` names the configured one; `test_buttons_work_for_a_promoted_coordinator`
    presses them as the promoted one)."""
    return press.may | {"promoted"} if "coordinator" in press.may and press.promoted else press.may


@dataclass(frozen=True)
class Press:
    data: str
    """The callback data; `{name}` fields are ids of the fixture's objects (`World.ids`)."""
    may: frozenset[str]
    before: str | None = None
    """What each presser sends first, to be at the step where the button is offered."""
    ok: str = ""
    """Part of what someone in `may` is answered (reply or notice): it was done."""
    promoted: bool = True
    """Whether a promoted coordinator may press it when the configured one may
    (not so for what only the author of an item may do)."""


BUTTONS: dict[type[p.Payload], tuple[Press, ...]] = {
    p.AcknowledgePrivacy: (Press("pv", ANYONE),),
    p.UseTelegramName: (Press("nm", ANYONE),),
    p.SkipOrganisation: (Press("os", ANYONE),),
    p.ConfirmForget: (Press("fg:0", ANYONE), Press("fg:1", ANYONE)),
    p.JoinGroup: (Press("jn:{ak_eu}", ANYONE),),
    p.LeaveGroup: (Press("lv:{ak_eu}", ANYONE),),
    p.ChooseLanguage: (Press("lg:en", ANYONE),),
    p.MenuCommand: (  # the menu for unexpected text runs the command, which checks for itself
        Press("mu:groups", ANYONE),
        Press("mu:help", ANYONE),
        Press("mu:meetings", ANYONE),
        Press("mu:feedback", ANYONE),
        Press("mu:join", ANYONE),
        Press("mu:pending", frozenset()),  # not a menu command: refused for everyone
    ),
    p.DecideRequest: (
        Press("dr:{request}:1", COORDINATION, ok="Mitglied"),
        Press("dr:{request}:0", COORDINATION, ok="einen Grund nennen"),
    ),
    p.RejectRequest: (
        Press("rj:{request}:skip", COORDINATION, ok="wirklich ablehnen?"),
        Press("rj:{request}:no", COORDINATION, ok="bleibt offen"),
        Press("rj:{request}:yes", COORDINATION, ok="ist abgelehnt"),
    ),
    p.AdminGroup: (
        Press("gx:{ak_eu}:rename", COORDINATION, ok="künftig heißen"),
        Press("gx:{ak_eu}:archive", COORDINATION, ok="Gruppe AK EU archivieren?"),
        Press("gx:{ak_eu}:remove", COORDINATION, ok="aus AK EU herausnehmen?"),
    ),
    p.ConfirmArchive: (
        Press("ga:{ak_eu}:0", COORDINATION, ok="bleibt aktiv"),
        Press("ga:{ak_eu}:1", COORDINATION, ok="ist archiviert"),
    ),
    p.RemoveMember: (
        Press("mx:{membership}:ask", COORDINATION, ok="Mira aus AK EU herausnehmen?"),
        Press("mx:{membership}:no", COORDINATION, ok="Mira bleibt in AK EU"),
        Press("mx:{membership}:yes", COORDINATION, ok="Mira ist nicht mehr in AK EU"),
    ),
    p.SetCoordinator: (
        Press("pc:{olga}:1", COORDINATION, ok="Olga gehört jetzt zur KIM-Koordination"),
        Press("pc:{paul}:0", COORDINATION, ok="Paul gehört nicht mehr zur KIM-Koordination"),
    ),
    p.InviteToGroup: (Press("iv:{ak_eu}", COORDINATION, ok="Einladungslink für AK EU"),),
    p.Answer: (
        Press("rs:{session}:yes", MEMBER, ok="Gespeichert: Zusage"),
        Press("rs:{session}:no", MEMBER, ok="Gespeichert: Absage"),
    ),
    p.CalendarFile: (Press("ic:{session}", GROUP, ok="in Ihren Kalender"),),
    p.OpenSession: (Press("so:{session}", GROUP, ok="Auftakt"),),
    p.CardAnswer: (Press("ra:{session}:yes", MEMBER, ok="Gespeichert: Zusage"),),
    p.ChangeProfile: (Press("pf:name", ANYONE), Press("pf:no-organisation", ANYONE)),
    p.MeetingForGroup: (Press("mg:{ak_eu}", COORDINATION, ok="Sitzung für AK EU"),),
    p.MeetingDay: (Press("md:{ak_eu}:20261210", COORDINATION, ok="Um wie viel Uhr"),),
    p.MeetingTime: (Press("mt:{ak_eu}:20261210:1400", COORDINATION, ok="Wie heißt die Sitzung"),),
    p.MeetingNoPlace: (Press("mn", COORDINATION, ok="nicht mehr offen"),),  # no draft: nothing to do
    p.SendMeeting: (Press("ms", COORDINATION, ok="nicht mehr offen"),),  # no draft: nothing is sent
    p.DropSessionDraft: (Press("sa", COORDINATION, ok="Abgebrochen"),),
    p.MoveSession: (Press("vs:{session}", COORDINATION, ok="Auf welchen Tag"),),
    p.MoveDay: (Press("vd:{session}:20261217", COORDINATION, ok="Um wie viel Uhr"),),
    p.MoveTime: (Press("vt:{session}:20261217:1500", COORDINATION, ok="verschieben?"),),
    p.ConfirmMove: (Press("vc:{session}:20261217:1500", COORDINATION, ok="ist verschoben"),),
    p.CancelSession: (Press("xs:{session}", COORDINATION, ok="einen Grund nennen"),),
    p.CancelNoReason: (Press("xn:{session}", COORDINATION, ok="wirklich absagen"),),
    p.ConfirmCancel: (
        Press("xc:{session}:0", COORDINATION, ok="ist abgesagt"),
        Press("xc:{session}:1", COORDINATION, ok="nicht mehr offen"),  # the typed reason is gone
    ),
    p.ProposeItem: (
        Press("ap:{ak_eu}", GROUP, ok="Welches Thema möchten Sie für AK EU"),
        Press("ap:0", frozenset({"other", "member", "coordinator"}), ok="Für welche Gruppe"),
    ),
    p.ItemForGroup: (Press("ag:{ak_eu}", GROUP, before="/agenda Unser Thema", ok="„Unser Thema“"),),
    p.OpenItem: (
        Press("ai:{item_of_member}", GROUP, ok="„Bericht aus der Beratung“"),
        Press("ai:{item_of_coordinator}", GROUP, ok="„Haushalt 2027“"),
    ),
    p.ItemAction: (
        Press("ia:{item_of_member}:edit", MEMBER, ok="den neuen Text"),
        Press("ia:{item_of_member}:withdraw", MEMBER, ok="zurückgezogen"),
        Press("ia:{item_of_coordinator}:edit", COORDINATION, ok="den neuen Text", promoted=False),
        Press("ia:{item_of_coordinator}:withdraw", COORDINATION, ok="zurückgezogen", promoted=False),
        Press("ia:{item_of_member}:accept", COORDINATION, ok="ist angenommen"),
        Press("ia:{item_of_member}:reject", COORDINATION, ok="Warum lehnen Sie"),
        Press("ia:{item_of_member}:defer", COORDINATION, ok="ist vertagt"),  # older cards
        Press("ia:{item_of_member}:defer-{session}", COORDINATION, ok="ist vertagt"),
        Press("ia:{item_of_member}:up", COORDINATION, ok="Nach oben verschoben"),
        Press("ia:{item_of_coordinator}:down", COORDINATION, ok="Nach unten verschoben"),
    ),
    p.RecommendTo: (
        Press("rt:{ak_eu}", COORDINATION, ok="Empfehlung an AK EU"),
        Press("rt:0", COORDINATION, ok="Empfehlung an alle Gruppen"),
    ),
    p.GiveStance: (
        Press("st:{recommendation}:agree", MEMBER, ok="Gespeichert: Zustimmung"),
        Press("st:{recommendation}:reject", MEMBER, ok="Gespeichert: Ablehnung"),
    ),
    p.WriteComment: (Press("cm:{recommendation}", MEMBER, ok="Ihren Kommentar zu Empfehlung"),),
    p.OpenRecommendation: (Press("ro:{recommendation}", COORDINATION, ok="Ohne Antwort: 1 von 1"),),
    p.CloseRecommendation: (Press("rc:{recommendation}", COORDINATION, ok="Wie hat der Lenkungskreis"),),
    p.RecommendationPreview: (
        Press("rv:send:1", COORDINATION, ok="nichts mehr zu senden"),  # nothing prepared: nothing is sent
        Press("rv:cancel:1", COORDINATION, ok="nichts mehr zu senden"),
    ),
    p.AfterDeadline: (
        Press("rd:{recommendation}:remind", COORDINATION, ok="wird erinnert"),
        Press("rd:{recommendation}:extend", COORDINATION, ok="Bis wann soll die neue Frist"),
    ),
    p.NewDeadline: (Press("rn:{recommendation}:7:0", COORDINATION, ok="geht jetzt bis"),),
    p.AnnounceTo: (
        Press("an:{ak_eu}", COORDINATION, ok="Mitteilung an AK EU"),
        Press("an:0", COORDINATION, ok="Mitteilung an alle Gruppen"),
    ),
    p.AnnouncementPreview: (
        Press("av:send:1", COORDINATION, ok="nichts mehr zu senden"),
        Press("av:cancel:1", COORDINATION, ok="nichts mehr zu senden"),
    ),
    p.ReportFor: (Press("rp:2026:2", COORDINATION, ok="Halbjahresbericht 2. Halbjahr 2026"),),
    p.ReportNotes: (Press("bn:2026:2", COORDINATION, ok="Notizen zum Bericht"),),
    p.ReportNoteFor: (Press("bg:2026:2:{ak_eu}", COORDINATION, ok="die Notiz zu AK EU"),),
    p.ReportNoteDelete: (Press("bx:2026:2:{ak_eu}", COORDINATION, ok="Zu AK EU gibt es"),),
    # attendance: session #1 starts on 10.12.; at START its window has not opened yet
    fp.CheckIn: (Press("ha:{session}", MEMBER, ok="Sie können sich ab 13:30 Uhr anmelden"),),
    fp.AttendanceOpen: (Press("ho:{session}", COORDINATION, ok="erst ab"),),
    fp.AttendanceSet: (Press("hs:{session}:{mira}:2", COORDINATION, ok="erst ab"),),
    fp.AttendanceGuest: (Press("hg:{session}", COORDINATION, ok="erst ab"),),
    fp.AttendanceDone: (Press("hf:{session}", COORDINATION, ok="erst ab"),),
    fp.SheetFor: (Press("hl:{session}", COORDINATION, ok="Teilnahmeliste für Sitzung"),),
    # tasks: Mira's open task; the owner or the coordination may mark it done
    fp.TaskDone: (Press("td:{task_of_member}:one", GROUP, ok="rledigt"),),
    # deputies: Mira asked Gast to stand in for her (not answered yet, so nobody answers for her)
    fp.DecideDeputy: (
        Press("wa:{deputyship}:1", frozenset({"guest"}), ok="Sie vertreten jetzt Mira"),
        Press("wa:{deputyship}:0", frozenset({"guest"}), ok="abgelehnt"),
    ),
    fp.EndDeputy: (Press("we:{deputyship}", frozenset({"guest", "member"}), ok="beendet"),),
    fp.AnswerFor: (Press("wr:{session}:{mira}:0", frozenset()),),
    fp.StanceFor: (Press("ws:{recommendation}:{mira}:0", frozenset()),),
    fp.CalendarFor: (Press("wk:{session}:{mira}", frozenset()),),
    # minutes: those of session #1, in review; the draft went to Mira
    fp.MinutesFor: (Press("eo:{session}", COORDINATION, ok="Übersicht"),),
    fp.MinutesGo: (Press("eg:{minutes}:0", COORDINATION, ok="TOP 1 von 1"),),
    fp.MinutesAdd: (Press("ea:{minutes}", COORDINATION, ok="Wie heißt der neue"),),
    fp.MinutesCirculate: (Press("ec:{minutes}", COORDINATION, ok="schon zur Korrektur verschickt"),),
    fp.MinutesApprove: (
        Press("ef:{minutes}:0", COORDINATION, ok="freigeben?"),
        Press("ef:{minutes}:1", COORDINATION, ok="ist freigegeben"),
    ),
    fp.MinutesCorrect: (Press("ek:{minutes}", MEMBER, ok="Welche Korrektur"),),
    # tracking: the open recommendation is closed with a result; "tracked" was closed as adopted
    tp.ChooseResult: (
        Press("tr:{recommendation}:adopted", COORDINATION, ok="Sie haben gewählt: angenommen"),
        Press("tr:{recommendation}:noted", COORDINATION, ok="Sie haben gewählt: zur Kenntnis genommen"),
    ),
    tp.OpenTracking: (Press("to:{tracked}", COORDINATION, ok="Entscheidung des Lenkungskreises: angenommen"),),
    tp.ChangeTracking: (
        Press("tf:{tracked}:responsible", COORDINATION, ok="Wer ist für Empfehlung"),
        Press("tf:{tracked}:due", COORDINATION, ok="Bis wann soll Empfehlung"),
        Press("tf:{tracked}:review", COORDINATION, ok="(Wiedervorlage)?"),
        Press("tf:{tracked}:status", COORDINATION, ok="Wie ist der Stand"),
    ),
    tp.TrackingDate: (
        Press("tt:{tracked}:0:20270301", COORDINATION, ok="Gespeichert – Fällig bis: 01.03.2027"),
        Press("tt:{tracked}:1:20270301", COORDINATION, ok="Gespeichert – Wiedervorlage: 01.03.2027"),
    ),
    tp.TrackingStatus: (
        Press("ts:{tracked}:in-progress", COORDINATION, ok="Gespeichert – Stand: in Arbeit"),
        Press("ts:{tracked}:delayed", COORDINATION, ok="Warum verzögert sich"),
    ),
    tp.SkipTracking: (Press("tx:{tracked}", COORDINATION, ok="Es wurde nichts geändert"),),
    # /email (SPEC 15): the presser's own address only
    ep.ChooseMailMode: (Press("ml:all", ANYONE), Press("ml:fallback", ANYONE)),
    ep.RemoveAddress: (Press("mr:ask", ANYONE), Press("mr:yes", ANYONE), Press("mr:no", ANYONE)),
}
PRESSES = [(kind, press) for kind, presses in BUTTONS.items() for press in presses]

REFUSAL_KEYS = (
    "errors.coordinators_only",
    "errors.not_registered",
    "buttons.stale",
    "meetings.not_your_group",
    "agenda.no_groups",
    "agenda.not_your_group",
    "agenda.not_your_item_group",
    "agenda.not_author",
    "agenda.stale_choice",
    "recommendations.not_target",
    "tasks.not_yours",
    "deputies.not_yours",
    "deputies.not_deputy",
    "minutes.not_recipient",
)
"""The answers that say "not you" or "this button is not valid (any more)"."""


def _pattern(template: str) -> re.Pattern[str]:
    """A catalog text as a pattern for the plain text a person reads (tags
    removed, entities resolved, any value for each placeholder)."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(html.unescape(re.sub(r"<[^>]*>", "", literal))))
        if name is not None:
            parts.append(".+?")
    return re.compile("".join(parts), re.DOTALL)


_TEXTS = Texts()
REFUSALS = {key: _pattern(_TEXTS.catalogs["de"][key]) for key in REFUSAL_KEYS}


def refusal(text: str | None) -> str | None:
    """The refusal key `text` is, or None."""
    return next((key for key, pattern in REFUSALS.items() if text and pattern.fullmatch(text)), None)


def test_every_button_type_has_realistic_data_here() -> None:
    assert set(BUTTONS) == set(p.Payload.registry.values()), "a new button type needs a line in BUTTONS"
    ids = dict.fromkeys(
        (
            "ak_eu",
            "request",
            "session",
            "item_of_member",
            "item_of_coordinator",
            "recommendation",
            "membership",
            "olga",
            "paul",
            "mira",
            "task_of_member",
            "deputyship",
            "minutes",
            "tracked",
        ),
        7,
    )
    for kind, press in PRESSES:
        assert isinstance(p.Payload.decode(press.data.format(**ids)), kind), press.data
        assert press.ok or press.may in (ANYONE, frozenset()), f"{press.data}: what does a rightful press answer?"


@dataclass
class World:
    people: dict[str, harness.Person]
    ids: dict[str, int]


@pytest.fixture
async def world(bot, coordinator) -> World:  # type: ignore[no-untyped-def]
    """Gast: registered, a pending request for AK EU. Olga: member of AK Ehrenamt and
    AK Arbeitsmarkt. Mira: member of AK EU and AG Süd-Ost-Europa. Dora: registered,
    promoted and demoted again. Paul: registered, promoted to the coordination. In
    AK EU: session #1 with an item by Mira and one by the coordination, and a
    recommendation.

    The three are registered by the factory, and Mira joins AK EU after the session
    and the recommendation were sent (to nobody), to keep sixty fixtures quick: no
    broadcast to wait for. Who may answer is decided from the memberships of now."""
    bot.clock.set(START)
    found = {"coordinator": coordinator}
    for role, name in (
        ("guest", "Gast"),
        ("other", "Olga"),
        ("member", "Mira"),
        ("demoted", "Dora"),
        ("promoted", "Paul"),
    ):
        found[role] = await bot.person(name, username=f"{name.lower()}_x")

    async def members(uow, role: str, slugs: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
        person = await uow.people.by_telegram_id(found[role].id)
        for slug in slugs:
            uow.memberships.add(
                Membership(
                    person=person,
                    group_id=groups[slug],
                    status=MembershipStatus.APPROVED,
                    requested_at=START,
                    decided_at=START,
                )
            )

    async with bot.db.uow() as uow:
        groups = {g.slug: g.id for g in await uow.groups.active()}
        for role in ("guest", "other", "member", "demoted", "promoted"):
            registered(uow, found[role].id, found[role].user.first_name, START)
        await uow.commit()
    for command in (f"/promote {found['demoted'].id}", f"/demote {found['demoted'].id}"):
        await coordinator.send(command)
    await coordinator.send(f"/promote {found['promoted'].id}")
    async with bot.db.uow() as uow:
        await members(uow, "other", ("ak-ehrenamt", "ak-arbeitsmarkt"))
        await uow.commit()
    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Auftakt")
    await coordinator.send("/agenda ak-eu Haushalt 2027")
    await coordinator.send("/recommend ak-eu Mehr Sprachkurse am Abend")
    async with bot.db.uow() as uow:
        await members(uow, "member", ("ak-eu", "ag-soe"))
        await uow.commit()
    await found["member"].send("/agenda ak-eu Bericht aus der Beratung")
    await found["guest"].send("/join ak-eu")
    await found["other"].send("/groups")
    for role in ("demoted", "promoted"):
        await found[role].send("/groups")  # first contact: Telegram's username noted
    await bot.tick()
    async with bot.db.reader() as uow:
        session = uow.session
        request = (
            await session.execute(select(Membership).where(Membership.status == MembershipStatus.PENDING))
        ).scalar_one()
        items = (await session.execute(select(AgendaItem).order_by(AgendaItem.id))).scalars().all()
        ids = {
            "ak_eu": groups["ak-eu"],
            "request": request.id,
            "session": (await session.execute(select(Occurrence))).scalar_one().id,
            "item_of_member": items[1].id,
            "item_of_coordinator": items[0].id,
            "recommendation": (await session.execute(select(Recommendation))).scalar_one().id,
            "membership": (
                await session.execute(
                    select(Membership.id)
                    .join(Group, Group.id == Membership.group_id)
                    .join(Person, Person.id == Membership.person_id)
                    .where(Group.slug == "ak-eu", Person.telegram_id == found["member"].id)
                )
            ).scalar_one(),
        }
        for role, key in (("other", "olga"), ("promoted", "paul"), ("member", "mira"), ("guest", "guest")):
            row = (await session.execute(select(Person).where(Person.telegram_id == found[role].id))).scalar_one()
            ids[key] = row.id
        authors = [(await session.get(Person, i.author_id)).telegram_id for i in items]  # type: ignore[union-attr]
    assert authors == [coordinator.id, found["member"].id]
    async with bot.db.uow() as uow:  # an open task of Mira's from the minutes of session #1
        task = Task(group_id=ids["ak_eu"], occurrence_id=ids["session"], text="Flyer drucken", owner_id=ids["mira"])
        task.due_on, task.status, task.created_at = date(2026, 12, 20), TaskStatus.OPEN, START
        uow.session.add(task)
        await uow.flush()
        ids["task_of_member"] = task.id
        deputyship = Deputy(member_id=ids["mira"], deputy_id=ids["guest"], created_at=START)
        uow.session.add(deputyship)
        await uow.flush()
        ids["deputyship"] = deputyship.id
        minutes = Minutes(occurrence_id=ids["session"], status=MinutesStatus.REVIEW, created_at=START)
        minutes.circulated_at, minutes.review_until = START, START + timedelta(days=7)
        minutes.items = [MinutesItem(title="Haushalt 2027", position=1, decisions=[])]
        uow.session.add(minutes)
        await uow.flush()
        ids["minutes"] = minutes.id
        draft = Delivery(minutes_id=minutes.id, person_id=ids["mira"], kind=DeliveryKind.MINUTES_DRAFT, due_at=START)
        draft.status, draft.sent_at, draft.attempts = DeliveryStatus.SENT, START, 1
        uow.session.add(draft)
        # a recommendation closed as adopted: tracked (SPEC 14)
        tracked = Recommendation(text="Mehrsprachige Infoblätter", status=RecommendationStatus.CLOSED)
        tracked.created_at, tracked.closed_at, tracked.outcome = START, START, "Angenommen."
        tracked.groups = [await uow.groups.get(ids["ak_eu"])]  # type: ignore[list-item]
        uow.session.add(tracked)
        await uow.flush()
        ids["tracked"] = tracked.id
        uow.session.add(
            Tracking(
                recommendation_id=tracked.id,
                result=RecommendationResult.ADOPTED,
                status=TrackStatus.OPEN,
                review_revision=0,
                changed_at=START,
            )
        )
        await uow.commit()
    return World(found, ids)


@dataclass
class Pressed:
    replies: list[Any]
    notice: str | None
    answered: bool
    calls: list[str]
    """Bot API calls the emulator refused (a "not modified" edit is no fault)."""


async def press_as(bot, person: harness.Person, data: str) -> Pressed:  # type: ignore[no-untyped-def]
    """`person` presses a button with `data` under their newest message from the bot;
    the replies are the new messages, and the pressed message when the bot changed its text."""
    since = len(bot.emulator.calls)
    person.new()
    pressed, shown = person.last.message_id, person.last.text
    update_id = bot.emulator.press_data(person.user, pressed, data)
    await bot.settle()
    query = bot.emulator.callback_answer(update_id)
    refused = [
        f"{c.method}: {c.status} {c.description}"
        for c in bot.emulator.calls[since:]
        if c.status != 200 and "message is not modified" not in (c.description or "")
    ]
    replies = person.new()
    edited = [m for m in person.messages if m.message_id == pressed and m.text != shown]
    return Pressed(edited + replies, query.answer_text, query.answered, refused)


async def rights(bot) -> set[tuple[int | None, str]]:  # type: ignore[no-untyped-def]
    """Who holds which right: (Telegram id, group slug) for approved memberships,
    (Telegram id, "coordinator") for promoted coordinators."""
    async with bot.db.reader() as uow:
        rows = await uow.session.execute(
            select(Person.telegram_id, Group.slug)
            .join(Membership, Membership.person_id == Person.id)
            .join(Group, Group.id == Membership.group_id)
            .where(Membership.status == MembershipStatus.APPROVED)
        )
        held = {(telegram_id, slug) for telegram_id, slug in rows}
        promoted = await uow.session.execute(select(Person.telegram_id).where(Person.is_coordinator.is_(True)))
        held |= {(telegram_id, "coordinator") for (telegram_id,) in promoted}
    return held


def inboxes(bot) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {name: len(person.messages) for name, person in bot.people.items()}


@pytest.mark.parametrize(("kind", "press"), PRESSES, ids=[press.data for _, press in PRESSES])
async def test_buttons_are_refused_for_everyone_without_the_right(bot, world, kind, press) -> None:  # type: ignore[no-untyped-def]
    data = press.data.format(**world.ids)
    assert isinstance(p.Payload.decode(data), kind)
    for role in ROLES:
        if role in allowed(press):
            continue
        person = world.people[role]
        if press.before:
            await person.send(press.before)
        before, told, held = await bot.every_row(), inboxes(bot), await rights(bot)
        pressed = await press_as(bot, person, data)
        answers = [r.text for r in pressed.replies] or [pressed.notice]
        assert len(answers) == 1 and refusal(answers[0]), f"{role} pressing {data}: {answers}"
        assert pressed.answered and pressed.calls == [], f"{role} pressing {data}: {pressed.calls}"
        assert await bot.every_row() == before, f"{role} pressing {data} changed the database"
        assert {n: c for n, c in inboxes(bot).items() if n != person.user.first_name} == {
            n: c for n, c in told.items() if n != person.user.first_name
        }, f"{role} pressing {data}: somebody else was told something"
        assert await rights(bot) == held

    if allowed(press) == ANYONE:
        # Acting on one's own data: whatever it does, nobody gains a right by it.
        for role in ("guest", "other", "member"):
            held = await rights(bot)
            pressed = await press_as(bot, world.people[role], data)
            assert pressed.answered and pressed.calls == [], f"{role} pressing {data}: {pressed.calls}"
            assert await rights(bot) <= held, f"{role} pressing {data} gained a right"
        return

    for role in sorted(press.may, key=ROLES.index):
        person = world.people[role]
        if press.before:
            await person.send(press.before)
        pressed = await press_as(bot, person, data)
        answers = [r.text for r in pressed.replies] + [pressed.notice or ""]
        assert not any(refusal(a) for a in answers), f"{role} may press {data}: {answers}"
        assert any(press.ok in a for a in answers), f"{role} pressing {data}: {answers}"
        assert pressed.answered and pressed.calls == [], f"{role} pressing {data}: {pressed.calls}"


COORDINATION_PRESSES = [
    (kind, press) for kind, press in PRESSES if "promoted" in allowed(press) and allowed(press) != ANYONE
]


@pytest.mark.parametrize(("kind", "press"), COORDINATION_PRESSES, ids=[press.data for _, press in COORDINATION_PRESSES])
async def test_buttons_work_for_a_promoted_coordinator(bot, world, kind, press) -> None:  # type: ignore[no-untyped-def]
    """What the configured coordinator may press, a promoted one may too, with the same answer."""
    data = press.data.format(**world.ids)
    person = world.people["promoted"]
    if press.before:
        await person.send(press.before)
    pressed = await press_as(bot, person, data)
    answers = [r.text for r in pressed.replies] + [pressed.notice or ""]
    assert not any(refusal(a) for a in answers), f"the promoted coordinator may press {data}: {answers}"
    assert any(press.ok in a for a in answers), f"the promoted coordinator pressing {data}: {answers}"
    assert pressed.answered and pressed.calls == [], f"pressing {data}: {pressed.calls}"


# --- a button pressed twice ------------------------------------------------------
#
# A shaky connection or an impatient thumb sends the same callback twice, before
# the bot has redrawn the message. Both presses reach the bot (two updates, queued
# before the first is handled); the second must change nothing and tell nobody.


def data_of(message, label: str) -> str:  # type: ignore[no-untyped-def]
    return next(data for row in message.buttons for text, data in row if text == label)


async def press_twice(bot, person: harness.Person, message, label: str) -> tuple[list[str], list[str | None]]:  # type: ignore[no-untyped-def]
    """Press the button `label` twice at once: the texts sent to `person`, and the two notices."""
    data = data_of(message, label)
    since = len(bot.emulator.calls)
    person.new()
    first = bot.emulator.press_data(person.user, message.message_id, data)
    second = bot.emulator.press_data(person.user, message.message_id, data)
    await bot.settle()
    replies = person.new()
    refused = [
        f"{c.method}: {c.status} {c.description}"
        for c in bot.emulator.calls[since:]
        if c.status != 200 and "message is not modified" not in (c.description or "")
    ]
    queries = [bot.emulator.callback_answer(u) for u in (first, second)]
    assert all(q.answered for q in queries) and refused == []
    return [r.text for r in replies], [q.answer_text for q in queries]


async def count(bot, model, *where) -> int:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return len((await uow.session.execute(select(model).where(*where))).scalars().all())


async def test_rsvp_pressed_twice_is_one_answer(bot, world) -> None:  # type: ignore[no-untyped-def]
    mira = world.people["member"]
    await mira.send("/meetings")  # one message, a button per session
    [card] = await mira.press_data(f"so:{world.ids['session']}")
    told = inboxes(bot)
    replies, notices = await press_twice(bot, mira, card, "✅ Zusage")
    assert notices == 2 * ["Gespeichert: Zusage. Sie können die Antwort jederzeit ändern."]
    assert replies == []
    assert await count(bot, Rsvp) == 1
    assert await count(bot, Rsvp, Rsvp.answer == RsvpAnswer.YES) == 1
    assert inboxes(bot) == told, "nobody is told anything"


async def test_approve_pressed_twice_decides_once_and_tells_once(bot, world, coordinator) -> None:  # type: ignore[no-untyped-def]
    guest = world.people["guest"]
    [_, card] = await coordinator.send("/pending")
    approvals = len([t for t in guest.texts if "Sie sind jetzt Mitglied in AK EU" in t])
    replies, notices = await press_twice(bot, coordinator, card, "✅ Annehmen")
    assert notices == ["Mitglied", None]
    assert replies == ["Die Anfrage von Gast für AK EU ist schon entschieden: Mitglied (von @sabine_kim)."]
    assert len([t for t in guest.texts if "Sie sind jetzt Mitglied in AK EU" in t]) == approvals + 1, "told once"
    assert (guest.id, "ak-eu") in await rights(bot)
    assert await count(bot, Membership, Membership.status == MembershipStatus.PENDING) == 0


async def test_join_pressed_twice_is_one_request_and_one_card(bot, world, coordinator) -> None:  # type: ignore[no-untyped-def]
    olga = world.people["other"]
    [question] = await olga.send("/join")
    cards = len(coordinator.messages)
    replies, notices = await press_twice(bot, olga, question, "AK EU")
    assert notices == [None, None]
    assert replies == [
        "Danke! Ihre Anfrage für AK EU ist bei der Koordination. Sie bekommen eine Nachricht, sobald entschieden ist.",
        "Ihre Anfrage für AK EU liegt schon vor. Die Koordination entscheidet bald.",
    ]
    assert len(coordinator.messages) == cards + 1, "one request card"
    assert await count(bot, Membership, Membership.status == MembershipStatus.PENDING) == 2


async def test_accept_pressed_twice_accepts_once(bot, world, coordinator) -> None:  # type: ignore[no-untyped-def]
    item_id = world.ids["item_of_member"]
    [card] = await coordinator.press_data(f"ai:{item_id}")
    told = inboxes(bot)
    replies, notices = await press_twice(bot, coordinator, card, "✅ Annehmen")
    assert notices == ["Angenommen.", None]
    assert replies == [
        f"✅ Thema #{item_id} ist angenommen.",
        f"Thema #{item_id} ist schon angenommen. Es wurde nichts geändert.",
    ]
    assert await count(bot, AgendaItem, AgendaItem.status == AgendaStatus.ACCEPTED) == 1
    assert await count(bot, Delivery, Delivery.agenda_item_id == item_id) == 0, "no note owed to the author"
    assert {n: c for n, c in inboxes(bot).items() if n != "Sabine"} == {n: c for n, c in told.items() if n != "Sabine"}


async def test_defer_pressed_twice_defers_once_and_tells_once(bot, world, coordinator) -> None:  # type: ignore[no-untyped-def]
    later = []
    for day in ("17.12.2026", "07.01.2027"):
        replies = await coordinator.send(f"/meeting ak-eu {day} 14:00 Weiter")
        later.append(int(re.search(r"Geplant als Sitzung #(\d+)", replies[-1].text).group(1)))  # type: ignore[union-attr]
    await bot.tick()
    item_id = world.ids["item_of_member"]
    [card] = await coordinator.press_data(f"ai:{item_id}")
    replies, notices = await press_twice(bot, coordinator, card, "⏭ Vertagen")
    assert notices == ["Vertagt.", None]
    assert replies == [
        f"Thema #{item_id} ist vertagt auf Sitzung #{later[0]} „Weiter“ am Do., 17.12.2026, "
        "14:00 Uhr. Mira bekommt eine Nachricht.",
        "Dieser Knopf gilt nicht mehr.",
    ]
    async with bot.db.reader() as uow:
        assert (await uow.session.get(AgendaItem, item_id)).occurrence_id == later[0]  # type: ignore[union-attr]
    assert await count(bot, Delivery, Delivery.agenda_item_id == item_id) == 1, "one note owed"
    await bot.tick()
    mira = world.people["member"]
    assert len([t for t in mira.texts if f"Ihr Thema #{item_id} für AK EU wurde" in t]) == 1
    replies = await coordinator.press("⏭ Vertagen", card)
    assert f"ist vertagt auf Sitzung #{later[1]}" in replies[-1].text, "the redrawn card defers again"


async def test_stance_pressed_twice_is_one_stance(bot, world, coordinator) -> None:  # type: ignore[no-untyped-def]
    mira = world.people["member"]
    [card] = await mira.send(f"/feedback {world.ids['recommendation']}")
    told = inboxes(bot)
    replies, notices = await press_twice(bot, mira, card, "Zustimmung")
    assert notices == [
        "Gespeichert: Zustimmung. Sie können das ändern, bis die Empfehlung abgeschlossen ist.",
        "Schon gespeichert: Zustimmung.",
    ]
    assert replies == []
    assert await count(bot, Stance) == 1
    assert inboxes(bot) == told


async def test_forget_yes_pressed_twice_erases_once(bot, world) -> None:  # type: ignore[no-untyped-def]
    olga = world.people["other"]
    [question] = await olga.send("/forget")
    people = await count(bot, Person)
    replies, notices = await press_twice(bot, olga, question, "🗑 Ja, meine Daten löschen")
    assert notices == [None, None]
    assert replies == [
        "Ihre Daten sind gelöscht. Wenn Sie wieder mitmachen möchten, schreiben Sie /start.",
        "Über Sie ist nichts gespeichert.",
    ], "the second press finds nothing to erase"
    assert await count(bot, Person) == people, "no new row for the second press"
    assert await count(bot, Person, Person.telegram_id == olga.id) == 0
    assert (olga.id, "ak-ehrenamt") not in await rights(bot)
