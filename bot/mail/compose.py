"""How a message becomes an e-mail.

The renderers write for Telegram (`handlers.outbox.Part`: its HTML subset and
buttons). A mail shows the same text twice, as plain text and as simple HTML
(`multipart/alternative`), with the buttons that can work from a mailbox as
links (`Button`: Zusage / Absage / Vielleicht, the stances), the others left
to the chat, and the documents attached (`Attachment`: the `.ics` of an
invitation as `text/calendar`). The subject is the message's first line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from html.parser import HTMLParser

SUBJECT_MAX = 140


@dataclass(frozen=True)
class Button:
    label: str
    url: str


@dataclass(frozen=True)
class Attachment:
    data: bytes
    filename: str
    mime: str
    """`maintype/subtype`, e.g. `text/calendar`."""


@dataclass(frozen=True)
class Body:
    """One message of the mail: Telegram HTML, and the links under it (rows)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


class _Plain(HTMLParser):
    """Telegram's HTML subset as plain text: links as "label (address)"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._href: list[str | None] = []
        self._label_start: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href.append(dict(attrs).get("href"))
            self._label_start.append(len(self.out))
        elif tag == "br":
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            href, start = self._href.pop(), self._label_start.pop()
            label = "".join(self.out[start:])
            if href and href != label and not href.startswith("tg://"):
                self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def plain_text(telegram_html: str) -> str:
    parser = _Plain()
    parser.feed(telegram_html)
    parser.close()
    return "".join(parser.out)


_TAGS = re.compile(r"<(/?)(tg-spoiler|tg-emoji|span)\b[^>]*>")


def html_text(telegram_html: str) -> str:
    """Telegram's HTML for a mail reader: line breaks kept, Telegram's own tags made spans."""
    body = _TAGS.sub(lambda m: f"<{m.group(1)}span>", telegram_html)
    pieces = re.split(r"(<pre>.*?</pre>)", body, flags=re.S)
    return "".join(p if p.startswith("<pre>") else p.replace("\n", "<br>\n") for p in pieces)


def subject_of(bodies: list[Body]) -> str:
    for body in bodies:
        for line in plain_text(body.text).splitlines():
            line = " ".join(line.split())
            if line:
                return line if len(line) <= SUBJECT_MAX else line[: SUBJECT_MAX - 1] + "…"
    return "KIM-Bot"


_BUTTON_STYLE = (
    "display:inline-block;margin:4px 8px 4px 0;padding:10px 16px;border-radius:6px;"
    "background:#1d5fa8;color:#ffffff;text-decoration:none;font-weight:bold"
)


def compose(
    bodies: list[Body],
    *,
    sender: str,
    to: str,
    mail_id: int,
    lang: str,
    footer: str,
    attachments: list[Attachment] | None = None,
    subject: str | None = None,
) -> EmailMessage:
    """The mail: plain text and HTML, then the attachments. `footer` is plain text
    (why the person gets this and how to stop it). The Message-ID is derived from
    the mail's row, so a mail sent again after a crash is recognisably the same."""
    message = EmailMessage()
    message["Subject"] = subject or subject_of(bodies)
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "kimbot.invalid"
    message["Message-ID"] = f"<kimbot-mail-{mail_id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"

    plain: list[str] = []
    rich: list[str] = []
    for body in bodies:
        plain.append(plain_text(body.text).strip())
        rich.append(f"<p>{html_text(body.text).strip()}</p>")
        for row in body.buttons:
            plain.extend(f"{b.label}: {b.url}" for b in row)
            links = "".join(
                f'<a href="{html.escape(b.url)}" style="{_BUTTON_STYLE}">{html.escape(b.label)}</a>' for b in row
            )
            rich.append(f"<p>{links}</p>")
        plain.append("")
    plain.append("-- ")
    plain.append(footer)
    rich.append(f'<hr><p style="color:#555;font-size:90%">{html.escape(footer).replace(chr(10), "<br>")}</p>')
    message.set_content("\n".join(plain) + "\n", cte="quoted-printable")
    page = (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"></head>'
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.45;max-width:40em">\n'
        + "\n".join(rich)
        + "\n</body></html>\n"
    )
    message.add_alternative(page, subtype="html", cte="quoted-printable")
    for item in attachments or []:
        maintype, _, subtype = item.mime.partition("/")
        params = {"method": "PUBLISH"} if item.mime == "text/calendar" else {}
        message.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename, params=params)
    message["Content-Language"] = lang  # last: making the mail multipart moves Content-* headers inward
    return message
