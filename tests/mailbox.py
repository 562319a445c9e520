"""Mailbox: a real SMTP server (aiosmtpd) on the loopback interface, in the
test's own event loop, that keeps every mail it accepted.

    mailbox = await Mailbox.start()
    ...
    mail = await mailbox.wait_for(lambda m: m["To"] == "ana@example.org")

It can refuse an address for good (`refuse`: 550), refuse for a while
(`defer`: 451), and go away and come back on the same port (`away`, `back`).
Waits are for the event itself; `HANG_GUARD` only turns a hang into a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from storage.mail_models import EmailAddress, MailMode
from tests.harness import HANG_GUARD, free_port


class _Session(SMTP):
    """aiosmtpd's SMTP session, counted while its connection is open (`Mailbox.idle`)."""

    def __init__(self, box: Mailbox) -> None:
        super().__init__(box, hostname="mail.test", enable_SMTPUTF8=True)
        self.box = box

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.box.connections += 1
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self.box.connections -= 1
        self.box._closed.set()


class Mailbox:
    def __init__(self, port: int) -> None:
        self.host = "127.0.0.1"
        self.port = port
        self.mails: list[EmailMessage] = []
        self.refused: set[str] = set()
        self.deferred: set[str] = set()
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Condition()
        self.connections = 0
        """SMTP connections open now."""
        self._closed = asyncio.Event()

    @classmethod
    async def start(cls, port: int | None = None) -> Mailbox:
        box = cls(port or free_port())
        await box.back()
        return box

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    async def back(self) -> None:
        """Listen (again) on the same port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Session(self), self.host, self.port)

    async def away(self) -> None:
        """Stop listening: connections are refused until `back`."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    stop = away

    def refuse(self, address: str) -> None:
        self.refused.add(address.lower())

    def defer(self, address: str) -> None:
        self.deferred.add(address.lower())

    # aiosmtpd's handler hooks
    async def handle_RCPT(  # noqa: N802 - aiosmtpd's name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.lower() in self.deferred:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        async with self._arrived:
            self.mails.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    async def idle(self) -> None:
        """Wait until every connection is closed (a client that died: its last mail is in or not)."""

        async def closed() -> None:
            while self.connections:
                self._closed.clear()
                await self._closed.wait()

        try:
            await asyncio.wait_for(closed(), HANG_GUARD)
        except TimeoutError:
            raise AssertionError(f"{self.connections} SMTP connection(s) stay open") from None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.mails if str(m["To"]).lower() == address.lower()]

    async def wait_for(self, check: Callable[[EmailMessage], bool], count: int = 1) -> EmailMessage:
        """The `count`-th mail that passes `check` (waits for it to arrive)."""

        async def arrived() -> EmailMessage:
            async with self._arrived:
                while True:
                    found = [m for m in self.mails if check(m)]
                    if len(found) >= count:
                        return found[count - 1]
                    await self._arrived.wait()

        try:
            return await asyncio.wait_for(arrived(), HANG_GUARD)
        except TimeoutError:
            raise AssertionError(f"no such mail arrived; {len(self.mails)} mail(s) came") from None

    async def wait_to(self, address: str, count: int = 1) -> EmailMessage:
        return await self.wait_for(lambda m: str(m["To"]).lower() == address.lower(), count)


def text_of(message: EmailMessage) -> str:
    """The plain-text part of a mail."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]  # a MIMEPart


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]  # a MIMEPart


def attachments(message: EmailMessage) -> list[Any]:
    return list(message.iter_attachments())


def mail_env(mailbox: Mailbox, web_port: int | None = None) -> dict[str, str]:
    """The bot's configuration for mails to `mailbox` (and pages on `web_port`)."""
    env = {
        "SMTP_URL": mailbox.url,
        "MAIL_FROM": "KIM-Bot <kim@stadt.example.de>",
        "MAIL_RATE": "1000",
    }
    if web_port is not None:
        env["PUBLIC_URL"] = f"http://127.0.0.1:{web_port}"
    return env


async def confirmed(bot, person, address: str, mode: MailMode = MailMode.ALL) -> None:  # type: ignore[no-untyped-def]
    """A confirmed address, written as the confirmation would leave it."""
    async with bot.db.uow() as uow:
        row = await uow.people.by_telegram_id(person.id)
        assert row is not None
        uow.mail.add(
            EmailAddress(person_id=row.id, address=address, confirmed_at=bot.clock(), mode=mode, pending_tries=0)
        )
        await uow.commit()
