"""A world built once and given fresh to every example of a property test.

Building a world by conversation (people register, join, a session is
scheduled ...) takes seconds; a property test runs hundreds of examples, and
each must start from the same world, or a failing example could not be
replayed. So the world is built once, through the real bot, and kept as a
`Snapshot`: every row of the database (but the inbox, which records the
updates of one Telegram) with the position of every id sequence, the bot's
clock, and the people and group chats Telegram knows.

`restored(snapshot, ...)` gives an example its own world: the database
emptied and filled with the snapshot's rows, a new emulator in which the same
people (same ids, names, languages) and group chats exist and the chats show
the bot's messages as they were (texts, buttons, documents; the people's own
messages are not carried over), and a newly started bot on that clock.

    snapshot, ids = await built(database_url, build_the_world)   # once
    async with restored(snapshot, database_url) as bot:         # every example
        ...
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, text

from bot.dev.emulator import Emulator
from bot.dev.emulator.state import Document
from storage.database import Database
from storage.models import Base
from tests.harness import FIGURES, BotHarness, Clock, Person, make_settings, start_harness

T = TypeVar("T")

NOT_KEPT = {"inbox"}
"""Tables a snapshot leaves empty: the inbox records the updates of one emulator,
whose update ids a new emulator hands out again."""


@dataclass(frozen=True)
class Known:
    """A person Telegram knows, as `Emulator.add_user` takes them."""

    user_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None


@dataclass(frozen=True)
class Shown:
    """A message of the bot as its chat shows it (deleted ones are left out)."""

    chat_id: int
    text: str
    entities: list[Any]
    reply_markup: dict[str, Any] | None
    document: tuple[str, bytes, str] | None
    """(file name, data, MIME type) of a document; `text` is then its caption."""


@dataclass(frozen=True)
class Snapshot:
    rows: dict[str, list[dict[str, Any]]]
    sequences: dict[str, tuple[int, bool]]
    """PostgreSQL only: each id sequence's (last_value, is_called)."""
    people: dict[str, Known]
    """By the name the harness knows them by (`BotHarness.people`)."""
    group_chats: list[tuple[str, list[int]]]
    """(title, member ids) of each group chat, in the order they were made."""
    coordinator_ids: list[int]
    clock: datetime | None
    shown: list[Shown]
    """The bot's messages in every chat, each chat's in order."""


async def built(database_url: str, build: Callable[[BotHarness], Awaitable[T]]) -> tuple[Snapshot, T]:
    """Run `build` on a new bot and emulator (with the coordinator Sabine Weber, as
    the `bot` fixture has her) over the database at `database_url`, and snapshot
    the world it leaves; returns the snapshot and what `build` returned."""
    emulator = Emulator()
    await emulator.start()
    try:
        coordinator = emulator.add_user("Sabine", last_name="Weber", username="sabine_kim", language_code="de")
        bot, context = await start_harness(emulator, make_settings(emulator, database_url, [coordinator.id]))
        try:
            bot.people["Sabine"] = Person(bot, coordinator)
            result = await build(bot)
            await bot.settle()
            return await take_snapshot(bot), result
        finally:
            await context.__aexit__(None, None, None)
    finally:
        await emulator.stop()


async def take_snapshot(bot: BotHarness) -> Snapshot:
    """The world as `bot` has it now (its people, its `group_chats`); the bot
    should be idle (settled)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    sequences: dict[str, tuple[int, bool]] = {}
    async with bot.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_KEPT:
                continue
            result = await conn.execute(select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [dict(row._mapping) for row in result]
        if conn.dialect.name == "postgresql":
            for name in await _sequences(conn):
                value, called = (await conn.execute(text(f"SELECT last_value, is_called FROM {name}"))).one()
                sequences[name] = (int(value), bool(called))
    people = {
        name: Known(p.user.id, p.user.first_name, p.user.last_name, p.user.username, p.user.language_code)
        for name, p in bot.people.items()
    }
    chats = [(chat.title, [member.id for member in chat.members]) for chat in bot.group_chats]
    shown = [
        Shown(
            m.chat_id,
            m.text,
            list(m.entities),
            copy.deepcopy(m.reply_markup),
            (m.document.name, m.document.data, m.document.mime_type) if m.document else None,
        )
        for chat_id in [*(known.user_id for known in people.values()), *(chat.id for chat in bot.group_chats)]
        for m in bot.emulator.messages(chat_id)
        if not m.deleted
    ]
    return Snapshot(rows, sequences, people, chats, sorted(bot.settings.coordinator_ids), bot.clock.frozen, shown)


def show_again(emulator: Emulator, shown: list[Shown]) -> None:
    """The bot's messages put back into their chats (before the bot runs), recorded
    in the emulator's world as it records a message the bot sent."""
    world = emulator.world
    for message in shown:
        document = None
        if message.document is not None:
            name, data, mime = message.document
            stored = world.store_file(data, name, mime, "document")
            document = Document(name, data, mime, stored.file_id, stored.file_unique_id)
        world.add_message(
            emulator.chat(message.chat_id),
            from_bot=True,
            sender=None,
            text=message.text,
            entities=list(message.entities),
            reply_markup=copy.deepcopy(message.reply_markup),
            document=document,
        )


async def _sequences(conn: Any) -> list[str]:
    """The id sequences of the tables (PostgreSQL)."""
    found = []
    for table in Base.metadata.sorted_tables:
        if "id" in table.columns and table.columns["id"].primary_key:
            name = (await conn.execute(text(f"SELECT pg_get_serial_sequence('{table.name}', 'id')"))).scalar()
            if name:
                found.append(name)
    return found


async def restore_rows(db: Database, snapshot: Snapshot) -> None:
    """Every table emptied and filled with the snapshot's rows; the id sequences
    where they were, so the next row gets the id it got after the snapshot."""
    async with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
        for table in Base.metadata.sorted_tables:
            if snapshot.rows.get(table.name):
                await conn.execute(table.insert(), snapshot.rows[table.name])
        for name, (value, called) in snapshot.sequences.items():
            await conn.execute(
                text("SELECT setval(:name, :value, :called)"), {"name": name, "value": value, "called": called}
            )


@asynccontextmanager
async def restored(snapshot: Snapshot, database_url: str, db: Database | None = None) -> AsyncIterator[BotHarness]:
    """A fresh world from `snapshot`: its rows in the database at `database_url`
    (written through `db` if given, to save opening one), a new emulator with the
    same people and group chats, and the bot started on the snapshot's clock.
    The people are in `bot.people` under their names; the group chats in
    `bot.group_chats`."""
    emulator = Emulator()
    await emulator.start()
    try:
        users = {
            known.user_id: emulator.add_user(
                known.first_name, known.last_name, known.username, known.language_code, user_id=known.user_id
            )
            for known in snapshot.people.values()
        }
        chats = [emulator.add_group_chat(title, [users[i] for i in members]) for title, members in snapshot.group_chats]
        show_again(emulator, snapshot.shown)
        writer = db or Database(database_url)
        try:
            await restore_rows(writer, snapshot)
        finally:
            if db is None:
                await writer.dispose()
        clock = Clock()
        if snapshot.clock is not None:
            clock.set(snapshot.clock)
        settings = make_settings(emulator, database_url, snapshot.coordinator_ids)
        bot, context = await start_harness(emulator, settings, clock)
        try:
            for name, known in snapshot.people.items():
                bot.people[name] = Person(bot, users[known.user_id])
            bot.group_chats = chats
            yield bot
        finally:
            await context.__aexit__(None, None, None)
    finally:
        FIGURES["faults of Telegram injected"] += sum(c.fault is not None for c in emulator.calls)
        await emulator.stop()
