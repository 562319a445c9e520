"""The reference line of `bench/burst.py`: a minimal python-telegram-bot echo bot.

No database, no texts, no rules: a text is echoed with one `sendMessage`, a
button press is answered with one `answerCallbackQuery`. It runs with the
same python-telegram-bot settings as KIM-Bot and the durable peer (long
polling, 64 updates at a time, a connection pool of 256), so its line shows
what python-telegram-bot and the emulator alone cost on the machine at hand.
It is no target: no real bot stores nothing; the baseline of SPEC 16 is the
durable peer, `bench/durable_bot.py`.

    .venv/bin/python bench/echo_bot.py  # against TELEGRAM_API_URL with TELEGRAM_BOT_TOKEN
"""

from __future__ import annotations

import os

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


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(update.callback_query.data)


def build(token: str, api_url: str) -> Application:
    """`api_url` is the Bot API root, e.g. http://127.0.0.1:8081 (the bot calls <root>/bot<token>/...)."""
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
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    return application


if __name__ == "__main__":
    build(os.environ["TELEGRAM_BOT_TOKEN"], os.environ["TELEGRAM_API_URL"]).run_polling(
        allowed_updates=Update.ALL_TYPES
    )
