"""The emulator's HTTP server (tornado): Telegram's paths plus the control API.

Routes:

- ``GET|POST /bot<token>/<method>``: a Bot API call. Parameters come from the
  query string and from the body: ``application/json`` (typed),
  ``application/x-www-form-urlencoded`` or ``multipart/form-data`` (strings,
  decoded by the declared types; file parts become ``Upload``).
- ``GET /file/bot<token>/<file_path>``: download a file (``getFile`` path).
- ``/_emulator/...``: the JSON control API, see ``control.py``.

Access logs go to DEBUG with the token masked, so a token never reaches logs
at INFO level.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import tornado.web

from .base import EmulatorBase
from .control import control_routes
from .dispatch import dispatch
from .errors import UNAUTHORIZED, ApiError, bad_request
from .reading import EmulatorReading
from .spec import Upload

access_log = logging.getLogger("bot.dev.emulator.access")
_TOKEN_IN_PATH = re.compile(r"/(file/)?bot[^/]+/")


def _log_request(handler: tornado.web.RequestHandler) -> None:
    if access_log.isEnabledFor(logging.DEBUG):
        path = _TOKEN_IN_PATH.sub(lambda m: f"/{m.group(1) or ''}bot<token>/", handler.request.path)
        access_log.debug(
            "%d %s %s %.1fms",
            handler.get_status(),
            handler.request.method,
            path,
            1000.0 * handler.request.request_time(),
        )


class _EmulatorHandler(tornado.web.RequestHandler):
    emulator: EmulatorBase

    def initialize(self, emulator: EmulatorBase) -> None:
        self.emulator = emulator

    def check_xsrf_cookie(self) -> None:  # an API, not a form
        return None

    def send_json(self, status: int, body: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False))


class BotApiHandler(_EmulatorHandler):
    _disconnected: asyncio.Event

    def prepare(self) -> None:
        self._disconnected = asyncio.Event()

    def on_connection_close(self) -> None:
        self._disconnected.set()
        self.emulator.world.signal.fire()

    async def get(self, token: str, method: str) -> None:
        await self._call(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._call(token, method)

    async def _call(self, token: str, method: str) -> None:
        try:
            raw, uploads, from_form = self._parameters()
        except ApiError as error:
            self.send_json(error.status, error.envelope())
            return
        outcome = await dispatch(
            self.emulator,
            token,
            method,
            raw,
            uploads,
            from_form=from_form,
            disconnected=self._disconnected,
        )
        if outcome.drop or outcome.body is None:
            self.detach().close()  # the client sees the connection drop, no answer
            return
        self.send_json(outcome.status, outcome.body)

    def _parameters(self) -> tuple[dict[str, Any], dict[str, Upload], bool]:
        request = self.request
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        raw: dict[str, Any] = {}
        for name, values in request.query_arguments.items():
            raw[name] = _text(values[-1], name)
        if content_type == "application/json" and request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                raise bad_request("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise bad_request("the JSON body must be an object")
            if raw:
                raise bad_request("parameters in both the query string and a JSON body")
            return body, {}, False
        for name, values in request.body_arguments.items():
            raw[name] = _text(values[-1], name)
        uploads: dict[str, Upload] = {}
        for name, files in request.files.items():
            part = files[-1]
            uploads[name] = Upload(
                part=name,
                filename=part.filename or name,
                content_type=part.content_type or "application/octet-stream",
                data=part.body,
            )
        return raw, uploads, True


def _text(value: bytes, name: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request(f"parameter '{name}' is not valid UTF-8") from None


class FileHandler(_EmulatorHandler):
    def get(self, token: str, file_path: str) -> None:
        if token != self.emulator.token:
            self.send_json(401, UNAUTHORIZED.envelope())
            return
        stored = self.emulator.world.files_by_path.get(file_path)
        if stored is None:
            self.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        self.set_header("Content-Type", stored.mime_type)
        self.finish(stored.data)


class NotFoundHandler(_EmulatorHandler):
    def prepare(self) -> None:
        self.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})


def make_app(emulator: EmulatorReading) -> tornado.web.Application:
    options = {"emulator": emulator}
    routes: list[Any] = [
        (r"/bot([^/]+)/([A-Za-z0-9_]+)/?", BotApiHandler, options),
        (r"/file/bot([^/]+)/(.+)", FileHandler, options),
        *control_routes(emulator),
    ]
    return tornado.web.Application(
        routes,
        log_function=_log_request,
        default_handler_class=NotFoundHandler,
        default_handler_args=options,
    )
