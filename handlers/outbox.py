"""Outbox: what the delivery timer sends for one delivery record, and how a
feature renders it.

Most records are one message (`Message`); a long digest may be several
messages or a document. The parts of one record are sent in order; the
record counts as sent when the last part was accepted.

The timer knows no feature: each feature module offers `RENDERERS`, a
`Renderer` per delivery kind it owns, and the composition (`bot.telegram.app`)
hands them all to the timer. A `Batch` lets the messages of one run share
what they all show (a session, its agenda), loaded once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.core.reminders import Due
from bot.render.texts import Html
from handlers.common import Rows, Runtime
from storage.uow import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class Message:
    text: Html
    rows: Rows = ()


@dataclass(frozen=True)
class Document:
    data: bytes
    filename: str
    caption: Html | None = None
    file_id: str | None = None
    """A file Telegram already has (a document the coordinator sent): sent by its id, `data` unused."""


Part = Message | Document


class Batch:
    """What the messages of one run of the timer share, loaded once per run."""

    def __init__(self) -> None:
        self._memo: dict[Hashable, Any] = {}

    async def memo(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        if key not in self._memo:
            self._memo[key] = await load()
        return self._memo[key]


Renderer = Callable[[Runtime, UnitOfWork, Due, str, Batch], Awaitable[list[Part]]]
"""Renders one due record for its reader (language `lang`)."""
