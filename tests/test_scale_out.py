"""Several `kimbot run` on one PostgreSQL database, behind a reverse proxy (SPEC 12).

Three real processes in webhook mode stand behind a round-robin proxy
(tests/proxies.py; nginx in tests/test_nginx.py), started at the same moment
on an empty database. Through them:

- the migrations run once (all three come up), and exactly one process leads;
- people register while their steps land on different processes;
- one update posted to two processes at once is answered once;
- the leader is killed with SIGKILL in the middle of an invitation to 300
  members: a follower takes over, every member gets the invitation (twice
  only the messages in flight at the kill), /help is answered throughout by
  the processes still alive, and the next reminder reaches every member
  exactly once.

The figures of the run (takeover time, messages sent twice) are printed with
the test summary; they are not limits.
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from bot.dev.emulator import Emulator
from bot.dev.emulator.state import User
from storage.database import Database
from storage.models import Person
from tests.bot_process import WAIT, logs
from tests.factories import coordinator_and_members
from tests.fleet import SECRET, Fleet, register

pytestmark = pytest.mark.postgres

MEMBERS = 300
MAX_IN_FLIGHT = 5
"""Messages that may be on their way when the leader dies (sent, not yet marked)."""


@pytest.fixture
async def fleet(emulator: Emulator, empty_postgres_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    coordinator = emulator.add_user("Sabine", last_name="Weber", username="sabine_kim", language_code="de")
    fleet = Fleet(emulator, tmp_path, empty_postgres_url, coordinator)
    try:
        yield fleet
    finally:
        await fleet.stop()


async def test_three_processes_on_an_empty_database_register_people_and_answer_once(
    fleet: Fleet, emulator: Emulator, empty_postgres_url: str
) -> None:
    await fleet.start()
    assert all(p.returncode is None for p in fleet.processes), logs(fleet.tmp_path)
    assert fleet.leader_count() == 1, "exactly one process leads"

    newcomers = [emulator.add_user(f"Neu{n}", language_code="de") for n in range(4)]
    await asyncio.gather(*(register(emulator, user) for user in newcomers))
    backends = {backend for backend, _ in fleet.proxy.forwarded}
    assert len(backends) == 3, "the steps landed on every process"
    db = Database(empty_postgres_url)
    try:
        async with db.reader() as uow:
            rows = (
                (await uow.session.execute(select(Person).where(Person.telegram_id.in_([u.id for u in newcomers]))))
                .scalars()
                .all()
            )
    finally:
        await db.dispose()
    assert len(rows) == 4 and all(r.registered_at is not None and r.display_name for r in rows)
    for user in newcomers:
        texts = [m.text for m in emulator.messages(user)]
        assert sum("Sie sind registriert" in t for t in texts) == 1, texts
        assert not any("schiefgegangen" in t for t in texts), texts

    # One update posted to two processes at once: answered once.
    alice = emulator.add_user("Alice", language_code="en")
    update = {
        "update_id": 880001,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": alice.id, "type": "private", "first_name": "Alice"},
            "from": {"id": alice.id, "is_bot": False, "first_name": "Alice", "language_code": "en"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient(timeout=WAIT) as client:
        answers = await asyncio.gather(
            *(client.post(f"http://127.0.0.1:{port}/kimbot", json=update, headers=headers) for port in fleet.ports[:2])
        )
    assert [a.status_code for a in answers] == [200, 200]
    await emulator.wait_until(lambda: emulator.messages(alice), WAIT)
    await emulator.wait_idle(quiet=1.0, timeout=WAIT)
    assert len(emulator.messages(alice)) == 1, "handled once"
    assert "What you can do" in emulator.messages(alice)[0].text


@pytest.mark.telegram_limits
async def test_leader_killed_mid_fan_out_a_follower_takes_over(
    fleet: Fleet, emulator: Emulator, empty_postgres_url: str, figures: dict[str, int]
) -> None:
    await fleet.start(REMINDER_OFFSETS="1h", DIGEST_SCHEDULE="off")
    members = [emulator.add_user(f"Mitglied{n}", language_code="de") for n in range(MEMBERS)]
    pinger = emulator.add_user("Pia", language_code="de")
    db = Database(empty_postgres_url)
    try:
        now = datetime.now(UTC)
        async with db.uow() as uow:
            await coordinator_and_members(uow, fleet.coordinator.id, [u.id for u in members], now)
            await uow.commit()
    finally:
        await db.dispose()
    emulator.set_rate_limits(True)

    # A session whose one-hour reminder falls due a minute or two from now.
    berlin = ZoneInfo("Europe/Berlin")
    soon = datetime.now(UTC) + timedelta(hours=1, seconds=25 + 60)
    start = soon.astimezone(berlin).replace(second=0, microsecond=0)
    emulator.send_text(fleet.coordinator, f"/meeting ak-eu {start:%d.%m.%Y %H:%M} Großes Treffen | Rathaus")

    def invited() -> dict[int, int]:
        return {u.id: sum("Einladung" in m.text for m in emulator.messages(u)) for u in members}

    await emulator.wait_until(lambda: sum(n > 0 for n in invited().values()) >= MEMBERS // 3, WAIT)
    leader = fleet.leader_pid()
    victim = next(p for p in fleet.processes if p.pid == leader)
    victim.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    await asyncio.wait_for(victim.wait(), WAIT)
    before = invited()

    # /help is answered throughout, by the processes still alive.
    helps = 0

    async def ping_until(done: asyncio.Event) -> None:
        nonlocal helps
        while not done.is_set():
            seen = len(emulator.messages(pinger))
            emulator.send_text(pinger, "/help")
            helps += 1
            await emulator.wait_until(lambda seen=seen: len(emulator.messages(pinger)) > seen, WAIT)
            try:
                await asyncio.wait_for(done.wait(), 1.5)
            except TimeoutError:
                pass

    done = asyncio.Event()
    pinging = asyncio.get_running_loop().create_task(ping_until(done))
    try:
        await emulator.wait_until(lambda: fleet.leader_count() == 2, WAIT)
        takeover = time.monotonic() - killed_at
        await emulator.wait_until(lambda: all(n > 0 for n in invited().values()), WAIT)
        # The next reminder, exactly once, to everyone.
        await emulator.wait_until(
            lambda: all(any("Erinnerung" in m.text for m in emulator.messages(u)) for u in members),
            WAIT + 120,
        )
    finally:
        done.set()
        await pinging
    await emulator.wait_idle(quiet=2.0, timeout=WAIT)
    after = invited()
    twice = sum(n == 2 for n in after.values())
    figures["leader takeovers (kill -9)"] += 1
    figures["messages sent twice (in flight at a kill)"] += twice
    figures["slowest takeover after kill -9 of the leader, s"] = max(
        figures.get("slowest takeover after kill -9 of the leader, s", 0), round(takeover, 1)
    )
    assert 0 < sum(n > 0 for n in before.values()) < MEMBERS, "killed in the middle of the fan-out"
    assert all(n >= 1 for n in after.values()), "every member got the invitation"
    assert twice <= MAX_IN_FLIGHT, f"{twice} invitations twice"
    assert all(n <= 2 for n in after.values())
    reminders = [sum("Erinnerung" in m.text for m in emulator.messages(u)) for u in members]
    assert reminders == [1] * MEMBERS, "the next reminder exactly once"
    assert len(emulator.messages(pinger)) == helps, "every /help answered once"
    assert sum(1 for p in fleet.processes if p.returncode is None) == 2
    assert fleet.leader_count() == 2, f"one follower took over\n{logs(fleet.tmp_path)}"


async def test_a_note_of_a_follower_reaches_the_leader(empty_postgres_url: str) -> None:
    """Two processes' clusters on one database: what the follower tells the
    leader reaches the leader, as it was said."""
    first, second = Database(empty_postgres_url), Database(empty_postgres_url)
    heard: list[str] = []
    arrived = asyncio.Event()

    def hear(note: str) -> None:
        heard.append(note)
        arrived.set()

    try:
        await first.cluster.start()
        await second.cluster.start()
        leader, follower = (first, second) if first.cluster.leading else (second, first)
        assert leader.cluster.leading and not follower.cluster.leading
        leader.cluster.on_note(hear)

        await follower.cluster.tell_leader("812345678:12,-1001234:3")
        await asyncio.wait_for(arrived.wait(), WAIT)
        assert heard == ["812345678:12,-1001234:3"]
    finally:
        for db in (first, second):
            await db.cluster.stop()
            await db.dispose()


@pytest.mark.telegram_limits
async def test_people_answered_by_the_followers_during_a_fan_out_meet_no_429(
    fleet: Fleet, emulator: Emulator, empty_postgres_url: str
) -> None:
    """The leader sends an invitation to 150 members while 60 people write, one
    every 50 ms; the proxy hands two of every three of their messages to the
    followers, who answer at once. Telegram's 30 a second hold for the bot as a
    whole: the followers tell the leader of their answers, and its broadcast
    makes room for them as for its own. No 429, everybody answered once."""
    await fleet.start(REMINDER_OFFSETS="1h", DIGEST_SCHEDULE="off")
    members = [emulator.add_user(f"Mitglied{n}", language_code="de") for n in range(150)]
    writers = [emulator.add_user(f"Schreibt{n}", language_code="de") for n in range(60)]
    db = Database(empty_postgres_url)
    try:
        async with db.uow() as uow:
            await coordinator_and_members(uow, fleet.coordinator.id, [u.id for u in members], datetime.now(UTC))
            await uow.commit()
    finally:
        await db.dispose()
    emulator.set_rate_limits(True)

    start = (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=3)).replace(hour=17, minute=0)
    emulator.send_text(fleet.coordinator, f"/meeting ak-eu {start:%d.%m.%Y %H:%M} Großes Treffen | Rathaus")

    def invited(user: User) -> int:
        return sum("Einladung" in m.text for m in emulator.messages(user))

    await emulator.wait_until(lambda: any(invited(u) for u in members), WAIT)  # the fan-out has begun
    for writer in writers:  # people write at 20 a second: a pace, not a wait for a result
        emulator.send_text(writer, "/help")
        await asyncio.sleep(0.05)
    await emulator.wait_until(
        lambda: all(invited(u) for u in members) and all(emulator.messages(w) for w in writers), WAIT
    )
    await emulator.wait_idle(quiet=1.0, timeout=WAIT)

    assert emulator.too_many_requests == []
    assert [invited(u) for u in members] == [1] * len(members)
    assert [len(emulator.messages(w)) for w in writers] == [1] * len(writers)
