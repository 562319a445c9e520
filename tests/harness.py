"""Harness: the real bot against the emulator, driven like a conversation.

    alice = await bot.person("Alice")
    await alice.send("/start")
    await alice.press("✅ Gelesen")
    assert "Wie sollen wir Sie nennen" in alice.last.text

`send` and `press` return once the bot has completely handled the update
(the `ChatOrderedProcessor` counts finished updates), and give back what the
bot sent to that person meanwhile, so tests need no sleeps.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.core.config import Settings, load_settings
from bot.dev.emulator import Emulator
from bot.telegram.app import build_application, running
from bot.telegram.inbox import ChatOrderedProcessor
from bot.telegram.pacing import Schedule
from storage.database import Database
from storage.models import Base

FIGURES: Counter[str] = Counter()
"""What the reliability tests did (faults injected, crashes survived, hostile
updates sent, updates lost, messages sent twice); printed at the end of the run."""

HANG_GUARD = 120.0
"""Seconds after which a wait for the bot fails: the bot hangs. Only a guard against
a hang, never a performance limit: a slow machine must not fail a test."""


class Clock:
    """The bot's clock in tests: real time until a test sets it, then frozen there."""

    def __init__(self) -> None:
        self.frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self.frozen or datetime.now(UTC)

    def set(self, when: datetime) -> None:
        assert when.tzinfo is not None
        self.frozen = when

    def advance(self, **delta: float) -> None:
        self.set(self() + timedelta(**delta))


@dataclass
class Person:
    """One Telegram user in a private chat with the bot."""

    harness: BotHarness
    user: Any
    seen: int = 0

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def messages(self) -> list[Any]:
        return self.harness.emulator.messages(self.user.id)

    @property
    def last(self) -> Any:
        assert self.messages, f"the bot sent nothing to {self.user.first_name}"
        return self.messages[-1]

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages]

    def new(self) -> list[Any]:
        """Messages that arrived since the last call."""
        fresh = self.messages[self.seen :]
        self.seen = len(self.messages)
        return fresh

    async def send(self, text: str) -> list[Any]:
        self.new()
        self.harness.emulator.send_text(self.user, text)
        await self.harness.settle()
        return self.new()

    async def press(self, label: str, message: Any | None = None) -> list[Any]:
        """Press the button labelled `label` on `message` (default: the newest message that has it)."""
        if message is None:
            message = next(
                (m for m in reversed(self.messages) if any(label == b[0] for row in m.buttons for b in row)),
                None,
            )
            assert message is not None, f"no button {label!r} in {[m.buttons for m in self.messages]}"
        self.new()
        self.harness.emulator.press_button(self.user, message, label)
        await self.harness.settle()
        return self.new()

    async def press_data(self, data: str, message: Any | None = None) -> list[Any]:
        """Press a button with arbitrary (possibly forged) callback data."""
        message = message or self.last
        self.new()
        self.harness.emulator.press_data(self.user, message.message_id, data)
        await self.harness.settle()
        return self.new()

    async def block(self) -> None:
        self.harness.emulator.block(self.user)
        await self.harness.settle()

    async def register(self, name: str | None = None, organisation: str | None = None) -> None:
        """Walk through /start: privacy notice, name, organisation."""
        await self.send("/start")
        await self.press(self.harness.label("registration.ack_button"))
        if name is None:
            await self.press(self.user.first_name)
        else:
            await self.send(name)
        if organisation is None:
            await self.press(self.harness.label("registration.skip_organisation_button"))
        else:
            await self.send(organisation)


@dataclass
class BotHarness:
    emulator: Emulator
    settings: Settings
    processor: ChatOrderedProcessor
    db: Database
    application: Any = None
    clock: Clock = field(default_factory=Clock)
    people: dict[str, Person] = field(default_factory=dict)
    group_chats: list[Any] = field(default_factory=list)

    @property
    def schedule(self) -> Schedule:
        """The arithmetic of Telegram's limits that the bot's pacer keeps."""
        return self.application.bot_data["deliveries"].pacer.schedule  # type: ignore[no-any-return]

    def telegram_limits(self) -> None:
        """From now on the emulator enforces Telegram's rate limits, and the bot
        keeps all of them again, its second between two messages to one chat too."""
        self.emulator.set_rate_limits(True)
        self.schedule.per_chat_interval = Schedule().per_chat_interval

    async def tick(self) -> int:
        """Run the reminder timer now (at the harness clock's time); returns how many were sent."""
        return await self.application.bot_data["deliveries"].tick()

    async def every_row(self, *, inbox: bool = False) -> str:
        """Every row of every table as one text (rows sorted per table): to compare
        the whole database before and after, or (with `inbox`, the record of
        received updates) to search it for a trace."""
        async with self.db.reader() as uow:
            parts = []
            for table in Base.metadata.sorted_tables:
                if table.name == "inbox" and not inbox:
                    continue
                rows = (await uow.session.execute(select(table))).all()
                parts.append(f"{table.name}: {sorted(repr(tuple(r)) for r in rows)}")
        return "\n".join(parts)

    def label(self, key: str, lang: str = "de") -> str:
        from bot.render.texts import Texts

        return Texts().plain(lang, key)

    async def person(
        self, first_name: str, *, username: str | None = None, language_code: str = "de", **kw: Any
    ) -> Person:
        user = self.emulator.add_user(first_name, username=username, language_code=language_code, **kw)
        person = Person(self, user)
        self.people[first_name] = person
        return person

    async def settle(self) -> None:
        """Wait until the bot has fetched and completely handled every update sent so far.

        Waits for the events themselves (the emulator hands the updates over, the
        bot's update processor counts them finished); `HANG_GUARD` only turns a
        hang into a failure."""
        emulator, processor = self.emulator, self.processor

        async def idle() -> None:
            while True:
                await emulator.wait_fetched(HANG_GUARD)
                await processor.wait_finished(emulator.delivered_count)
                if emulator.pending_updates == 0 and processor.finished >= emulator.delivered_count:
                    return

        try:
            await asyncio.wait_for(idle(), HANG_GUARD)
        except TimeoutError:
            raise AssertionError(
                f"the bot hangs: {emulator.pending_updates} update(s) not fetched, "
                f"{emulator.delivered_count - processor.finished} not finished after {HANG_GUARD:.0f} s"
            ) from None


def make_settings(emulator: Emulator, database_url: str, coordinator_ids: list[int], **extra: str) -> Settings:
    env = {
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_URL": emulator.base_url,
        "DATABASE_URL": database_url,
        "COORDINATOR_IDS": ",".join(str(i) for i in coordinator_ids),
        **extra,
    }
    return load_settings(env)


async def start_harness(emulator: Emulator, settings: Settings, clock: Clock | None = None):  # type: ignore[no-untyped-def]
    """The bot started against the emulator; `clock` (default: real time until a test
    sets it) is the bot's clock from its first moment, its first timer run included."""
    clock = clock or Clock()
    application = build_application(settings, clock=clock)
    processor = application.update_processor
    assert isinstance(processor, ChatOrderedProcessor)
    context = running(application, poll_timeout=1)
    await context.__aenter__()
    # The timer runs in the leading process; on PostgreSQL this one leads once the
    # advisory lock is free (the bot of the test before has released it).
    cluster = application.bot_data["runtime"].db.cluster
    leads = asyncio.Event()
    cluster.on_leading(lambda leading: leads.set() if leading else None)
    if not cluster.leading:
        await asyncio.wait_for(leads.wait(), HANG_GUARD)
    harness = BotHarness(emulator, settings, processor, application.bot_data["runtime"].db, application, clock)
    if not emulator.limiter.limits.enabled:
        # Telegram's second between two messages to one chat is kept only under
        # Telegram's limits (`telegram_limits`): a test of anything else does not
        # wait it out after every answer. A bot run as its own process keeps it.
        harness.schedule.per_chat_interval = 0.0
    return harness, context


def free_port() -> int:
    """A local TCP port that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
