"""Spread benchmark: `/recommend` to hundreds of members, and button presses while it goes out.

    .venv/bin/python bench/spread.py [--members 300,600] [--burst 1000] [--pressers 40] [--postgres URL]

The real bot (`build_application` + `running`, long polling) against the
emulator, on SQLite in a temporary directory or a fresh PostgreSQL database
(`--postgres`). The members of AK EU and the coordinator are bulk-inserted
(as `bench/reminders.py` does).

1. **Fan-out after a burst**, for each size in `--members`: first a burst of
   `--burst` `/help` from `--burst` / 5 people the bot has never seen (it
   creates them on first contact), the emulator's limits off, all queued at
   once; as soon as the last one is answered the emulator enforces
   Telegram's limits (30 messages per second, 1 per second per chat) and the
   coordinator writes `/recommend ak-eu <text>`, which publishes at once.
   From queueing that command: the coordinator's answer, the first member's
   message, the last one; last / floor, where the floor is members / 30 s;
   the 429s, members without the recommendation or with two. Targets (SPEC
   16): first within 1 s, last within 1.1 x the floor, no 429, none lost or
   doubled.
2. **Presses during a fan-out**: `--pressers` of the members also belong to
   AK Ehrenamt and have a recommendation of it with its stance buttons. Each
   presses a stance button four times, one press every 100 ms across all
   of them (16 s with 40), with nothing else going on; then, twice: the same
   from the moment the coordinator's `/recommend` to all the (largest
   `--members`) members of AK EU is queued (the bot claims and renders, then
   sends), and once more with nothing going on. The quiet presses before
   and after each fan-out are the baseline, so a machine busy with something
   else for a while weighs on both sides. Latency: from the press (the update queued)
   to the bot's `answerCallbackQuery`. Printed: p50 and p99 of both, and the
   ratio (target p99 at most 1.5 x, SPEC 16); the fan-out's own figures as
   above.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.common import Row, backend, database  # noqa: E402
from bench.reminders import approve, kimbot, seed  # noqa: E402
from bot.core import recommendations as core  # noqa: E402
from bot.dev.emulator import Emulator  # noqa: E402
from bot.dev.emulator.state import User  # noqa: E402
from bot.telegram.app import running  # noqa: E402
from handlers import payloads as p  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import StanceValue  # noqa: E402

TELEGRAM_PER_SECOND = 30
FIRST_TARGET = 1.0
LAST_TARGET = 1.1
PRESS_TARGET = 1.5
GROUP = "ak-eu"
PRESS_GROUP = "ak-ehrenamt"
MARK = "Verteilerprobe"
PRESS_MARK = "Tastenprobe"
PRESSES_EACH = 4
PRESS_EVERY = 0.1
HELP_PER_PERSON = 5
WAIT = 600.0  # guards against a hang only
STANCES = [v.value for v in StanceValue]


@dataclass
class Spread:
    """One fan-out of a recommendation, seconds from queueing the command."""

    members: int
    answer: float
    first: float
    last: float
    too_many: int
    lost: int
    doubled: int
    burst: int = 0
    burst_seconds: float = 0.0

    @property
    def floor(self) -> float:
        return self.members / TELEGRAM_PER_SECOND

    @property
    def ratio(self) -> float:
        return self.last / self.floor

    @property
    def clean(self) -> bool:
        return self.too_many == 0 and self.lost == 0 and self.doubled == 0

    def lines(self) -> list[tuple[str, str]]:
        return [
            ("burst before", f"{self.burst} /help answered in {self.burst_seconds:.2f} s"),
            ("answer", f"{self.answer:.2f} s (the coordinator's confirmation)"),
            ("first", f"{self.first:.2f} s (target <= {FIRST_TARGET} s)"),
            ("last", f"{self.last:.2f} s, floor {self.floor:.2f} s: {self.ratio:.3f} x (target <= {LAST_TARGET})"),
            ("429 answered", str(self.too_many)),
            ("lost", str(self.lost)),
            ("doubled", str(self.doubled)),
        ]


@dataclass
class Presses:
    latencies: list[float]

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1]

    def line(self) -> str:
        return (
            f"{len(self.latencies)} presses: p50 {self.percentile(50) * 1000:.0f} ms,"
            f" p99 {self.percentile(99) * 1000:.0f} ms, max {max(self.latencies) * 1000:.0f} ms"
        )


def report(title: str, lines: list[tuple[str, str]]) -> None:
    print(title, flush=True)
    width = max(15, *(len(label) + 2 for label, _ in lines))
    for label, value in lines:
        print(f"  {label:<{width}}{value}", flush=True)


async def prepare(url: str, coordinator: User, members: list[User], pressers: list[User]) -> None:
    now = datetime.now(UTC)
    await seed(url, coordinator.id, [u.id for u in members], now)
    if pressers:
        db = Database(url)
        try:
            async with db.engine.begin() as conn:
                await conn.run_sync(approve, PRESS_GROUP, [u.id for u in pressers], now)
        finally:
            await db.dispose()


def limits_on(emu: Emulator) -> None:
    emu.set_rate_limits(True, global_per_second=30, per_chat_per_second=1, group_per_minute=20)


async def help_burst(emu: Emulator, count: int) -> float:
    """`count` /help from count / 5 new people, queued at once; seconds until the last answer."""
    if count <= 0:
        return 0.0
    people = [
        emu.add_user(f"Neu {n}", language_code="de") for n in range((count + HELP_PER_PERSON - 1) // HELP_PER_PERSON)
    ]
    wanted: dict[int, int] = {}
    seen = len(emu.calls)
    started = monotonic()
    for k in range(count):
        person = people[k % len(people)]
        emu.send_text(person, "/help")
        wanted[person.id] = wanted.get(person.id, 0) + 1
    answered: dict[int, int] = {}

    def done() -> bool:
        nonlocal seen
        calls = emu.calls
        for call in calls[seen:]:
            if call.status == 200 and call.method == "sendMessage" and call.chat_id in wanted:
                answered[call.chat_id] = answered.get(call.chat_id, 0) + 1
        seen = len(calls)
        return all(answered.get(chat, 0) >= n for chat, n in wanted.items())

    await emu.wait_until(done, WAIT)
    return monotonic() - started


async def fan_out(emu: Emulator, coordinator: User, members: list[User], text: str) -> Spread:
    """The coordinator's `/recommend ak-eu <text>`; waits until every member has it."""
    chats = {u.id for u in members}
    seen = len(emu.calls)
    too_many = len(emu.too_many_requests)
    started = monotonic()
    emu.send_text(coordinator, f"/recommend {GROUP} {text}")
    answer: list[float] = []
    arrived: dict[int, float] = {}

    def done() -> bool:
        nonlocal seen
        calls = emu.calls
        for call in calls[seen:]:
            if call.status != 200 or call.method != "sendMessage":
                continue
            if call.chat_id == coordinator.id and not answer:
                answer.append(call.at)
            elif call.chat_id in chats and text in str(call.params.get("text", "")):
                arrived.setdefault(call.chat_id, call.at)
        seen = len(calls)
        return len(arrived) == len(chats) and bool(answer)

    await emu.wait_until(done, WAIT)
    await emu.wait_idle(quiet=1.5, timeout=WAIT)  # anything doubled arrives now at the latest
    counts = [sum(1 for m in emu.messages(u) if text in (m.text or "")) for u in members]
    return Spread(
        members=len(members),
        answer=answer[0] - started,
        first=min(arrived.values()) - started,
        last=max(arrived.values()) - started,
        too_many=len(emu.too_many_requests) - too_many,
        lost=sum(1 for n in counts if n == 0),
        doubled=sum(n - 1 for n in counts if n > 1),
    )


async def spread_run(members: int, burst: int, postgres: str | None) -> Spread:
    """Part 1 for one size: a fresh bot and database, the burst, then the fan-out."""
    async with Emulator() as emu, database(postgres) as url:
        emu.set_rate_limits(False)
        coordinator = emu.add_user("Koordination", username="koordination", language_code="de")
        users = [emu.add_user(f"Mitglied {n}", language_code="de") for n in range(members)]
        await prepare(url, coordinator, users, [])
        application = kimbot(emu, url, coordinator.id, DIGEST_SCHEDULE="off")
        async with running(application, poll_timeout=1):
            await emu.wait_idle(quiet=0.5, timeout=WAIT)  # the first tick is done
            burst_seconds = await help_burst(emu, burst)
            limits_on(emu)
            result = await fan_out(emu, coordinator, users, f"{MARK}: Mehr Sprachkurse am Abend")
    result.burst, result.burst_seconds = burst, burst_seconds
    report(
        f"/recommend to {members} members right after {burst} /help, {backend(postgres)}, Telegram's limits on",
        result.lines(),
    )
    return result


async def press_series(emu: Emulator, targets: list[tuple[User, int]], recommendation_id: int) -> Presses:
    """Every presser presses a stance button `PRESSES_EACH` times, one press every
    `PRESS_EVERY` s in all; latencies from the press to the bot's answer."""
    pressed: dict[str, float] = {}
    answered: dict[str, float] = {}
    seen = len(emu.calls)

    def collect() -> bool:
        nonlocal seen
        calls = emu.calls
        for call in calls[seen:]:
            if call.method == "answerCallbackQuery" and call.status == 200:
                query = str(call.params.get("callback_query_id"))
                if query in pressed:
                    answered.setdefault(query, call.at)
        seen = len(calls)
        return len(answered) == len(pressed)

    began = monotonic()
    count = 0
    for k in range(PRESSES_EACH):
        for n, (user, message_id) in enumerate(targets):
            await asyncio.sleep(max(0.0, began + count * PRESS_EVERY - monotonic()))
            stance = STANCES[(k + n) % len(STANCES)]
            at = monotonic()
            update_id = emu.press_data(user, message_id, p.GiveStance(recommendation_id, stance).encode())
            query = next(q for q in reversed(list(emu.world.queries.values())) if q.update_id == update_id)
            pressed[query.id] = at
            count += 1
            collect()
    await emu.wait_until(collect, WAIT)
    return Presses([answered[q] - pressed[q] for q in pressed])


@dataclass
class Pressing:
    quiet: Presses
    busy: Presses
    spread: Spread

    @property
    def ratio(self) -> float:
        return self.busy.percentile(99) / self.quiet.percentile(99)


async def press_run(members: int, pressers: int, postgres: str | None, rounds: int = 2) -> Pressing:
    """Part 2: the same presses with no fan-out, during a fan-out to `members`,
    with none again, `rounds` times (the fan-out's figures: the slowest round's)."""
    async with Emulator() as emu, database(postgres) as url:
        limits_on(emu)
        coordinator = emu.add_user("Koordination", username="koordination", language_code="de")
        users = [emu.add_user(f"Mitglied {n}", language_code="de") for n in range(members)]
        chosen = users[:: max(1, members // pressers)][:pressers]
        await prepare(url, coordinator, users, chosen)
        application = kimbot(emu, url, coordinator.id, DIGEST_SCHEDULE="off")
        async with running(application, poll_timeout=1):
            runtime = application.bot_data["runtime"]
            async with runtime.db.uow() as uow:
                creator = await uow.people.by_telegram_id(coordinator.id)
                assert creator is not None
                published = await core.recommend(
                    uow, creator, f"{PRESS_GROUP} {PRESS_MARK}: Ehrenamtsbörse", runtime.settings, runtime.clock()
                )
                await uow.commit()
            assert isinstance(published, core.Published), published
            await application.bot_data["deliveries"].tick()

            def posted() -> list[tuple[User, int]] | None:
                found = []
                for user in chosen:
                    message = next((m for m in emu.messages(user) if PRESS_MARK in (m.text or "")), None)
                    if message is None:
                        return None
                    found.append((user, message.message_id))
                return found

            targets = await emu.wait_until(posted, WAIT)
            await emu.wait_idle(quiet=1.0, timeout=WAIT)
            rid = published.recommendation.id
            quiet = await press_series(emu, targets, rid)
            busy = Presses([])
            spreads: list[Spread] = []
            for round_ in range(rounds):
                await emu.wait_idle(quiet=1.0, timeout=WAIT)
                text = f"{MARK} {round_ + 1}: Mehr Sprachkurse am Abend"
                spreading = asyncio.ensure_future(fan_out(emu, coordinator, users, text))
                await asyncio.sleep(0.05)  # the command is queued: the fan-out begins with its planning
                busy.latencies += (await press_series(emu, targets, rid)).latencies
                spreads.append(await spreading)
                # quiet again: the baseline is before and after each fan-out
                quiet.latencies += (await press_series(emu, targets, rid)).latencies
            spread = max(spreads, key=lambda s: s.last)
    result = Pressing(quiet, busy, spread)
    report(
        f"{pressers} members press stance buttons, {backend(postgres)}, Telegram's limits on",
        [
            ("no fan-out", result.quiet.line()),
            (f"fan-out {members}", busy.line()),
            ("p99 ratio", f"{result.ratio:.2f} (target <= {PRESS_TARGET})"),
        ]
        + [(f"fan-out: {label}", value) for label, value in spread.lines()[1:]],
    )
    return result


def _spread_rows(result: Spread, where: str) -> list[Row]:
    name = f"/recommend to {result.members} after {result.burst} /help ({where})"
    return [
        Row(
            f"{name}, first",
            f"{result.first:.2f} s (answer {result.answer:.2f} s)",
            "-",
            None,
            f"<= {FIRST_TARGET:.0f} s",
            result.first <= FIRST_TARGET,
        ),
        Row(
            f"{name}, last",
            f"{result.last:.2f} s, {result.too_many} x 429, {result.lost} lost, {result.doubled} doubled",
            f"floor {result.floor:.2f} s (30/s)",
            result.ratio,
            "<= 1.1 x, 0 x 429",
            result.ratio <= LAST_TARGET and result.clean,
        ),
    ]


async def suite(quick: bool, postgres: str | None) -> list[Row]:
    """SPEC 16: the fan-out's first and last message after a burst; presses during it."""
    sizes, burst, pressers, rounds = ([300], 300, 20, 1) if quick else ([300, 600], 1000, 40, 2)
    where = backend(postgres)
    rows: list[Row] = []
    for members in sizes:
        rows += _spread_rows(await spread_run(members, burst, postgres), where)
    pressing = await press_run(sizes[-1], pressers, postgres, rounds)
    rows += [
        Row(
            f"press answered during a fan-out to {sizes[-1]} ({where}), p99",
            f"{pressing.busy.percentile(99) * 1000:.0f} ms (p50 {pressing.busy.percentile(50) * 1000:.0f} ms)",
            f"no fan-out {pressing.quiet.percentile(99) * 1000:.0f} ms (p50 {pressing.quiet.percentile(50) * 1000:.0f} ms)",
            pressing.ratio,
            f"<= {PRESS_TARGET} x",
            pressing.ratio <= PRESS_TARGET,
        ),
        Row(
            f"fan-out to {sizes[-1]} with presses ({where}), last",
            f"{pressing.spread.last:.2f} s, first {pressing.spread.first:.2f} s, "
            f"{pressing.spread.too_many} x 429, {pressing.spread.lost} lost, {pressing.spread.doubled} doubled",
            f"floor {pressing.spread.floor:.2f} s (30/s)",
            pressing.spread.ratio,
            "<= 1.1 x, 0 x 429",
            pressing.spread.ratio <= LAST_TARGET and pressing.spread.clean,
        ),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", default="300,600", help="fan-out sizes, comma-separated (300,600); 0: none")
    parser.add_argument("--burst", type=int, default=1000, help="/help from new people before each fan-out (1000)")
    parser.add_argument("--pressers", type=int, default=40, help="members pressing buttons (40); 0: no press part")
    parser.add_argument("--rounds", type=int, default=2, help="fan-outs with presses (2)")
    parser.add_argument("--postgres", metavar="URL", help="a fresh PostgreSQL database next to URL")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sizes = [int(s) for s in args.members.split(",") if s.strip()]
    for members in sizes:
        if members and args.burst >= 0:
            asyncio.run(spread_run(members, args.burst, args.postgres))
    if args.pressers:
        asyncio.run(press_run(sizes[-1] or 600, args.pressers, args.postgres, args.rounds))


if __name__ == "__main__":
    main()
