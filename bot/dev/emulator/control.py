"""The HTTP control API under ``/_emulator/`` (JSON, no token).

For the sandbox page and for tests that run the bot as a separate process.
Bodies and answers are JSON; errors are ``{"error": "..."}`` with 400/404.

=======  ===================================  ==========================================
GET      /_emulator/                          bot, token, base_url, spec version, seq
GET      /_emulator/users                     list users
POST     /_emulator/users                     {first_name, last_name?, username?,
                                              language_code?, id?, started?} -> user
GET      /_emulator/chats                     list chats
POST     /_emulator/groups                    {title, member_ids, supergroup?} -> chat
POST     /_emulator/send                      {user_id, text, chat_id?} -> {update_id}
POST     /_emulator/press                     {user_id, message_id, chat_id?, and text
                                              (a button's label) or callback_data (any
                                              data, forged)} -> {update_id}
POST     /_emulator/document                  {user_id, file_name, content_base64,
                                              mime_type?, caption?, chat_id?} -> {update_id}
POST     /_emulator/block, /_emulator/unblock {user_id} -> {update_id}
GET      /_emulator/chats/<id>/messages       bot messages of a chat (?all=1: also the
                                              people's messages)
GET      /_emulator/messages                  ?since=<seq>&timeout=<s>&chat_id=<id>: long
                                              poll; messages created, edited or deleted
                                              after seq -> {seq, messages}
GET      /_emulator/calls                     ?method=&since=<seq> -> recorded API calls
GET      /_emulator/faults                    pending fault rules
POST     /_emulator/faults                    {method, status?, delay?, drop?, after_apply?,
                                              times?, retry_after?, description?}
DELETE   /_emulator/faults                    remove all fault rules
GET/POST /_emulator/rate-limits               {enabled, global_per_second,
                                              per_chat_per_second, group_per_minute,
                                              count_edits, slack}
GET      /_emulator/too-many-requests         every 429 answered
GET      /_emulator/updates                   {last_update_id, pending, undelivered,
                                              delivered_update_ids}
GET      /_emulator/callback-queries          button presses and the bot's answers
GET      /_emulator/files/<file_id>           download a file (attachment)
POST     /_emulator/reset                     forget users, chats, messages, calls,
                                              updates, faults, webhook, limits
=======  ===================================  ==========================================

Users, chats, messages, calls and button presses are answered in the JSON
shapes of ``control_json.py`` (a message's shape is described there).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict
from typing import Any

import tornado.escape
import tornado.web

from .control_json import call_json, callback_query_json, chat_json, message_json, user_json
from .faults import RateLimits
from .reading import EmulatorReading
from .state import Chat, User

MAX_POLL_SECONDS = 60.0


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------- handlers


class ControlHandler(tornado.web.RequestHandler):
    emulator: EmulatorReading

    def initialize(self, emulator: EmulatorReading) -> None:
        self.emulator = emulator

    def check_xsrf_cookie(self) -> None:
        return None

    def body(self) -> dict[str, Any]:
        if not self.request.body:
            return {}
        try:
            data = json.loads(self.request.body)
        except ValueError:
            raise ControlError("the body must be JSON") from None
        if not isinstance(data, dict):
            raise ControlError("the body must be a JSON object")
        return data

    def reply(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body, ensure_ascii=False))

    def user(self, data: dict[str, Any], key: str = "user_id") -> User:
        try:
            return self.emulator.world.user(int(data[key]))
        except (KeyError, ValueError, TypeError):
            raise ControlError(f"unknown or missing {key}", 404) from None

    def chat(self, data: dict[str, Any]) -> Chat | None:
        if data.get("chat_id") is None:
            return None
        chat = self.emulator.world.chats.get(int(data["chat_id"]))
        if chat is None:
            raise ControlError("unknown chat_id", 404)
        return chat

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.reply({"error": self._reason}, status_code)

    async def _guard(self, action: Any) -> None:
        try:
            result = action()
            if hasattr(result, "__await__"):
                result = await result
        except ControlError as error:
            self.reply({"error": str(error)}, error.status)
            return
        except (ValueError, LookupError) as error:
            self.reply({"error": str(error)}, 400)
            return
        if not self._finished:
            self.reply(result)


class InfoHandler(ControlHandler):
    async def get(self) -> None:
        emu = self.emulator
        await self._guard(
            lambda: {
                "bot": user_json(emu.bot),
                "token": emu.token,
                "base_url": emu.base_url,
                "spec_version": emu.spec.version,
                "seq": emu.world.seq,
            }
        )


class UsersHandler(ControlHandler):
    async def get(self) -> None:
        await self._guard(lambda: [user_json(u) for u in self.emulator.world.users.values()])

    async def post(self) -> None:
        def create() -> Any:
            data = self.body()
            if not data.get("first_name"):
                raise ControlError("first_name is required")
            user = self.emulator.add_user(
                str(data["first_name"]),
                last_name=data.get("last_name"),
                username=data.get("username"),
                language_code=data.get("language_code"),
                user_id=data.get("id"),
                started=bool(data.get("started", True)),
            )
            return user_json(user)

        await self._guard(create)


class ChatsHandler(ControlHandler):
    async def get(self) -> None:
        await self._guard(lambda: [chat_json(c) for c in self.emulator.world.chats.values()])


class GroupsHandler(ControlHandler):
    async def post(self) -> None:
        def create() -> Any:
            data = self.body()
            members = [self.user({"id": i}, "id") for i in data.get("member_ids", [])]
            chat = self.emulator.add_group_chat(
                str(data.get("title") or "Gruppe"), members, supergroup=bool(data.get("supergroup"))
            )
            return chat_json(chat)

        await self._guard(create)


class SendHandler(ControlHandler):
    async def post(self) -> None:
        def send() -> Any:
            data = self.body()
            text = data.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ControlError("text is required")
            update_id = self.emulator.send_text(self.user(data), text, chat=self.chat(data))
            return {"update_id": update_id}

        await self._guard(send)


class PressHandler(ControlHandler):
    async def post(self) -> None:
        def press() -> Any:
            data = self.body()
            user = self.user(data)
            chat = self.chat(data)
            message_id = int(data["message_id"])
            if data.get("text") is not None:
                target = self.emulator.world.find_message(chat.id if chat else user.id, message_id)
                if target is None:
                    raise ControlError("unknown message", 404)
                update_id = self.emulator.press_button(user, target, str(data["text"]))
            elif data.get("callback_data") is not None:
                update_id = self.emulator.press_data(user, message_id, str(data["callback_data"]), chat=chat)
            else:
                raise ControlError("text or callback_data is required")
            return {"update_id": update_id}

        await self._guard(press)


class DocumentHandler(ControlHandler):
    async def post(self) -> None:
        def send() -> Any:
            data = self.body()
            try:
                content = base64.b64decode(data.get("content_base64", ""), validate=True)
            except (binascii.Error, ValueError):
                raise ControlError("content_base64 is not base64") from None
            update_id = self.emulator.send_document(
                self.user(data),
                str(data.get("file_name") or "document"),
                content,
                mime_type=data.get("mime_type"),
                caption=data.get("caption"),
                chat=self.chat(data),
            )
            return {"update_id": update_id}

        await self._guard(send)


class BlockHandler(ControlHandler):
    # tornado hands a route's options to initialize(); this route has one more
    def initialize(self, emulator: EmulatorReading, blocked: bool) -> None:  # type: ignore[override]  # tornado passes the route's keyword arguments to initialize
        super().initialize(emulator)
        self.blocked = blocked

    async def post(self) -> None:
        def act() -> Any:
            user = self.user(self.body())
            if self.blocked:
                return {"update_id": self.emulator.block(user)}
            return {"update_id": self.emulator.unblock(user)}

        await self._guard(act)


class ChatMessagesHandler(ControlHandler):
    async def get(self, chat_id: str) -> None:
        def read() -> Any:
            everything = self.get_argument("all", "0") not in ("0", "", "false")
            chat = int(chat_id)
            if chat not in self.emulator.world.chats:
                raise ControlError("unknown chat", 404)
            found = self.emulator.history(chat) if everything else self.emulator.messages(chat)
            return [message_json(m) for m in found]

        await self._guard(read)


class MessagesPollHandler(ControlHandler):
    async def get(self) -> None:
        try:
            since = int(self.get_argument("since", "0"))
            timeout = min(float(self.get_argument("timeout", "0")), MAX_POLL_SECONDS)
            chat_arg = self.get_argument("chat_id", None)
            chat_id = int(chat_arg) if chat_arg not in (None, "") else None
        except ValueError:
            self.reply({"error": "since, timeout and chat_id must be numbers"}, 400)
            return
        seq, changed = await self.emulator.changed_messages(since, chat_id=chat_id, timeout=timeout)
        # the request's connection is tornado's HTTP1Connection, which has the stream
        if self.request.connection.stream.closed():  # type: ignore[union-attr]  # tornado types the connection without its stream
            return
        self.reply({"seq": seq, "messages": [message_json(m) for m in changed]})


class CallsHandler(ControlHandler):
    async def get(self) -> None:
        def read() -> Any:
            method = self.get_argument("method", None)
            since = int(self.get_argument("since", "0"))
            return [
                call_json(c)
                for c in self.emulator.calls
                if c.seq > since and (method is None or c.method.lower() == method.lower())
            ]

        await self._guard(read)


class FaultsHandler(ControlHandler):
    async def get(self) -> None:
        await self._guard(lambda: [asdict(rule) for rule in self.emulator.faults.rules])

    async def post(self) -> None:
        def add() -> Any:
            data = self.body()
            if not data.get("method"):
                raise ControlError("method is required")
            fault = self.emulator.inject_fault(
                str(data["method"]),
                status=data.get("status"),
                delay=data.get("delay"),
                drop=bool(data.get("drop", False)),
                after_apply=bool(data.get("after_apply", False)),
                times=int(data.get("times", 1)),
                retry_after=data.get("retry_after"),
                description=data.get("description"),
            )
            return asdict(fault)

        await self._guard(add)

    async def delete(self) -> None:
        def clear() -> Any:
            self.emulator.faults.clear()
            return {"ok": True}

        await self._guard(clear)


class RateLimitsHandler(ControlHandler):
    async def get(self) -> None:
        await self._guard(lambda: asdict(self.emulator.limiter.limits))

    async def post(self) -> None:
        def configure() -> Any:
            data = self.body()
            known = set(RateLimits.__dataclass_fields__)
            unknown = set(data) - known
            if unknown:
                raise ControlError(f"unknown settings: {', '.join(sorted(unknown))}")
            self.emulator.set_rate_limits(**data)
            return asdict(self.emulator.limiter.limits)

        await self._guard(configure)


class TooManyRequestsHandler(ControlHandler):
    async def get(self) -> None:
        await self._guard(lambda: [asdict(t) for t in self.emulator.too_many_requests])


class UpdatesHandler(ControlHandler):
    async def get(self) -> None:
        emu = self.emulator
        await self._guard(
            lambda: {
                "last_update_id": emu.queue.last_id,
                "pending": emu.queue.pending,
                "undelivered": emu.pending_updates,
                "delivered_update_ids": emu.delivered_update_ids,
            }
        )


class CallbackQueriesHandler(ControlHandler):
    async def get(self) -> None:
        await self._guard(lambda: [callback_query_json(q) for q in self.emulator.world.queries.values()])


class FileDownloadHandler(ControlHandler):
    def get(self, file_id: str) -> None:
        stored = self.emulator.world.files.get(file_id)
        if stored is None:
            self.reply({"error": "unknown file"}, 404)
            return
        self.set_header("Content-Type", stored.mime_type)
        safe_name = stored.file_name.replace('"', "").replace("\\", "")
        ascii_name = safe_name.encode("ascii", "replace").decode().replace("?", "_")
        quoted = tornado.escape.url_escape(safe_name, plus=False)
        self.set_header(
            "Content-Disposition",
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}",
        )
        self.finish(stored.data)


class ResetHandler(ControlHandler):
    async def post(self) -> None:
        def reset() -> Any:
            self.emulator.reset()
            return {"ok": True}

        await self._guard(reset)


def control_routes(emulator: EmulatorReading, prefix: str = "/_emulator") -> list[Any]:
    options = {"emulator": emulator}
    return [
        (prefix + r"/?", InfoHandler, options),
        (prefix + r"/users", UsersHandler, options),
        (prefix + r"/chats", ChatsHandler, options),
        (prefix + r"/groups", GroupsHandler, options),
        (prefix + r"/send", SendHandler, options),
        (prefix + r"/press", PressHandler, options),
        (prefix + r"/document", DocumentHandler, options),
        (prefix + r"/block", BlockHandler, {**options, "blocked": True}),
        (prefix + r"/unblock", BlockHandler, {**options, "blocked": False}),
        (prefix + r"/chats/(-?\d+)/messages", ChatMessagesHandler, options),
        (prefix + r"/messages", MessagesPollHandler, options),
        (prefix + r"/calls", CallsHandler, options),
        (prefix + r"/faults", FaultsHandler, options),
        (prefix + r"/rate-limits", RateLimitsHandler, options),
        (prefix + r"/too-many-requests", TooManyRequestsHandler, options),
        (prefix + r"/updates", UpdatesHandler, options),
        (prefix + r"/callback-queries", CallbackQueriesHandler, options),
        (prefix + r"/files/([^/]+)", FileDownloadHandler, options),
        (prefix + r"/reset", ResetHandler, options),
    ]
