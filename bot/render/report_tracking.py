"""The report's section "Stand der Empfehlungen" as blocks (`bot.render.report_layout`
places it after the recommendations and the groups' feedback).

The section's sentences are in `bot/render/locales/halbjahresbericht.toml`
(`tracking_*`); the words for results, statuses and the traffic light
("angenommen", "verzögert", "überfällig", "Zuständig", ...) are the German
labels of the chat (`[tracking]` in `bot/render/locales/de/tracking.toml`),
so the chat, `kimbot track` and the report say the same. The report names
recommendations "Nr. 7" as the rest of it does, and shows the light in words,
never as an emoji. An empty list is a sentence, never an empty table.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import cache

from bot.core.report_tracking import TrackedLine, TrackingReport
from bot.render.report_blocks import Block, Heading, Paragraph, Table
from bot.render.report_text import counted, day_text, number, shorten, t
from bot.render.texts import LOCALES
from storage.tracking_models import RecommendationResult

TEXT_LENGTH = 160
"""A recommendation's text in the tables, on the report's one line per cell."""
REASON_LENGTH = 200


@cache
def _labels() -> dict[str, str]:
    with open(LOCALES / "de" / "tracking.toml", "rb") as handle:
        table: dict[str, str] = tomllib.load(handle)["tracking"]
    return table


def label(key: str) -> str:
    """A German label of `[tracking]` (`status_delayed`, `light_red_word`, ...)."""
    return _labels()[key]


def _result(result: RecommendationResult | None) -> str:
    return label(f"result_{result.value}") if result is not None else t("tracking_no_result")


def _status(line: TrackedLine, open_at_end: bool) -> str:
    if open_at_end and line.done_on is not None:  # finished after the half-year
        return t("tracking_done_later", done=label("status_done"), date=day_text(line.done_on))
    status = label(f"status_{line.status.value}")
    if line.reason:
        return t("tracking_reason", status=status, reason=shorten(line.reason, REASON_LENGTH))
    return status


def _cells(line: TrackedLine) -> tuple[str, str, str, str]:
    return (
        number(line.number),
        shorten(line.text, TEXT_LENGTH),
        shorten(line.responsible, TEXT_LENGTH) if line.responsible else label("not_set"),
        day_text(line.due_on) if line.due_on else label("not_set"),
    )


def _totals(tracking: TrackingReport) -> str:
    day = day_text(tracking.day)
    if not tracking.adopted:
        return t("tracking_adopted_none", date=day)
    still = t("tracking_open_count", count=number(tracking.open_total), status=label("status_open"))
    if tracking.overdue:
        overdue = t("tracking_overdue_count", count=number(tracking.overdue), overdue=label("light_red_word"))
        still = t("tracking_open_overdue", open=still, overdue=overdue)
    done = t("tracking_done_count", count=number(tracking.done), done=label("status_done"))
    key = "tracking_adopted_one" if tracking.adopted == 1 else "tracking_adopted"
    return t(key, date=day, count=number(tracking.adopted), open=still, done=done)


def blocks(tracking: TrackingReport | None, today: str, table: Callable[[str], str]) -> list[Block]:
    """The section; `table` numbers a table's caption ("Tabelle 8: ...")."""
    if tracking is None:
        return []
    out: list[Block] = [Heading(1, t("tracking_heading"))]
    if tracking.nothing:
        return [*out, Paragraph(t("tracking_nothing"))]
    day = day_text(tracking.day)
    detail = ", ".join(t("tracking_result", result=_result(r), count=number(n)) for r, n in tracking.closed)
    closed = counted("tracking_closed", tracking.closed_total, detail=detail)
    out.append(Paragraph(t("tracking_intro", today=today, date=day)))
    out.append(Paragraph(" ".join(part for part in (closed, _totals(tracking)) if part)))
    if any(result is None for result, _ in tracking.closed):
        out.append(Paragraph(t("tracking_without_result")))
    if not tracking.adopted:
        return out

    out.append(Heading(2, t("tracking_open_heading")))
    if tracking.open:
        header = (
            t("tracking_number"),
            t("tracking_text"),
            label("field_responsible"),
            label("field_due"),
            label("field_status"),
            t("tracking_light"),
        )
        rows = tuple(
            (*_cells(line), _status(line, True), label(f"light_{line.light.value}_word")) for line in tracking.open
        )
        caption = table(t("tracking_open_caption", date=day))
        out.append(Table(caption, header, rows, (True, False, False, False, False, False)))
        out += _more("tracking_open_more", tracking.open_total - len(tracking.open))
    else:
        out.append(Paragraph(t("tracking_open_none", date=day)))

    out.append(Heading(2, t("tracking_finished_heading")))
    if tracking.finished:
        done_header = (
            t("tracking_number"),
            t("tracking_text"),
            label("field_responsible"),
            label("field_due"),
            t("tracking_done_on", done=label("status_done")),
        )
        done_rows = tuple((*_cells(line), day_text(line.done_on) if line.done_on else "") for line in tracking.finished)
        caption = table(t("tracking_finished_caption"))
        out.append(Table(caption, done_header, done_rows, (True, False, False, False, False)))
        out += _more("tracking_finished_more", tracking.finished_total - len(tracking.finished))
    else:
        out.append(Paragraph(t("tracking_finished_none")))
    return out


def _more(key: str, count: int) -> list[Block]:
    text = counted(key, count)
    return [Paragraph(text)] if text else []
