"""Sending that respects Telegram (SPEC 4): `Pacer` and `RetryAfterLimiter`.

The pacing arithmetic runs on a fake clock (no waiting); everything else is
a real python-telegram-bot `ExtBot` talking HTTP to the emulator, with
Telegram's limits switched on where it matters.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import warnings
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import RetryAfter
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.dev.emulator import Emulator
from bot.telegram.delivery import Delivered, Outcome, Outgoing, Pacer, Schedule
from bot.telegram.ratelimit import RetryAfterLimiter, retry_after_seconds
from tests.harness import HANG_GUARD


def make_bot(emu: Emulator, limiter: RetryAfterLimiter | None = None) -> ExtBot[int]:
    return ExtBot(
        emu.token,
        base_url=emu.api_url,
        base_file_url=emu.file_url,
        request=HTTPXRequest(connection_pool_size=32),
        rate_limiter=limiter or RetryAfterLimiter(),
    )


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[ExtBot[int]]:
    async with make_bot(emulator) as ext_bot:
        yield ext_bot


def texts(emu: Emulator, chat: int) -> list[str]:
    return [m.text for m in emu.messages(chat)]


# --------------------------------------------------------- pacing on a fake clock


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def offline_pacer(time: FakeTime, **limits: float) -> Pacer:
    # A real bot object that never connects: only the slots are used.
    return Pacer(ExtBot("1:OFFLINE"), clock=time.clock, sleep=time.sleep, **limits)  # type: ignore[arg-type]


async def grant_all(pacer: Pacer, chats: list[int]) -> list[tuple[int, int, float]]:
    """Every chat asks for a slot at once; (job index, chat, grant time) in grant order."""
    granted: list[tuple[int, int, float]] = []

    async def one(index: int, chat: int) -> None:
        async with pacer.slot(chat) as at:
            granted.append((index, chat, at))

    async with asyncio.timeout(10):
        await asyncio.gather(*(one(i, c) for i, c in enumerate(chats)))
    return granted


def test_schedule_spaces_messages_overall_per_chat_and_per_group() -> None:
    schedule = Schedule(per_second=20, per_chat_interval=1.0, group_per_minute=3)
    assert schedule.ready_at(7, 0.0) == float("-inf")
    schedule.record(7, 10.0)
    assert schedule.global_ready_at(10.0) == pytest.approx(10.05)
    assert schedule.chat_ready_at(7, 10.0) == pytest.approx(11.0)
    assert schedule.chat_ready_at(8, 10.0) == float("-inf")
    assert schedule.ready_at(8, 10.0) == pytest.approx(10.05)

    for at in (0.0, 1.0, 2.0):
        schedule.record(-100, at)
    # the fourth message to the group waits until the first one is a minute old
    assert schedule.chat_ready_at(-100, 2.5) == pytest.approx(60.0)
    assert schedule.chat_ready_at(-100, 60.0) <= 60.0  # the first one has left the window
    schedule.record(-100, 60.0)
    assert schedule.chat_ready_at(-100, 60.0) == pytest.approx(61.0)  # now the chat interval
    assert schedule.chat_ready_at(-100, 61.0) == pytest.approx(61.0)
    # private chats have no per-minute limit
    for at in range(5):
        schedule.record(9, float(at))
    assert schedule.chat_ready_at(9, 4.0) == pytest.approx(5.0)


def test_a_direct_answer_takes_its_place_in_the_schedule() -> None:
    schedule = Schedule(per_second=10)
    schedule.record(1, 0.0)  # paced: the next slot is at 0.1
    for k in range(9):  # nine direct answers fill the rest of that second (10 in all)
        schedule.record(2 + k, 0.01 * (k + 1), direct=True)
    # While people write, one place of the second stays free for an answer nobody
    # foresaw: the broadcast waits until the first two have left the window.
    assert schedule.global_ready_at(0.1) == pytest.approx(1.01)
    assert schedule.chat_ready_at(2, 0.05) == pytest.approx(1.01)


def wait_for_slot(schedule: Schedule, now: float) -> float:
    """When the next paced message may leave, asking again as told."""
    while (ready := schedule.global_ready_at(now)) > now:
        now = ready
    return now


def broadcast_beside_answers(
    per_second: int, answers: list[float], until: float, stalled: tuple[float, float] | None = None
) -> list[tuple[float, bool]]:
    """A broadcast that takes every slot the schedule grants, a millisecond at a
    time, while answers leave at the given times; nothing at all happens while
    the event loop is `stalled` (from, to). (time, direct) of every message."""
    schedule = Schedule(per_second=per_second, per_chat_interval=0.0)
    sent: list[tuple[float, bool]] = []
    pending = iter(sorted(answers))
    next_answer = next(pending, math.inf)
    chat = itertools.count(1000)
    for step in range(round(until * 1000)):
        now = step / 1000
        if stalled and stalled[0] <= now < stalled[1]:
            continue
        while now >= next_answer:
            schedule.record(next(chat), now, direct=True)
            sent.append((now, True))
            next_answer = next(pending, math.inf)
        if schedule.global_ready_at(now) <= now:
            schedule.record(next(chat), now)
            sent.append((now, False))
    return sent


def most_in_a_second(sent: list[tuple[float, bool]]) -> int:
    times = sorted(t for t, _ in sent)
    return max(bisect.bisect_right(times, t) - bisect.bisect_right(times, t - 1.0 + 1e-9) for t in times)


def test_a_broadcast_leaves_room_for_the_answers_still_to_come() -> None:
    """People write 8 times a second while a broadcast waits to go at 10 a second
    (per_second=10): the broadcast takes what is left but one place, kept for
    an answer nobody foresaw, and no second holds more than 10 messages, the
    answers that came after a paced one included."""
    sent = broadcast_beside_answers(10, [0.125 * k for k in range(1, 41)], until=7.0)  # answers for 5 seconds
    assert most_in_a_second(sent) == 10
    paced = [t for t, direct in sent if not direct and 2.0 <= t < 4.0]
    assert 2 <= len(paced) <= 3, "1 a second left for the broadcast while people write"
    # The last answer left at 5.0: once its second is over, no place is kept.
    assert len([t for t, direct in sent if not direct and 6.0 <= t < 7.0]) == 10, "the full pace again"


def test_a_burst_of_direct_answers_holds_a_broadcast_back_one_second_at_most() -> None:
    schedule = Schedule(per_second=10)
    for k in range(1000):  # people write faster than the limit, for ten seconds
        schedule.record(k, 0.01 * k, direct=True)
    # Within a second of the last answer (not after 100 s: no debt).
    now = wait_for_slot(schedule, 9.99)
    assert 9.99 < now <= 10.99
    schedule.record(5000, now)
    assert schedule.global_ready_at(now) >= now + 0.1


@pytest.mark.parametrize("gap", [0.04, 0.05, 0.08, 0.2])
def test_people_who_begin_to_write_during_a_broadcast_are_expected_at_their_pace(gap: float) -> None:
    """A broadcast at Telegram's full 30 a second, from an empty second; people
    begin to write at the same moment (25, 20, 12.5 or 5 a second). Their
    first answers stand for all that follow at that pace, so no second holds
    more than 30 messages, the first one included."""
    sent = broadcast_beside_answers(30, [gap * k for k in range(round(4 / gap))], until=6.0)
    assert most_in_a_second(sent) <= 30
    assert len([t for t, direct in sent if not direct and 5.0 <= t < 6.0]) == 30, "the full pace once they stop"


@pytest.mark.parametrize("stalled", [(1.5, 1.7), (1.5, 2.0), (1.5, 2.3)])
def test_answers_after_the_bot_stood_still_are_expected_at_their_pace(stalled: tuple[float, float]) -> None:
    """People write 20 times a second beside a broadcast; the bot stands still
    for a moment (its event loop held up), and its second then holds few of
    their answers. They are still expected at 20 a second: no second holds
    more than 30 messages."""
    answers = [0.05 * k for k in range(80) if not stalled[0] <= 0.05 * k < stalled[1]]
    sent = broadcast_beside_answers(30, answers, until=5.0, stalled=stalled)
    assert most_in_a_second(sent) <= 30


def test_a_slot_granted_late_keeps_the_grid() -> None:
    schedule = Schedule(per_second=10)
    schedule.record(1, 0.0)
    schedule.record(2, 0.13)  # granted 30 ms late
    assert schedule.global_ready_at(0.13) == pytest.approx(0.2)
    schedule.record(3, 0.5)  # far later: the spacing from now
    assert schedule.global_ready_at(0.5) == pytest.approx(0.6)


def test_a_message_counts_in_its_second_until_telegram_answered_it() -> None:
    """Ten a second (per_second=10); the first message reached Telegram only at
    0.5 s, when its answer came. Telegram then holds it, and eight more, in the
    second from 0.5 s: the eleventh waits until the second message's second
    is over, though the first left a second before."""
    schedule = Schedule(per_second=10, per_chat_interval=0.0)
    for k in range(10):
        schedule.record(k, k / 10)
        if k:
            schedule.finished(k, k / 10, k / 10)  # answered at once
    schedule.finished(0, 0.0, 0.5)
    assert schedule.global_ready_at(1.0) == pytest.approx(1.1)
    schedule.answered(0.5, 0.5)  # told twice: counted once
    schedule.record(10, 1.1)
    assert schedule.global_ready_at(1.1) == pytest.approx(1.2)


def test_a_call_that_took_long_keeps_its_chat_waiting_a_full_interval() -> None:
    schedule = Schedule(per_chat_interval=1.0)
    schedule.record(5, 0.0)
    schedule.finished(5, 0.0, 0.2)  # quick: the usual interval from the start
    assert schedule.chat_ready_at(5, 0.2) == pytest.approx(1.0)
    schedule.finished(5, 0.0, 2.5)  # retried inside the bot: it may have left at ~2.5
    assert schedule.chat_ready_at(5, 2.5) == pytest.approx(3.5)


async def test_slots_never_exceed_any_limit_under_concurrency() -> None:
    time = FakeTime()
    pacer = offline_pacer(time, per_second=10, per_chat_interval=1.0, group_per_minute=4)
    chats = [c for _ in range(3) for c in range(1, 31)] + [-1] * 6 + [-2] * 3 + [5] * 4
    granted = await grant_all(pacer, chats)

    assert sorted(i for i, _, _ in granted) == list(range(len(chats)))
    times = [at for _, _, at in granted]
    assert times == sorted(times)
    for k in range(len(times) - 10):  # any 11 consecutive slots span a second or more
        assert times[k + 10] - times[k] >= 1.0 - 1e-9
    by_chat: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for index, chat, at in granted:
        by_chat[chat].append((index, at))
    for chat, slots in by_chat.items():
        assert [i for i, _ in slots] == sorted(i for i, _ in slots), "order within a chat"
        stamps = [at for _, at in slots]
        assert all(b - a >= 1.0 - 1e-9 for a, b in zip(stamps, stamps[1:], strict=False))
        if chat < 0:
            for k in range(len(stamps) - 4):  # 5 messages to a group span at least a minute
                assert stamps[k + 4] - stamps[k] >= 60.0 - 1e-9
    # not slower than the limits demand: the last one is the sixth message to group -1,
    # a minute after its second one
    group = [at for _, at in by_chat[-1]]
    assert max(times) == group[5]
    assert group[5] - group[1] == pytest.approx(60.0, abs=0.11)


async def test_first_come_first_served_and_a_waiting_chat_holds_up_no_one() -> None:
    time = FakeTime()
    pacer = offline_pacer(time, per_second=10, per_chat_interval=1.0)
    granted = await grant_all(pacer, [1, 1, 2, 3, 4])
    assert [(i, chat) for i, chat, _ in granted] == [(0, 1), (2, 2), (3, 3), (4, 4), (1, 1)]
    assert [round(at, 6) for *_, at in granted] == [0.0, 0.1, 0.2, 0.3, 1.0]


async def test_a_cancelled_wait_leaves_and_the_others_go_on() -> None:
    time = FakeTime()
    pacer = offline_pacer(time, per_second=10, per_chat_interval=1.0)
    gate_open = asyncio.Event()
    granted: list[int] = []

    async def hold(chat: int) -> None:
        async with pacer.slot(chat):
            await gate_open.wait()

    async def one(chat: int) -> None:
        async with pacer.slot(chat):
            granted.append(chat)

    holder = asyncio.create_task(hold(1))  # owns chat 1 until the gate opens
    await asyncio.sleep(0)
    waiting = asyncio.create_task(one(1))
    others = [asyncio.create_task(one(c)) for c in (2, 3)]
    async with asyncio.timeout(5):
        while len(granted) < 2:
            await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    gate_open.set()
    await holder
    await asyncio.gather(*others)
    async with asyncio.timeout(5):
        await one(1)  # chat 1 is free again
    assert granted == [2, 3, 1]


# ------------------------------------------------------------ against the emulator


@pytest.mark.telegram_limits
async def test_fan_out_within_telegrams_limits_delivers_every_message_once(
    emulator: Emulator, bot: ExtBot[int]
) -> None:
    emulator.set_rate_limits(True, global_per_second=30, per_chat_per_second=1, group_per_minute=20)
    users = [emulator.add_user(f"Person {n}") for n in range(60)]
    groups = [emulator.add_group_chat(f"AK {n}", users[n::3]) for n in range(3)]
    chats = [u.id for u in users] + [g.id for g in groups]
    jobs: list[Outgoing | tuple[int, str]] = [(c, f"<b>Einladung</b> an {c}") for c in chats]
    jobs.append(Outgoing(users[0].id, "zweite Nachricht"))  # the same chat twice
    pacer = Pacer(bot)

    async with asyncio.timeout(20):
        results = await pacer.fan_out(jobs)

    # The emulator judges Telegram's limits (switched on above): no 429 means none was broken.
    assert emulator.too_many_requests == []
    assert all(r.outcome is Outcome.SENT for r in results)
    for chat in chats[1:]:
        assert texts(emulator, chat) == [f"Einladung an {chat}"]
    assert texts(emulator, users[0].id) == [f"Einladung an {users[0].id}", "zweite Nachricht"]
    assert emulator.messages(users[5].id)[0].html == f"<b>Einladung</b> an {users[5].id}"
    call = emulator.calls_of("sendMessage")[0]
    assert call.params["parse_mode"] == "HTML"
    assert call.params["link_preview_options"] == {"is_disabled": True}
    assert [r.message_id for r in results[:1]] == [emulator.messages(users[0].id)[0].message_id]


async def test_a_blocked_person_is_reported_and_the_others_get_theirs(emulator: Emulator, bot: ExtBot[int]) -> None:
    alice, bob, carla = (emulator.add_user(n) for n in ("Alice", "Bob", "Carla"))
    emulator.block(bob)
    results = await Pacer(bot).fan_out([(p.id, "Erinnerung") for p in (alice, bob, carla)])
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.BLOCKED, Outcome.SENT]
    assert "Forbidden" in (results[1].error or "")
    assert len(emulator.calls_of("sendMessage")) == 3  # no retry for a 403
    assert texts(emulator, alice.id) == texts(emulator, carla.id) == ["Erinnerung"]


async def test_a_429_is_waited_out_and_the_message_arrives_once(emulator: Emulator) -> None:
    alice = emulator.add_user("Alice")
    waits: list[tuple[float, int]] = []  # (seconds, calls made before the wait)

    async def note(seconds: float) -> None:
        waits.append((seconds, len(emulator.calls_of("sendMessage"))))

    emulator.inject_fault("sendMessage", status=429, retry_after=1)
    async with make_bot(emulator, RetryAfterLimiter(sleep=note)) as limited:
        result = await Pacer(limited).send_message(alice.id, "Tagesordnung")
    assert result.outcome is Outcome.SENT
    assert texts(emulator, alice.id) == ["Tagesordnung"]
    refused, accepted = emulator.calls_of("sendMessage")
    assert (refused.status, accepted.status) == (429, 200)
    assert waits == [(pytest.approx(1.1), 1)], "retry_after (1 s) and a margin, between the two"


async def test_after_a_429_no_paced_message_leaves_before_retry_after(emulator: Emulator) -> None:
    """Telegram's flood control is the bot's: after a 429 the broadcast stops for
    `retry_after`, instead of sending on to the other chats into more 429s."""
    people = [emulator.add_user(f"Mitglied {n}") for n in range(6)]
    emulator.inject_fault("sendMessage", status=429, retry_after=1)
    async with make_bot(emulator, RetryAfterLimiter()) as limited:
        results = await Pacer(limited).fan_out([(p.id, "Einladung") for p in people])
    assert [r.outcome for r in results] == [Outcome.SENT] * 6
    calls = emulator.calls_of("sendMessage")
    refused = [c for c in calls if c.status == 429]
    assert len(refused) == 1 and len(calls) == 7
    after = [c for c in calls if c.at > refused[0].at]
    assert len(after) == 6 and all(c.status == 200 for c in after)
    assert min(c.at for c in after) - refused[0].at >= 1.0, "nothing left within retry_after of the 429"
    assert all(texts(emulator, p.id) == ["Einladung"] for p in people)


async def test_when_the_bot_gives_up_on_429_the_pacer_waits_and_sends(emulator: Emulator) -> None:
    alice = emulator.add_user("Alice")
    emulator.inject_fault("sendMessage", status=429, retry_after=1)
    async with make_bot(emulator, RetryAfterLimiter(max_retries=0)) as impatient:
        result = await Pacer(impatient, retries=1).send_message(alice.id, "Protokoll")
    assert result.outcome is Outcome.SENT
    assert texts(emulator, alice.id) == ["Protokoll"]
    assert [c.status for c in emulator.calls_of("sendMessage")] == [429, 200]


async def test_5xx_twice_then_sent_once(emulator: Emulator, bot: ExtBot[int]) -> None:
    alice = emulator.add_user("Alice")
    emulator.inject_fault("sendMessage", status=502, times=2)
    result = await Pacer(bot, backoff=0.01, per_chat_interval=0.05).send_message(alice.id, "Hallo")
    assert result.outcome is Outcome.SENT
    assert result.message_id == emulator.messages(alice.id)[0].message_id
    assert texts(emulator, alice.id) == ["Hallo"]
    assert [c.status for c in emulator.calls_of("sendMessage")] == [502, 502, 200]


async def test_5xx_for_ever_fails_after_the_retries_without_raising(emulator: Emulator, bot: ExtBot[int]) -> None:
    alice = emulator.add_user("Alice")
    emulator.inject_fault("sendMessage", status=502, times=100)
    result = await Pacer(bot, retries=3, backoff=0.01, per_chat_interval=0.05).send_message(alice.id, "Hallo")
    assert result == Delivered(Outcome.FAILED, error="NetworkError: Bad Gateway", transient=True)
    assert len(emulator.calls_of("sendMessage")) == 4
    assert emulator.messages(alice.id) == []


async def test_permanent_refusals_fail_at_once(emulator: Emulator, bot: ExtBot[int]) -> None:
    alice = emulator.add_user("Alice")
    pacer = Pacer(bot, backoff=0.01)
    unknown = await pacer.send_message(987654321, "Hallo")
    broken = await pacer.send_message(alice.id, "<b>offen")
    assert unknown.outcome is broken.outcome is Outcome.FAILED
    assert unknown.error == "BadRequest: Chat not found"
    assert "parse entities" in (broken.error or "")
    assert len(emulator.calls_of("sendMessage")) == 2
    assert emulator.messages(alice.id) == []


async def test_a_dropped_connection_is_retried(emulator: Emulator, bot: ExtBot[int]) -> None:
    alice = emulator.add_user("Alice")
    emulator.inject_fault("sendMessage", drop=True)
    result = await Pacer(bot, backoff=0.01, per_chat_interval=0.05).send_message(alice.id, "Hallo")
    assert result.outcome is Outcome.SENT
    assert texts(emulator, alice.id) == ["Hallo"]
    assert [c.status for c in emulator.calls_of("sendMessage")] == [0, 200]


async def test_a_slow_answer_is_retried_and_may_arrive_twice(emulator: Emulator, bot: ExtBot[int]) -> None:
    alice = emulator.add_user("Alice")
    emulator.inject_fault("sendMessage", delay=0.6)
    pacer = Pacer(bot, backoff=0.01, per_chat_interval=0.05)
    result = await pacer.send_message(alice.id, "Hallo", read_timeout=0.2)
    assert result.outcome is Outcome.SENT
    assert [m.message_id for m in emulator.messages(alice.id)] == [result.message_id]
    # The first request is still at Telegram, which may yet accept it; the Bot
    # API cannot tell. Retrying means the person may read the message twice.
    await emulator.wait_until(lambda: len(emulator.messages(alice.id)) == 2, timeout=3)
    assert [c.fault for c in emulator.calls_of("sendMessage")] == [None, "delay"]


async def test_a_document_with_an_html_caption(emulator: Emulator, bot: ExtBot[int]) -> None:
    alice = emulator.add_user("Alice")
    emulator.inject_fault("sendDocument", status=503)
    result = await Pacer(bot, backoff=0.01, per_chat_interval=0.05).send_document(
        alice.id,
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        filename="sitzung.ics",
        caption="<i>AK EU</i>",
    )
    assert result.outcome is Outcome.SENT
    (message,) = emulator.messages(alice.id)
    assert message.document is not None
    assert (message.document.name, message.html) == ("sitzung.ics", "<i>AK EU</i>")
    assert message.document.data == b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"


async def test_buttons_go_with_the_message(emulator: Emulator, bot: ExtBot[int]) -> None:
    alice = emulator.add_user("Alice")
    buttons = InlineKeyboardMarkup([[InlineKeyboardButton("Zusage", callback_data="rsvp:1:yes")]])
    await Pacer(bot).fan_out([Outgoing(alice.id, "Sitzung", buttons)])
    emulator.press_button(alice, emulator.messages(alice.id)[0], "Zusage")


@pytest.mark.telegram_limits
async def test_a_direct_answer_leaves_at_once_and_the_broadcast_makes_room(
    emulator: Emulator, bot: ExtBot[int]
) -> None:
    emulator.set_rate_limits(True)
    alice = emulator.add_user("Alice")
    pacer = Pacer(bot)
    await bot.send_message(alice.id, "Antwort")  # not paced
    result = await pacer.send_message(alice.id, "Erinnerung")
    assert result.outcome is Outcome.SENT
    # With Telegram's limits on, the emulator would answer a second message within a
    # second to the chat with 429: the broadcast waited its turn behind the answer.
    assert emulator.too_many_requests == []
    direct, paced = emulator.calls_of("sendMessage")
    assert (direct.params["text"], paced.params["text"]) == ("Antwort", "Erinnerung")


async def test_a_cancelled_send_propagates_and_frees_the_chat(emulator: Emulator, bot: ExtBot[int]) -> None:
    alice = emulator.add_user("Alice")
    pacer = Pacer(bot, per_chat_interval=0.0)
    emulator.inject_fault("sendMessage", delay=3600)  # answered when the emulator stops
    sending = asyncio.create_task(pacer.send_message(alice.id, "eins"))
    # The request is at the emulator (it took the fault), waiting for its answer.
    await emulator.wait_until(lambda: emulator.faults.rules == [], timeout=HANG_GUARD)
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    async with asyncio.timeout(HANG_GUARD):
        result = await pacer.send_message(alice.id, "zwei")
    assert result.outcome is Outcome.SENT
    # The chat was free at once, not when the first request ended: that one is still open.
    assert [c.params["text"] for c in emulator.calls_of("sendMessage")] == ["zwei"]


# ------------------------------------------------------------------ the limiter


async def test_the_limiter_retries_a_429_and_gives_up_after_max_retries(
    emulator: Emulator,
) -> None:
    alice = emulator.add_user("Alice")
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    async with make_bot(emulator, RetryAfterLimiter(max_retries=2, sleep=no_wait)) as limited:
        emulator.inject_fault("sendMessage", status=429, retry_after=3, times=2)
        await limited.send_message(alice.id, "eins")
        assert waits == [pytest.approx(3.1), pytest.approx(3.1)]
        emulator.inject_fault("sendMessage", status=429, retry_after=1, times=3)
        with pytest.raises(RetryAfter):
            await limited.send_message(alice.id, "zwei")
    assert texts(emulator, alice.id) == ["eins"]


def test_retry_after_is_read_without_a_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        error = RetryAfter(7)  # python-telegram-bot itself may warn here
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert retry_after_seconds(error) == 7.0
    assert caught == []


async def fan_out_beside_answers(
    bot: ExtBot[int], members: list[int], writers: list[int], every: float
) -> list[Delivered]:
    """A fan-out to `members` while people write: each of `writers` gets an
    answer at once, one every `every` seconds (the pace of their writing)."""

    async def answers() -> None:
        for person in writers:
            await asyncio.sleep(every)
            await bot.send_message(person, "Antwort")

    async with asyncio.timeout(HANG_GUARD):
        results, _ = await asyncio.gather(Pacer(bot).fan_out([(m, "Empfehlung") for m in members]), answers())
    return results


@pytest.mark.telegram_limits
async def test_messages_that_reach_telegram_late_still_keep_its_limits(emulator: Emulator, bot: ExtBot[int]) -> None:
    """A fan-out at Telegram's full 30 a second, with answers to people beside
    it; every tenth message reaches Telegram 0.3 s after it left (a slow
    network). Telegram counts each message when it arrives, and forgives no
    jitter here: still no 429, because a message counts in the bot's second
    until Telegram has answered it."""
    emulator.set_rate_limits(True, slack=0.0)
    members = [emulator.add_user(f"Mitglied {n}") for n in range(150)]
    writers = [emulator.add_user(f"Schreibt {n}") for n in range(20)]
    for _ in range(17):  # 170 messages in all
        emulator.inject_fault("sendMessage", delay=0.001, times=9)  # a network that answers at once
        emulator.inject_fault("sendMessage", delay=0.3)

    results = await fan_out_beside_answers(bot, [m.id for m in members], [w.id for w in writers], every=0.1)

    assert emulator.faults.rules == [], "every message went through the slow network"
    assert emulator.too_many_requests == []
    assert all(r.outcome is Outcome.SENT for r in results)
    assert all(texts(emulator, m.id) == ["Empfehlung"] for m in members)
    assert all(texts(emulator, w.id) == ["Antwort"] for w in writers)


@pytest.mark.telegram_limits
async def test_direct_answers_during_a_fan_out_keep_everything_within_telegrams_limits(
    emulator: Emulator, bot: ExtBot[int]
) -> None:
    """People write while a broadcast runs: their answers leave at once, in a
    steady stream of 20 a second, and the broadcast makes room for them, so that
    together they never break Telegram's 30 messages a second."""
    emulator.set_rate_limits(True)
    members = [emulator.add_user(f"Mitglied {n}") for n in range(60)]
    writers = [emulator.add_user(f"Schreibt {n}") for n in range(40)]

    results = await fan_out_beside_answers(bot, [m.id for m in members], [w.id for w in writers], every=0.05)

    assert emulator.too_many_requests == []
    assert all(r.outcome is Outcome.SENT for r in results)
    assert all(texts(emulator, m.id) == ["Empfehlung"] for m in members)
    assert all(texts(emulator, w.id) == ["Antwort"] for w in writers)
