"""Burst benchmark: KIM-Bot against a durable peer and a bare echo bot, the same burst of updates.

    .venv/bin/python bench/burst.py [--members 200] [--per-member 10] [--postgres URL]

200 members (`--members`), each with a recommendation of the coordination in
their chat, send 10 updates each (`--per-member`), 2,000 in all: they press
the recommendation's stance buttons (Zustimmung, Bedenken, Ablehnung, each
press changing their answer) and propose topics with `/agenda ak-eu Thema
...`, alternately. The whole burst is put into the emulator's queue at once,
so the bot gets it as fast as the emulator can deliver (long polling, 100
updates per `getUpdates`); the emulator's rate limits are off (the answers
are not held back by Telegram's limits, which belong to the fan-out
benchmark).

KIM-Bot (`build_application` + `running`) runs on SQLite in a temporary
directory or on a fresh PostgreSQL database (`--postgres`), with the members
and the coordinator bulk-inserted, an AK EU session 30 days ahead (so
`/agenda` has a session to add to) and the recommendation published through
`bot.core.recommendations.recommend` and delivered before the clock starts. The
baseline (SPEC 16) is `bench/durable_bot.py`: a plain python-telegram-bot bot
that keeps every update in one SQLAlchemy transaction on the same kind of
database; `bench/echo_bot.py`, which stores nothing, is a second reference
line. Each gets the same burst from the same kind of emulator.

Measured from the emulator's records: the time of each update's delivery to
the bot (`Emulator.deliveries`) and of the bot's answer to it (the
`answerCallbackQuery` of a press, the `sendMessage` into the chat for a text,
`Emulator.calls`). Printed per bot: updates per second (the burst's updates
over the time from the first delivery to the last answer) and the 50th and
99th percentile of delivery-to-answer latency; then KIM-Bot / peer (targets:
throughput at least 0.8 x, p99 at most 1.5 x) and KIM-Bot / echo.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import durable_bot, echo_bot  # noqa: E402
from bench.common import Row, backend, database  # noqa: E402
from bench.reminders import kimbot, seed  # noqa: E402
from bot.core import meetings
from bot.core import recommendations as core
from bot.dev.emulator import Emulator  # noqa: E402
from bot.dev.emulator.state import User  # noqa: E402
from bot.telegram.app import running  # noqa: E402
from handlers import payloads as p  # noqa: E402
from storage.database import create_engine  # noqa: E402
from storage.models import StanceValue  # noqa: E402

GROUP = "ak-eu"
MARK = "Benchmark-Empfehlung"
THROUGHPUT_TARGET = 0.8
P99_TARGET = 1.5
WAIT = 600.0  # guards against a hang only
STANCES = [v.value for v in StanceValue]


@dataclass
class Result:
    updates: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1]

    def line(self) -> str:
        return (
            f"{self.updates} updates in {self.seconds:.2f} s = {self.per_second:.0f} updates/s;"
            f" latency p50 {self.percentile(50) * 1000:.1f} ms, p99 {self.percentile(99) * 1000:.1f} ms"
        )


def burst(emu: Emulator, members: list[tuple[User, int]], recommendation_id: int, per_member: int) -> list[int]:
    """Push the whole burst into the emulator's queue; returns the update ids."""
    ids = []
    for k in range(per_member):
        for n, (user, message_id) in enumerate(members):
            if k % 2 == 0:
                stance = STANCES[(k // 2 + n) % len(STANCES)]
                data = p.GiveStance(recommendation_id, stance).encode()
                ids.append(emu.press_data(user, message_id, data))
            else:
                ids.append(
                    emu.send_text(
                        user,
                        f"/agenda {GROUP} Thema {k // 2 + 1} von Mitglied {n}: Wohnen im Quartier",
                    )
                )
    return ids


class Answers:
    """When each update of the burst was answered, from the emulator's calls.

    Reads only the calls it has not seen yet (the check runs on every change
    in the emulator, on the bots' own event loop, and must stay cheap).
    """

    def __init__(self, emu: Emulator, update_ids: list[int], text_chat: dict[int, int]) -> None:
        self.emu = emu
        self.seen = len(emu.calls)
        wanted = set(update_ids)
        self.by_query = {q.id: q.update_id for q in emu.world.queries.values() if q.update_id in wanted}
        self.texts: dict[int, list[int]] = defaultdict(list)  # chat -> its text updates, in order
        for update_id in update_ids:
            if update_id in text_chat:
                self.texts[text_chat[update_id]].append(update_id)
        self.sent: dict[int, int] = defaultdict(int)
        self.at: dict[int, float] = {}
        self.expected = len(update_ids)

    def done(self) -> bool:
        calls = self.emu.calls
        for call in calls[self.seen :]:
            if call.status != 200:
                continue
            if call.method == "answerCallbackQuery":
                update_id = self.by_query.get(str(call.params.get("callback_query_id")))
                if update_id is not None:
                    self.at.setdefault(update_id, call.at)
            elif call.method == "sendMessage" and call.chat_id in self.texts:
                pending = self.texts[call.chat_id]
                k = self.sent[call.chat_id]
                if k < len(pending):
                    self.at[pending[k]] = call.at
                    self.sent[call.chat_id] = k + 1
        self.seen = len(calls)
        return len(self.at) >= self.expected


async def drive(emu: Emulator, members: list[tuple[User, int]], recommendation_id: int, per_member: int) -> Result:
    """Send the burst, wait until everything is answered, compute the figures."""
    before = len(emu.deliveries)
    update_ids = burst(emu, members, recommendation_id, per_member)
    queries = {q.update_id for q in emu.world.queries.values()}
    text_chat: dict[int, int] = {}
    order = iter(update_ids)
    for _ in range(per_member):
        for user, _ in members:
            update_id = next(order)
            if update_id not in queries:
                text_chat[update_id] = user.id  # the members write in their private chats
    answers = Answers(emu, update_ids, text_chat)
    answers.seen = min(answers.seen, len(emu.calls))
    await emu.wait_until(answers.done, WAIT)
    delivered: dict[int, float] = {}
    for d in emu.deliveries[before:]:
        delivered.setdefault(d.update_id, d.at)
    latencies = [answers.at[u] - delivered[u] for u in update_ids]
    seconds = max(answers.at.values()) - min(delivered[u] for u in update_ids)
    return Result(len(update_ids), seconds, latencies)


async def echo_run(members: int, per_member: int) -> Result:
    async with Emulator() as emu:
        emu.set_rate_limits(False)
        users = [emu.add_user(f"Mitglied {n}", language_code="de") for n in range(members)]
        application = echo_bot.build(emu.token, emu.base_url)
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                # a message of the bot in every chat, to press on
                bot = application.bot
                posted = [
                    (user, (await bot.send_message(user.id, f"{MARK}: bitte antworten")).message_id) for user in users
                ]
                await emu.wait_idle(quiet=0.5, timeout=WAIT)
                result = await drive(emu, posted, 1, per_member)
            finally:
                await application.updater.stop()
                await application.stop()
    return result


async def durable_run(members: int, per_member: int, postgres: str | None) -> Result:
    """The durable peer (`bench/durable_bot.py`) on the same kind of database as KIM-Bot."""
    async with Emulator() as emu, database(postgres, "peer") as url:
        emu.set_rate_limits(False)
        users = [emu.add_user(f"Mitglied {n}", language_code="de") for n in range(members)]
        engine = create_engine(url)
        try:
            await durable_bot.prepare(engine)
            application = durable_bot.build(emu.token, emu.base_url, engine)
            async with application:
                await application.start()
                assert application.updater is not None
                await application.updater.start_polling(poll_interval=0.0, timeout=1)
                try:
                    bot = application.bot
                    posted = [
                        (user, (await bot.send_message(user.id, f"{MARK}: bitte antworten")).message_id)
                        for user in users
                    ]
                    await emu.wait_idle(quiet=0.5, timeout=WAIT)
                    result = await drive(emu, posted, 1, per_member)
                finally:
                    await application.updater.stop()
                    await application.stop()
        finally:
            await engine.dispose()
    return result


async def kimbot_run(members: int, per_member: int, postgres: str | None) -> Result:
    async with Emulator() as emu, database(postgres) as url:
        emu.set_rate_limits(False)
        coordinator = emu.add_user("Koordination", username="koordination", language_code="de")
        users = [emu.add_user(f"Mitglied {n}", language_code="de") for n in range(members)]
        now = datetime.now(UTC)
        await seed(url, coordinator.id, [u.id for u in users], now)
        application = kimbot(emu, url, coordinator.id, DIGEST_SCHEDULE="off")
        async with running(application, poll_timeout=1):
            runtime = application.bot_data["runtime"]
            settings = runtime.settings
            deliveries = application.bot_data["deliveries"]
            day = (now + timedelta(days=30)).astimezone(settings.timezone).date()
            async with runtime.db.uow() as uow:
                creator = await uow.people.by_telegram_id(coordinator.id)
                assert creator is not None
                await meetings.schedule(
                    uow,
                    creator,
                    meetings.MeetingRequest(GROUP, day, time(14, 0), "Benchmark-Sitzung", "Rathaus"),
                    settings,
                    runtime.clock(),
                )
                await uow.commit()
            async with runtime.db.uow() as uow:
                creator = await uow.people.by_telegram_id(coordinator.id)
                assert creator is not None
                published = await core.recommend(
                    uow,
                    creator,
                    f"{GROUP} {MARK}: Mehr Sprachkurse am Abend",
                    settings,
                    runtime.clock(),
                )
                await uow.commit()
            assert isinstance(published, core.Published), published
            recommendation_id = published.recommendation.id
            await deliveries.tick()

            def posted() -> list[tuple[User, int]] | None:
                found = []
                for user in users:
                    message = next((m for m in emu.messages(user) if MARK in (m.text or "")), None)
                    if message is None:
                        return None
                    found.append((user, message.message_id))
                return found

            targets = await emu.wait_until(posted, WAIT)
            await emu.wait_idle(quiet=1.0, timeout=WAIT)
            result = await drive(emu, targets, recommendation_id, per_member)
            bad = [c for c in emu.calls if c.status != 200]
            assert not bad, bad[:3]
    return result


@dataclass
class Compared:
    echo: Result
    peer: Result
    kim: Result


def _ratios(kim: Result, base: Result, name: str) -> str:
    return (
        f"KIM-Bot / {name}: throughput {kim.per_second / base.per_second:.2f},"
        f" p50 {kim.percentile(50) / base.percentile(50):.2f},"
        f" p99 {kim.percentile(99) / base.percentile(99):.2f}"
    )


async def compare(members: int, per_member: int, postgres: str | None) -> Compared:
    echo = await echo_run(members, per_member)
    print(f"Echo bot (bench/echo_bot.py): {echo.line()}", flush=True)
    peer = await durable_run(members, per_member, postgres)
    print(f"Durable peer (bench/durable_bot.py, {backend(postgres)}): {peer.line()}", flush=True)
    kim = await kimbot_run(members, per_member, postgres)
    print(f"KIM-Bot ({backend(postgres)}): {kim.line()}", flush=True)
    print(_ratios(kim, peer, "peer") + f" (targets: throughput >= {THROUGHPUT_TARGET}, p99 <= {P99_TARGET})")
    print(_ratios(kim, echo, "echo") + " (a reference line: the echo bot stores nothing)")
    return Compared(echo, peer, kim)


async def suite(quick: bool, postgres: str | None) -> list[Row]:
    """Item 1: throughput and p99 latency against the durable peer; the echo bot as a reference."""
    members, per_member = (100, 4) if quick else (200, 10)
    found = await compare(members, per_member, postgres)
    echo, peer, kim = found.echo, found.peer, found.kim
    throughput = kim.per_second / peer.per_second
    p99 = kim.percentile(99) / peer.percentile(99)
    where = f"{members * per_member} updates, {backend(postgres)}"
    return [
        Row(
            f"burst throughput ({where})",
            f"{kim.per_second:.0f} updates/s",
            f"durable peer {peer.per_second:.0f}/s",
            throughput,
            ">= 0.8 x",
            throughput >= THROUGHPUT_TARGET,
        ),
        Row(
            f"burst latency p50 ({where})",
            f"{kim.percentile(50) * 1000:.0f} ms",
            f"durable peer {peer.percentile(50) * 1000:.0f} ms",
            kim.percentile(50) / peer.percentile(50),
            "-",
            None,
        ),
        Row(
            f"burst latency p99 ({where})",
            f"{kim.percentile(99) * 1000:.0f} ms",
            f"durable peer {peer.percentile(99) * 1000:.0f} ms",
            p99,
            "<= 1.5 x",
            p99 <= P99_TARGET,
        ),
        Row(
            f"burst throughput against the echo bot ({where})",
            f"{kim.per_second:.0f} updates/s",
            f"echo bot {echo.per_second:.0f}/s",
            kim.per_second / echo.per_second,
            "-",
            None,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--per-member", type=int, default=10, help="updates per member (10)")
    parser.add_argument("--postgres", metavar="URL", help="KIM-Bot on a fresh PostgreSQL database next to URL")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(compare(args.members, args.per_member, args.postgres))


if __name__ == "__main__":
    main()
