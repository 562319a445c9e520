"""Proxies for the tests that run several processes or take the database away.

- `RoundRobinProxy`: an HTTP reverse proxy in front of several `kimbot run`
  in webhook mode, as nginx stands in front of them in production: each
  request goes to the next process in turn; a process that does not answer
  (connection refused, killed) is skipped and the request goes to the next,
  as nginx's `proxy_next_upstream error`.
- `Nginx`: the README's nginx configuration, run for a test.
- `TcpOutage`: a TCP proxy in front of PostgreSQL that can go *down*: it cuts
  every open connection and refuses new ones (the port is closed), until it
  is *up* again. To the bot this is a database that went away.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from pathlib import Path

import httpx
import tornado.httpserver
import tornado.web


class RoundRobinProxy:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self._next = itertools.count()
        self._server: tornado.httpserver.HTTPServer | None = None
        self._client: httpx.AsyncClient | None = None
        self.port = 0
        self.forwarded: list[tuple[str, int]] = []
        """(backend, status) of every request passed on."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        proxy = self

        class Forward(tornado.web.RequestHandler):
            async def post(self, path: str) -> None:
                await proxy._forward(self, path)

        self._client = httpx.AsyncClient(timeout=30)
        app = tornado.web.Application([(r"/(.*)", Forward)])
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets([sock])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
        if self._client is not None:
            await self._client.aclose()

    async def _forward(self, handler: tornado.web.RequestHandler, path: str) -> None:
        assert self._client is not None
        headers = {k: v for k, v in handler.request.headers.get_all() if k.lower() not in ("host", "content-length")}
        for _ in range(len(self.backends)):
            backend = self.backends[next(self._next) % len(self.backends)]
            try:
                response = await self._client.post(f"{backend}/{path}", content=handler.request.body, headers=headers)
            except httpx.TransportError:
                continue  # that process is gone: the next one
            self.forwarded.append((backend, response.status_code))
            handler.set_status(response.status_code)
            handler.finish(response.content)
            return
        handler.set_status(502)
        handler.finish(b"no process answers")


class TcpOutage:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.is_up = False
        self.turned_away = 0
        """Connections cut at once while down with `listening=True`."""

    async def start(self) -> int:
        await self.up()
        return self.port

    async def up(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
            self.port = self._server.sockets[0].getsockname()[1]
        self.is_up = True

    async def down(self, *, listening: bool = False) -> None:
        """Refuse new connections and cut the open ones. `listening`: instead of
        closing the port, accept each connection and cut it at once (counted in
        `turned_away`), so a test can see the bot trying again."""
        self.is_up = False
        if self._server is not None and not listening:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def stop(self) -> None:
        await self.down()
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.is_up:
            self.turned_away += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        if not self.is_up:
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()
                self._writers.discard(sink)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


class Nginx:
    """nginx with the README's configuration in front of `backends` (ports), on
    plain HTTP on a free port instead of TLS; run from a directory of its own."""

    def __init__(self, config: str, backends: list[int], directory: Path, port: int) -> None:
        self.port = port
        self.directory = directory
        config = config.replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
        config = "\n".join(line for line in config.splitlines() if "ssl_certificate" not in line)
        for readme_port, port_ in zip((8441, 8442, 8443), backends, strict=True):
            config = config.replace(f"127.0.0.1:{readme_port}", f"127.0.0.1:{port_}")
        self.config = config
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "logs").mkdir(exist_ok=True)
        conf = self.directory / "nginx.conf"
        conf.write_text(self.config)
        directives = f"daemon off; pid {self.directory}/nginx.pid; error_log {self.directory}/error.log;"
        self.process = await asyncio.create_subprocess_exec(
            "nginx", "-p", str(self.directory), "-c", str(conf), "-g", directives,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(200):  # until it listens (a guard, not a limit)
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                if self.process.returncode is not None:
                    raise RuntimeError((self.directory / "error.log").read_text()) from None
                await asyncio.sleep(0.05)
        raise RuntimeError("nginx did not start")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
