"""What the digest's queries return, and the helpers every one of them uses.

Nothing the digest reads is an ORM object: rows come back as the small
frozen dataclasses below. Every list is one LIMITed query per group (or per
recommendation), all of them sent as one UNION ALL statement (`top`); every
number is a COUNT with GROUP BY (`counts`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AgendaStatus, StanceValue


@dataclass(frozen=True)
class PersonRow:
    """A person as the digest names them: display name (else @username) and organisation."""

    display_name: str | None
    username: str | None
    organisation: str | None
    forgotten: bool = False

    @property
    def name(self) -> str:
        if self.display_name:
            return self.display_name
        return f"@{self.username}" if self.username else "?"


@dataclass(frozen=True)
class SessionRow:
    id: int
    group_id: int
    title: str
    starts_at: datetime
    timezone: str


@dataclass(frozen=True)
class ItemRow:
    id: int
    group_id: int
    text: str
    status: AgendaStatus
    created_at: datetime
    author: PersonRow | None
    """None: the author's row is gone; `author.forgotten`: erased with /forget."""
    late: bool = False
    """Submitted after the agenda deadline (*nachgereicht*, SPEC 5)."""


@dataclass(frozen=True)
class RecommendationRow:
    id: int
    text: str
    deadline: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class CommentRow:
    text: str
    created_at: datetime
    author: PersonRow


@dataclass(frozen=True)
class FeedbackCounts:
    """The feedback on one recommendation."""

    tally: Counter[StanceValue]
    comments: int
    new: int
    """Stances given and comments written in the period."""


def aware(value: datetime | str | None) -> datetime | None:
    """Raw columns in a UNION bypass the column type: SQLite returns naive UTC (or text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def person_row(
    display_name: str | None, username: str | None, organisation: str | None, telegram_id: int | None
) -> PersonRow:
    """A person's columns as a row; no Telegram id: erased with /forget."""
    return PersonRow(display_name, username, organisation, forgotten=telegram_id is None)


async def top(
    session: AsyncSession, keys: Sequence[int], query: Callable[[int], Select[*tuple[Any, ...]]]
) -> list[Any]:
    """The rows of `query(key)` (ordered and LIMITed) for every key, in one statement."""
    if not keys:
        return []
    # SQLite allows LIMIT in a compound SELECT only inside a subquery.
    parts = [select(*query(key).subquery().c) for key in keys]
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    return list((await session.execute(statement)).all())


async def counts(session: AsyncSession, query: Select[Any, Any]) -> dict[int, int]:
    """A query of (key, count) rows as a dict."""
    return {key: int(count) for key, count in (await session.execute(query)).all()}
