"""Outbox parts: what the delivery timer sends for one delivery record.

Most records are one message (`Message`); a long digest may be several
messages or a document. The parts of one record are sent in order; the
record counts as sent when the last part was accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.texts import Html
from handlers.common import Rows


@dataclass(frozen=True)
class Message:
    text: Html
    rows: Rows = ()


@dataclass(frozen=True)
class Document:
    data: bytes
    filename: str
    caption: Html | None = None


Part = Message | Document
