"""The durable peer for `bench/burst.py` (SPEC 16): what a developer would write
instead of KIM-Bot, a plain python-telegram-bot bot that keeps every update.

Per update one SQLAlchemy async transaction on the same kind of database as
KIM-Bot (the same engine settings, `storage.database.create_engine`): record
the update's id (a repeat is answered and not stored again), read or create
the sender, store the text (a press: its data), commit; then answer once, with
one `sendMessage` for a text and one `answerCallbackQuery` for a press. The
same python-telegram-bot settings as KIM-Bot and the echo bot (long polling,
64 updates at a time, a connection pool of 256).

    .venv/bin/python bench/durable_bot.py  # TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL, DATABASE_URL
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from storage.database import create_engine


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


async def prepare(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


async def _store(context: ContextTypes.DEFAULT_TYPE, update: Update, text: str) -> bool:
    """The update in one transaction; False when it was stored before (a repeat)."""
    sessions: async_sessionmaker = context.bot_data["sessions"]
    user = update.effective_user
    assert user is not None
    now = datetime.now(UTC)
    try:
        async with sessions.begin() as session:
            session.add(SeenUpdate(update_id=update.update_id))
            if await session.get(Sender, user.id) is None:
                session.add(Sender(telegram_id=user.id, name=user.full_name, created_at=now))
                await session.flush()
            session.add(Entry(telegram_id=user.id, text=text, created_at=now))
    except IntegrityError:
        return False
    return True


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
    application.add_handler(MessageHandler(filters.TEXT, text))
    application.add_handler(CallbackQueryHandler(pressed))
    return application


if __name__ == "__main__":
    engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///peer.db"))
    asyncio.run(prepare(engine))
    build(os.environ["TELEGRAM_BOT_TOKEN"], os.environ["TELEGRAM_API_URL"], engine).run_polling(
        allowed_updates=Update.ALL_TYPES
    )
