"""Telegram's faults survived: 429 honoured, 5xx, timeouts, dropped connections
and 403 do not stop the bot, and an answer is not swallowed by a single fault.
(An outage of hours: tests/test_reminder_faults.py.)"""

from __future__ import annotations

import logging

import pytest

from bot.telegram.link import DOWN_AFTER, PROBE_EVERY, TelegramLink
from tests.harness import HANG_GUARD


def retries(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The retries after a 429 the bot logged, with the pause it honoured."""
    return [r.getMessage() for r in caplog.records if r.name == "bot.telegram.ratelimit"]


async def test_429_is_honoured_and_the_answer_still_arrives(bot, caplog):
    caplog.set_level(logging.INFO, "bot.telegram.ratelimit")
    ana = await bot.person("Ana")
    bot.emulator.inject_fault("sendMessage", status=429, retry_after=1, times=1)
    replies = await ana.send("/help")
    assert len(replies) == 1 and "Was Sie tun können" in replies[0].text
    assert [c.status for c in bot.emulator.calls_of("sendMessage")] == [429, 200]
    assert retries(caplog) == ["sendMessage: 429, retry 1 in 1.1 s"], "retry_after 1 s, and a margin"


async def test_a_429_burst_delays_the_answers_and_loses_none(bot, caplog):
    caplog.set_level(logging.INFO, "bot.telegram.ratelimit")
    people = [await bot.person(name) for name in ("Ana", "Ben", "Cem")]
    bot.emulator.inject_fault("sendMessage", status=429, retry_after=1, times=4)
    for person in people:
        bot.emulator.send_text(person.user, "/help")
    await bot.settle()
    for person in people:
        assert len(person.messages) == 1 and "Was Sie tun können" in person.last.text
    # Three answers refused at once, one of them again on its retry: seven calls.
    statuses = sorted(c.status for c in bot.emulator.calls_of("sendMessage"))
    assert statuses == [200, 200, 200, 429, 429, 429, 429]
    assert sorted(retries(caplog)) == [
        "sendMessage: 429, retry 1 in 1.1 s",
        "sendMessage: 429, retry 1 in 1.1 s",
        "sendMessage: 429, retry 1 in 1.1 s",
        "sendMessage: 429, retry 2 in 1.1 s",
    ]


@pytest.mark.parametrize(
    "fault",
    [{"status": 502}, {"status": 503}, {"drop": True}],
    ids=["502", "503", "dropped connection"],
)
async def test_a_passing_fault_does_not_swallow_the_answer(bot, fault):
    ana = await bot.person("Ana")
    bot.emulator.inject_fault("sendMessage", times=2, **fault)
    replies = await ana.send("/help")
    assert len(replies) == 1 and "Was Sie tun können" in replies[0].text
    failed = 0 if fault.get("drop") else fault["status"]
    assert [c.status for c in bot.emulator.calls_of("sendMessage")] == [failed, failed, 200], (
        "sent again twice: the second try after the first"
    )
    replies = await ana.send("/groups")
    assert "Die Gruppen" in replies[-1].text


async def test_an_answer_slower_than_the_client_waits_is_sent_again_and_arrives_twice(bot):
    ana = await bot.person("Ana")
    # Longer than python-telegram-bot's read timeout (5 s): the client gives up and
    # the bot sends the answer again; Telegram (the emulator) still delivers the
    # first one when its delay is over. The Bot API cannot tell, so the person
    # reads the answer twice (SPEC 4: an answer in flight may arrive twice).
    bot.emulator.inject_fault("sendMessage", delay=6.0, times=1)
    await ana.send("/help")
    await bot.emulator.wait_until(lambda: len(bot.emulator.calls_of("sendMessage")) == 2, HANG_GUARD)
    sends = bot.emulator.calls_of("sendMessage")
    assert sorted((c.status, c.fault or "") for c in sends) == [(200, ""), (200, "delay")]
    assert sum("Was Sie tun können" in t for t in ana.texts) == 2
    replies = await ana.send("/groups")
    assert "Die Gruppen" in replies[-1].text


def test_the_link_is_down_after_faults_in_a_row_and_says_so_once(caplog) -> None:
    now = [0.0]
    link = TelegramLink(clock=lambda: now[0])
    back = []
    link.on_back.append(lambda: back.append(now[0]))
    caplog.set_level(logging.DEBUG, "bot.telegram.link")
    link.fault("502")
    link.answered()  # an answer in between: no outage
    for _ in range(DOWN_AFTER - 1):
        link.fault("timed out")
    assert not link.down and link.may_try()
    for _ in range(100):
        link.fault("connection refused")
    assert link.down and link.outages == 1
    assert link.may_try(), "one probe"
    assert not link.may_try()
    now[0] += PROBE_EVERY
    assert link.may_try() and not link.may_try()
    now[0] += 60
    link.answered()
    link.answered()
    assert not link.down and back == [now[0]]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2
    assert warnings[0].startswith("Telegram is not answering (connection refused)")
    assert warnings[1] == "Telegram answers again after 70 s; 102 calls failed meanwhile."


async def test_a_coordinator_who_blocked_the_bot_does_not_stop_a_join_request(bot, coordinator):
    await coordinator.send("/help")
    await coordinator.block()
    ana = await bot.person("Ana", username="ana")
    await ana.register()
    replies = await ana.send("/join ak-eu")
    assert "Anfrage für AK EU ist bei der Koordination" in replies[-1].text
    async with bot.db.uow() as uow:
        person = await uow.people.by_telegram_id(coordinator.id)
    assert person is not None and person.unreachable_since is not None
