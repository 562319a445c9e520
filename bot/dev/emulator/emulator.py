"""The ``Emulator``: one local Telegram for one bot, and its in-process control API.

It ties the parts together (``World`` state, ``UpdateQueue``, ``BotApiSpec``,
``FaultInjector``, ``RateLimiter``, ``WebhookDeliverer``, the tornado server)
and offers tests, benchmarks and the sandbox a Python API in the same event
loop: people who write, press buttons, send documents and block the bot; the
bot's messages as they are now; every call; faults; rate limits; and waiting
helpers (``wait_for_message``, ``wait_until``, ``wait_fetched``, ``wait_idle``).

People's actions are synchronous (they enqueue an update and return its
``update_id``); the bot fetches updates over HTTP like from Telegram.

The class is built in layers (see ``base.py``): this module adds the
lifecycle, starting and stopping the HTTP server, to ``EmulatorReading``
(``reading.py``: what a test reads and waits for), which adds to
``EmulatorPeople`` (``people.py``: people and their actions), which adds to
``EmulatorBase`` (``base.py``: the parts, faults, rate limits).
"""

from __future__ import annotations

import asyncio

import tornado.httpserver
import tornado.netutil

from .reading import EmulatorReading
from .server import make_app


class Emulator(EmulatorReading):
    # ------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 = a free port); returns ``base_url``."""
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
