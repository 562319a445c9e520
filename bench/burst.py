"""Burst benchmark (SPEC 16): KIM-Bot against a durable peer and a bare echo bot, the same bursts.

    .venv/bin/python bench/burst.py [--stream help,agenda,stance] [--size NAME=PEOPLExEACH] [--repeat N]
                                    [--quick] [--postgres URL]

The bursts (`--stream`, all three by default; `--size help=200x5` changes one):

- **help**: 1,000 `/help` from 200 new people, 5 each. Nobody of them is in
  KIM-Bot's database: KIM-Bot creates each person on first contact, as the
  peer creates its sender.
- **agenda**: 400 `/agenda ak-eu Punkt <n>` (n from 1 to 400) from 40
  approved members of AK EU, 10 each, all into the one coming session of AK
  EU (30 days ahead, before its agenda deadline).
- **stance** (an extra line, no target): 400 presses of a recommendation's
  stance buttons (Zustimmung, Bedenken, Ablehnung) by 100 members, 4 each,
  every press changing the member's answer.

Each burst goes to three bots, one after the other in the same run, each
with an emulator and a fresh database of its own (SQLite in a temporary
directory, or with `--postgres URL` a fresh PostgreSQL database created next
to URL and dropped): the echo bot (`bench/echo_bot.py`, stores nothing: a
reference line), the durable peer (`bench/durable_bot.py`, the baseline of
SPEC 16: one SQLAlchemy transaction per update on the same kind of database,
then one answer) and KIM-Bot (`build_application` + `running`, as `kimbot
run` builds it; the coordinator, and for the agenda and stance bursts the
members, bulk-inserted; the session scheduled and the recommendation
published through the core and delivered before the clock starts). The peer
knows the members of the agenda and stance bursts beforehand as KIM-Bot does.

Before the clock starts, one more person of the same kind (new, or a member)
sends one update of the burst's kind and the bot answers it, so no bot
counts its first statement compilations and connections in the burst. Then
the whole burst is put into the emulator's queue at once, the people taking
turns (everyone's first update, then everyone's second, ...), and the bot
takes it as fast as the emulator delivers (long polling, 100 updates per
`getUpdates`); the emulator's rate limits are off (they belong to the
fan-out benchmarks).

Measured on the emulator's clock: when each update was sent (queued) and
when the bot answered it (`Emulator.calls`: the `answerCallbackQuery` of a
press; for a text, the sendMessage into the person's chat, the k-th answer
in a chat for the k-th text of that chat). Per bot: updates per second (the
burst over the time from its sending to the last answer) and the 50th and
99th percentile of the latency from sending to answer, as the people see
it; also how much of it the updates waited before the bot fetched them
(`Emulator.deliveries`). The latency counts from the sending, not from the
delivery, since a bot that fetches its updates late would hide their wait
in the emulator's queue. With the whole burst sent at once, the p99 is
close to the time the bot needs for the whole burst. Targets against the peer for help and agenda: throughput at least
0.8 x, p99 at most 1.5 x. After the burst, outside the clock, KIM-Bot's
database must hold what the burst saved (every new person, every proposal
on the session's agenda, one stance per member), and no call may have been
refused: a fast answer that saved nothing would otherwise count.

For a profiler, each KIM-Bot burst is one call, and `drive` is the window
of the burst itself (set-up and warm-up lie outside it):
`kimbot_help(people, each, postgres)`, `kimbot_agenda(members, each,
postgres)`, `kimbot_stance(members, each, postgres)`, and
`kimbot_run(members, per_member, postgres)`, the earlier mixed burst (stance
presses and `/agenda ak-eu Thema ...` alternately) kept for comparisons.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import process_time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402
from telegram.ext import Application  # noqa: E402

from bench import durable_bot, echo_bot  # noqa: E402
from bench.common import Row, backend, database  # noqa: E402
from bench.reminders import kimbot, seed  # noqa: E402
from bot.core import meetings  # noqa: E402
from bot.core import recommendations as core  # noqa: E402
from bot.dev.emulator import Emulator  # noqa: E402
from bot.dev.emulator.state import User  # noqa: E402
from bot.telegram.app import running  # noqa: E402
from handlers import payloads as p  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import AgendaItem, Person, Stance, StanceValue  # noqa: E402

GROUP = "ak-eu"
MARK = "Benchmark-Empfehlung"
THROUGHPUT_TARGET = 0.8
P99_TARGET = 1.5
WAIT = 600.0  # guards against a hang only
STANCES = [v.value for v in StanceValue]


@dataclass(frozen=True)
class Stream:
    """A burst: `people` people send `each` updates of one kind."""

    kind: str
    """"help", "agenda", "stance", or "mixed" (stance presses and `/agenda` topics alternately)."""
    people: int
    each: int
    target: bool = True
    """Whether SPEC 16's targets apply (the stance burst is an extra line)."""

    @property
    def updates(self) -> int:
        return self.people * self.each

    @property
    def new_people(self) -> bool:
        """The people are not in the bot's database before the burst."""
        return self.kind == "help"

    @property
    def presses(self) -> bool:
        return self.kind in ("stance", "mixed")

    @property
    def title(self) -> str:
        what = {
            "help": "/help from new people",
            "agenda": f"/agenda {GROUP} proposals from members",
            "stance": "stance presses from members",
            "mixed": "stance presses and /agenda topics from members",
        }[self.kind]
        return f"{self.updates} {what} ({self.people} x {self.each})"


STREAMS = {
    "help": Stream("help", 200, 5),
    "agenda": Stream("agenda", 40, 10),
    "stance": Stream("stance", 100, 4, target=False),
}
QUICK = {
    "help": Stream("help", 100, 3),
    "agenda": Stream("agenda", 20, 10),
    "stance": Stream("stance", 50, 4, target=False),
}


@dataclass(frozen=True)
class Send:
    """One update of a burst: a text, or a press on a bot message."""

    user: User
    text: str | None = None
    message_id: int | None = None
    data: str | None = None


Target = tuple[User, int | None]
"""A person of the burst and the bot's message in their chat to press on (None: nothing to press)."""


def sends(stream: Stream, targets: Sequence[Target], recommendation_id: int, rounds: int | None = None) -> list[Send]:
    """The burst's updates, the people taking turns; `/agenda` items numbered
    from 1 in the order sent (with `rounds`, a warm-up: numbered 0)."""
    out: list[Send] = []
    for k in range(stream.each if rounds is None else rounds):
        for n, (user, message_id) in enumerate(targets):
            number = 0 if rounds is not None else k * len(targets) + n + 1
            if stream.kind == "help":
                out.append(Send(user, text="/help"))
            elif stream.kind == "agenda":
                out.append(Send(user, text=f"/agenda {GROUP} Punkt {number}"))
            elif stream.kind == "stance" or (stream.kind == "mixed" and k % 2 == 0):
                turn = k if stream.kind == "stance" else k // 2
                data = p.GiveStance(recommendation_id, STANCES[(turn + n) % len(STANCES)]).encode()
                out.append(Send(user, message_id=message_id, data=data))
            else:
                out.append(Send(user, text=f"/agenda {GROUP} Thema {k // 2 + 1} von Mitglied {n}: Wohnen im Quartier"))
    return out


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass
class Result:
    updates: int
    seconds: float
    """From sending the burst's first update until the last answer."""
    latencies: list[float]
    """Per update, from its sending (queued in the emulator) until the bot's answer."""
    waits: list[float]
    """Per update, from its sending until the bot fetched it (part of its latency)."""
    cpu: float = 0.0
    """CPU seconds of this process during the burst: the bot's and the emulator's, which
    runs on the same event loop (not the PostgreSQL server's)."""

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds

    def percentile(self, q: int) -> float:
        return _percentile(self.latencies, q)

    def line(self) -> str:
        return (
            f"{self.updates} updates in {self.seconds:.2f} s = {self.per_second:.0f} updates/s;"
            f" latency p50 {self.percentile(50) * 1000:.0f} ms, p99 {self.percentile(99) * 1000:.0f} ms"
            f" (of it before delivery: p50 {_percentile(self.waits, 50) * 1000:.0f} ms,"
            f" p99 {_percentile(self.waits, 99) * 1000:.0f} ms);"
            f" CPU {self.cpu / self.updates * 1000:.1f} ms per update"
        )


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


@dataclass
class Pushed:
    ids: list[int]
    sent: dict[int, float]
    """update id -> when it was queued (the emulator's clock)."""
    text_chat: dict[int, int]
    """update id of a text -> its chat."""


def _push(emu: Emulator, updates: list[Send]) -> Pushed:
    """Queue the updates in the emulator at once, noting when each was sent."""
    pushed = Pushed([], {}, {})
    for send in updates:
        at = emu.clock()
        if send.text is not None:
            update_id = emu.send_text(send.user, send.text)
            pushed.text_chat[update_id] = send.user.id  # the people write in their private chats
        else:
            assert send.message_id is not None and send.data is not None
            update_id = emu.press_data(send.user, send.message_id, send.data)
        pushed.ids.append(update_id)
        pushed.sent[update_id] = at
    return pushed


async def _answered(emu: Emulator, updates: list[Send]) -> tuple[Pushed, Answers]:
    pushed = _push(emu, updates)
    answers = Answers(emu, pushed.ids, pushed.text_chat)
    await emu.wait_until(answers.done, WAIT)
    return pushed, answers


async def warm_up(emu: Emulator, updates: list[Send]) -> None:
    """A few updates like the burst's, answered before the clock starts."""
    await _answered(emu, updates)
    await emu.wait_idle(quiet=0.5, timeout=WAIT)


async def drive(emu: Emulator, updates: list[Send]) -> Result:
    """The burst itself: queue every update at once, wait until each is answered, compute the figures.

    Latency counts from the sending, as the person sees it, not from the
    delivery to the bot: a bot that fetches its updates late would otherwise
    hide their waiting in the emulator's queue."""
    before = len(emu.deliveries)
    cpu = process_time()
    pushed, answers = await _answered(emu, updates)
    cpu = process_time() - cpu
    delivered: dict[int, float] = {}
    for d in emu.deliveries[before:]:
        delivered.setdefault(d.update_id, d.at)
    ids, sent = pushed.ids, pushed.sent
    latencies = [answers.at[u] - sent[u] for u in ids]
    waits = [delivered[u] - sent[u] for u in ids]
    seconds = max(answers.at.values()) - min(sent.values())
    return Result(len(ids), seconds, latencies, waits, cpu)


def _people(emu: Emulator, stream: Stream) -> list[User]:
    """The burst's people and, last, the one who warms the bot up."""
    name = "Neu" if stream.new_people else "Mitglied"
    return [emu.add_user(f"{name} {n}", language_code="de") for n in range(stream.people + 1)]


async def _plain_bot(emu: Emulator, application: Application, stream: Stream, users: list[User]) -> Result:
    """The echo bot or the peer: polling, a message in each chat to press on, warm-up, the burst."""
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            targets: list[Target] = [(user, None) for user in users]
            if stream.presses:
                bot = application.bot
                targets = [
                    (user, (await bot.send_message(user.id, f"{MARK}: bitte antworten")).message_id) for user in users
                ]
            await emu.wait_idle(quiet=0.5, timeout=WAIT)
            *burst_targets, spare = targets
            await warm_up(emu, sends(stream, [spare], 1, rounds=1))
            return await drive(emu, sends(stream, burst_targets, 1))
        finally:
            await application.updater.stop()
            await application.stop()


async def echo_burst(stream: Stream) -> Result:
    """The echo bot (`bench/echo_bot.py`), no database."""
    async with Emulator() as emu:
        emu.set_rate_limits(False)
        users = _people(emu, stream)
        return await _plain_bot(emu, echo_bot.build(emu.token, emu.base_url), stream, users)


async def peer_burst(stream: Stream, postgres: str | None = None) -> Result:
    """The durable peer (`bench/durable_bot.py`) on the same kind of database as KIM-Bot."""
    async with Emulator() as emu, database(postgres, "peer") as url:
        emu.set_rate_limits(False)
        users = _people(emu, stream)
        engine = durable_bot.make_engine(url)
        try:
            known = [] if stream.new_people else [(u.id, u.first_name) for u in users]
            await durable_bot.prepare(engine, known)
            result = await _plain_bot(emu, durable_bot.build(emu.token, emu.base_url, engine), stream, users)
            async with engine.connect() as connection:
                kept = await connection.scalar(select(func.count()).select_from(durable_bot.SeenUpdate))
            assert kept == stream.updates + 1, f"the peer kept {kept} of {stream.updates + 1} updates"
            return result
        finally:
            await engine.dispose()


async def kimbot_burst(stream: Stream, postgres: str | None = None) -> Result:
    """KIM-Bot as `kimbot run` builds it: set-up, warm-up, then `drive` over the burst."""
    async with Emulator() as emu, database(postgres) as url:
        emu.set_rate_limits(False)
        coordinator = emu.add_user("Koordination", username="koordination", language_code="de")
        users = _people(emu, stream)
        now = datetime.now(UTC)
        await seed(url, coordinator.id, [] if stream.new_people else [u.id for u in users], now)
        application = kimbot(emu, url, coordinator.id, DIGEST_SCHEDULE="off")
        async with running(application, poll_timeout=1):
            runtime = application.bot_data["runtime"]
            settings = runtime.settings
            recommendation_id = 0
            if not stream.new_people:
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
            if stream.presses:
                async with runtime.db.uow() as uow:
                    creator = await uow.people.by_telegram_id(coordinator.id)
                    assert creator is not None
                    published = await core.recommend(
                        uow, creator, f"{GROUP} {MARK}: Mehr Sprachkurse am Abend", settings, runtime.clock()
                    )
                    await uow.commit()
                assert isinstance(published, core.Published), published
                recommendation_id = published.recommendation.id
            await application.bot_data["deliveries"].tick()  # the invitations, the recommendation

            def posted() -> list[Target] | None:
                found: list[Target] = []
                for user in users:
                    message = next((m for m in emu.messages(user) if MARK in (m.text or "")), None)
                    if message is None:
                        return None
                    found.append((user, message.message_id))
                return found

            targets: list[Target] = await emu.wait_until(posted, WAIT) if stream.presses else [(u, None) for u in users]
            await emu.wait_idle(quiet=1.0, timeout=WAIT)
            *burst_targets, spare = targets
            await warm_up(emu, sends(stream, [spare], recommendation_id, rounds=1))
            result = await drive(emu, sends(stream, burst_targets, recommendation_id))
            bad = [c for c in emu.calls if c.status != 200]
            assert not bad, bad[:3]
            await saved(runtime.db, stream, users, recommendation_id)
    return result


async def saved(db: Database, stream: Stream, users: list[User], recommendation_id: int) -> None:
    """What the burst had KIM-Bot save is there (the warm-up's included): the
    new people, every proposal on the session's agenda (none waiting for a
    session, none late), one stance per member."""
    async with db.reader() as uow:
        if stream.kind == "help":
            found = await uow.session.scalar(
                select(func.count()).select_from(Person).where(Person.telegram_id.in_([u.id for u in users]))
            )
            assert found == len(users), f"{found} of {len(users)} new people saved"
        elif stream.kind == "agenda":
            placed = await uow.session.scalar(
                select(func.count())
                .select_from(AgendaItem)
                .where(AgendaItem.occurrence_id.is_not(None), AgendaItem.late.is_(False))
            )
            assert placed == stream.updates + 1, f"{placed} of {stream.updates + 1} proposals on the agenda"
        elif stream.kind == "stance":
            answered = await uow.session.scalar(
                select(func.count()).select_from(Stance).where(Stance.recommendation_id == recommendation_id)
            )
            assert answered == len(users), f"{answered} of {len(users)} stances saved"


async def kimbot_help(people: int = 200, each: int = 5, postgres: str | None = None) -> Result:
    """KIM-Bot alone: `people` new people send `/help` `each` times."""
    return await kimbot_burst(Stream("help", people, each), postgres)


async def kimbot_agenda(members: int = 40, each: int = 10, postgres: str | None = None) -> Result:
    """KIM-Bot alone: `members` members propose `each` topics with `/agenda ak-eu Punkt <n>`."""
    return await kimbot_burst(Stream("agenda", members, each), postgres)


async def kimbot_stance(members: int = 100, each: int = 4, postgres: str | None = None) -> Result:
    """KIM-Bot alone: `members` members press a recommendation's stance buttons `each` times."""
    return await kimbot_burst(Stream("stance", members, each, target=False), postgres)


async def kimbot_run(members: int, per_member: int, postgres: str | None = None) -> Result:
    """KIM-Bot alone, the earlier mixed burst: stance presses and `/agenda ak-eu Thema ...` alternately."""
    return await kimbot_burst(Stream("mixed", members, per_member, target=False), postgres)


@dataclass
class Compared:
    stream: Stream
    echo: Result
    peer: Result
    kim: Result

    @property
    def throughput(self) -> float:
        return self.kim.per_second / self.peer.per_second

    @property
    def p99(self) -> float:
        return self.kim.percentile(99) / self.peer.percentile(99)


def _ratios(kim: Result, base: Result, name: str) -> str:
    return (
        f"KIM-Bot / {name}: throughput {kim.per_second / base.per_second:.2f},"
        f" p50 {kim.percentile(50) / base.percentile(50):.2f},"
        f" p99 {kim.percentile(99) / base.percentile(99):.2f}"
    )


def median_run(results: list[Result]) -> Result:
    """The run with the median throughput (its latencies come with it)."""
    return sorted(results, key=lambda r: r.per_second)[len(results) // 2]


async def compare(stream: Stream, postgres: str | None, repeat: int = 1) -> Compared:
    """One burst to the three bots, one after the other (`repeat` rounds, each
    bot's median run counts); prints each run and the ratios."""
    where = backend(postgres)
    print(f"Burst: {stream.title}, {where}", flush=True)
    runs: dict[str, list[Result]] = {"echo": [], "peer": [], "kim": []}
    for _ in range(repeat):
        runs["echo"].append(await echo_burst(stream))
        print(f"  echo bot (bench/echo_bot.py)        {runs['echo'][-1].line()}", flush=True)
        runs["peer"].append(await peer_burst(stream, postgres))
        print(f"  durable peer (bench/durable_bot.py) {runs['peer'][-1].line()}", flush=True)
        runs["kim"].append(await kimbot_burst(stream, postgres))
        print(f"  KIM-Bot                             {runs['kim'][-1].line()}", flush=True)
    echo, peer, kim = (median_run(runs[name]) for name in ("echo", "peer", "kim"))
    if repeat > 1:
        print(f"  the median runs of {repeat} (by throughput):")
        print(f"    echo bot     {echo.line()}")
        print(f"    durable peer {peer.line()}")
        print(f"    KIM-Bot      {kim.line()}")
    targets = f" (targets: throughput >= {THROUGHPUT_TARGET}, p99 <= {P99_TARGET})" if stream.target else " (no target)"
    print("  " + _ratios(kim, peer, "peer") + targets)
    print("  " + _ratios(kim, echo, "echo") + " (a reference line: the echo bot stores nothing)", flush=True)
    return Compared(stream, echo, peer, kim)


def rows(found: Compared, postgres: str | None) -> list[Row]:
    """The suite's lines of one burst: against the peer (with SPEC 16's targets
    unless the burst is an extra line) and the echo bot as a reference."""
    stream, echo, peer, kim = found.stream, found.echo, found.peer, found.kim
    where = f"{stream.title}, {backend(postgres)}"

    def ms(result: Result, q: int) -> str:
        return f"{result.percentile(q) * 1000:.0f} ms"

    if not stream.target:
        return [
            Row(
                f"burst: {where}",
                f"{kim.per_second:.0f} updates/s, p99 {ms(kim, 99)}",
                f"durable peer {peer.per_second:.0f}/s, p99 {ms(peer, 99)}",
                found.throughput,
                "-",
                None,
            )
        ]
    return [
        Row(
            f"burst throughput: {where}",
            f"{kim.per_second:.0f} updates/s",
            f"durable peer {peer.per_second:.0f}/s",
            found.throughput,
            f">= {THROUGHPUT_TARGET} x",
            found.throughput >= THROUGHPUT_TARGET,
        ),
        Row(
            f"burst latency p99: {where}",
            f"{ms(kim, 99)} (p50 {ms(kim, 50)})",
            f"durable peer {ms(peer, 99)} (p50 {ms(peer, 50)})",
            found.p99,
            f"<= {P99_TARGET} x",
            found.p99 <= P99_TARGET,
        ),
        Row(
            f"burst against the echo bot: {where}",
            f"{kim.per_second:.0f} updates/s, p99 {ms(kim, 99)}",
            f"echo bot {echo.per_second:.0f}/s, p99 {ms(echo, 99)}",
            kim.per_second / echo.per_second,
            "-",
            None,
        ),
    ]


async def suite(quick: bool, postgres: str | None) -> list[Row]:
    """SPEC 16's bursts (help, agenda) against the durable peer, the echo bot as a reference; stance as an extra line."""
    streams = QUICK if quick else STREAMS
    out: list[Row] = []
    for name in ("help", "agenda", "stance"):
        out += rows(await compare(streams[name], postgres), postgres)
        print(flush=True)
    return out


def parse_size(text: str) -> tuple[str, int, int]:
    """`help=200x5` -> ("help", 200, 5)."""
    try:
        name, size = text.split("=", 1)
        people, each = size.lower().split("x", 1)
        if name not in STREAMS:
            raise ValueError(name)
        return name, int(people), int(each)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected NAME=PEOPLExEACH with NAME one of {', '.join(STREAMS)}") from error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stream",
        action="append",
        metavar="NAME",
        help=f"bursts to run ({', '.join(STREAMS)}; all by default); repeatable or comma-separated",
    )
    parser.add_argument(
        "--size", action="append", type=parse_size, default=[], metavar="NAME=PEOPLExEACH", help="e.g. help=200x5"
    )
    parser.add_argument("--quick", action="store_true", help="the suite's smaller sizes")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of the three bots; each bot's median run counts (1)"
    )
    parser.add_argument("--postgres", metavar="URL", help="on a fresh PostgreSQL database next to URL")
    args = parser.parse_args()
    names = list(STREAMS)
    if args.stream:
        names = [n.strip() for part in args.stream for n in part.split(",") if n.strip()]
        unknown = [n for n in names if n not in STREAMS]
        if unknown:
            parser.error(f"unknown burst(s): {', '.join(unknown)}; known: {', '.join(STREAMS)}")
    streams = dict(QUICK if args.quick else STREAMS)
    for name, people, each in args.size:
        streams[name] = replace(streams[name], people=people, each=each)
    logging.basicConfig(level=logging.WARNING)

    async def run() -> None:
        for name in names:
            await compare(streams[name], args.postgres, args.repeat)
            print(flush=True)

    asyncio.run(run())


if __name__ == "__main__":
    main()
