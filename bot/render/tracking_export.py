"""`kimbot track`: where the steering circle's recommendations stand (SPEC 14),
on the terminal, for cron and e-mail.

The list is the one `/track` shows (`bot.core.tracking.list_for_export`: red,
yellow, green, the finished ones last), written out in three formats:

- `to_text`: one block per item (light in words, `#id`, the text, Zuständig,
  Fällig bis, Stand with the reason when verzögert, Wiedervorlage), a count
  and a legend; no markup, for a terminal or a mail;
- `to_markdown`: a heading, a table with one row per item, the count and the
  legend; every value escaped for Markdown;
- `to_json`: a list of objects with stable keys, full texts, dates in ISO
  8601 (`due_on`, `review_on` local dates; `closed_at`, `done_at` moments).

Labels come from the catalogs (`[tracking]`, `[tracking_export]`) in
DEFAULT_LANGUAGE; dates are local dates in TIMEZONE. An empty list is no
error: the text says so, the JSON is `[]`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.core.config import Settings
from bot.core.tracking import YELLOW_DAYS, Item, Light, counts, list_for_export, local_today
from bot.render.digest_formats import markdown_escape
from bot.render.texts import Texts, plural
from bot.render.units import one_line, shorten_words
from storage.database import Database
from storage.tracking_models import TrackStatus

TEXT_SHOWN = 300
"""How much of a recommendation's text a block of the terminal shows (UTF-16 units)."""
CELL_SHOWN = 120
"""How much of it a row of the Markdown table shows."""


class TrackArgs(Protocol):
    """The arguments of `kimbot track` (as `bot.cli` parses them)."""

    format: str


def command_line(settings: Settings, args: TrackArgs) -> int:
    """`kimbot track`: the tracking list on the terminal (text, md or json); always 0."""
    return asyncio.run(_command_line(settings, args))


async def _command_line(settings: Settings, args: TrackArgs) -> int:
    now = datetime.now(UTC)
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        async with db.reader() as uow:
            items = await list_for_export(uow, settings, now)
            output = render(items, args.format, settings, now)
    finally:
        await db.dispose()
    sys.stdout.write(output)
    return 0


def render(items: Sequence[Item], form: str, settings: Settings, now: datetime, texts: Texts | None = None) -> str:
    """The list in the format `form` (text, md, json), ending with a line break."""
    if form == "json":
        return to_json(items)
    writer = _Labels(texts or Texts(), settings.default_language, settings.timezone)
    today = local_today(now, settings)
    return to_markdown(writer, items, today) if form == "md" else to_text(writer, items, today)


class _Labels:
    """The catalog's labels and local dates, in one language, without markup."""

    def __init__(self, texts: Texts, lang: str, timezone: ZoneInfo) -> None:
        self.texts, self.lang, self.timezone = texts, lang, timezone

    def __call__(self, key: str, **params: object) -> str:
        return self.texts.plain(self.lang, key, **params)

    def day(self, value: date | None) -> str:
        return value.strftime("%d.%m.%Y") if value is not None else self("tracking.not_set")

    def moment(self, value: datetime | None) -> str:
        return self.day(value.astimezone(self.timezone).date() if value is not None else None)

    def light(self, light: Light) -> str:
        return self(f"tracking.light_{light.value}_word")

    def status(self, one: Item) -> str:
        tracking = one.tracking
        status = self(f"tracking.status_{tracking.status.value}")
        if tracking.status is TrackStatus.DELAYED and tracking.delay_reason:
            return self(
                "tracking_export.status_with_reason", status=status, reason=one_line(tracking.delay_reason, 500)
            )
        return status

    def responsible(self, one: Item) -> str:
        return one.tracking.responsible or self("tracking.not_set")

    def head(self, today: date) -> list[str]:
        return [self("tracking_export.title"), self("tracking_export.as_of", date=self.day(today))]

    def tail(self, items: Sequence[Item]) -> list[str]:
        lights = counts(items)
        total = self(
            plural("tracking_export.counts", len(items)),
            count=len(items),
            **{light.value: lights[light] for light in Light},
        )
        return [total, self("tracking_export.legend", days=YELLOW_DAYS)]


def to_text(labels: _Labels, items: Sequence[Item], today: date) -> str:
    """Plain text: the title underlined, one block per item, the count and the legend."""
    title, as_of = labels.head(today)
    out = [title, "=" * len(title), as_of, ""]
    if not items:
        return "\n".join([*out, labels("tracking_export.empty")]) + "\n"
    for one in items:
        tracking = one.tracking
        fields = [
            (labels("tracking.field_responsible"), labels.responsible(one)),
            (labels("tracking.field_due"), labels.day(tracking.due_on)),
            (labels("tracking.field_status"), labels.status(one)),
            (labels("tracking.field_review"), labels.day(tracking.review_on)),
        ]
        if tracking.done_at is not None:
            fields.append((labels("tracking_export.field_done"), labels.moment(tracking.done_at)))
        out += [
            f"#{one.id} · {labels.light(one.light)}",
            shorten_words(tracking.recommendation.text, TEXT_SHOWN),
            *(f"  {name}: {value}" for name, value in fields),
            "",
        ]
    return "\n".join([*out, *labels.tail(items)]) + "\n"


def to_markdown(labels: _Labels, items: Sequence[Item], today: date) -> str:
    """Markdown: a heading, a table of the items, the count and the legend."""
    title, as_of = labels.head(today)
    out = [f"# {markdown_escape(title)}", "", markdown_escape(as_of), ""]
    if not items:
        return "\n".join([*out, markdown_escape(labels("tracking_export.empty"))]) + "\n"
    columns = [
        labels("tracking_export.column_light"),
        "#",
        labels("tracking_export.column_recommendation"),
        labels("tracking.field_responsible"),
        labels("tracking.field_due"),
        labels("tracking.field_status"),
        labels("tracking.field_review"),
    ]
    out += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for one in items:
        tracking = one.tracking
        status = labels.status(one)
        if tracking.done_at is not None:
            status += f" ({labels.moment(tracking.done_at)})"
        cells = [
            f"{labels(f'tracking.light_{one.light.value}')} {labels.light(one.light)}",
            f"#{one.id}",
            shorten_words(tracking.recommendation.text, CELL_SHOWN),
            one_line(labels.responsible(one), CELL_SHOWN),
            labels.day(tracking.due_on),
            status,
            labels.day(tracking.review_on),
        ]
        out.append("| " + " | ".join(markdown_escape(cell) for cell in cells) + " |")
    return "\n".join([*out, "", *(markdown_escape(line) for line in labels.tail(items))]) + "\n"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def as_json(one: Item) -> dict[str, Any]:
    """One item for machines: full texts, the light's name, dates in ISO 8601."""
    tracking = one.tracking
    recommendation = tracking.recommendation
    return {
        "id": one.id,
        "text": recommendation.text,
        "groups": [group.slug for group in recommendation.groups],
        "result": tracking.result.value,
        "responsible": tracking.responsible,
        "due_on": tracking.due_on.isoformat() if tracking.due_on else None,
        "status": tracking.status.value,
        "delay_reason": tracking.delay_reason if tracking.status is TrackStatus.DELAYED else None,
        "review_on": tracking.review_on.isoformat() if tracking.review_on else None,
        "light": one.light.value,
        "overdue": one.light is Light.RED,
        "closed_at": _iso(recommendation.closed_at),
        "done_at": _iso(tracking.done_at),
    }


def to_json(items: Sequence[Item]) -> str:
    """The list as a JSON array (`[]` when empty)."""
    return json.dumps([as_json(one) for one in items], ensure_ascii=False, indent=2) + "\n"
