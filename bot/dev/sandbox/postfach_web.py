"""The Postfach's JSON API for the sandbox page (`bot.dev.sandbox.web` adds these routes).

===========  ====================================  ===============================
GET          /api/mails?since=&timeout=            long poll: the mails newer than
                                                   number `since`, newest first
                                                   -> {available, last, mails}
GET          /api/mails/<n>/html                   the mail's HTML part, for a
                                                   sandboxed iframe
GET          /api/mails/<n>/files/<i>              its i-th attachment (download)
GET          /api/mails/<n>/eml                    the whole mail as it arrived
===========  ====================================  ===============================

A mail is `{number, received, from, to, subject, date, text, html,
attachments: [{name, mime_type, size, url}], eml}`: `received` in seconds
since 1970 by the sandbox's clock; `text` the plain-text part; `html` the
address of the HTML part or null. The page shows the text with DOM text
nodes; the HTML is served with a `sandbox` Content-Security-Policy (no
scripts, no same origin), and its links open in a new tab.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import tornado.escape
import tornado.web

from bot.dev.sandbox.postfach import Postfach, Received

MAX_POLL_SECONDS = 30.0
HTML_POLICY = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
    "img-src data:; style-src 'unsafe-inline'; form-action 'none'"
)
OPEN_LINKS_OUTSIDE = '<base target="_blank">'
HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


def _part_text(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, ValueError):  # an unknown charset, a broken part
        payload = part.get_payload(decode=True) or b""
        return bytes(payload).decode("utf-8", "replace")


def _text(message: EmailMessage) -> str | None:
    part = message.get_body(preferencelist=("plain",))
    return None if part is None else _part_text(part)


def _html(message: EmailMessage) -> str | None:
    part = message.get_body(preferencelist=("html",))
    return None if part is None else _part_text(part)


def _attachments(message: EmailMessage) -> list[Any]:
    return list(message.iter_attachments())


def mail_json(mail: Received) -> dict[str, Any]:
    message = mail.message
    base = f"/api/mails/{mail.number}"
    files = []
    for index, part in enumerate(_attachments(message)):
        payload = part.get_payload(decode=True) or b""
        files.append(
            {
                "name": part.get_filename() or f"anhang-{index + 1}",
                "mime_type": part.get_content_type(),
                "size": len(payload),
                "url": f"{base}/files/{index}",
            }
        )
    return {
        "number": mail.number,
        "received": mail.at.timestamp(),
        "from": str(message.get("From", "")),
        "to": ", ".join(str(a) for a in message.get_all("To", [])) or ", ".join(mail.recipients),
        "subject": str(message.get("Subject", "")),
        "date": str(message.get("Date", "")),
        "text": _text(message),
        "html": f"{base}/html" if message.get_body(preferencelist=("html",)) is not None else None,
        "attachments": files,
        "eml": f"{base}/eml",
    }


class _MailHandler(tornado.web.RequestHandler):
    def initialize(self, postfach: Postfach | None) -> None:
        self.postfach = postfach

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def mail(self, number: str) -> Received:
        found = None if self.postfach is None else self.postfach.get(int(number))
        if found is None:
            raise tornado.web.HTTPError(404, reason="Diese E-Mail gibt es nicht (mehr).")
        return found

    def download(self, data: bytes, name: str, mime_type: str) -> None:
        clean = name.replace('"', "").replace("\\", "").replace("\r", "").replace("\n", "")
        ascii_name = clean.encode("ascii", "replace").decode().replace("?", "_")
        quoted = tornado.escape.url_escape(clean, plus=False)
        self.set_header("Content-Type", mime_type)
        self.set_header("Content-Disposition", f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}")
        self.finish(data)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(tornado.escape.json_encode({"error": self._reason}))


class MailsHandler(_MailHandler):
    async def get(self) -> None:
        try:
            since = int(self.get_argument("since", "0"))
            timeout = max(0.0, min(float(self.get_argument("timeout", "0")), MAX_POLL_SECONDS))
        except ValueError:
            raise tornado.web.HTTPError(400, reason="since and timeout must be numbers") from None
        postfach = self.postfach
        if postfach is None:
            self.finish({"available": False, "last": 0, "mails": []})
            return
        if timeout and postfach.last <= since:
            await postfach.wait_after(since, timeout)
        if self.request.connection is None or self.request.connection.stream.closed():  # type: ignore[attr-defined]  # tornado types the connection without its stream
            return
        newer = [mail_json(m) for m in reversed(postfach.mails) if m.number > since]
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(tornado.escape.json_encode({"available": True, "last": postfach.last, "mails": newer}))


class HtmlHandler(_MailHandler):
    def get(self, number: str) -> None:
        body = _html(self.mail(number).message)
        if body is None:
            raise tornado.web.HTTPError(404, reason="Diese E-Mail hat keinen HTML-Teil.")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", HTML_POLICY)
        self.set_header("Referrer-Policy", "no-referrer")
        head = HEAD.search(body)
        at = head.end() if head else 0
        self.finish(body[:at] + OPEN_LINKS_OUTSIDE + body[at:])


class FileHandler(_MailHandler):
    def get(self, number: str, index: str) -> None:
        files = _attachments(self.mail(number).message)
        if int(index) >= len(files):
            raise tornado.web.HTTPError(404, reason="Diesen Anhang gibt es nicht.")
        part = files[int(index)]
        data = bytes(part.get_payload(decode=True) or b"")
        self.download(data, part.get_filename() or f"anhang-{int(index) + 1}", part.get_content_type())


class EmlHandler(_MailHandler):
    def get(self, number: str) -> None:
        mail = self.mail(number)
        self.download(mail.raw, f"mail-{mail.number:06d}.eml", "message/rfc822")


def routes(postfach: Postfach | None) -> list[Any]:
    """The Postfach's routes (without a Postfach, `/api/mails` says it is not available)."""
    options = {"postfach": postfach}
    return [
        (r"/api/mails", MailsHandler, options),
        (r"/api/mails/(\d+)/html", HtmlHandler, options),
        (r"/api/mails/(\d+)/files/(\d+)", FileHandler, options),
        (r"/api/mails/(\d+)/eml", EmlHandler, options),
    ]
