"""When a message may leave under Telegram's limits (for `bot.telegram.delivery.Pacer`).

`Schedule` is the arithmetic of the limits, without waiting: an even spacing
of 1/`per_second` seconds between two paced messages, at most
`per_second` messages of any kind (paced or direct answers) in any second
(30 by default, Telegram's limit),
`per_chat_interval` seconds between two messages to one chat, and at most
`group_per_minute` messages to a group chat (negative id) in any
`group_window` seconds.

A message counts in the one-second window from the moment it leaves; once
Telegram has answered it (`answered`, `finished`), from the moment of that
answer instead: Telegram took it at some time between the two, so a message
that reached Telegram late (a slow network, an event loop that paused between
granting a slot and sending) is still counted where Telegram counts it. Any
second of Telegram's then holds at most `per_second` of the bot's messages,
however late each one arrived, so no message needs to be kept in reserve.

Direct answers count in the one-second window only; they do not move the
spacing. Counted as a debt of one spacing each (as once), a burst of answers
faster than Telegram's limit (people writing to the bot at once) ran up
a debt of many seconds that a broadcast right after it waited out, though
Telegram forgets every message after a second.

Direct answers cannot wait, so a broadcast leaves room for the ones still to
come: it expects people to write on as they did in the last second, the
same answers again and at their pace (the typical gap between two answers:
people who have only just begun to write, or write on after the bot stood
still for a moment, are expected at their real pace at once), and while
people write (an answer left within the last second) it keeps one message of
the second free for an answer nobody could foresee. A paced message leaves
only if every one-second window it will be part of stays within the limit,
counting the messages already sent and the answers expected. People who
write 20 times a second during a broadcast slow it to about 9 a second;
nobody's answer meets a 429. Once nobody has written for a second, the
broadcast goes at its full pace again.

`Gate` hands out the `Schedule`'s slots to waiting messages, first come,
first served: a free slot goes to the longest-waiting message whose chat may
receive one now. A slot is taken at the moment it is granted (`clock()`),
never planned ahead, so an event loop that wakes late cannot cause a burst.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import statistics
from collections import deque
from collections.abc import Awaitable, Callable

GROUP_WINDOW = 60.0
"""Length in seconds of the window in which `group_per_minute` applies."""
GLOBAL_WINDOW = 1.0
"""Length in seconds of the window in which `per_second` applies to all messages."""


class Schedule:
    """The arithmetic of the limits, without waiting: when may a chat get a message?

    Times are seconds of any monotonic clock. `record` notes a message that
    left at `at` (`direct`: an answer sent outside the schedule);
    `global_ready_at` and `chat_ready_at` tell the earliest time the next
    paced one may leave (overall, and to that chat).

    A paced message granted a little late (a busy event loop wakes the gate
    late) keeps the next slot on the even grid, up to half a spacing: many
    small delays do not add up to a slower broadcast, and two paced messages
    are never closer than half a spacing. The one-second window bounds the
    count whatever the spacing does.
    """

    def __init__(
        self,
        per_second: float = 30,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        group_window: float = GROUP_WINDOW,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        if per_chat_interval < 0:
            raise ValueError("per_chat_interval must not be negative")
        if group_per_minute < 1:
            raise ValueError("group_per_minute must be at least 1")
        self.spacing = 1.0 / per_second
        # As many as the spacing lets through in a second. The window holds a
        # broadcast back when direct answers share its second, and when messages
        # reached Telegram later than they left (counted from their answer).
        self.per_window = max(1, math.floor(per_second * GLOBAL_WINDOW))
        self.per_chat_interval = per_chat_interval
        self.group_per_minute = group_per_minute
        self.group_window = group_window
        self._global_next = -math.inf
        self._held_until = -math.inf
        # The newest messages, in time order, each from its answer once it came (`answered`).
        self._recent: deque[float] = deque(maxlen=self.per_window)
        self._direct: deque[float] = deque(maxlen=self.per_window)  # the newest direct answers, in time order
        self._chat_next: dict[int, float] = {}
        self._groups: dict[int, deque[float]] = {}
        self._tidy_at = 4096

    def global_ready_at(self, now: float) -> float:
        """The earliest time (`now` or later) the next paced message may leave overall.

        When the answers expected make a window too full, the time is a
        guess half a spacing ahead (at the latest, when the last answer is a
        second old and nobody is expected to write): the caller asks again then.
        """
        ready = max(self._global_next, self._held_until)
        answering = bool(self._direct) and self._direct[-1] > max(ready, now) - GLOBAL_WINDOW
        room = self.per_window - 1 if answering and self.per_window > 1 else self.per_window
        if len(self._recent) >= room:  # a full second: wait until the oldest that fills it leaves it
            ready = max(ready, self._recent[-room] + GLOBAL_WINDOW)
        at = max(ready, now)
        if answering and self.expected_peak(at) >= room:  # ask again soon, or once nobody writes
            return min(at + self.spacing / 2, self._direct[-1] + GLOBAL_WINDOW)
        return ready

    def hold(self, until: float) -> None:
        """Telegram answered 429: no paced message leaves before `until`."""
        self._held_until = max(self._held_until, until)

    def expected_peak(self, at: float) -> int:
        """The most messages any one-second window ending within a second of `at`
        will hold: those sent before `at`, and the answers expected after it.

        People are expected to go on writing as they did in the last second,
        in two ways at once: the answers of its last `u` seconds come again in
        the next `u` (a clump of answers comes again as a clump), and they
        come at its pace, one per typical gap between two of them (the median
        gap; for a single answer, the time since it), when that is within
        Telegram's limit. The pace is read from the gaps, not from how many answers the
        second holds: when people have only just begun to write, or the bot
        stood still for a moment (its event loop held up), the few answers of
        the second do not stand for the many still to come. Two answers 50 ms
        apart already say 20 a second.
        """
        horizon = at - GLOBAL_WINDOW
        sent = [t for t in self._recent if horizon < t <= at]  # oldest first
        answers = [t for t in self._direct if horizon < t <= at]
        if not answers:
            return len(sent)
        if len(answers) > 1:
            gap = statistics.median_low(later - earlier for earlier, later in itertools.pairwise(answers))
        else:
            gap = at - answers[0]
        # Faster than Telegram's limit is no pace to make room for (a clump of
        # answers to updates that came in together): it is expected as a clump.
        pace = 1 / gap if gap * self.per_window >= GLOBAL_WINDOW else 0.0

        def expected(u: float) -> int:
            """The answers expected in the next `u` seconds."""
            again = len(answers) - bisect.bisect_right(answers, at - u)
            return max(again, math.floor(pace * u))

        # A window ending `u` after `at` holds the messages sent after
        # `horizon` + `u`: the most just before each of them leaves it.
        peak = max(len(sent), expected(GLOBAL_WINDOW))
        for index, t in enumerate(sent):
            peak = max(peak, len(sent) - index + expected(t - horizon))
        return peak

    def chat_ready_at(self, chat_id: int, now: float) -> float:
        """When `chat_id` may get its next message, as far as its own limits go."""
        ready = self._chat_next.get(chat_id, -math.inf)
        stamps = self._groups.get(chat_id)
        if stamps:
            self._expire(stamps, now)
            if len(stamps) >= self.group_per_minute:
                ready = max(ready, stamps[-self.group_per_minute] + self.group_window)
        return ready

    def ready_at(self, chat_id: int, now: float) -> float:
        return max(self._global_next, self.chat_ready_at(chat_id, now))

    def record(self, chat_id: int, at: float, *, direct: bool = False) -> None:
        """A message to `chat_id` left at `at`: a paced one, or a `direct` answer."""
        if not direct:
            on_grid = at - self._global_next <= self.spacing / 2
            self._global_next = (self._global_next if on_grid else at) + self.spacing
        else:
            _note(self._direct, at, self.per_window)
        _note(self._recent, at, self.per_window)
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, -math.inf), at + self.per_chat_interval)
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(at)
        if len(self._chat_next) > self._tidy_at:
            self._tidy(at)

    def answered(self, left: float, at: float) -> None:
        """The message that left at `left` (paced or direct) was answered at `at`.

        In the one-second window it now counts from `at`, the latest moment
        at which Telegram can have taken it.
        """
        _move(self._recent, left, at, self.per_window)

    def finished(self, chat_id: int, started: float, at: float) -> None:
        """The paced call that left at `started` returned at `at`.

        A call that took longer than the chat interval may have been sent again
        inside the bot (429 retried by the rate limiter): the chat then waits a
        full interval from now.
        """
        self.answered(started, at)
        if at - started >= self.per_chat_interval:
            self._chat_next[chat_id] = max(self._chat_next.get(chat_id, -math.inf), at + self.per_chat_interval)

    def _expire(self, stamps: deque[float], now: float) -> None:
        horizon = now - self.group_window
        while stamps and stamps[0] <= horizon:
            stamps.popleft()

    def _tidy(self, now: float) -> None:
        self._chat_next = {chat: t for chat, t in self._chat_next.items() if t > now}
        for chat_id in list(self._groups):
            stamps = self._groups[chat_id]
            self._expire(stamps, now)
            if not stamps:
                del self._groups[chat_id]
        self._tidy_at = max(4096, 2 * len(self._chat_next))


def _note(stamps: deque[float], at: float, most: int) -> None:
    """Add `at` to the newest `most` times in `stamps`, keeping them in order."""
    if not stamps or at >= stamps[-1]:
        stamps.append(at)  # full: the oldest drops out
    elif len(stamps) < most or at > stamps[0]:
        if len(stamps) == most:
            stamps.popleft()
        bisect.insort(stamps, at)  # told a little late (by another task)


def _move(stamps: deque[float], old: float, new: float, most: int) -> None:
    """Replace one `old` in `stamps` by `new` (`new` only, if `old` has dropped out)."""
    index = bisect.bisect_left(stamps, old)
    if index < len(stamps) and stamps[index] == old:
        del stamps[index]
    _note(stamps, new, most)


class Ticket:
    """One message waiting at the `Gate`, or holding its chat while it is sent."""

    __slots__ = ("seq", "chat_id", "future")

    def __init__(self, seq: int, chat_id: int) -> None:
        self.seq = seq
        self.chat_id = chat_id
        self.future: asyncio.Future[float] | None = None


class Gate:
    """Hands out slots of a `Schedule` to waiting messages, first come first served.

    One task (started when someone waits, ending when nobody does) grants the
    slots. A message owns its chat from its first slot until it is done, so
    messages to one chat leave one after the other, retries included.
    """

    def __init__(
        self,
        schedule: Schedule,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[object]],
    ) -> None:
        self.schedule = schedule
        self._clock = clock
        self._sleep = sleep
        self._seq = itertools.count()
        self._waiting: list[Ticket] = []  # by seq
        self._owners: dict[int, Ticket] = {}
        self._pump: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    def ticket(self, chat_id: int) -> Ticket:
        return Ticket(next(self._seq), chat_id)

    async def turn(self, ticket: Ticket) -> float:
        """Wait for a slot for this message; returns the time it was granted."""
        ticket.future = asyncio.get_running_loop().create_future()
        bisect.insort(self._waiting, ticket, key=lambda t: t.seq)
        self._kick()
        try:
            return await ticket.future
        finally:
            self._discard(ticket)  # still waiting if cancelled (granted tickets are gone)

    def finished(self, ticket: Ticket, started: float) -> None:
        self.schedule.finished(ticket.chat_id, started, self._clock())

    def leave(self, ticket: Ticket) -> None:
        """The message is done: its chat is free for the next one."""
        self._discard(ticket)
        if self._owners.get(ticket.chat_id) is ticket:
            del self._owners[ticket.chat_id]
            self._kick()

    def _discard(self, ticket: Ticket) -> None:
        index = bisect.bisect_left(self._waiting, ticket.seq, key=lambda t: t.seq)
        if index < len(self._waiting) and self._waiting[index] is ticket:
            del self._waiting[index]

    def _kick(self) -> None:
        if self._pump is None or self._pump.done():
            self._wake = asyncio.Event()
            self._pump = asyncio.get_running_loop().create_task(self._run(self._wake))
        else:
            assert self._wake is not None
            self._wake.set()

    async def _run(self, wake: asyncio.Event) -> None:
        try:
            while self._waiting:
                wake.clear()
                now = self._clock()
                global_at = self.schedule.global_ready_at(now)
                if global_at > now:
                    await self._sleep(global_at - now)  # no one may go before
                    continue
                chat_at = self._grant(now)
                if chat_at is None:
                    continue  # granted one: the next slot is `spacing` later
                await self._nap(wake, chat_at - now)
        except BaseException as error:
            for ticket in self._waiting:
                if ticket.future is not None and not ticket.future.done():
                    if isinstance(error, asyncio.CancelledError):
                        ticket.future.cancel()
                    else:
                        ticket.future.set_exception(RuntimeError("the pacer stopped"))
            raise

    def _grant(self, now: float) -> float | None:
        """Grant the slot to the longest-waiting message whose chat is ready.

        Returns None when it did, else when the next chat becomes ready (inf:
        only when some chat is freed).
        """
        earliest = math.inf
        passed: set[int] = set()
        for index, ticket in enumerate(self._waiting):
            chat_id = ticket.chat_id
            if chat_id in passed:
                continue
            passed.add(chat_id)
            owner = self._owners.get(chat_id)
            if owner is not None and owner is not ticket:
                continue
            ready = self.schedule.chat_ready_at(chat_id, now)
            if ready > now:
                earliest = min(earliest, ready)
                continue
            del self._waiting[index]
            assert ticket.future is not None
            if ticket.future.done():  # its caller was cancelled meanwhile
                return None
            self._owners[chat_id] = ticket
            self.schedule.record(chat_id, now)
            ticket.future.set_result(now)
            return None
        return earliest

    async def _nap(self, wake: asyncio.Event, seconds: float) -> None:
        """Sleep `seconds` (forever if inf) or until a message arrives or a chat is freed."""
        if math.isinf(seconds):
            await wake.wait()
            return
        waker = asyncio.ensure_future(wake.wait())
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait({waker, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waker.cancel()
            sleeper.cancel()
