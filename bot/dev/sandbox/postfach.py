"""The sandbox's mailbox ("Postfach"): a real SMTP server on the loopback
interface that keeps every mail the bot sends.

`kimbot sandbox` starts it (aiosmtpd, in the sandbox's own event loop, on a
free port of 127.0.0.1) and points the bot's `SMTP_URL` at it, so e-mail
(SPEC 15) works as it would with a mail relay, and nothing leaves the
computer. The sandbox page shows the mails (`bot.dev.sandbox.postfach_web`).

Every mail is kept as it arrived, in `sandbox-data/postfach/` as an `.eml`
file (`000001-20261125T090000Z.eml`: its number and when it arrived by the
sandbox's clock), so the Postfach is there again after a restart; `--fresh`
and `--demo` empty it with the chats. Mails are numbered from 1 in arrival
order; `wait_after(n)` waits for a mail newer than number n.

aiosmtpd is a test dependency (`pip install -e '.[dev]'`, which `./dev` does);
without it the sandbox runs without e-mail (`available` is False).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FOLDER = "postfach"
KEEP = 500
"""The newest mails kept; older ones are dropped (memory and files)."""
FILE_NAME = re.compile(r"^(\d{6,})-(\d{8}T\d{6}Z)\.eml$")
STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Received:
    number: int
    at: datetime
    """When it arrived, by the sandbox's clock (aware, UTC)."""
    raw: bytes
    message: EmailMessage
    recipients: tuple[str, ...]
    """The envelope's recipients (what the bot handed to the server)."""

    @property
    def file_name(self) -> str:
        return f"{self.number:06d}-{self.at.astimezone(UTC).strftime(STAMP)}.eml"


def available() -> bool:
    """Whether aiosmtpd is installed (else the sandbox runs without e-mail)."""
    return importlib.util.find_spec("aiosmtpd") is not None


def _parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


class Postfach:
    """The mails received, oldest first; `start` listens, `stop` stops."""

    def __init__(self, folder: Path, clock: Callable[[], datetime]) -> None:
        self.folder = folder
        self.clock = clock
        self.mails: list[Received] = []
        self.port: int | None = None
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Condition()

    @property
    def last(self) -> int:
        return self.mails[-1].number if self.mails else 0

    def get(self, number: int) -> Received | None:
        return next((m for m in self.mails if m.number == number), None)

    def load(self) -> None:
        """The mails an earlier run kept (unreadable files are skipped)."""
        if not self.folder.is_dir():
            return
        found: list[Received] = []
        for path in sorted(self.folder.iterdir()):
            match = FILE_NAME.match(path.name)
            if match is None:
                continue
            try:
                raw = path.read_bytes()
                at = datetime.strptime(match[2], STAMP).replace(tzinfo=UTC)
                message = _parse(raw)
            except (OSError, ValueError):
                log.warning("sandbox: cannot read the mail %s; it is left out", path)
                continue
            to = tuple(str(a) for a in message.get_all("To", []))
            found.append(Received(int(match[1]), at, raw, message, to))
        self.mails = sorted(found, key=lambda m: m.number)[-KEEP:]

    @staticmethod
    def clear(folder: Path) -> None:
        """Forget every kept mail (`--fresh`, `--demo`)."""
        if folder.is_dir():
            for path in folder.iterdir():
                if FILE_NAME.match(path.name):
                    path.unlink(missing_ok=True)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0: a free port); returns the port."""
        from aiosmtpd.smtp import SMTP

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(_Handler(self), hostname="postfach.sandbox", enable_SMTPUTF8=True), host, port
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def keep(self, raw: bytes, recipients: tuple[str, ...]) -> Received:
        """Keep a mail the server accepted (in memory, then in its file)."""
        received = Received(
            self.last + 1, self.clock().astimezone(UTC).replace(microsecond=0), raw, _parse(raw), recipients
        )
        async with self._arrived:
            self.mails.append(received)
            dropped, self.mails = self.mails[:-KEEP], self.mails[-KEEP:]
            self._arrived.notify_all()
        try:
            await asyncio.to_thread(self._write, received, dropped)
        except OSError:
            log.warning("sandbox: cannot keep the mail in %s", self.folder, exc_info=True)
        return received

    def _write(self, received: Received, dropped: list[Received]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / received.file_name).write_bytes(received.raw)
        for old in dropped:
            (self.folder / old.file_name).unlink(missing_ok=True)

    async def wait_after(self, number: int, timeout: float) -> None:
        """Return when a mail newer than `number` is there, or after `timeout` seconds."""
        async with self._arrived:
            try:
                await asyncio.wait_for(self._arrived.wait_for(lambda: self.last > number), timeout)
            except TimeoutError:
                pass


class _Handler:
    """aiosmtpd's handler: every recipient is accepted, every mail kept."""

    def __init__(self, postfach: Postfach) -> None:
        self.postfach = postfach

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        await self.postfach.keep(content, tuple(envelope.rcpt_tos))
        return "250 Message accepted for delivery"
