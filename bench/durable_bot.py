"""The durable peer of `bench/burst.py` (SPEC 16): what a developer would write
instead of KIM-Bot, a plain python-telegram-bot bot that keeps every update.

Per update one SQLAlchemy async transaction on the same kind of database as
KIM-Bot (the same engine settings, `storage.database.create_engine`, so on
SQLite the same WAL, busy timeout and `BEGIN IMMEDIATE`, on PostgreSQL the same
pool, which pings a connection only after it rested; but SQLAlchemy's own
aiosqlite adapter, as a plain bot has it, not KIM-Bot's
`storage.sqlite_driver`: see `make_engine`): record the update's id (a
repeat is answered and not stored again), read the sender or create a new
one, store what the update carries (the text of `/agenda`, a plain text,
a press's data; `/help` carries nothing to keep), commit; then answer once:
one `sendMessage` for a command or a text, one `answerCallbackQuery` for a
press. The same python-telegram-bot settings as KIM-Bot and the echo bot
(long polling, 64 updates at a time, a connection pool of 256).

On SQLite the transactions of the process take turns on one `asyncio.Lock`,
as KIM-Bot's writers do (`storage.uow.WriteLock`): SQLite lets one
connection write at a time anyway, and without the lock up to 64 handlers
would wait for it in SQLite's busy handler, which sleeps in steps of up to
100 ms. That made the peer 15 to 40 % slower and its p99 erratic from run
to run; the baseline is the peer a developer would write once they had seen
that, not a weaker one.

    .venv/bin/python bench/durable_bot.py  # TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL, DATABASE_URL
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from storage.database import create_engine

HELP = (
    "Was Sie tun können:\n/agenda <Gruppe> <Thema>: ein Thema für die nächste Sitzung vorschlagen\n/help: diese Hilfe"
)
TRIES = 2  # a sender created meanwhile by a concurrent update of the same person: once more


class Base(DeclarativeBase):
    pass


class SeenUpdate(Base):
    __tablename__ = "peer_updates"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class Sender(Base):
    __tablename__ = "peer_people"
    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Entry(Base):
    __tablename__ = "peer_texts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(ForeignKey("peer_people.telegram_id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


async def prepare(engine: AsyncEngine, known: Iterable[tuple[int, str]] = ()) -> None:
    """The tables, and the people the bot knows already (Telegram id, name), as
    KIM-Bot's database holds its members before a burst of theirs."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        people = [{"telegram_id": i, "name": name, "created_at": datetime.now(UTC)} for i, name in known]
        if people:
            await connection.execute(insert(Sender), people)


async def _store(context: ContextTypes.DEFAULT_TYPE, update: Update, text: str | None) -> bool:
    """The update in one transaction; False when it was stored before (a repeat)."""
    sessions: async_sessionmaker = context.bot_data["sessions"]
    user = update.effective_user
    assert user is not None
    now = datetime.now(UTC)
    lock: asyncio.Lock | None = context.bot_data["write_lock"]
    for _ in range(TRIES):
        try:
            async with lock or nullcontext(), sessions.begin() as session:
                session.add(SeenUpdate(update_id=update.update_id))
                if await session.get(Sender, user.id) is None:
                    session.add(Sender(telegram_id=user.id, name=user.full_name, created_at=now))
                    await session.flush()
                if text is not None:
                    session.add(Entry(telegram_id=user.id, text=text, created_at=now))
            return True
        except IntegrityError:
            continue  # a repeat fails again; a sender created meanwhile is found now
    return False


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    await _store(context, update, None)
    await message.reply_text(HELP)


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/agenda ...` or any other text: kept as written."""
    message = update.effective_message
    assert message is not None
    await _store(context, update, message.text or "")
    await message.reply_text("Gespeichert.")


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await _store(context, update, query.data or "")
    await query.answer("Gespeichert.")


def build(token: str, api_url: str, engine: AsyncEngine) -> Application:
    """`api_url` is the Bot API root; `engine` a database prepared with `prepare`."""
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_url.rstrip('/')}/bot")
        .base_file_url(f"{api_url.rstrip('/')}/file/bot")
        .request(HTTPXRequest(connection_pool_size=256))
        .get_updates_request(HTTPXRequest(connection_pool_size=1))
        .concurrent_updates(64)
        .build()
    )
    application.bot_data["sessions"] = async_sessionmaker(engine, expire_on_commit=False)
    application.bot_data["write_lock"] = asyncio.Lock() if engine.dialect.name == "sqlite" else None
    application.add_handler(CommandHandler("help", help_))
    application.add_handler(MessageHandler(filters.TEXT, text))
    application.add_handler(CallbackQueryHandler(pressed))
    return application


def make_engine(url: str) -> AsyncEngine:
    """The peer's engine: KIM-Bot's settings, with SQLAlchemy's own aiosqlite
    adapter on SQLite (four trips to aiosqlite's thread per statement, where
    KIM-Bot's driver makes one). The driver is KIM-Bot's work, not a setting a
    plain bot would have; docs/performance.md gives the peer's figures with it too."""
    return create_engine(url, plain_sqlite_driver=True)


if __name__ == "__main__":
    peer_engine = make_engine(os.environ.get("DATABASE_URL", "sqlite:///peer.db"))
    asyncio.run(prepare(peer_engine))
    build(os.environ["TELEGRAM_BOT_TOKEN"], os.environ["TELEGRAM_API_URL"], peer_engine).run_polling(
        allowed_updates=Update.ALL_TYPES
    )
