"""The web server of the e-mail links (SPEC 15): `kimbot run` serves the pages
of `bot.mail.pages` on the host and port of `PUBLIC_URL`, or on `WEB_LISTEN`
and `WEB_PORT` (behind a reverse proxy), in the bot's own event loop (tornado,
as python-telegram-bot's webhook server).

One route: `.../m/<token>`, whatever path comes before it (`PUBLIC_URL` may
have a path, a proxy may strip it). GET shows, POST saves; the form posts to
the page's own address. No cookies, no other state: a POST is answered only
for a valid token in its address. Every page is small, readable on a phone,
loads nothing from elsewhere, and is neither cached, indexed nor referred
(`HEADERS`). Tokens are never logged.
"""

from __future__ import annotations

import errno
import html
import logging
import socket
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler

from bot.core import mail_links
from bot.mail.pages import LinkPages, Page

log = logging.getLogger(__name__)

ROUTE = rf".*/{mail_links.PATH}/([A-Za-z0-9_.\-]+)/?"
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}
MAX_BODY = 16 * 1024
"""The form sends nothing; a bigger body is refused."""

STYLE = """
*{box-sizing:border-box}
body{margin:0;background:#f3f5f8;color:#1a1a1a;font:18px/1.5 system-ui,-apple-system,"Segoe UI",Arial,sans-serif}
main{max-width:36rem;margin:0 auto;padding:1.5rem 1rem;background:#fff;min-height:70vh}
h1{font-size:1.5rem;line-height:1.25;margin:.25rem 0 1rem}
p{margin:0 0 .9rem}
blockquote{margin:0 0 1rem;padding:.5rem .9rem;border-left:4px solid #1d5fa8;background:#eef3fa}
form{margin:1.5rem 0}
button{width:100%;min-height:3.25rem;padding:.75rem 1rem;border:0;border-radius:8px;
background:#1d5fa8;color:#fff;font:inherit;font-weight:700;cursor:pointer}
button:focus{outline:3px solid #f0b400;outline-offset:2px}
ul{padding-left:1.2rem}li{margin:.5rem 0}
a{color:#1d5fa8}
footer{max-width:36rem;margin:0 auto;padding:1rem;color:#555;font-size:.85rem}
"""


def page_html(page: Page, footer: str) -> str:
    """The page as a whole HTML document; every text is catalog HTML or escaped."""
    paragraphs = []
    for line in page.body.split("\n"):
        if not line.strip():
            continue
        paragraphs.append(line if line.startswith("<blockquote>") else f"<p>{line}</p>")
    parts = [f"<h1>{html.escape(page.heading)}</h1>", *paragraphs]
    if page.button is not None:
        parts.append(f'<form method="post" action=""><button type="submit">{html.escape(page.button)}</button></form>')
    if page.choices:
        if page.choices_intro:
            parts.append(f"<p>{html.escape(page.choices_intro)}</p>")
        items = "".join(f'<li><a href="{html.escape(c.url)}">{html.escape(c.label)}</a></li>' for c in page.choices)
        parts.append(f"<ul>{items}</ul>")
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(page.lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{html.escape(page.heading)} – KIM-Bot</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n<footer>{html.escape(footer)}</footer>\n</body>\n</html>\n"
    )


class _Base(RequestHandler):
    pages: LinkPages

    def initialize(self, pages: LinkPages) -> None:
        self.pages = pages

    def set_default_headers(self) -> None:
        for name, value in HEADERS.items():
            self.set_header(name, value)

    def show(self, page: Page) -> None:
        texts = self.pages.runtime.texts
        self.set_status(page.status)
        if page.status == 503:
            self.set_header("Retry-After", "60")
        self.finish(page_html(page, texts.plain(page.lang, "mail_pages.footer")))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        runtime = self.pages.runtime
        lang = runtime.settings.default_language
        texts = runtime.texts
        name = "invalid" if status_code in (404, 405) else "error"
        page = Page(
            status_code, lang, texts.plain(lang, f"mail_pages.{name}_title"), texts.get(lang, f"mail_pages.{name}")
        )
        self.finish(page_html(page, texts.plain(lang, "mail_pages.footer")))


class _LinkPage(_Base):
    async def get(self, token: str) -> None:
        self.show(await self.pages.show(token))

    async def head(self, token: str) -> None:
        self.show(await self.pages.show(token))

    async def post(self, token: str) -> None:
        self.show(await self.pages.save(token))


class _Unknown(_Base):
    def prepare(self) -> None:
        raise HTTPError(404)


def _log(handler: RequestHandler) -> None:
    """One line per request, without the address (a token is a key)."""
    status = handler.get_status()
    level = logging.WARNING if status >= 500 else logging.DEBUG
    log.log(level, "%s %s %.0f ms", handler.request.method, status, 1000 * handler.request.request_time())


class WebPages:
    """The server: `start(host, port)` in the running loop, `stop()`."""

    def __init__(self, pages: LinkPages) -> None:
        self.pages = pages
        self._server: HTTPServer | None = None
        self.port: int | None = None

    def application(self) -> Application:
        return Application(
            [(ROUTE, _LinkPage, {"pages": self.pages})],
            default_handler_class=_Unknown,
            default_handler_args={"pages": self.pages},
            log_function=_log,
            compress_response=False,
        )

    async def start(self, host: str, port: int) -> bool:
        """Listen; False (and an error in the log) when the port is taken.

        Several `kimbot run` on one machine share the port (SO_REUSEPORT: the
        kernel spreads the connections). A host name of PUBLIC_URL that names no
        address of this machine (it points at a proxy or a NAT) is served on all
        interfaces, with a warning: WEB_LISTEN says where, when that is wrong."""
        try:
            try:
                sockets = bind_sockets(port, host, reuse_port=True)
            except OSError as error:
                if not isinstance(error, socket.gaierror) and error.errno != errno.EADDRNOTAVAIL:
                    raise
                log.warning("%s is no address of this machine; the pages of e-mail links listen on all", host)
                sockets = bind_sockets(port, None, reuse_port=True)
        except OSError as error:
            log.error("the pages of e-mail links cannot be served on %s:%s: %s", host, port, error)
            return False
        server = HTTPServer(self.application(), max_body_size=MAX_BODY, idle_connection_timeout=60, body_timeout=30)
        server.add_sockets(sockets)
        self._server, self.port = server, sockets[0].getsockname()[1]
        log.info("the pages of e-mail links are served on %s:%s", host, self.port)
        return True

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            await server.close_all_connections()
