"""Handing mails to the mail server (`SMTP_URL`), and what its answers mean.

One connection per run of the mailer, paced to `MAIL_RATE` mails a second.
Every answer is sorted into an `Outcome`:
- accepted: SENT;
- the address refused for good (5xx on the recipient): BOUNCED, the address
  is marked and nothing more goes there;
- the mail refused for good (another 5xx): FAILED, with the server's words;
- anything passing (4xx, the server away, a timeout, a dropped connection):
  RETRY, later, with growing pauses (`bot.mail.outbox.RETRY_AFTER`).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from bot.core.config import SmtpServer

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 30.0


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    BOUNCED = "bounced"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    error: str | None = None


def _said(code: int, message: str) -> str:
    return f"{code} {' '.join(str(message).split())}"[:200]


class Connection:
    """One SMTP session; opened on the first mail, opened again after a dropped line."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self._smtp: aiosmtplib.SMTP | None = None

    async def _open(self) -> aiosmtplib.SMTP:
        server = self.server
        smtp = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            use_tls=server.tls,
            start_tls=False if server.tls else None,  # None: STARTTLS where the server offers it
            timeout=SMTP_TIMEOUT,
        )
        await smtp.connect()
        if server.user is not None:
            await smtp.login(server.user, server.password or "")
        return smtp

    async def send(self, message: EmailMessage) -> Result:
        try:
            if self._smtp is None or not self._smtp.is_connected:
                self._smtp = await self._open()
            await self._smtp.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as error:
            refused = error.recipients[0] if error.recipients else None
            if refused is not None and 500 <= refused.code < 600:
                return Result(Outcome.BOUNCED, _said(refused.code, refused.message))
            return Result(Outcome.RETRY, _said(refused.code, refused.message) if refused else "refused")
        except aiosmtplib.SMTPAuthenticationError as error:
            self._smtp = None
            log.error("the mail server refused the login of SMTP_URL: %s", _said(error.code, error.message))
            return Result(Outcome.RETRY, _said(error.code, error.message))
        except aiosmtplib.SMTPResponseException as error:
            if 500 <= error.code < 600:
                return Result(Outcome.FAILED, _said(error.code, error.message))
            return Result(Outcome.RETRY, _said(error.code, error.message))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            await self.close()
            return Result(Outcome.RETRY, f"{type(error).__name__}: {error}"[:200])
        return Result(Outcome.SENT)

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                smtp.close()
