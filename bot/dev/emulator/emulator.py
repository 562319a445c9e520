"""The ``Emulator``: one local Telegram for one bot, and its in-process control API.

It ties the parts together (``World`` state, ``UpdateQueue``, ``BotApiSpec``,
``FaultInjector``, ``RateLimiter``, ``WebhookDeliverer``, the tornado server)
and offers tests, benchmarks and the sandbox a Python API in the same event
loop: people who write, press buttons, send documents and block the bot; the
bot's messages as they are now; every call; faults; rate limits; and waiting
helpers (``wait_for_message``, ``wait_until``, ``wait_fetched``, ``wait_idle``).

People's actions are synchronous (they enqueue an update and return its
``update_id``); the bot fetches updates over HTTP like from Telegram.
"""

from __future__ import annotations

import asyncio
import mimetypes
import time
from collections.abc import Callable
from typing import Any

import tornado.httpserver
import tornado.netutil

from . import payloads
from .dispatch import CallRecord
from .entities import auto_entities
from .faults import Fault, FaultInjector, RateLimiter, RateLimits, TooManyRequests
from .methods import CallContext
from .spec import BotApiSpec
from .state import CallbackQuery, Chat, Document, SentMessage, User, World
from .updates import Delivery, UpdateQueue
from .webhook import WebhookDeliverer

ChatRef = Chat | User | int


class Emulator:
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

    # ------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 = a free port); returns ``base_url``."""
        from .server import make_app  # the server imports the control API, which needs us

        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self.stopping = False
        self._stop_event = asyncio.Event()
        sockets = tornado.netutil.bind_sockets(port, host)
        self._server = tornado.httpserver.HTTPServer(make_app(self), max_body_size=60 * 1024 * 1024)
        self._server.add_sockets(sockets)
        self.host = host
        self.port = sockets[0].getsockname()[1]
        return self.base_url

    async def stop(self) -> None:
        """Answer waiting long polls, stop webhook delivery, close every connection."""
        self.stopping = True
        self._stop_event.set()
        self.world.signal.fire()
        await self.webhook.clear()
        deadline = asyncio.get_running_loop().time() + 5.0
        if self._all_in_flight:
            while self._all_in_flight and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # let the last answers reach their sockets
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            await server.close_all_connections()

    async def __aenter__(self) -> Emulator:
        if self._server is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

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

    # ---------------------------------------------------------------- people

    def add_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        *,
        user_id: int | None = None,
        started: bool = True,
    ) -> User:
        """A person. ``started=False``: has never opened the chat (sending to them is 403)."""
        return self.world.add_user(
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            user_id=user_id,
            started=started,
        )

    def add_group_chat(
        self, title: str, members: list[User] | tuple[User, ...] = (), *, supergroup: bool = False
    ) -> Chat:
        """A group chat (negative id) with the bot and these members."""
        return self.world.add_group(title, list(members), supergroup=supergroup)

    @property
    def users(self) -> list[User]:
        return list(self.world.users.values())

    def chat(self, ref: ChatRef) -> Chat:
        chat_id = self._chat_id(ref)
        try:
            return self.world.chats[chat_id]
        except KeyError:
            raise LookupError(f"unknown chat {chat_id}") from None

    def _chat_id(self, ref: ChatRef) -> int:
        return ref if isinstance(ref, int) else ref.id

    # -------------------------------------------------------------- actions

    def _speaker_chat(self, user: User, chat: ChatRef | None) -> Chat:
        target = self.chat(chat) if chat is not None else self.world.chats[user.id]
        if target.is_group and user not in target.members:
            raise LookupError(f"{user.full_name} is not a member of {target.title}")
        if target.user is not None and target.user is not user:
            raise LookupError("a person can only write in their own private chat")
        if target.user is user:
            if user.blocked:
                self.unblock(user)  # like the "Restart" button of the Telegram app
            user.started = True
        return target

    def _user_message(self, user: User, chat: Chat, **fields: Any) -> int:
        msg = self.world.add_message(chat, from_bot=False, sender=user, **fields)
        return self.queue.push("message", payloads.message(self.world, self.bot, msg))

    def send_text(
        self, user: User, text: str, chat: ChatRef | None = None, *, reply_to: int | None = None
    ) -> int:
        """The person writes ``text`` (private chat unless ``chat``); returns the update_id.

        Like Telegram, ``/commands``, URLs, e-mail addresses and @mentions get
        entities (a leading ``/start payload`` works as a deep link).
        """
        if not text:
            raise ValueError("a message needs text")
        target = self._speaker_chat(user, chat)
        return self._user_message(
            user, target, text=text, entities=auto_entities(text, []), reply_to_message_id=reply_to
        )

    def send_document(
        self,
        user: User,
        file_name: str,
        data: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        chat: ChatRef | None = None,
    ) -> int:
        """The person sends a file; the bot can getFile and download it."""
        target = self._speaker_chat(user, chat)
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self.world.store_file(data, file_name, mime, "document")
        document = Document(
            file_name, data, mime, stored.file_id, stored.file_unique_id, kind="document"
        )
        return self._user_message(user, target, text=caption or "", document=document)

    def press_button(self, user: User, message: SentMessage | int, text: str) -> int:
        """The person presses the inline button labelled ``text`` under a bot message.

        ``message`` is a ``SentMessage`` or a message id in the person's private
        chat. Raises ``LookupError`` if the message (as it is now) has no such
        callback button.
        """
        if isinstance(message, SentMessage):
            chat_id, message_id = message.chat_id, message.message_id
        else:
            chat_id, message_id = user.id, message
        current = self.world.find_message(chat_id, message_id)
        if current is None or current.deleted or not current.from_bot:
            raise LookupError(f"no bot message {message_id} in chat {chat_id}")
        button = current.find_button(text)
        if button is None:
            labels = [label for row in current.buttons for label, _ in row]
            raise LookupError(f"no button {text!r} on message {message_id}; buttons: {labels}")
        if "callback_data" not in button:
            raise LookupError(f"button {text!r} opens {button.get('url')}, it sends no update")
        return self._press(user, current, button["callback_data"])

    def press_data(
        self, user: User, message_id: int, data: str, *, chat: ChatRef | None = None
    ) -> int:
        """A callback query with arbitrary (possibly forged) data on a bot message."""
        chat_id = self._chat_id(chat) if chat is not None else user.id
        current = self.world.find_message(chat_id, message_id)
        if current is None or not current.from_bot:
            raise LookupError(f"no bot message {message_id} in chat {chat_id}")
        return self._press(user, current, data)

    def _press(self, user: User, msg: SentMessage, data: str) -> int:
        chat = self.world.chats[msg.chat_id]
        if user not in chat.members:
            raise LookupError(f"{user.full_name} cannot see chat {chat.id}")
        query_id = self.world.new_query_id()
        payload = payloads.callback_query(self.world, self.bot, query_id, user, msg, data)
        update_id = self.queue.push("callback_query", payload)
        self.world.queries[query_id] = CallbackQuery(
            query_id, update_id, user, msg.chat_id, msg.message_id, data
        )
        return update_id

    def block(self, user: User) -> int | None:
        """The person blocks the bot: a my_chat_member update ("kicked"); then 403s."""
        if user.blocked:
            return None
        user.blocked = True
        chat = self.world.chats[user.id]
        return self.queue.push(
            "my_chat_member",
            payloads.my_chat_member(chat, user, self.bot, "member", "kicked", self.world.now()),
        )

    def unblock(self, user: User) -> int | None:
        """The person unblocks (restarts) the bot: my_chat_member "member"."""
        if not user.blocked:
            return None
        user.blocked = False
        user.started = True
        chat = self.world.chats[user.id]
        return self.queue.push(
            "my_chat_member",
            payloads.my_chat_member(chat, user, self.bot, "kicked", "member", self.world.now()),
        )

    # -------------------------------------------------------------- reading

    def messages(self, chat: ChatRef) -> list[SentMessage]:
        """The bot's messages in a chat, in order, as they are now (deleted ones flagged)."""
        return [m for m in self.world.messages.get(self._chat_id(chat), []) if m.from_bot]

    def history(self, chat: ChatRef) -> list[SentMessage]:
        """Every message in the chat, the people's and the bot's."""
        return list(self.world.messages.get(self._chat_id(chat), []))

    def last_message(self, chat: ChatRef) -> SentMessage | None:
        found = self.messages(chat)
        return found[-1] if found else None

    def calls_of(self, method: str) -> list[CallRecord]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    @property
    def callback_queries(self) -> list[CallbackQuery]:
        return list(self.world.queries.values())

    def callback_answer(self, update_id: int) -> CallbackQuery:
        """The button press of that update, with ``answered`` and ``answer_text``."""
        for query in self.world.queries.values():
            if query.update_id == update_id:
                return query
        raise LookupError(f"update {update_id} was no button press")

    def commands(
        self,
        scope: str = "default",
        language_code: str = "",
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[dict[str, Any]]:
        return list(self.world.commands.get((scope, chat_id, user_id, language_code), []))

    @property
    def delivered_update_ids(self) -> list[int]:
        return list(self.queue.delivered_ids)

    def commands_for(self, chat: ChatRef, language_code: str | None = None) -> list[dict[str, Any]]:
        """The command list a person sees in a chat, by Telegram's scope precedence."""
        target = self.chat(chat)
        language = language_code or ""
        if target.user is not None and language_code is None:
            language = target.user.language_code or ""
        kinds = ["chat"]
        kinds += ["all_private_chats"] if target.user is not None else ["all_group_chats"]
        kinds += ["default"]
        for kind in kinds:
            chat_id = target.id if kind == "chat" else None
            for lang in dict.fromkeys([language, ""]):
                found = self.world.commands.get((kind, chat_id, None, lang))
                if found:
                    return [dict(c) for c in found]
        return []

    @property
    def deliveries(self) -> list[Delivery]:
        """Every hand-over of an update to the bot: (update_id, via, at); repeats included."""
        return list(self.queue.deliveries)

    @property
    def delivered_count(self) -> int:
        """How many distinct updates the bot has fetched (getUpdates or webhook)."""
        return len(self.queue.delivered_ids)

    @property
    def pending_updates(self) -> int:
        """Updates enqueued but not yet handed to the bot."""
        return self.queue.undelivered

    @property
    def on_update_delivered(self) -> Callable[[list[int]], None] | None:
        return self.queue.on_delivered

    @on_update_delivered.setter
    def on_update_delivered(self, hook: Callable[[list[int]], None] | None) -> None:
        self.queue.on_delivered = hook

    @property
    def on_update_confirmed(self) -> Callable[[list[int]], None] | None:
        """Called with the ids of updates the bot confirmed (a later getUpdates
        offset, or a webhook answer 2xx): from then on Telegram forgets them."""
        return self.queue.on_confirmed

    @on_update_confirmed.setter
    def on_update_confirmed(self, hook: Callable[[list[int]], None] | None) -> None:
        self.queue.on_confirmed = hook

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
        return self.faults.add(
            Fault(method, times, status, delay, drop, after_apply, description, retry_after)
        )

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

    # -------------------------------------------------------------- waiting

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Re-check ``predicate`` on every change until it is truthy; returns its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            await self.world.signal.wait(min(remaining, 0.25))

    async def wait_for_message(
        self, chat: ChatRef, after: int = 0, timeout: float = 5.0
    ) -> SentMessage:
        """Wait until the bot has sent more than ``after`` messages to the chat;
        returns message number ``after`` (0-based)."""

        def ready() -> SentMessage | None:
            found = self.messages(chat)
            return found[after] if len(found) > after else None

        try:
            return await self.wait_until(ready, timeout)
        except TimeoutError:
            count = len(self.messages(chat))
            raise TimeoutError(
                f"the bot sent {count} message(s) to chat {self._chat_id(chat)}, "
                f"waited for more than {after} for {timeout} s"
            ) from None

    async def wait_fetched(self, timeout: float = 5.0) -> None:
        """Wait until the bot has fetched every update enqueued so far."""
        await self.wait_until(lambda: self.queue.undelivered == 0, timeout)

    async def wait_all_delivered(self, timeout: float = 5.0) -> None:
        """Same as ``wait_fetched``."""
        await self.wait_fetched(timeout)

    async def wait_idle(
        self, quiet: float = 0.2, timeout: float = 10.0, *, fetched: bool = True
    ) -> None:
        """Wait until every update was fetched (unless ``fetched=False``: no bot
        is running), no call is running and no call (other than getUpdates)
        came for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            idle_for = time.monotonic() - self._last_activity
            all_fetched = self.queue.undelivered == 0 or not fetched
            if all_fetched and self._in_flight == 0 and idle_for >= quiet:
                return
            if loop.time() >= deadline:
                raise TimeoutError(f"the bot did not become idle within {timeout} s")
            await self.world.signal.wait(max(0.01, min(quiet - idle_for, 0.25)))

    async def changed_messages(
        self,
        since: int,
        *,
        chat_id: int | None = None,
        timeout: float = 0.0,
        stop: Callable[[], bool] = lambda: False,
    ) -> tuple[int, list[SentMessage]]:
        """Messages created or changed after sequence number ``since`` (long poll).

        Returns early, maybe with none, when ``stop()`` is true after a change.
        """

        if since > self.world.seq:
            since = 0  # the emulator was reset since the caller's last look

        def collect() -> list[SentMessage]:
            chats = [chat_id] if chat_id is not None else list(self.world.messages)
            found = [m for c in chats for m in self.world.messages.get(c, []) if m.seq > since]
            return sorted(found, key=lambda m: m.seq)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = collect()
            remaining = deadline - loop.time()
            if found or remaining <= 0 or self.stopping or stop():
                return self.world.seq, found
            await self.world.signal.wait(remaining)
