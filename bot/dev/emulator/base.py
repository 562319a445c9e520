"""``EmulatorBase``: the parts of one emulator and what the Bot API side uses.

The ``Emulator`` class is built in layers, one module each, every layer a
subclass of the one below, so each module imports only what lies beneath it:

- ``base``     ``EmulatorBase``: the parts (``World`` state, ``UpdateQueue``,
  ``BotApiSpec``, ``FaultInjector``, ``RateLimiter``, ``WebhookDeliverer``),
  the address, ``reset``, the bookkeeping the dispatcher and the methods rely
  on, injected faults and rate limits, and finding a chat
- ``people``   ``EmulatorPeople``: people, groups and what people do
- ``reading``  ``EmulatorReading``: what the bot sent, the calls, the updates,
  and the waiting helpers
- ``emulator`` ``Emulator``: the lifecycle (the HTTP server)

The Bot API methods and the dispatcher work on an ``EmulatorBase``; the
control API works on an ``EmulatorReading``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import tornado.httpserver

from .calls import CallContext, CallRecord
from .faults import Fault, FaultInjector, RateLimiter, RateLimits, TooManyRequests
from .spec import BotApiSpec
from .state import Chat, User, World
from .updates import UpdateQueue
from .webhook import WebhookDeliverer

ChatRef = Chat | User | int


class EmulatorBase:
    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "kim_test_bot",
        *,
        bot_first_name: str = "KIM-Bot",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        spec: BotApiSpec | None = None,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like 123456:ABC-DEF")
        self.token = token
        self.clock = clock
        self.spec = spec or BotApiSpec.load()
        self.bot = User(int(bot_id), bot_first_name, username=bot_username, is_bot=True)
        self.world = World(wall_clock)
        self.queue = UpdateQueue(self.world.signal, clock)
        self.faults = FaultInjector()
        self.limiter = RateLimiter(clock)
        self.webhook = WebhookDeliverer(self.queue)
        self.calls: list[CallRecord] = []
        self.poller: object | None = None
        self.stopping = False
        self.host = "127.0.0.1"
        self.port: int | None = None
        self._server: tornado.httpserver.HTTPServer | None = None
        self._stop_event = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()
        self._call_seq = 0
        self._in_flight = 0  # calls other than getUpdates
        self._all_in_flight = 0
        self._last_activity = time.monotonic()

    # -------------------------------------------------------------- address

    @property
    def base_url(self) -> str:
        """``http://host:port``: what the bot gets as its Telegram API root."""
        if self.port is None:
            raise RuntimeError("the emulator is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """python-telegram-bot's ``base_url``: ``<base_url>/bot``."""
        return self.base_url + "/bot"

    @property
    def file_url(self) -> str:
        """python-telegram-bot's ``base_file_url``: ``<base_url>/file/bot``."""
        return self.base_url + "/file/bot"

    def reset(self) -> None:
        """Forget people, chats, messages, files, calls, updates, faults, limits."""
        self.world.reset()
        self.queue.reset()
        self.faults.clear()
        self.limiter.configure(RateLimits())
        self.limiter.too_many_requests.clear()
        self.calls.clear()
        if self.webhook.active:
            self.webhook.config = None  # no more deliveries from now on
            try:
                task = asyncio.get_running_loop().create_task(self.webhook.clear())
            except RuntimeError:  # no loop running: nothing can be delivering
                pass
            else:
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        self.world.signal.fire()

    # ------------------------------------------------- used by the dispatcher

    def next_call_seq(self) -> int:
        self._call_seq += 1
        return self._call_seq

    def call_started(self, method: str) -> None:
        self._all_in_flight += 1
        if method != "getUpdates":
            self._in_flight += 1
            self._last_activity = time.monotonic()

    def call_finished(self, method: str) -> None:
        self._all_in_flight -= 1
        if method != "getUpdates":
            self._in_flight -= 1
            self._last_activity = time.monotonic()

    def record_call(self, record: CallRecord) -> None:
        self.calls.append(record)
        self.world.signal.fire()

    def check_rate(self, ctx: CallContext) -> None:
        self.limiter.check(ctx.method, ctx.chat_id, ctx.is_group)

    async def sleep(self, seconds: float) -> None:
        """Sleep that ends early when the emulator stops."""
        try:
            await asyncio.wait_for(self._stop_event.wait(), seconds)
        except TimeoutError:
            pass

    # ------------------------------------------------------- faults, limits

    def inject_fault(
        self,
        method: str,
        *,
        status: int | None = None,
        delay: float | None = None,
        drop: bool = False,
        after_apply: bool = False,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> Fault:
        """Fail the next ``times`` calls of ``method`` (``"*"``: any method)."""
        if method != "*" and self.spec.method(method) is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        return self.faults.add(Fault(method, times, status, delay, drop, after_apply, description, retry_after))

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_rate_limits(
        self,
        enabled: bool = True,
        global_per_second: int = 30,
        per_chat_per_second: int = 1,
        group_per_minute: int = 20,
        *,
        count_edits: bool = False,
        slack: float = 0.05,
    ) -> None:
        self.limiter.configure(
            RateLimits(
                enabled,
                global_per_second,
                per_chat_per_second,
                group_per_minute,
                count_edits,
                slack,
            )
        )

    @property
    def too_many_requests(self) -> list[TooManyRequests]:
        return list(self.limiter.too_many_requests)

    # ---------------------------------------------------------------- chats

    def chat(self, ref: ChatRef) -> Chat:
        chat_id = self._chat_id(ref)
        try:
            return self.world.chats[chat_id]
        except KeyError:
            raise LookupError(f"unknown chat {chat_id}") from None

    def _chat_id(self, ref: ChatRef) -> int:
        return ref if isinstance(ref, int) else ref.id
