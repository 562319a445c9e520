"""Hostile input, property-based: random streams of whatever people can send to
the bot, from everyone at once, and the bot neither fails, nor makes a call
Telegram refuses, nor gives anyone a right they did not have.

Hypothesis draws streams of actions by the coordinator, a member of AK EU, a
member of two other groups, a guest with a pending request and brand-new users:

- texts (HTML's own characters, emoji, right-to-left, beyond 4096 characters);
- commands from `bot.core.commands` and their aliases (and unknown ones, and
  `/help@kim_test_bot`), with arguments drawn from group names, ids of real
  objects and other people, dates, `|`, HTML and free text, or none; and
  commands in their own shape with values at and beyond the edges (year 9999,
  a session two years ahead, ids beyond 32 and 64 bits, `| täglich`);
- button presses with forged callback data (any string up to beyond 64 bytes,
  every known prefix with wrong, huge or other people's ids, and the real data
  of any button the bot has shown to anyone), under any of the presser's own
  messages from the bot, documents included;
- edited messages; messages, commands, documents and presses in a group chat;
  documents where text was expected; blocking the bot.

Some actions are pushed before the bot has handled the ones before, so the
updates of different chats run at the same time.

Every example runs in a world of its own, so that a failing one can be
replayed alone (hypothesis keeps it in `.hypothesis/` and tries it first next
time). The world is built once by conversation and restored for each example
(tests/snapshots.py): the database as the conversation left it, a new emulator
in which the same people and the group chat exist, and a newly started bot.

After every example:
- nothing reached the error handler: no log record at ERROR, no apology
  (`errors.internal`) in any chat, and the bot still answers /help;
- every Bot API call was accepted by the strict emulator, except 403 to a
  person who blocked the bot and "message is not modified" (a repeated edit,
  which the bot expects and ignores: `handlers.common.Request.edit`);
- nobody gained a right: no one is made coordinator, every approved membership
  was decided by the coordinator, sessions, recommendations and invites are
  the coordinator's, agenda items are decided only by the coordinator, the
  coordination's guided steps are only the coordinator's, and answers, topics
  and comments come only from members of the group (or the coordinator, or
  a person since erased).

Who was a member is noted after every step the bot finished, so an answer
given while a membership existed still counts as rightful after the person
left. The coordinator never erases their own data in a stream (a forged
"fg:1" pressed by them becomes "fg:0"), so the rows they created stay
recognisably theirs. Ten explicit examples (`ATTACKS`) always run first: the
forged presses that would matter most (a guest approving their own request,
a member accepting a topic or scheduling a session, ...).

Edited messages: the emulator has no way to send an `edited_message` update,
so the stream puts one straight into its update queue (built like Telegram's).
The bot does not ask for edited messages (`allowed_updates`), so the emulator,
like Telegram, drops them: an edit never reaches the bot.

Three faults the streams found have their own tests at the end: an answer to
a person who blocked the bot meanwhile, a forged button under a document, and
a button pressed in a group chat.

How many hostile updates were sent is printed at the end of the run, and
added to the reliability figures.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_type_hints

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.core.commands import COMMANDS
from bot.core.steps import Step
from bot.dev.emulator.entities import auto_entities
from bot.render.texts import Texts
from handlers.payloads import Payload
from storage.admin_models import AuditEntry
from storage.database import Database
from storage.models import (
    AgendaItem,
    Comment,
    Group,
    Invite,
    Meeting,
    Membership,
    MembershipStatus,
    Occurrence,
    Person,
    Recommendation,
    Rsvp,
    Stance,
    recommendation_groups,
)
from tests import harness
from tests.harness import FIGURES
from tests.snapshots import Snapshot, built, restored

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin

SENT: Counter[str] = Counter()
"""Hostile updates sent in this module, by kind ("setup": a /help sent first, so that
a person has a message of the bot to press a button under)."""
EXAMPLES: Counter[str] = Counter()
ELAPSED: Counter[str] = Counter()

HOSTILE = settings(max_examples=80)  # the rest: the "kimbot" profile (tests/conftest.py)


@pytest.fixture(scope="module", autouse=True)
def hostile_count(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Print how many hostile updates were sent, after the module's tests."""
    yield
    FIGURES["hostile updates sent"] += sum(SENT.values())
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(SENT.items()))
    line = (
        f"test_hostile: {sum(SENT.values())} hostile updates ({kinds}) in "
        f"{sum(EXAMPLES.values())} examples ({', '.join(f'{t} {n}' for t, n in EXAMPLES.items())}); "
        f"{', '.join(f'{t} {s:.0f} s' for t, s in ELAPSED.items())}"
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:  # pragma: no cover
        print(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(line)


# --- what people send -------------------------------------------------------------

TEXT_CHARACTERS = st.one_of(
    st.characters(blacklist_categories=("Cc", "Cs")),
    st.sampled_from(
        [
            *"<>&\"'\n\t /#|:@",
            "</b>",
            "<b>",
            "&amp;",
            "&lt;",
            "😀",
            "👩‍👩‍👧",
            "שלום",
            "ğüş",
            "\u202e",
        ]
    ),
)
SHORT_TEXT = st.lists(TEXT_CHARACTERS, min_size=1, max_size=30).map("".join)
LONG_TEXT = st.sampled_from(
    ["A" * 4097, "ä" * 3001, "😀" * 2100, "<b>" * 1400, "&amp;" * 900, "x " * 2600, "\n" * 50 + "y"]
)
PLAIN = st.sampled_from(["ja", "Ja", "nein", "1", "#1", "ak-eu", "Sabine Weber", "Caritas", " ", "\n", "15.12.2026"])
TEXT = st.one_of(SHORT_TEXT, PLAIN, LONG_TEXT)

PLACEHOLDERS = (
    "{group}",
    "{request}",
    "{session}",
    "{item}",
    "{rec}",
    "{guest}",
    "{member}",
    "{coordinator}",
)
"""Ids of real objects and people, filled in when the action is taken."""
WORDS = st.sampled_from(
    [
        *PLACEHOLDERS,
        "ak-eu",
        "AK EU",
        "eu",
        "ehrenamt",
        "all",
        "alle",
        "lenkungskreis",
        "ak-eu,ak-ehrenamt",
        "a",
        "0",
        "1",
        "#1",
        "#999999999",
        "-1",
        "99999999999999999999",
        "9999999999999999999",
        "2147483648",
        "@sabine_kim",
        "@gast_h",
        "@mira_h",
        "@nobody_here",
        "10.12.2026",
        "31.02.2026",
        "29.03.2026",
        "2026-12-24",
        "1.1.1900",
        "14:00",
        "02:30",
        "25:61",
        "|",
        "||",
        "| 15.12.2026",
        "| wöchentlich 3 mal",
        "7d",
        "30d",
        "since",
        "2026-01-01",
        "2026-H2",
        "2026-H3",
        "H1",
        "de",
        "en",
        "xx",
        "<b>",
        "</code>",
        "&amp;",
        "😀",
        "\n",
    ]
)
ARGS = st.one_of(st.lists(st.one_of(WORDS, SHORT_TEXT), max_size=6).map(" ".join), LONG_TEXT)
NAMES = [
    *(c.name for c in COMMANDS),
    *(a for c in COMMANDS for a in c.aliases),
    "unbekannt",
    "HELP",
    "Start",
    "help@kim_test_bot",
    "pending@kim_test_bot",
    "approve@anderer_bot",
    "start@kim_test_bot",
    "x" * 40,
]
ANY_COMMAND = st.builds(
    lambda name, sep, args: f"/{name}{sep}{args}" if args else f"/{name}",
    st.sampled_from(NAMES),
    st.sampled_from([" ", "  ", "\n"]),
    ARGS,
)

# Commands in their own shape, with values at and beyond the edges, so that the
# arguments get past the parsing (random words rarely do).
A_GROUP = st.sampled_from(["ak-eu", "eu", "AK EU", "ehrenamt", "all", "lenkungskreis", "ak-eu,ag-soe", "xy"])
A_DATE = st.sampled_from(
    ["10.12.2026", "01.12.2026", "30.11.2026", "10.01.2028", "10.12.2030", "31.12.2999", "1.1.1900"]
    + [
        "31.12.9999",
        "0001-01-01",
        "29.02.2027",
        "31.02.2026",
        "29.03.2026",
        "25.10.2026",
        "2026-12-24",
    ]
)
A_TIME = st.sampled_from(["14:00", "02:30", "23:59", "00:00", "24:00", "9.30", "14:00 Uhr"])
AN_ID = st.sampled_from(
    [
        "{session}",
        "{item}",
        "{rec}",
        "#1",
        "0",
        "2",
        "999999999",
        "2147483648",
        "9999999999999999999",
    ]
)
A_USER = st.sampled_from(["@gast_h", "@mira_h", "@olga_h", "@sabine_kim", "{guest}", "{member}", "9999999999999999999"])
A_SERIES = st.sampled_from(
    ["", " | Rathaus", " | Rathaus | wöchentlich", " | | monatlich 10 mal", " | Ort | täglich"]
    + [
        " | Ort | alle 2 Wochen bis 30.06.2027",
        " | Ort | wöchentlich bis 31.12.9999",
        " | <b>Ort</b>",
    ]
)
A_PERIOD = st.sampled_from(
    [
        "7d",
        "30d",
        "0d",
        "9999d",
        "since 0001-01-01",
        "since 1.1.1900",
        "since 31.12.2999",
        "since 2026-01-01",
    ]
)
SHAPED = st.one_of(
    st.builds("/meeting {} {} {} {}{}".format, A_GROUP, A_DATE, A_TIME, SHORT_TEXT, A_SERIES),
    st.builds("/reschedule {} {} {}".format, AN_ID, A_DATE, A_TIME),
    st.builds("/cancel {}".format, AN_ID),
    st.builds("/recommend {} {} | {}".format, A_GROUP, SHORT_TEXT, A_DATE),
    st.builds("/digest {} {}".format, A_GROUP, A_PERIOD),
    st.builds(
        "/report {}".format,
        st.sampled_from(["2026-H2", "2026-H1", "9999-H2", "1000-H1", "H2 2026"]),
    ),
    st.builds("/approve {} {}".format, A_USER, A_GROUP),
    st.builds("/reject {}".format, A_USER),
    st.builds("/feedback {} {}".format, AN_ID, TEXT),
    st.builds("/agenda {} {}".format, A_GROUP, TEXT),
    st.builds(
        "/{} {}".format,
        st.sampled_from(["join", "leave", "members", "invite", "meetings"]),
        A_GROUP,
    ),
    st.builds("/start {}".format, st.sampled_from(["abc", "x" * 64, "{group}", "-_-"])),
)
COMMAND = st.one_of(ANY_COMMAND, SHAPED, SHAPED)

FIELDS = st.one_of(
    st.sampled_from(
        [
            *PLACEHOLDERS,
            "0",
            "1",
            "2",
            "3",
            "999999999999999999",
            "9999999999999999999",
            "-1",
            "01",
            "1.5",
            "",
            " 1",
            "yes",
            "no",
            "maybe",
            "agree",
            "concerns",
            "reject",
            "edit",
            "withdraw",
            "accept",
            "defer",
            "up",
            "down",
            "de",
            "en",
            "fr",
            "a" * 33,
        ]
    ),
    st.integers(0, 10**18).map(str),
)
FORGED = st.builds(
    lambda prefix, fields: ":".join([prefix, *fields]),
    st.sampled_from([*sorted(Payload.registry), "", "xx", "PV", "dr "]),
    st.lists(FIELDS, max_size=4),
)


@dataclass(frozen=True)
class Seen:
    """The data of a real button the bot has shown to someone (any chat)."""

    index: int


OBJECT_OF_FIELD = {
    "group_id": "{group}",
    "membership_id": "{request}",
    "occurrence_id": "{session}",
    "item_id": "{item}",
    "recommendation_id": "{rec}",
    "year": "2026",
    "half": "2",
}
"""The real object a numeric field of a payload usually points at."""
WORDS_OF_FIELD = {
    "answer": ["yes", "no", "maybe"],
    "action": ["edit", "withdraw", "accept", "reject", "defer", "defer-1", "defer-x", "up", "down"],
    "stance": ["agree", "concerns", "reject"],
    "language": ["de", "en"],
    "result": ["adopted", "rejected", "noted"],
    "field": ["responsible", "due", "review", "status"],
    "status": ["open", "in-progress", "delayed", "done"],
}


def _field(name: str, kind: type) -> st.SearchStrategy[str]:
    if kind is bool:
        return st.sampled_from(["0", "1"])
    if kind is str:
        return st.sampled_from([*WORDS_OF_FIELD.get(name, []), "fr", "x", "accept"])
    real = OBJECT_OF_FIELD.get(name, "1")
    return st.one_of(
        st.just(real),
        st.just(real),
        st.sampled_from(["0", "1", "2", "3", "{guest}", "999999999999999999"]),
        st.integers(0, 10**18).map(str),
    )


def _well_formed(kind: type[Payload]) -> st.SearchStrategy[str]:
    hints = get_type_hints(kind)
    fields = [_field(f.name, hints[f.name]) for f in dataclasses.fields(kind)]
    return st.tuples(*fields).map(lambda values: ":".join([kind.prefix, *values]))


WELL_FORMED = st.sampled_from(sorted(Payload.registry.values(), key=lambda k: k.prefix)).flatmap(_well_formed)
"""Data of the right shape for its prefix, about real objects, other people's, or none."""

SEEN = st.builds(Seen, st.integers(0, 10**6))
DATA = st.one_of(WELL_FORMED, WELL_FORMED, SEEN, SEEN, FORGED, st.text(max_size=80))


@dataclass(frozen=True)
class New:
    """A brand-new user (slot `slot`; created with these details when first used)."""

    slot: int
    name: str
    username: str | None
    language: str | None


ROLES = ("coordinator", "member", "other", "guest")
ACTOR = st.one_of(
    st.sampled_from(ROLES),
    st.builds(
        New,
        st.integers(0, 3),
        st.one_of(SHORT_TEXT, st.sampled_from(["Ali", "<b>Zoë</b> & Co", "😀", "A" * 70])),
        st.one_of(st.none(), st.sampled_from(["neu_a", "sabine_kim_", "x1y"])),
        st.sampled_from([None, "de", "en", "en-US", "tr", "ar", "uk"]),
    ),
)
IN_GROUP = st.sampled_from(ROLES)

ACTION = st.one_of(
    st.tuples(st.just("text"), ACTOR, TEXT),
    st.tuples(st.just("command"), ACTOR, COMMAND),
    st.tuples(st.just("press"), ACTOR, DATA, st.integers(0, 50)),
    st.tuples(st.just("edit"), ACTOR, st.one_of(TEXT, COMMAND)),
    st.tuples(st.just("group"), IN_GROUP, st.one_of(TEXT, COMMAND)),
    st.tuples(st.just("group_press"), IN_GROUP, DATA),
    st.tuples(st.just("document"), ACTOR, st.one_of(st.none(), TEXT, COMMAND), st.booleans()),
    st.tuples(st.just("block"), ACTOR),
)


def streams(action: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[Any, bool]]]:
    """Actions, each with whether the bot finishes it before the next one is sent:
    3 to 10 bursts of 1 to 5 actions, about 20 on average (each example starts a
    world of its own, so the examples are long and fewer), shrinking to as few as 3."""
    bursts = st.lists(st.lists(st.tuples(action, st.booleans()), min_size=1, max_size=5), min_size=3, max_size=10)
    return bursts.map(lambda found: [step for burst in found for step in burst])


STREAM = streams(ACTION)


# --- the world the streams run in -------------------------------------------------


@dataclass
class World:
    people: dict[str, harness.Person]
    group: Any
    probe: harness.Person
    ids: dict[str, str]
    newcomers: dict[int, harness.Person] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    ever_approved: set[tuple[int, int]] = field(default_factory=set)
    coordinator_rows: set[int] = field(default_factory=set)
    calls_checked: int = 0
    logs_checked: int = 0


ROLE_NAMES = {"coordinator": "Sabine", "guest": "Gast", "other": "Olga", "member": "Mira"}
PROBE = "Prüfer"


async def _build(bot) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The world of the streams, by conversation: Gast (registered, pending for
    AK EU), Olga (AK Ehrenamt and AK Arbeitsmarkt), Mira (AK EU, with a topic), a
    session and a recommendation for AK EU, a group chat with the four of them
    (where Mira asked for /help, and the bot pointed her to its private chat), and
    Prüfer, who only asks for /help. Returns the ids of the real objects."""
    bot.clock.set(START)
    coordinator = bot.people["Sabine"]
    guest = await bot.person("Gast", username="gast_h")
    await guest.register()
    await guest.send("/join ak-eu")
    people = {"coordinator": coordinator, "guest": guest}
    for role, name, slugs in (
        ("other", "Olga", ("ak-ehrenamt", "ak-arbeitsmarkt")),
        ("member", "Mira", ("ak-eu",)),
    ):
        person = people[role] = await bot.person(name, username=f"{name.lower()}_h")
        await person.register()
        for slug in slugs:
            await person.send(f"/join {slug}")
            await coordinator.send(f"/approve @{name.lower()}_h {slug}")
    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Auftakt | Rathaus")
    await coordinator.send("/recommend ak-eu Mehr Sprachkurse am Abend")
    await people["member"].send("/agenda ak-eu Bericht aus der Beratung")
    await bot.tick()
    group = bot.emulator.add_group_chat("KIM Stammtisch", [p.user for p in people.values()])
    bot.group_chats.append(group)
    bot.emulator.send_text(people["member"].user, "/help", chat=group)  # the bot points to its chat
    await bot.settle()
    await bot.person(PROBE, username="pruefer")
    async with bot.db.reader() as uow:
        s = uow.session
        ids = {
            "{group}": (await s.execute(select(Group.id).where(Group.slug == "ak-eu"))).scalar_one(),
            "{request}": (
                await s.execute(select(Membership.id).where(Membership.status == MembershipStatus.PENDING))
            ).scalar_one(),
            "{session}": (await s.execute(select(Occurrence.id))).scalar_one(),
            "{item}": (await s.execute(select(AgendaItem.id))).scalar_one(),
            "{rec}": (await s.execute(select(Recommendation.id))).scalar_one(),
            "{guest}": guest.id,
            "{member}": people["member"].id,
            "{coordinator}": coordinator.id,
        }
    return {k: str(v) for k, v in ids.items()}


@dataclass(frozen=True)
class Template:
    snapshot: Snapshot
    ids: dict[str, str]


TEMPLATES: dict[str, Template] = {}
"""The world of the streams, built once per kind of database (it is the same every time)."""


@pytest.fixture
async def template(database_url: str) -> Template:
    kind = database_url.split(":", 1)[0]
    if kind not in TEMPLATES:
        TEMPLATES[kind] = Template(*await built(database_url, _build))
    return TEMPLATES[kind]


@asynccontextmanager
async def fresh_world(template: Template, database_url: str, writer: Database | None = None):  # type: ignore[no-untyped-def]
    """A bot of its own in the world of the streams, for one example."""
    async with restored(template.snapshot, database_url, writer) as bot:
        people = {role: bot.people[name] for role, name in ROLE_NAMES.items()}
        world = World(people, bot.group_chats[0], bot.people[PROBE], dict(template.ids))
        await observe(bot, world)
        yield bot, world


def fill(world: World, text: str) -> str:
    for name, value in world.ids.items():
        text = text.replace(name, value)
    return text


async def actor(bot, world: World, who: str | New) -> harness.Person:  # type: ignore[no-untyped-def]
    if isinstance(who, str):
        return world.people[who]
    if who.slot not in world.newcomers:
        world.newcomers[who.slot] = await bot.person(who.name, username=who.username, language_code=who.language)
    return world.newcomers[who.slot]


def button_data(bot) -> list[str]:  # type: ignore[no-untyped-def]
    """The data of every button the bot has shown in any chat (as it is now)."""
    found = []
    for chat_id in list(bot.emulator.world.messages):
        for message in bot.emulator.messages(chat_id):
            found += [data for row in message.buttons for _, data in row if data]
    return found


def resolve(bot, world: World, data: str | Seen, role: str | New) -> str:  # type: ignore[no-untyped-def]
    if isinstance(data, Seen):
        pool = button_data(bot)
        data = pool[data.index % len(pool)] if pool else "pv"
    data = fill(world, data)
    if role == "coordinator" and data == "fg:1":
        data = "fg:0"  # see the module docstring
    return data


async def own_messages(bot, person: harness.Person, chat: Any = None) -> list[Any]:  # type: ignore[no-untyped-def]
    """The bot's messages in the person's private chat (or `chat`); one is asked for if none."""
    chat_id = chat.id if chat is not None else person.id
    found = [m for m in bot.emulator.messages(chat_id) if not m.deleted]
    if not found:
        SENT["setup"] += 1
        bot.emulator.send_text(person.user, "/help", chat=chat)
        await bot.settle()
        found = [m for m in bot.emulator.messages(chat_id) if not m.deleted]
    return found


def send_edit(bot, person: harness.Person, text: str) -> bool:  # type: ignore[no-untyped-def]
    """An `edited_message` of the person's newest message, as Telegram would send it."""
    emulator = bot.emulator
    own = [m for m in emulator.history(person.id) if not m.from_bot and m.document is None]
    if not own:
        return False
    chat = emulator.chat(person.id)
    payload = {
        "message_id": own[-1].message_id,
        "from": person.user.to_api(),
        "chat": chat.to_api(),
        "date": own[-1].date,
        "edit_date": int(time.time()),
        "text": text,
    }
    entities = auto_entities(text, [])
    if entities:
        payload["entities"] = [dict(e) for e in entities]
    emulator.queue.push("edited_message", payload)
    return True


async def act(bot, world: World, action: tuple[Any, ...]) -> None:  # type: ignore[no-untyped-def]
    kind, who, *rest = action
    person = await actor(bot, world, who)
    emulator = bot.emulator
    if kind in ("text", "command"):
        emulator.send_text(person.user, fill(world, rest[0]))
    elif kind == "press":
        data, back = rest
        messages = await own_messages(bot, person)
        message = messages[-1 - back % len(messages)]
        emulator.press_data(person.user, message.message_id, resolve(bot, world, data, who))
    elif kind == "edit":
        if not send_edit(bot, person, fill(world, rest[0])):
            emulator.send_text(person.user, fill(world, rest[0]))
    elif kind == "group":
        emulator.send_text(person.user, fill(world, rest[0]), chat=world.group)
    elif kind == "group_press":
        messages = await own_messages(bot, person, world.group)
        emulator.press_data(
            person.user,
            messages[-1].message_id,
            resolve(bot, world, rest[0], who),
            chat=world.group,
        )
    elif kind == "document":
        caption, in_group = rest
        emulator.send_document(
            person.user,
            "notiz.pdf",
            b"%PDF-1.4 hostile",
            caption=fill(world, caption) if caption else None,
            chat=world.group if in_group and isinstance(who, str) else None,
        )
    elif kind == "block":
        if emulator.block(person.user) is None:
            return
        world.blocked.add(person.id)
    SENT[kind] += 1


# --- what must hold ----------------------------------------------------------------

COORDINATION_STEPS = {
    Step.MEETING,
    Step.RESCHEDULE,
    Step.CANCEL_REASON,
    Step.AGENDA_REASON,
    Step.RECOMMENDATION_TEXT,
    Step.RECOMMENDATION_OUTCOME,
}
APOLOGIES = {Texts().plain(lang, "errors.internal") for lang in ("de", "en")}


async def observe(bot, world: World) -> None:  # type: ignore[no-untyped-def]
    """Note who holds a membership now, and the coordinator's rows."""
    async with bot.db.reader() as uow:
        s = uow.session
        approved = await s.execute(
            select(Membership.person_id, Membership.group_id).where(Membership.status == MembershipStatus.APPROVED)
        )
        world.ever_approved |= {(person_id, group_id) for person_id, group_id in approved}
        mine = await s.execute(select(Person.id).where(Person.telegram_id == world.people["coordinator"].id))
        world.coordinator_rows |= set(mine.scalars())


def check_calls(bot, world: World) -> None:  # type: ignore[no-untyped-def]
    calls = bot.emulator.calls[world.calls_checked :]
    world.calls_checked += len(calls)
    refused = []
    for call in calls:
        if call.status == 200:
            continue
        # A 403 is answered before the emulator notes the chat: the id is in the call.
        if call.status == 403 and int(call.params.get("chat_id", 0)) in world.blocked:
            continue
        if call.status == 400 and "message is not modified" in (call.description or ""):
            continue
        refused.append(f"{call.method} {call.params} -> {call.status} {call.description}")
    assert refused == [], "refused calls:\n" + "\n".join(refused)


def check_no_failure(bot, world: World, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    records = caplog.records[world.logs_checked :]
    world.logs_checked += len(records)
    errors = [r for r in records if r.levelno >= logging.ERROR]
    assert errors == [], "\n".join(f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in errors)
    chats = [*(u.id for u in bot.emulator.users if not u.is_bot), world.group.id]
    apologies = [
        (chat, m.text)
        for chat in chats
        if chat in bot.emulator.world.chats
        for m in bot.emulator.messages(chat)
        if m.text in APOLOGIES
    ]
    assert apologies == [], "an update reached the error handler"


async def check_rights(bot, world: World) -> None:  # type: ignore[no-untyped-def]
    mine = world.coordinator_rows
    async with bot.db.reader() as uow:
        s = uow.session
        promoted = set((await s.execute(select(Person.id).where(Person.is_coordinator.is_(True)))).scalars())
        by_coordinator = select(AuditEntry.object_id).where(
            AuditEntry.action == "person.promote", AuditEntry.actor_id.in_(mine)
        )
        granted = set((await s.execute(by_coordinator)).scalars())
        assert promoted <= granted, "nobody is made coordinator but by the coordinator (a /promote button)"

        invites = {i.id: i for i in (await s.execute(select(Invite))).scalars()}
        assert all(i.created_by_id in mine for i in invites.values()), "invites are the coordinator's"
        for m in (await s.execute(select(Membership).where(Membership.status == MembershipStatus.APPROVED))).scalars():
            by_invite = m.invite_id is not None and invites[m.invite_id].created_by_id in mine
            assert m.decided_by_id in mine or by_invite, f"membership {m.id} approved without the coordinator"

        creators = (await s.execute(select(Meeting.created_by_id))).scalars().all()
        assert set(creators) <= mine, "sessions are scheduled by the coordinator only"
        for r in (await s.execute(select(Recommendation))).scalars():
            assert r.created_by_id in mine and r.closed_by_id in mine | {None}, f"recommendation #{r.id}"

        groups_of_occurrence = {
            occurrence_id: group_id
            for occurrence_id, group_id in await s.execute(select(Occurrence.id, Meeting.group_id).join(Meeting))
        }
        forgotten = set((await s.execute(select(Person.id).where(Person.telegram_id.is_(None)))).scalars())
        approved = world.ever_approved | {
            (person_id, group_id)
            for person_id, group_id in await s.execute(
                select(Membership.person_id, Membership.group_id).where(Membership.status == MembershipStatus.APPROVED)
            )
        }

        def member(person_id: int | None, group_ids: list[int]) -> bool:
            return person_id in mine or person_id in forgotten or any((person_id, g) in approved for g in group_ids)

        for item in (await s.execute(select(AgendaItem))).scalars():
            assert item.decided_by_id in mine | {None}, f"topic #{item.id} decided by someone else"
            assert item.author_id is None or member(item.author_id, [item.group_id]), f"topic #{item.id}"
        for rsvp in (await s.execute(select(Rsvp))).scalars():
            assert member(rsvp.person_id, [groups_of_occurrence[rsvp.occurrence_id]]), f"RSVP {rsvp.id}"
        targets: dict[int, list[int]] = {}
        for recommendation_id, group_id in await s.execute(select(recommendation_groups)):
            targets.setdefault(recommendation_id, []).append(group_id)
        for stance in (await s.execute(select(Stance))).scalars():
            assert stance.person_id is None or member(stance.person_id, targets[stance.recommendation_id]), (
                f"stance {stance.id}"
            )
        for comment in (await s.execute(select(Comment))).scalars():
            assert comment.person_id is None or member(comment.person_id, targets[comment.recommendation_id])
        waiting = await s.execute(select(Person.id, Person.awaiting).where(Person.awaiting.in_(COORDINATION_STEPS)))
        assert [row for row in waiting if row[0] not in mine] == [], "a coordination step for someone else"


async def still_answers(bot, world: World) -> None:  # type: ignore[no-untyped-def]
    replies = await world.probe.send("/help")
    assert len(replies) == 1 and "/start" in replies[0].text, [r.text for r in replies]


async def run_stream(template, database_url, database_writer, caplog, stream, test: str) -> None:  # type: ignore[no-untyped-def]
    """One example: the stream in a world of its own, and what must hold after it."""
    started = time.monotonic()
    async with fresh_world(template, database_url, database_writer) as (bot, world):
        caplog.clear()  # what the bots of the examples before logged
        for action, finish in stream:
            await act(bot, world, action)
            if finish:
                await bot.settle()
                await observe(bot, world)
        await bot.settle()
        await observe(bot, world)
        check_no_failure(bot, world, caplog)
        check_calls(bot, world)
        await check_rights(bot, world)
        await still_answers(bot, world)
        check_calls(bot, world)
    EXAMPLES[test] += 1
    ELAPSED[test] += time.monotonic() - started


# --- the tests ---------------------------------------------------------------------


def _press(who: str, data: str) -> tuple[tuple[Any, ...], bool]:
    return (("press", who, data, 0), True)


def _say(who: str, text: str) -> tuple[tuple[Any, ...], bool]:
    return (("text", who, text), True)


ATTACKS = [
    # Always tried first: the forged presses that would matter most.
    [_press("guest", "dr:{request}:1"), _press("member", "dr:{request}:1")],
    [
        _press("member", "ia:{item}:accept"),
        _press("other", "ia:{item}:reject"),
        _say("other", "Nein"),
    ],
    [
        _press("other", "ia:{item}:edit"),
        _say("other", "Übernommen"),
        _press("guest", "ia:{item}:withdraw"),
    ],
    [
        _press("other", "rs:{session}:yes"),
        _press("guest", "st:{rec}:agree"),
        _press("other", "cm:{rec}"),
    ],
    [_press("member", "mg:{group}"), _say("member", "10.12.2026 15:00 Geheim")],
    [_press("guest", "rt:0"), _say("guest", "Alle sollen zustimmen")],
    [_press("member", "rc:{rec}"), _press("member", "tr:{rec}:adopted"), _say("member", "Erledigt")],
    [_press("guest", "iv:{group}"), _press("other", "ap:{group}"), _say("other", "Fremdes Thema")],
    [(("command", "other", "/agenda Mein Thema"), True), _press("other", "ag:{group}")],
    [
        (("group_press", "guest", "dr:{request}:1"), True),
        (("group", "member", "/approve @gast_h"), True),
    ],
]


@HOSTILE
@given(stream=STREAM)
@example(stream=ATTACKS[0])
@example(stream=ATTACKS[1])
@example(stream=ATTACKS[2])
@example(stream=ATTACKS[3])
@example(stream=ATTACKS[4])
@example(stream=ATTACKS[5])
@example(stream=ATTACKS[6])
@example(stream=ATTACKS[7])
@example(stream=ATTACKS[8])
@example(stream=ATTACKS[9])
async def test_hostile_streams_break_nothing_and_give_no_rights(
    template, database_url, database_writer, caplog, stream
):  # type: ignore[no-untyped-def]
    await run_stream(template, database_url, database_writer, caplog, stream, "mixed")


PRESSES = streams(st.tuples(st.just("press"), ACTOR, DATA, st.integers(0, 50)))


@settings(HOSTILE, max_examples=50)
@given(stream=PRESSES)
async def test_forged_button_presses_break_nothing_and_give_no_rights(
    template, database_url, database_writer, caplog, stream
):  # type: ignore[no-untyped-def]
    await run_stream(template, database_url, database_writer, caplog, stream, "presses")


async def test_blocking_right_after_writing_is_no_error(bot, coordinator, caplog):  # type: ignore[no-untyped-def]
    """A person writes and blocks the bot before it answers: Telegram refuses the
    answer (403). That is no fault of the bot: nothing at ERROR, no apology tried."""
    gast = await bot.person("Gast")
    since = len(bot.emulator.calls)
    bot.emulator.send_text(gast.user, "/help")
    bot.emulator.block(gast.user)
    await bot.settle()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    sent = [c.status for c in bot.emulator.calls[since:] if c.method == "sendMessage"]
    assert (errors, sent) == ([], [403]), "nothing at ERROR; the answer, and no apology, tried"
    async with bot.db.reader() as uow:
        person = await uow.people.by_telegram_id(gast.user.id)
    assert person is not None and person.unreachable_since is not None


async def test_a_group_that_refuses_the_answer_says_nothing_about_the_person(bot, coordinator, caplog):  # type: ignore[no-untyped-def]
    """A command in a group chat whose answer Telegram refuses (403: the group
    removed the bot meanwhile): no error, and the person who wrote is still
    reachable in their private chat."""
    ana = await bot.person("Ana")
    await ana.register()
    group = bot.emulator.add_group_chat("Runder Tisch", [ana.user])
    bot.emulator.inject_fault("sendMessage", status=403)
    bot.emulator.send_text(ana.user, "/help", chat=group)
    await bot.settle()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    async with bot.db.reader() as uow:
        person = await uow.people.by_telegram_id(ana.user.id)
    assert person is not None and person.unreachable_since is None
    assert "Was Sie tun können" in (await ana.send("/help"))[0].text


async def test_a_forged_button_under_a_document_is_no_error(template, database_url, caplog):  # type: ignore[no-untyped-def]
    """The coordinator's client sends "approve" under the calendar file (forged data:
    the bot never puts a button there). The request is decided, the person told,
    and the answer is a new message: nothing at ERROR, no apology."""
    async with fresh_world(template, database_url) as (bot, world):
        coordinator = world.people["coordinator"]
        [document, _] = await coordinator.send("/mydata")  # the readable copy, then the JSON
        assert document.document is not None
        await coordinator.press_data(f"dr:{world.ids['{request}']}:1", document)
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
        assert "Sie sind jetzt Mitglied in AK EU" in world.people["guest"].last.text


async def test_a_button_pressed_in_a_group_chat_shows_the_group_nothing(template, database_url):  # type: ignore[no-untyped-def]
    """The bot works in private chats only and never puts a button in a group; a
    forged press there ("open topic #1", by a member of AK EU, in a chat with a
    guest) gets the short "no longer valid" notice, and the group sees nothing."""
    async with fresh_world(template, database_url) as (bot, world):
        bot.emulator.send_text(world.people["member"].user, "/help", chat=world.group)
        await bot.settle()
        [pointer] = bot.emulator.messages(world.group.id)[-1:]
        before, shown = await bot.every_row(), len(bot.emulator.messages(world.group.id))
        update_id = bot.emulator.press_data(
            world.people["member"].user,
            pointer.message_id,
            f"ai:{world.ids['{item}']}",
            chat=world.group,
        )
        await bot.settle()
        assert [m.text for m in bot.emulator.messages(world.group.id)[shown:]] == []
        assert bot.emulator.callback_answer(update_id).answer_text == "Dieser Knopf gilt nicht mehr."
        assert await bot.every_row() == before
