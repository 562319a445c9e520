"""The sandbox's web chat page: pick a persona, chat with the bot in the browser.

``make_web_app(emulator, personas)`` returns a tornado ``Application`` that
serves one static page (``static/index.html``, ``app.js``, ``style.css``: no
build step, no external resources) and a small JSON API the page uses. It
talks to the in-process ``Emulator`` directly; the caller listens on
127.0.0.1 (``kimbot sandbox``, default port 8080), or uses ``serve_web``.

A persona is ``{"key", "label", "user"}`` (dict or object), ``user`` being an
emulator ``User``; only the personas' private chats with the bot are shown.

===========  ==================================  ================================
GET          /                                   the page
GET          /static/<file>                      page assets
GET          /api/personas                       [{key, label, user_id, name}], bot
GET          /api/messages?since=&timeout=       long poll: messages of the personas'
                                                 chats created/changed after seq
                                                 -> {seq, messages}
POST         /api/chats/<key>/send               {text} -> {update_id}
POST         /api/chats/<key>/press              {message_id, row, column} -> {update_id}
GET          /api/answers/<update_id>?timeout=   the bot's answer to a button press
                                                 -> {answered, text, show_alert}
GET          /api/chats/<key>/commands           the bot's command menu for the persona
GET          /api/files/<file_id>                download a document the bot sent
GET          /api/clock                          the sandbox time -> {now, offset,
                                                 timezone, jumps}
POST         /api/clock                          {jump: "hour"|"day"}: move the
                                                 clock forward, return when the
                                                 bot has sent what fell due
GET          /api/mails...                       the Postfach: the mails the bot
                                                 sent (`bot.dev.sandbox.postfach_web`)
===========  ==================================  ================================

With a ``TimeControl`` (``kimbot sandbox`` passes one), every answer of
``/api/messages`` carries ``clock`` too, and a long poll returns when the
clock moves, so every open tab shows the same time.

POST bodies must be ``application/json`` (a cross-site form cannot send that
without a preflight, so other web pages cannot drive the sandbox). Messages
are JSON with text and entities; the page renders them with DOM text nodes,
never as raw HTML.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tornado.escape
import tornado.httpserver
import tornado.web

from bot.dev.emulator import Emulator, User
from bot.dev.emulator.control_json import message_json
from bot.dev.sandbox import postfach_web
from bot.dev.sandbox.clock import TimeControl
from bot.dev.sandbox.postfach import Postfach

STATIC_DIR = Path(__file__).resolve().with_name("static")
access_log = logging.getLogger("bot.dev.sandbox.access")
MAX_POLL_SECONDS = 30.0
MAX_TEXT = 4096


@dataclass(frozen=True)
class Persona:
    key: str
    label: str
    user: User


def _persona(item: Any) -> Persona:
    if isinstance(item, Persona):
        return item
    if isinstance(item, dict):
        return Persona(str(item["key"]), str(item["label"]), item["user"])
    return Persona(str(item.key), str(item.label), item.user)


class _Handler(tornado.web.RequestHandler):
    def initialize(self, emulator: Emulator, personas: dict[str, Persona], clock: TimeControl | None) -> None:
        self.emulator = emulator
        self.personas = personas
        self.clock = clock

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def reply(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(body, ensure_ascii=False))

    def persona(self, key: str) -> Persona:
        persona = self.personas.get(key)
        if persona is None:
            raise tornado.web.HTTPError(404, reason="unknown persona")
        return persona

    def json_body(self) -> dict[str, Any]:
        content_type = self.request.headers.get("Content-Type", "")
        if not content_type.startswith("application/json"):
            raise tornado.web.HTTPError(415, reason="JSON expected")
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400, reason="invalid JSON") from None
        if not isinstance(data, dict):
            raise tornado.web.HTTPError(400, reason="JSON object expected")
        return data

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.reply({"error": self._reason}, status_code)


class PageHandler(_Handler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
        )
        self.finish((STATIC_DIR / "index.html").read_bytes())


class PersonasHandler(_Handler):
    def get(self) -> None:
        bot = self.emulator.bot
        self.reply(
            {
                "bot": {"name": bot.first_name, "username": bot.username},
                "personas": [
                    {"key": p.key, "label": p.label, "user_id": p.user.id, "name": p.user.full_name}
                    for p in self.personas.values()
                ],
            }
        )


class MessagesHandler(_Handler):
    async def get(self) -> None:
        try:
            since = int(self.get_argument("since", "0"))
            timeout = max(0.0, min(float(self.get_argument("timeout", "0")), MAX_POLL_SECONDS))
        except ValueError:
            raise tornado.web.HTTPError(400, reason="since and timeout must be numbers") from None
        chats = {p.user.id for p in self.personas.values()}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        offset = self._offset()
        while True:
            seq, changed = await self.emulator.changed_messages(
                since,
                timeout=max(0.0, deadline - loop.time()),
                stop=lambda: self._offset() != offset,
            )
            relevant = [m for m in changed if m.chat_id in chats]
            if relevant or loop.time() >= deadline or self.emulator.stopping or self._offset() != offset:
                break
            since = seq
        # the request's connection is tornado's HTTP1Connection, which has the stream
        if self.request.connection is None or self.request.connection.stream.closed():  # type: ignore[attr-defined]  # tornado types the connection without its stream
            return
        body: dict[str, Any] = {
            "seq": seq,
            "messages": [message_json(m, "/api/files/") for m in relevant],
        }
        if self.clock is not None:
            body["clock"] = self.clock.state()
        self.reply(body)

    def _offset(self) -> float | None:
        return None if self.clock is None else self.clock.clock.offset.total_seconds()


class SendHandler(_Handler):
    def post(self, key: str) -> None:
        persona = self.persona(key)
        text = self.json_body().get("text")
        if not isinstance(text, str) or not text.strip():
            raise tornado.web.HTTPError(400, reason="Bitte einen Text eingeben.")
        if len(text) > MAX_TEXT:
            raise tornado.web.HTTPError(400, reason="Der Text ist zu lang.")
        self.reply({"update_id": self.emulator.send_text(persona.user, text)})


class PressHandler(_Handler):
    def post(self, key: str) -> None:
        persona = self.persona(key)
        data = self.json_body()
        try:
            message_id, row, column = int(data["message_id"]), int(data["row"]), int(data["column"])
        except (KeyError, TypeError, ValueError):
            raise tornado.web.HTTPError(400, reason="message_id, row and column expected") from None
        message = self.emulator.world.find_message(persona.user.id, message_id)
        if message is None or message.deleted or not message.from_bot:
            raise tornado.web.HTTPError(404, reason="Diese Nachricht gibt es nicht mehr.")
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        try:
            button = rows[row][column]
        except IndexError:
            raise tornado.web.HTTPError(409, reason="Diese Schaltfläche gibt es nicht mehr.") from None
        if "callback_data" not in button:
            raise tornado.web.HTTPError(400, reason="Diese Schaltfläche öffnet nur einen Link.")
        update_id = self.emulator.press_data(persona.user, message_id, button["callback_data"])
        self.reply({"update_id": update_id})


class AnswerHandler(_Handler):
    async def get(self, update_id: str) -> None:
        try:
            query = self.emulator.callback_answer(int(update_id))
        except LookupError:
            raise tornado.web.HTTPError(404, reason="unknown button press") from None
        timeout = max(0.0, min(float(self.get_argument("timeout", "0")), MAX_POLL_SECONDS))
        try:
            await self.emulator.wait_until(lambda: query.answered, timeout=timeout)
        except TimeoutError:
            pass
        self.reply({"answered": query.answered, "text": query.answer_text, "show_alert": query.show_alert})


class CommandsHandler(_Handler):
    def get(self, key: str) -> None:
        persona = self.persona(key)
        self.reply(self.emulator.commands_for(persona.user))


class FileHandler(_Handler):
    def get(self, file_id: str) -> None:
        stored = self.emulator.world.files.get(file_id)
        if stored is None:
            raise tornado.web.HTTPError(404, reason="unknown file")
        name = stored.file_name.replace('"', "").replace("\\", "")
        ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
        quoted = tornado.escape.url_escape(name, plus=False)
        inline = self.get_argument("inline", "0") == "1" and stored.mime_type.startswith("image/")
        disposition = "inline" if inline else "attachment"
        self.set_header("Content-Type", stored.mime_type)
        self.set_header(
            "Content-Disposition",
            f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}",
        )
        self.finish(stored.data)


class ClockHandler(_Handler):
    def get(self) -> None:
        self.reply(self._control().state())

    async def post(self) -> None:
        control = self._control()
        name = self.json_body().get("jump")
        try:
            await control.jump(str(name))
        except KeyError:
            raise tornado.web.HTTPError(400, reason="jump must be hour or day") from None
        self.reply(control.state())

    def _control(self) -> TimeControl:
        if self.clock is None:
            raise tornado.web.HTTPError(404, reason="this sandbox has no clock control")
        return self.clock


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Long polls would flood INFO; only server errors are worth a warning."""
    level = logging.WARNING if handler.get_status() >= 500 else logging.DEBUG
    if access_log.isEnabledFor(level):
        access_log.log(level, "%d %s %s", handler.get_status(), handler.request.method, handler.request.path)


def make_web_app(
    emulator: Emulator,
    personas: list[Any],
    clock: TimeControl | None = None,
    postfach: Postfach | None = None,
) -> tornado.web.Application:
    """The sandbox page and its JSON API for these personas (and the clock and Postfach, if given)."""
    by_key = {p.key: p for p in map(_persona, personas)}
    options = {"emulator": emulator, "personas": by_key, "clock": clock}
    return tornado.web.Application(
        [
            (r"/", PageHandler, options),
            (r"/api/personas", PersonasHandler, options),
            (r"/api/messages", MessagesHandler, options),
            (r"/api/chats/([\w-]+)/send", SendHandler, options),
            (r"/api/chats/([\w-]+)/press", PressHandler, options),
            (r"/api/chats/([\w-]+)/commands", CommandsHandler, options),
            (r"/api/answers/(\d+)", AnswerHandler, options),
            (r"/api/files/([^/]+)", FileHandler, options),
            (r"/api/clock", ClockHandler, options),
            *postfach_web.routes(postfach),
            (r"/static/(.*)", tornado.web.StaticFileHandler, {"path": str(STATIC_DIR)}),
        ],
        log_function=_log_request,
    )


def serve_web(
    emulator: Emulator,
    personas: list[Any],
    host: str = "127.0.0.1",
    port: int = 8080,
    clock: TimeControl | None = None,
) -> tornado.httpserver.HTTPServer:
    """Listen on host:port (in the running event loop); stop it with ``.stop()``."""
    return make_web_app(emulator, personas, clock).listen(port, address=host)
