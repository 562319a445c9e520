"""Logs: logging set-up that never prints the bot token or message texts.

httpx logs every request URL at INFO, and Bot API URLs contain the token
(`/bot<token>/sendMessage`); its logger is raised to WARNING, and a filter
on every handler replaces the token (and the webhook secret) wherever it
would still appear.
"""

from __future__ import annotations

import logging

from bot.core.config import Settings

REDACTED = "<redacted>"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, REDACTED)
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, REDACTED)
        record.msg, record.args = message, None
        return True


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_redaction(settings)
    for noisy in ("httpx", "httpcore", "apscheduler", "tornado.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def install_redaction(settings: Settings) -> None:
    redact = RedactSecrets([settings.telegram_bot_token or "", settings.webhook_secret or ""])
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(redact)
