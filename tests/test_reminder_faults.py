"""Faults while invitations and reminders go out: nothing lost, nothing doubled (SPEC 4).

The real bot against the emulator, on both databases, with Telegram's rate
limits switched on in the emulator. Sessions are scheduled through the core
rules (`bot.core.meetings.schedule`) and sent by the delivery timer's tick, so
faults can be injected between the two: every injected fault is taken by the
fan-out, none by a direct answer.

- 429 (retry_after 1) and 502 on some messages: each of them is still sent,
  once; the bot's own pacing makes Telegram answer no other 429.
- a member who blocked the bot (403): their record FAILED with the error,
  they are marked unreachable, the coordinator sees it in /members, and the
  rest get their message.
- a message that keeps failing: tried again after pauses (an outage is no
  reason to give up), then FAILED with the error, and not tried for ever.
- a timer that fires late: due work comes from the database, so a late tick
  sends exactly one catch-up reminder per member; the timer's job has no
  misfire grace that could drop it.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import pytest
from sqlalchemy import select

from bot.core import meetings, reminders
from bot.dev.emulator.dispatch import CallRecord
from bot.dev.emulator.faults import TooManyRequests
from bot.telegram.deliveries import TICK_JOB, Deliveries, schedule_tick
from storage.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
)
from tests.factories import registered
from tests.harness import HANG_GUARD, BotHarness
from tests.harness import Person as Member

pytestmark = pytest.mark.telegram_limits  # the members' fixture turns Telegram's limits on

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SESSION_DAY, SESSION_AT = date(2026, 12, 10), clock_time(14, 0)  # 13:00 UTC
MEMBERS = 20
WAIT = 30.0  # guards against a hang only; not a performance limit


async def add_person(bot: BotHarness, member: Member, name: str, group_slug: str | None) -> None:
    """A registered person, an approved member of `group_slug` (if given)."""
    async with bot.db.uow() as uow:
        group = await uow.groups.by_slug(group_slug) if group_slug is not None else None
        registered(uow, member.id, name, bot.clock(), group.id if group else None)
        await uow.commit()


@pytest.fixture
async def members(bot: BotHarness, coordinator: Member) -> list[Member]:
    """Twenty approved members of AK EU; the clock at START; no tick running."""
    bot.clock.set(START)
    await bot.tick()  # the one armed at start has run: the timer now sleeps its maximum
    await add_person(bot, coordinator, "Sabine Weber", None)
    found = []
    for number in range(1, MEMBERS + 1):
        member = await bot.person(f"Mitglied{number:02d}")
        await add_person(bot, member, f"Mitglied {number:02d}", "ak-eu")
        found.append(member)
    bot.telegram_limits()
    return found


async def schedule(bot: BotHarness, coordinator: Member, group_slug: str = "ak-eu") -> int:
    """A session on 10.12.2026 at 14:00, scheduled by the core rules; no tick yet."""
    request = meetings.MeetingRequest(group_slug, SESSION_DAY, SESSION_AT, "Auftakt", "Rathaus Barmen")
    async with bot.db.uow() as uow:
        creator = await uow.people.by_telegram_id(coordinator.id)
        assert creator is not None
        scheduled = await meetings.schedule(uow, creator, request, bot.settings, bot.clock())
        await uow.commit()
    return scheduled.occurrences[0].id


async def records(bot: BotHarness, occurrence_id: int, kind: DeliveryKind) -> dict[int, Delivery]:
    """The records of one kind for a session, by the member's Telegram id."""
    async with bot.db.uow() as uow:
        result = await uow.session.execute(
            select(Person.telegram_id, Delivery)
            .join(Person, Delivery.person_id == Person.id)
            .where(Delivery.occurrence_id == occurrence_id, Delivery.kind == kind)
        )
        return {telegram_id: row for telegram_id, row in result.all()}


def sends_to(bot: BotHarness, chat_id: int) -> list[CallRecord]:
    """Every sendMessage call to the chat, refused ones included (their record has no chat_id)."""
    return [
        c
        for c in bot.emulator.calls
        if c.method == "sendMessage" and str(c.chat_id or c.params.get("chat_id")) == str(chat_id)
    ]


def own_429s(bot: BotHarness) -> list[TooManyRequests]:
    """429 answers the bot caused itself (not injected by the test)."""
    return [t for t in bot.emulator.too_many_requests if t.limit != "injected"]


async def test_429_502_and_a_blocked_member_lose_nothing_and_double_nothing(
    bot: BotHarness, coordinator: Member, members: list[Member]
) -> None:
    emulator = bot.emulator
    blocked = members[7]
    # Blocked, but the my_chat_member update is withheld: the broadcast's 403 is what tells the bot.
    blocked.user.blocked = True
    emulator.inject_fault("sendMessage", status=429, retry_after=1, times=3)
    emulator.inject_fault("sendMessage", status=502, times=2)
    occurrence_id = await schedule(bot, coordinator)

    assert await bot.tick() == MEMBERS - 1
    assert emulator.faults.rules == [], "the fan-out met every injected fault"
    reached = [m for m in members if m is not blocked]
    for member in reached:
        assert len(member.messages) == 1, f"{member.user.first_name}: {member.texts}"
        assert "Einladung" in member.last.text and "Auftakt" in member.last.text
    assert blocked.messages == []

    refused = [c.status for c in emulator.calls if c.method == "sendMessage" and not c.ok]
    assert sorted(refused) == [403, 429, 429, 429, 502, 502]
    assert [t.retry_after for t in emulator.too_many_requests] == [1, 1, 1], "only the injected ones"
    assert own_429s(bot) == [], "the bot's own pacing never makes Telegram answer 429"

    rows = await records(bot, occurrence_id, DeliveryKind.INVITATION)
    assert sorted(rows) == sorted(m.id for m in members)
    for member in reached:
        row = rows[member.id]
        assert row.status is DeliveryStatus.SENT and row.sent_at == START and row.error is None
        assert row.attempts == 1
    failed = rows[blocked.id]
    assert failed.status is DeliveryStatus.FAILED and failed.sent_at is None
    assert failed.error is not None and "Forbidden" in failed.error and "blocked" in failed.error
    async with bot.db.uow() as uow:
        person = await uow.people.by_telegram_id(blocked.id)
        assert person is not None and person.unreachable_since == START
        others = [await uow.people.by_telegram_id(m.id) for m in reached]
        assert all(p is not None and p.unreachable_since is None for p in others)

    calls = len(emulator.calls_of("sendMessage"))
    assert await bot.tick() == 0, "nothing is sent again, the failed one included"
    assert len(emulator.calls_of("sendMessage")) == calls

    replies = await coordinator.send("/members ak-eu")
    listing = "\n".join(r.text for r in replies)
    assert "Mitglied 08, ohne Organisation: nicht erreichbar" in listing
    assert listing.count("nicht erreichbar") == 1
    assert "Mitglied 07, ohne Organisation: Mitglied" in listing


async def test_a_message_that_keeps_failing_is_tried_later_then_recorded_failed(
    bot: BotHarness, coordinator: Member, members: list[Member]
) -> None:
    emulator = bot.emulator
    alone = await bot.person("Einzel")
    await add_person(bot, alone, "Eva Einzel", "ak-ehrenamt")  # the only member: the faults hit her message
    pacer = bot.application.bot_data["deliveries"].pacer
    # The same number of retries as in production, with shorter back-off (1 s, 2 s ... 16 s
    # would take half a minute); the 1 s between two messages to one chat still applies.
    pacer.backoff = 0.05
    attempts = pacer.retries + 1
    later_tries = len(reminders.RETRY_AFTER)
    emulator.inject_fault("sendMessage", status=502, times=attempts * (later_tries + 1))
    occurrence_id = await schedule(bot, coordinator, "ak-ehrenamt")

    assert await bot.tick() == 0
    assert [c.status for c in sends_to(bot, alone.id)] == [502] * attempts
    row = (await records(bot, occurrence_id, DeliveryKind.INVITATION))[alone.id]
    assert row.status is DeliveryStatus.PENDING, "an outage is no reason to give up yet"
    assert row.error is not None and "Bad Gateway" in row.error and row.attempts == 1
    assert await bot.tick() == 0
    assert len(sends_to(bot, alone.id)) == attempts, "not due again before its pause is over"

    for pause in reminders.RETRY_AFTER:
        bot.clock.advance(seconds=pause.total_seconds() + 1)
        assert await bot.tick() == 0
    assert emulator.faults.rules == []
    assert len(sends_to(bot, alone.id)) == attempts * (later_tries + 1)
    assert alone.messages == []
    row = (await records(bot, occurrence_id, DeliveryKind.INVITATION))[alone.id]
    assert row.status is DeliveryStatus.FAILED and row.sent_at is None, "recorded, not forgotten"
    assert "Bad Gateway" in (row.error or "") and row.attempts == later_tries + 1
    async with bot.db.uow() as uow:
        person = await uow.people.by_telegram_id(alone.id)
        assert person is not None and person.unreachable_since is None, "a 502 is no block"

    bot.clock.advance(hours=1)
    assert await bot.tick() == 0
    assert len(sends_to(bot, alone.id)) == attempts * (later_tries + 1), "not tried for ever"
    assert all(m.messages == [] for m in members), "nothing for another group"


async def test_a_message_tried_later_arrives_once_the_fault_is_over(
    bot: BotHarness, coordinator: Member, members: list[Member]
) -> None:
    emulator = bot.emulator
    alone = await bot.person("Einzel")
    await add_person(bot, alone, "Eva Einzel", "ak-ehrenamt")
    pacer = bot.application.bot_data["deliveries"].pacer
    pacer.backoff = 0.05
    emulator.inject_fault("sendMessage", status=503, times=pacer.retries + 1)
    occurrence_id = await schedule(bot, coordinator, "ak-ehrenamt")
    assert await bot.tick() == 0
    bot.clock.advance(seconds=reminders.RETRY_AFTER[0].total_seconds() + 1)
    assert await bot.tick() == 1
    assert len(alone.messages) == 1 and "Einladung" in alone.last.text
    row = (await records(bot, occurrence_id, DeliveryKind.INVITATION))[alone.id]
    assert row.status is DeliveryStatus.SENT


async def test_a_late_timer_sends_exactly_one_catch_up_reminder_per_member(
    bot: BotHarness, coordinator: Member, members: list[Member]
) -> None:
    emulator = bot.emulator
    occurrence_id = await schedule(bot, coordinator)
    assert await bot.tick() == MEMBERS  # the invitations

    jobs = bot.application.job_queue.get_jobs_by_name(TICK_JOB)
    assert len(jobs) == 1, "one delivery timer"
    assert jobs[0].job.misfire_grace_time is None, "a late timer is run, not dropped"

    # The 7-day, 1-day and 2-hour points have all passed; the session (13:00 UTC) has not begun.
    bot.clock.set(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    # The timer was due five seconds ago (a busy loop, a suspended machine): later than
    # APScheduler's default misfire grace (1 s), which would drop it.
    schedule_tick(bot.application, when=-5)
    await emulator.wait_until(lambda: all(len(m.messages) == 2 for m in members), WAIT)
    assert await bot.tick() == 0, "the late timer sent them all; nothing is left"

    for member in members:
        invitation, reminder = member.texts
        assert "Einladung" in invitation
        assert "Erinnerung" in reminder and "Do., 10.12.2026, 14:00 Uhr" in reminder
        assert "/agenda" not in reminder, "the 2-hour reminder, not the earliest"
    rows = await records(bot, occurrence_id, DeliveryKind.REMINDER)
    async with bot.db.uow() as uow:
        every = (
            (await uow.session.execute(select(Delivery).where(Delivery.kind == DeliveryKind.REMINDER))).scalars().all()
        )
    assert len(every) == 3 * MEMBERS
    sent = [r for r in every if r.status is DeliveryStatus.SENT]
    assert len(sent) == MEMBERS and {r.lead_seconds for r in sent} == {2 * 3600}
    assert {r.error for r in every if r.status is not DeliveryStatus.SENT} == {"caught up by a later reminder"}
    assert len(rows) == MEMBERS

    bot.clock.set(datetime(2026, 12, 10, 13, 0, tzinfo=UTC))  # the session begins
    assert await bot.tick() == 0
    assert own_429s(bot) == []


POLLS_FAILED = 6
"""Telegram stays away until the bot's polling has failed this many times in a row
(python-telegram-bot's pause between two polls has grown from 1 s to 7.6 s by
then, by half each time); the next poll finds it back. The bot's clock meanwhile
moves on by hours."""


def failed_polls(bot: BotHarness) -> int:
    return sum(c.method == "getUpdates" and c.fault == "drop" for c in bot.emulator.calls)


async def one_day_reminders(bot: BotHarness, occurrence_id: int) -> list[Delivery]:
    async with bot.db.reader() as uow:
        rows = await uow.deliveries.of_occurrence(occurrence_id)
    return [r for r in rows if r.kind is DeliveryKind.REMINDER and r.lead_seconds == 86400]


# The link to Telegram does not depend on the database: SQLite only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_telegram_away_for_hours_loses_nothing_and_logs_the_outage_once(
    bot: BotHarness, coordinator: Member, members: list[Member], caplog: pytest.LogCaptureFixture
) -> None:
    occurrence_id = await schedule(bot, coordinator)
    await bot.tick()
    assert all(len(m.messages) == 1 for m in members), "the invitations went out before"

    caplog.set_level("INFO")
    bot.emulator.inject_fault("*", drop=True, times=10**9)  # every connection dropped
    asking = members[0]
    bot.emulator.send_text(asking.user, "/help")
    link = bot.application.bot_data["link"]
    await bot.emulator.wait_until(lambda: link.down, WAIT)  # the failing polls mark it down

    # Hours pass on the bot's clock: the one-day reminder falls due, and the
    # tries that would use up a message's later tries (2, 10, 30, 120 minutes).
    for hours in (0, 1, 3, 6):
        bot.clock.set(datetime(2026, 12, 9, 13, 30, tzinfo=UTC) + timedelta(hours=hours))
        assert await bot.tick() == 0
    day_before = await one_day_reminders(bot, occurrence_id)
    assert len(day_before) == MEMBERS
    assert all(r.status is DeliveryStatus.PENDING and r.attempts == 0 for r in day_before), "nothing used up"
    await bot.emulator.wait_until(lambda: failed_polls(bot) >= POLLS_FAILED, HANG_GUARD)
    during = [r for r in caplog.records if r.levelno >= logging.WARNING]

    bot.emulator.clear_faults()
    try:
        await bot.emulator.wait_until(
            lambda: all(len(m.messages) == 2 for m in members[1:]) and len(asking.messages) == 3,
            timeout=HANG_GUARD,
        )
    except TimeoutError:
        raise AssertionError(
            [len(m.messages) for m in members],
            bot.emulator.delivered_update_ids,
            [(c.method, c.status, c.fault) for c in bot.emulator.calls[-8:]],
        ) from None
    await bot.settle()  # the question handled
    assert await bot.tick() == 0, "the timer's run is over (its lock), and nothing is left"

    assert sum("Was Sie tun können" in t for t in asking.texts) == 1, "the question is answered once"
    for member in members:
        assert sum("Erinnerung" in t for t in member.texts) == 1, member.texts
    assert all(r.status is DeliveryStatus.SENT for r in await one_day_reminders(bot, occurrence_id))
    assert own_429s(bot) == []

    assert [r.getMessage()[:30] for r in during] == ["Telegram is not answering (htt"], "one line, no storm"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2 and warnings[1].startswith("Telegram answers again after"), warnings
    assert link.outages == 1


def got(member: Member, word: str) -> int:
    return sum(word in m.text for m in member.messages)


async def test_a_message_that_cannot_be_rendered_is_skipped_and_the_others_go_out(
    bot: BotHarness,
    coordinator: Member,
    members: list[Member],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    occurrence_id = await schedule(bot, coordinator)
    broken = members[3]
    original = Deliveries._render

    async def render(self: Deliveries, uow, cache, item):  # type: ignore[no-untyped-def]
        if item.chat_id == broken.id and item.kind is DeliveryKind.INVITATION:
            raise RuntimeError("a bug in one message")
        return await original(self, uow, cache, item)

    monkeypatch.setattr(Deliveries, "_render", render)
    caplog.set_level(logging.ERROR)
    assert await bot.tick() == MEMBERS - 1
    assert got(broken, "Einladung") == 0
    assert all(got(m, "Einladung") == 1 for m in members if m is not broken)
    row = (await records(bot, occurrence_id, DeliveryKind.INVITATION))[broken.id]
    assert row.status is DeliveryStatus.FAILED and row.error == "render: RuntimeError"
    assert len([r for r in caplog.records if "could not be prepared" in r.getMessage()]) == 1

    # The next run does not try it again, and the later reminder reaches everyone.
    assert await bot.tick() == 0
    bot.clock.set(datetime(2026, 12, 9, 13, 0, 30, tzinfo=UTC))  # the one-day reminder is due
    assert await bot.tick() == MEMBERS
    assert all(got(m, "Erinnerung") == 1 for m in members)


async def test_a_run_that_fails_is_followed_by_the_next_and_logged_once(
    bot: BotHarness,
    coordinator: Member,
    members: list[Member],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nobody calls the timer after the first wake-up: it arms itself again after
    each failed run, and the invitations arrive when a run succeeds."""
    await schedule(bot, coordinator)
    runs: list[int] = []
    original = reminders.take_due

    async def take_due(uow, settings, now, limit=1000):  # type: ignore[no-untyped-def]
        runs.append(1)
        if len(runs) <= 2:
            raise RuntimeError("a bug in this run")
        return await original(uow, settings, now, limit)

    monkeypatch.setattr(reminders, "take_due", take_due)
    caplog.set_level(logging.DEBUG)
    schedule_tick(bot.application, when=0)  # as a command that made something due does
    await bot.emulator.wait_until(lambda: all(got(m, "Einladung") == 1 for m in members), 3 * WAIT)
    # The successful run says so when it has recorded what it sent.
    await bot.emulator.wait_until(lambda: any("runs again" in r.getMessage() for r in caplog.records), WAIT)
    assert len(runs) == 3
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1 and "delivery timer failed" in failures[0].getMessage()
