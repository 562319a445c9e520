"""Scale-out benchmark: three `kimbot run` behind a round-robin proxy on one PostgreSQL database.

    .venv/bin/python bench/scaleout.py --postgres URL [--members 600] [--burst 1000] [--repeat 3]

Real `kimbot run` processes in webhook mode (SPEC 12), each on a port of its
own, behind the round-robin HTTP proxy of the tests (`tests/proxies.py`: each
request goes to the next process; one that does not answer is skipped), all
on a fresh PostgreSQL database created next to URL (and dropped), against
the local emulator in this process, which posts the updates to the proxy with
up to 40 requests in flight (setWebhook's `max_connections`), the updates of
one chat one at a time. Which process leads is read from the processes' logs
(`process N (host, pid P) leads now`). PostgreSQL only: SQLite serves one
process.

1. Takeover: three processes, idle; the leader is killed with SIGKILL; the
   clock runs until another process logs that it leads now (the logs are
   read every 10 ms). A fresh process then takes the dead one's place, and
   the next round kills the new leader. `--repeat` rounds (3); the worst
   counts. Target: within 15 s (SPEC 12).
2. Fan-out: `--members` (600) registered, approved members of AK EU and the
   coordinator, bulk-inserted; the emulator enforces Telegram's limits (30
   messages per second, 1 per second per chat); the coordinator sends
   `/meeting ak-eu <date> <time> <title>` through the webhook, 30 days ahead.
   Measured from queueing the command: the first invitation and the last
   (the end of the `sendMessage` that brought it), the 429s the emulator
   answered, members without an invitation, and those with two. Targets
   (SPEC 16): first within 1 s, last within 1.1 x the floor members / 30 s,
   no 429, none lost or doubled. With three processes, and as the baseline
   with one (the same proxy in front).
3. Burst: `--burst` (1,000) new people each send `/help`, queued in the
   emulator at once (its limits off); the clock runs from queueing until the
   last answer. Updates per second with three processes against one. Target
   (SPEC 16): three processes at least 1.5 x the throughput of one. Also
   printed: how the requests spread over the processes, and the CPU time
   used until the last answer (from /proc): the whole machine's, this
   process's (the emulator and the proxy), each `kimbot run`'s, and the
   rest (PostgreSQL and anything else running), so a machine without a
   free core shows as such.

Each fleet starts on a database of its own, and the clock starts only when
every process is up, one leads, and nothing has happened for a second.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import socket
import statistics
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, database, start_kimbot  # noqa: E402
from bench.reminders import GROUP, seed  # noqa: E402
from bot.dev.emulator import Emulator  # noqa: E402
from bot.dev.emulator.dispatch import CallRecord  # noqa: E402
from tests.proxies import RoundRobinProxy  # noqa: E402

TAKEOVER_TARGET = 15.0
TELEGRAM_PER_SECOND = 30
FLOOR_RATIO = 1.1
FIRST_TARGET = 1.0
BURST_TARGET = 1.5
SECRET = "bench-scale-out"
TITLE = "Skalierungs-Sitzung"
LEADS = re.compile(r"process (\d+) \(.*pid (\d+)\) leads now")
WAIT = 600.0  # guards against a hang only
STOP_WAIT = 15.0
POLL = 0.01


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def listening(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


class Fleet:
    """`count` processes of `kimbot run` in webhook mode behind a `RoundRobinProxy`.

    Process `n` listens on `ports[n]` and logs to `p<n>-<start>.log` in `workdir`;
    `replace(n)` starts a fresh process in the place of a dead one."""

    def __init__(self, emu: Emulator, workdir: Path, url: str, coordinator_id: int, count: int, **extra: str) -> None:
        self.emu = emu
        self.workdir = workdir
        self.ports = [free_port() for _ in range(count)]
        self.proxy = RoundRobinProxy([f"http://127.0.0.1:{port}" for port in self.ports])
        self.settings = {
            "TELEGRAM_BOT_TOKEN": emu.token,
            "TELEGRAM_API_URL": emu.base_url,
            "DATABASE_URL": url,
            "COORDINATOR_IDS": str(coordinator_id),
            "LOG_LEVEL": "INFO",  # the line "... leads now" is INFO
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_SECRET": SECRET,
            **extra,
        }
        self.processes: list[asyncio.subprocess.Process] = []
        self.logs: list[Path] = []
        self.starts = 0

    async def _launch(self, index: int) -> tuple[asyncio.subprocess.Process, Path]:
        self.starts += 1
        log = self.workdir / f"p{index}-{self.starts}.log"
        process = await start_kimbot(
            self.workdir,
            log,
            WEBHOOK_URL=f"{self.proxy.url}/kimbot",
            WEBHOOK_PORT=str(self.ports[index]),
            **self.settings,
        )
        return process, log

    async def start(self) -> float:
        """Start every process at the same moment; seconds until all serve and one leads."""
        await self.proxy.start()
        began = monotonic()
        launched = await asyncio.gather(*(self._launch(n) for n in range(len(self.ports))))
        self.processes = [p for p, _ in launched]
        self.logs = [log for _, log in launched]
        await self._serving(len(self.ports))
        return monotonic() - began

    async def replace(self, index: int) -> None:
        """A fresh process in place of process `index` (dead); back when it serves."""
        assert self.processes[index].returncode is not None
        webhooks = len(self.emu.calls_of("setWebhook"))
        self.processes[index], self.logs[index] = await self._launch(index)
        await self._serving(webhooks + 1)

    async def _serving(self, webhooks: int) -> None:
        def ready() -> bool:
            for process, log in zip(self.processes, self.logs, strict=True):
                if process.returncode is not None:
                    raise RuntimeError(f"kimbot run ended early:\n{self.tail(log)}")
            set_ = [c for c in self.emu.calls_of("setWebhook") if c.ok]
            return len(set_) >= webhooks and self.leader() is not None

        await self.emu.wait_until(ready, WAIT)
        for port in self.ports:
            while not await listening(port):
                await asyncio.sleep(POLL)
        await self.emu.wait_idle(quiet=1.0, timeout=WAIT)

    def leader(self) -> int | None:
        """The index of the live process that says it leads."""
        for index, (process, log) in enumerate(zip(self.processes, self.logs, strict=True)):
            if process.returncode is None and LEADS.search(log.read_text(errors="replace")):
                return index
        return None

    def tail(self, log: Path, lines: int = 30) -> str:
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def shares(self, since: int = 0) -> dict[int, int]:
        """Requests the proxy passed to each process (by index), from request `since` on."""
        forwarded = self.proxy.forwarded[since:]
        by_port = Counter(int(backend.rsplit(":", 1)[1]) for backend, _ in forwarded)
        return {n: by_port.get(port, 0) for n, port in enumerate(self.ports)}

    async def stop(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), STOP_WAIT)
            except TimeoutError:
                process.kill()
                await process.wait()
        await self.proxy.stop()


class FirstMessages:
    """When each chat first got a bot message (containing `mark`), from the
    emulator's calls; reads only the calls it has not seen yet."""

    def __init__(self, emu: Emulator, chat_ids: set[int], mark: str | None = None) -> None:
        self.emu = emu
        self.chat_ids = chat_ids
        self.mark = mark
        self.seen = len(emu.calls)
        self.at: dict[int, float] = {}
        """chat -> end of the first successful sendMessage."""

    def done(self) -> bool:
        calls = self.emu.calls
        for call in calls[self.seen :]:
            if self.counts(call) and call.chat_id not in self.at:
                assert call.chat_id is not None
                self.at[call.chat_id] = call.at + call.duration
        self.seen = len(calls)
        return len(self.at) >= len(self.chat_ids)

    def counts(self, call: CallRecord) -> bool:
        return (
            call.method == "sendMessage"
            and call.ok
            and call.chat_id in self.chat_ids
            and (self.mark is None or self.mark in str(call.params.get("text", "")))
        )


# ------------------------------------------------------------------ takeover


async def takeover(postgres: str, repeat: int) -> list[float]:
    """Seconds from SIGKILL of the leader until another process leads, `repeat` times."""
    print(f"Takeover: 3 processes, idle; kill -9 of the leader, {repeat} time(s)", flush=True)
    seconds: list[float] = []
    async with Emulator() as emu, database(postgres) as url:
        coordinator = emu.add_user("Koordination", username="koordination", language_code="de")
        with tempfile.TemporaryDirectory(prefix="kimbot-scaleout-") as tmp:
            fleet = Fleet(emu, Path(tmp), url, coordinator.id, 3, DIGEST_SCHEDULE="off")
            try:
                up = await fleet.start()
                print(f"  3 processes up, one leading, after {up:.2f} s", flush=True)
                for round_ in range(repeat):
                    leader = fleet.leader()
                    assert leader is not None
                    victim = fleet.processes[leader]
                    others = [n for n in range(len(fleet.processes)) if n != leader]
                    victim.kill()
                    killed = monotonic()
                    successor: int | None = None
                    while successor is None:
                        for n in others:
                            if LEADS.search(fleet.logs[n].read_text(errors="replace")):
                                successor = n
                        if monotonic() - killed > WAIT:
                            raise TimeoutError("no process took over")
                        if successor is None:
                            await asyncio.sleep(POLL)
                    took = monotonic() - killed
                    seconds.append(took)
                    await victim.wait()
                    print(
                        f"  round {round_ + 1}: process {leader} (pid {victim.pid}) killed;"
                        f" process {successor} leads after {took:.2f} s",
                        flush=True,
                    )
                    await fleet.replace(leader)
            finally:
                await fleet.stop()
    worst = max(seconds)
    verdict = "ok" if worst <= TAKEOVER_TARGET else "over target"
    print(f"  worst {worst:.2f} s (target <= {TAKEOVER_TARGET:.0f} s: {verdict})", flush=True)
    return seconds


# ------------------------------------------------------------------- fan-out


@dataclass
class FanOut:
    processes: int
    members: int
    first: float
    last: float
    too_many: int
    lost: int
    doubled: int

    @property
    def floor(self) -> float:
        return self.members / TELEGRAM_PER_SECOND

    @property
    def ratio(self) -> float:
        return self.last / self.floor


async def fan_out(postgres: str, processes: int, members: int) -> FanOut:
    """`/meeting` through the webhook; the invitations to `members` at Telegram's limits."""
    async with Emulator() as emu, database(postgres) as url:
        coordinator = emu.add_user("Koordination", username="koordination", language_code="de")
        users = [emu.add_user(f"Mitglied {n}", language_code="de") for n in range(members)]
        now = datetime.now(UTC)
        await seed(url, coordinator.id, [u.id for u in users], now)
        with tempfile.TemporaryDirectory(prefix="kimbot-scaleout-") as tmp:
            fleet = Fleet(emu, Path(tmp), url, coordinator.id, processes, DIGEST_SCHEDULE="off")
            try:
                await fleet.start()
                emu.set_rate_limits(True)
                day = (now + timedelta(days=30)).astimezone(ZoneInfo("Europe/Berlin")).date()
                invitations = FirstMessages(emu, {u.id for u in users}, TITLE)
                queued = monotonic()
                emu.send_text(coordinator, f"/meeting {GROUP} {day:%d.%m.%Y} 14:00 {TITLE}")
                await emu.wait_until(invitations.done, WAIT)
                await emu.wait_idle(quiet=2.0, timeout=WAIT)  # anything doubled is in by now
                reply = [m.text for m in emu.messages(coordinator)]
                leader = fleet.leader()
            finally:
                await fleet.stop()
        counts = [sum(TITLE in (m.text or "") for m in emu.messages(u)) for u in users]
        result = FanOut(
            processes,
            members,
            first=min(invitations.at.values()) - queued,
            last=max(invitations.at.values()) - queued,
            too_many=len(emu.too_many_requests),
            lost=sum(1 for n in counts if n == 0),
            doubled=sum(n - 1 for n in counts if n > 1),
        )
    print(f"Fan-out to {members} members, {processes} process(es), emulator with Telegram's limits")
    print(f"  coordinator got  {len(reply)} message(s): {reply[0][:60]!r}" if reply else "  no reply")
    print(f"  leader           process {leader}")
    print(f"  first invitation {result.first:6.2f} s after the command (target < {FIRST_TARGET:.0f} s)")
    print(f"  last invitation  {result.last:6.2f} s after the command")
    print(f"  floor            {result.floor:6.2f} s ({members} / {TELEGRAM_PER_SECOND} per second)")
    print(f"  last / floor     {result.ratio:6.3f} (target <= {FLOOR_RATIO})")
    print(f"  429 answered     {result.too_many}")
    print(f"  lost, doubled    {result.lost}, {result.doubled}", flush=True)
    return result


# --------------------------------------------------------------------- burst


@dataclass
class Burst:
    processes: int
    updates: int
    answered: list[float]
    """Seconds from queueing the burst until each answer."""
    shares: dict[int, int]
    refused: int
    doubled: int
    """People answered more than once."""
    cpu: dict[str, float]
    """CPU seconds used during the burst: machine, bench, kimbot, and each process."""

    @property
    def seconds(self) -> float:
        return max(self.answered)

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """CPU seconds (user and system) process `pid` has used so far."""
    after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(after_name[11]) + int(after_name[12])) / CLOCK_TICKS  # utime, stime


def machine_cpu() -> float:
    """CPU seconds the machine's cores have been busy since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS  # all but idle and iowait


def cpu_now(fleet: Fleet) -> dict[str, float]:
    used = {"machine": machine_cpu(), "bench": cpu_of(os.getpid())}
    for n, process in enumerate(fleet.processes):
        used[f"p{n}"] = cpu_of(process.pid)
    used["kimbot"] = sum(used[f"p{n}"] for n in range(len(fleet.processes)))
    return used


async def burst(postgres: str, processes: int, count: int) -> Burst:
    """`count` new people send /help at once; until every one has the answer."""
    async with Emulator() as emu, database(postgres) as url:
        coordinator = emu.add_user("Koordination", username="koordination", language_code="de")
        people = [emu.add_user(f"Neu {n}", language_code="de") for n in range(count)]
        await seed(url, coordinator.id, [], datetime.now(UTC))
        with tempfile.TemporaryDirectory(prefix="kimbot-scaleout-") as tmp:
            fleet = Fleet(emu, Path(tmp), url, coordinator.id, processes, DIGEST_SCHEDULE="off")
            try:
                await fleet.start()
                emu.set_rate_limits(False)
                answers = FirstMessages(emu, {p.id for p in people})
                calls_before = len(emu.calls)
                forwarded_before = len(fleet.proxy.forwarded)
                before = cpu_now(fleet)
                queued = monotonic()
                for person in people:
                    emu.send_text(person, "/help")
                await emu.wait_until(answers.done, WAIT)
                after = cpu_now(fleet)
                await emu.wait_idle(quiet=1.0, timeout=WAIT)
                refused = sum(1 for c in emu.calls[calls_before:] if not c.ok)
                doubled = sum(1 for p in people if len(emu.messages(p)) > 1)
                shares = fleet.shares(forwarded_before)
            finally:
                await fleet.stop()
    answered = [at - queued for at in answers.at.values()]
    cpu = {key: after[key] - before[key] for key in before}
    result = Burst(processes, count, answered, shares, refused, doubled, cpu)
    print(f"Burst: {count} x /help from new people, {processes} process(es), no rate limits")
    print(
        f"  {count} answered in {result.seconds:.2f} s = {result.per_second:.0f} updates/s"
        f" (half of them after {statistics.median(answered):.2f} s)"
    )
    print(f"  webhook requests per process {shares}; calls refused {refused}; people answered twice {doubled}")
    cores = os.cpu_count() or 1
    busy = cpu["machine"] / (result.seconds * cores)
    each = ", ".join(f"{cpu[f'p{n}']:.1f}" for n in range(processes))
    print(
        f"  CPU until the last answer: machine {cpu['machine']:.1f} s of {result.seconds * cores:.1f}"
        f" ({cores} cores, {busy:.0%} busy); this process (emulator, proxy) {cpu['bench']:.1f} s,"
        f" kimbot {cpu['kimbot']:.1f} s ({each}),"
        f" the rest (PostgreSQL, others) {cpu['machine'] - cpu['bench'] - cpu['kimbot']:.1f} s",
        flush=True,
    )
    return result


# --------------------------------------------------------------------- all


async def run(postgres: str, repeat: int, members: int, count: int) -> dict[str, object]:
    seconds = await takeover(postgres, repeat)
    print(flush=True)
    fan = {n: await fan_out(postgres, n, members) for n in (1, 3)}
    print(flush=True)
    bursts = {n: await burst(postgres, n, count) for n in (1, 3)}
    print()
    print("Ratios")
    print(f"  takeover, worst of {repeat}          {max(seconds):.2f} s (target <= 15 s)")
    for n in (1, 3):
        f = fan[n]
        print(
            f"  fan-out, {n} process(es): last / floor  {f.ratio:.3f}, first {f.first:.2f} s,"
            f" {f.too_many} x 429 (target <= {FLOOR_RATIO}, < 1 s, 0)"
        )
    print(f"  fan-out, last: 3 / 1 processes     {fan[3].last / fan[1].last:.3f}")
    ratio = bursts[3].per_second / bursts[1].per_second
    print(f"  burst throughput: 3 / 1 processes  {ratio:.2f} (target >= {BURST_TARGET})")
    return {"takeover": seconds, "fan": fan, "bursts": bursts}


async def suite(quick: bool, postgres: str | None) -> list[Row]:
    """SPEC 12 and 16: takeover, fan-out and burst with three processes (PostgreSQL only)."""
    if not postgres:
        print("scaleout: PostgreSQL only (--postgres URL); nothing to measure on SQLite")
        return []
    repeat, members, count = (1, 150, 300) if quick else (3, 600, 1000)
    outcome = await run(postgres, repeat, members, count)
    seconds: list[float] = outcome["takeover"]  # type: ignore[assignment]
    fan: dict[int, FanOut] = outcome["fan"]  # type: ignore[assignment]
    bursts: dict[int, Burst] = outcome["bursts"]  # type: ignore[assignment]
    worst = max(seconds)
    three, one = fan[3], fan[1]
    throughput = bursts[3].per_second / bursts[1].per_second
    return [
        Row(
            f"scale-out: takeover after kill -9 of the leader (worst of {repeat})",
            f"{worst:.2f} s",
            "-",
            None,
            "<= 15 s",
            worst <= TAKEOVER_TARGET,
        ),
        Row(
            f"scale-out: invitation to {members} members, 3 processes, last",
            f"{three.last:.2f} s, {three.too_many} x 429, {three.lost} lost, {three.doubled} doubled",
            f"floor {three.floor:.2f} s; 1 process {one.last:.2f} s ({one.ratio:.2f} x)",
            three.ratio,
            "<= 1.1 x, 0 x 429",
            three.ratio <= FLOOR_RATIO and three.too_many == 0 and three.lost == 0 and three.doubled == 0,
        ),
        Row(
            f"scale-out: invitation to {members} members, 3 processes, first",
            f"{three.first:.2f} s",
            f"1 process {one.first:.2f} s",
            three.first / one.first,
            "< 1 s",
            three.first < FIRST_TARGET,
        ),
        Row(
            f"scale-out: burst of {count} /help, 3 processes",
            f"{bursts[3].per_second:.0f} updates/s, {bursts[3].doubled} answered twice",
            f"1 process {bursts[1].per_second:.0f}/s",
            throughput,
            ">= 1.5 x",
            throughput >= BURST_TARGET and bursts[3].doubled == 0 and bursts[3].refused == 0,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        metavar="URL",
        required=True,
        help="a fresh database per fleet is created (and dropped) next to URL, "
        "e.g. postgresql://postgres@127.0.0.1:5432/postgres",
    )
    parser.add_argument("--members", type=int, default=600, help="members to invite (600)")
    parser.add_argument("--burst", type=int, default=1000, help="new people sending /help (1000)")
    parser.add_argument("--repeat", type=int, default=3, help="takeovers; the worst counts (3)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.postgres, args.repeat, args.members, args.burst))


if __name__ == "__main__":
    main()
