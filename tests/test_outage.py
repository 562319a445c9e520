"""A database that goes away, a leader that loses its lock, a second process on
SQLite: `kimbot run` as a real process, nobody restarting anything.

PostgreSQL is reached through `TcpOutage` (tests/proxies.py), which can cut
every connection and refuse new ones, as a database that went away does.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.core import meetings
from bot.core.config import load_settings
from bot.dev.emulator import Emulator
from bot.dev.emulator.state import User
from storage.database import PING_AFTER_IDLE, Database
from tests.bot_process import WAIT, launch, logs, stop
from tests.factories import coordinator_and_members
from tests.proxies import TcpOutage

MEMBERS = 5


def via(outage: TcpOutage, database_url: str) -> str:
    """The database URL, reached through the outage proxy."""
    return make_url(database_url).set(host="127.0.0.1", port=outage.port).render_as_string(hide_password=False)


async def outage_for(database_url: str) -> TcpOutage:
    url = make_url(database_url)
    outage = TcpOutage(url.host or "127.0.0.1", url.port or 5432)
    await outage.start()
    return outage


def count(pattern: str, text: str) -> int:
    return len(re.findall(pattern, text))


async def sessions_due_soon(database_url: str, coordinator: User, members: list[User], seconds: list[int]) -> None:
    """Members of AK EU, and one session per entry whose one-hour reminder falls due
    that many seconds from now (the invitations are due at once)."""
    settings = load_settings({"TELEGRAM_BOT_TOKEN": "x", "REMINDER_OFFSETS": "1h"})
    now = datetime.now(UTC)
    db = Database(database_url)
    try:
        await db.upgrade()
        async with db.uow() as uow:
            sabine = await coordinator_and_members(uow, coordinator.id, [u.id for u in members], now)
            sabine.is_coordinator = True
            await uow.flush()
            for number, delay in enumerate(seconds):
                start = (now + timedelta(hours=1, seconds=delay)).astimezone(settings.timezone)
                request = meetings.MeetingRequest(
                    "ak-eu", start.date(), time(start.hour, start.minute, start.second), f"Sitzung {number}"
                )
                await meetings.schedule(uow, sabine, request, settings, now)
            await uow.commit()
    finally:
        await db.dispose()


def reminders_of(emulator: Emulator, user: User, title: str) -> int:
    return sum("Erinnerung" in m.text and title in m.text for m in emulator.messages(user))


@pytest.mark.postgres
async def test_reminders_survive_a_database_that_refuses_connections_around_their_due_time(
    emulator: Emulator, empty_postgres_url: str, tmp_path: Path, figures: dict[str, int]
) -> None:
    database_url = empty_postgres_url
    coordinator = emulator.add_user("Sabine", last_name="Weber", language_code="de")
    members = [emulator.add_user(f"Mitglied{n}", language_code="de") for n in range(MEMBERS)]
    # Sitzung 0: its reminder falls due inside the outage; Sitzung 1: after it.
    loop = asyncio.get_running_loop()
    due = loop.time() + 35
    await sessions_due_soon(database_url, coordinator, members, [35, 80])
    outage = await outage_for(database_url)
    process = await launch(
        emulator, tmp_path, via(outage, database_url), coordinator.id, "bot",
        REMINDER_OFFSETS="1h", DIGEST_SCHEDULE="off",
    )  # fmt: skip
    try:
        await emulator.wait_until(
            lambda: all(sum("Einladung" in m.text for m in emulator.messages(u)) == 2 for u in members), WAIT
        )
        # The database refuses connections from 20 s before the first reminder's due
        # time until 5 s after it (the fault's schedule, not a wait for a result).
        await asyncio.sleep(max(0.0, due - 20 - loop.time()))
        await outage.down()
        await asyncio.sleep(max(0.0, due + 5 - loop.time()))
        await outage.up()
        await emulator.wait_until(lambda: all(reminders_of(emulator, u, "Sitzung 1") >= 1 for u in members), WAIT)
        await emulator.wait_idle(quiet=1.0, timeout=WAIT)
        assert process.returncode is None, "alive throughout"
    finally:
        await stop(process)
        await outage.stop()
    output = logs(tmp_path)
    figures["database outages survived"] += 1
    for user in members:
        assert reminders_of(emulator, user, "Sitzung 0") == 1, "the late one, once"
        assert reminders_of(emulator, user, "Sitzung 1") == 1, "the next one, once"
    # Logged once by each part that met the outage, not at every retry: the leader lock
    # (its connection cut), and the work of the process (the inbox looks every 5 s).
    assert count(r"the database is not reachable \([^)]*\); process \d+ tries again", output) == 1, output
    assert count(r"the database is not reachable \([^)]*\); updates and deliveries wait", output) == 1, output
    assert count("the database is not reachable", output) == 2, output
    assert count("the database is reachable again", output) == 1, output
    assert "Traceback" not in output, output


@pytest.mark.postgres
async def test_a_database_restarted_in_a_quiet_time_is_noticed_before_an_update_meets_it(
    emulator: Emulator, empty_postgres_url: str, tmp_path: Path
) -> None:
    """The database restarts while nobody writes (every connection cut, new ones
    taken at once). The pooled connections are dead; one that rested is pinged
    before use, so the next person is answered at the first try: nothing is
    logged as unreachable for updates, and the inbox records at once."""
    coordinator = emulator.add_user("Sabine", last_name="Weber", language_code="de")
    alice = emulator.add_user("Alice", language_code="en")
    outage = await outage_for(empty_postgres_url)
    process = await launch(
        emulator, tmp_path, via(outage, empty_postgres_url), coordinator.id, "bot", DIGEST_SCHEDULE="off"
    )
    try:
        emulator.send_text(alice, "/help")
        await emulator.wait_until(lambda: len(emulator.messages(alice)) == 1, WAIT)
        # The quiet time, then the restart (the fault's schedule, not a wait for a result).
        await asyncio.sleep(PING_AFTER_IDLE * 1.5)
        await outage.down()
        await outage.up()
        await emulator.wait_until(lambda: count("leads now", (tmp_path / "bot.log").read_text()) == 2, WAIT)
        emulator.send_text(alice, "/help")
        await emulator.wait_until(lambda: len(emulator.messages(alice)) == 2, WAIT)
        assert process.returncode is None
    finally:
        await stop(process)
        await outage.stop()
    output = logs(tmp_path)
    assert "What you can do" in emulator.messages(alice)[1].text
    assert count("lost the leader lock", output) == 1, output
    assert "updates and deliveries wait" not in output, output
    assert "cannot record updates" not in output, output
    assert "Traceback" not in output, output


@pytest.mark.postgres
async def test_a_database_away_at_start_is_waited_for(
    emulator: Emulator, empty_postgres_url: str, tmp_path: Path
) -> None:
    coordinator = emulator.add_user("Sabine", last_name="Weber", language_code="de")
    alice = emulator.add_user("Alice", language_code="en")
    outage = await outage_for(empty_postgres_url)
    await outage.down(listening=True)
    process = await launch(emulator, tmp_path, via(outage, empty_postgres_url), coordinator.id, "bot")
    try:
        emulator.send_text(alice, "/help")
        # It keeps trying (each try is a connection the proxy cuts), and does not exit.
        await emulator.wait_until(lambda: outage.turned_away >= 3 or process.returncode is not None, WAIT)
        assert process.returncode is None, f"no exit, no crash loop\n{logs(tmp_path)}"
        await outage.up()
        await emulator.wait_until(lambda: emulator.messages(alice), WAIT)
    finally:
        await stop(process)
        await outage.stop()
    output = logs(tmp_path)
    assert count("not reachable at start", output) == 1, output
    assert "What you can do" in emulator.messages(alice)[0].text
    assert process.returncode == 0


@pytest.mark.postgres
async def test_a_leader_whose_lock_connection_drops_steps_down_at_once(
    emulator: Emulator, empty_postgres_url: str, tmp_path: Path
) -> None:
    database_url = empty_postgres_url
    coordinator = emulator.add_user("Sabine", last_name="Weber", language_code="de")
    outage = await outage_for(database_url)
    port = [0]

    def webhook(name: str) -> dict[str, str]:
        from tests.harness import free_port

        port[0] = free_port()
        return {
            "WEBHOOK_URL": f"http://127.0.0.1:{port[0]}/kimbot",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port[0]),
        }

    first = await launch(emulator, tmp_path, via(outage, database_url), coordinator.id, "first", **webhook("first"))
    second = None
    try:
        await emulator.wait_until(lambda: "leads now" in (tmp_path / "first.log").read_text(), WAIT)
        second = await launch(emulator, tmp_path, database_url, coordinator.id, "second", **webhook("second"))
        await emulator.wait_until(lambda: len(emulator.calls_of("setWebhook")) >= 2, WAIT)
        await outage.down()
        await emulator.wait_until(lambda: "leads now" in (tmp_path / "second.log").read_text(), WAIT)
        await outage.up()
        await emulator.wait_until(lambda: "is back" in (tmp_path / "first.log").read_text(), WAIT)
        assert first.returncode is None and second.returncode is None
    finally:
        await stop(first, second)
        await outage.stop()
    first_log = (tmp_path / "first.log").read_text()
    second_log = (tmp_path / "second.log").read_text()
    assert count("lost the leader lock", first_log) == 1, first_log
    assert count("leads now", first_log) == 1, "it does not take over again while the other leads"
    assert count("leads now", second_log) == 1, second_log


async def test_a_second_kimbot_run_on_one_sqlite_file_refuses_to_start(emulator: Emulator, tmp_path: Path) -> None:
    coordinator = emulator.add_user("Sabine", last_name="Weber", language_code="de")
    alice = emulator.add_user("Alice", language_code="en")
    url = f"sqlite:///{tmp_path / 'kimbot.db'}"
    first = await launch(emulator, tmp_path, url, coordinator.id, "first")
    try:
        emulator.send_text(alice, "/help")
        await emulator.wait_until(lambda: emulator.messages(alice), WAIT)
        second = await launch(emulator, tmp_path, url, coordinator.id, "second")
        assert await asyncio.wait_for(second.wait(), WAIT) == 2
        refusal = (tmp_path / "second.log").read_text()
        assert "another 'kimbot run' already uses the SQLite database" in refusal
        assert "PostgreSQL" in refusal and "Traceback" not in refusal
        emulator.send_text(alice, "/help")
        await emulator.wait_until(lambda: len(emulator.messages(alice)) == 2, WAIT)
        assert first.returncode is None, "the first one runs on"
    finally:
        await stop(first)
