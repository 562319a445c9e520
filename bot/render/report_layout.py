"""How the half-yearly report reads: the whole document, once, as blocks.

`compose` lays a `bot.core.report.Report` out in the structure of the
council's own reports: title and period, Grund der Vorlage,
Beschlussvorschlag, Begründung (with the figures of the half-year and an
overview table), then the sessions with the participation chart and a
table per group, the topics of the agendas, each recommendation with the
feedback per group and its outcome, the state of the groups, an outlook.
The result is a list of blocks (headings, paragraphs, quotes, bullets,
tables, a figure) that `bot.render.report_markdown` and
`bot.render.report_docx` write out the same way, so the Markdown and the
Word document always say the same. Tables and figures are numbered in
order ("Tabelle 3: ...").

Long lists and texts are cut here, with the rest counted ("und 4 weitere
Themen"): the limits below, and the ones the queries apply
(`bot.core.report`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.report import TOPICS_LISTED, Report
from bot.render.report_text import (
    average,
    counted,
    day_text,
    file_names,
    half_name,
    number,
    row,
    shorten,
    t,
)

SESSIONS_LISTED = 15
"""Sessions listed per group in its table (all of them are in the chart)."""
TOPIC_LENGTH = 200
COMMENT_LENGTH = 300
RECOMMENDATION_LENGTH = 1500
TITLE_LENGTH = 120


@dataclass(frozen=True)
class Heading:
    level: int
    """0: the title; 1 to 3: sections."""
    text: str


@dataclass(frozen=True)
class Subtitle:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    lead: str | None = None
    """Words set in bold before the text."""


@dataclass(frozen=True)
class Quote:
    text: str
    """May have several lines."""


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    caption: str | None
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    total: bool = False
    """The last row is a total (set in bold)."""


@dataclass(frozen=True)
class Figure:
    caption: str
    filename: str


Block = Heading | Subtitle | Paragraph | Quote | Bullets | Table | Figure


@dataclass
class _Numbering:
    tables: int = 0
    figures: int = 0

    def table(self, caption: str) -> str:
        self.tables += 1
        return t("table_label", number=self.tables, caption=caption)

    def figure(self, caption: str) -> str:
        self.figures += 1
        return t("figure_label", number=self.figures, caption=caption)


def _sentences(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def compose(report: Report) -> list[Block]:
    """The whole report, once, as blocks for both renderers."""
    numbering = _Numbering()
    half = half_name(report.half)
    first, last = day_text(report.first_day), day_text(report.last_day)
    blocks: list[Block] = [
        Heading(0, t("title")),
        Subtitle(t("subtitle", half=half)),
        Paragraph(t("period", start=first, end=last)),
    ]
    if report.as_of is not None:
        blocks.append(Paragraph(t("as_of", date=day_text(report.as_of))))
    blocks.append(Table(None, row("committee_header"), (row("committee_row"),), (False, False)))

    blocks += [
        Heading(1, t("reason_heading")),
        Paragraph(t("reason", half=half, start=first, end=last)),
        Heading(1, t("proposal_heading")),
        Paragraph(t("proposal")),
        Heading(1, t("grounds_heading")),
        Paragraph(t("grounds")),
    ]
    blocks += _summary(report, numbering)
    blocks += _sessions(report, numbering)
    blocks += _topics(report)
    blocks += _recommendations(report, numbering)
    blocks += _state(report, numbering)
    blocks += _outlook(report)
    return blocks


def _summary(report: Report, numbering: _Numbering) -> list[Block]:
    steering = next((g for g in report.groups if g.steering), None)
    facts = [counted("held", report.held)]
    if steering is not None and report.held:
        facts.append(counted("steering_held", steering.held))
    facts.append(counted("cancelled", report.cancelled))
    if report.held:
        facts.append(
            t(
                "confirmations",
                confirmations=counted("confirmation_count", report.confirmations),
                average=average(report.confirmations, report.held),
            )
        )
        facts.append(counted("people_confirmed", report.people_confirmed))
    facts.append(counted("topics_total", report.discussed))
    facts.append(counted("recommendations_total", report.recommendations_total))
    if report.recommendations_total:
        facts.append(
            t(
                "feedback_total",
                stances=counted("stance_count", report.stances),
                comments=counted("comment_count", report.comments),
            )
        )
    rows = [
        (
            g.name,
            number(g.held),
            number(g.cancelled),
            number(g.confirmations),
            average(g.confirmations, g.held),
            number(g.people),
            number(g.discussed),
        )
        for g in report.groups
    ]
    rows.append(
        (
            t("total"),
            number(report.held),
            number(report.cancelled),
            number(report.confirmations),
            average(report.confirmations, report.held),
            number(report.people_confirmed),
            number(report.discussed),
        )
    )
    return [
        Paragraph(_sentences(*facts)),
        Table(
            numbering.table(t("overview_caption")),
            row("overview_header"),
            tuple(rows),
            (False, True, True, True, True, True, True),
            total=True,
        ),
        Paragraph(t("counting")),
    ]


def _sessions(report: Report, numbering: _Numbering) -> list[Block]:
    _, _, chart_file = file_names(report.half)
    blocks: list[Block] = [
        Heading(1, t("sessions_heading")),
        Figure(numbering.figure(t("figure_caption")), chart_file),
    ]
    for group in report.groups:
        blocks.append(Heading(2, group.name))
        facts = [counted("held", group.held), counted("cancelled", group.cancelled)]
        if group.held:
            facts.append(
                t(
                    "group_confirmations",
                    confirmations=number(group.confirmations),
                    average=average(group.confirmations, group.held),
                )
            )
            facts.append(counted("people_confirmed", group.people))
        blocks.append(Paragraph(_sentences(*facts)))
        if group.sessions:
            listed = group.sessions[:SESSIONS_LISTED]
            blocks.append(
                Table(
                    numbering.table(t("sessions_caption", name=group.name)),
                    row("sessions_header"),
                    tuple(
                        (
                            day_text(s.day),
                            shorten(s.title, TITLE_LENGTH),
                            shorten(s.location or t("none"), TITLE_LENGTH),
                            number(s.confirmations),
                        )
                        for s in listed
                    ),
                    (False, False, False, True),
                )
            )
            if more := len(group.sessions) - len(listed):
                blocks.append(Paragraph(counted("sessions_more", more)))
    return blocks


def _topics(report: Report) -> list[Block]:
    blocks: list[Block] = [
        Heading(1, t("topics_heading")),
        Paragraph(t("topics_intro", max=TOPICS_LISTED)),
    ]
    for group in report.groups:
        blocks.append(Heading(2, group.name))
        detail = ", ".join(
            t(key, count=number(n))
            for key, n in (
                ("submitted_accepted", group.accepted),
                ("submitted_rejected", group.rejected),
                ("submitted_withdrawn", group.withdrawn),
                ("submitted_undecided", group.undecided),
            )
            if n
        )
        blocks.append(
            Paragraph(
                _sentences(counted("discussed", group.discussed), counted("submitted", group.submitted, detail=detail))
            )
        )
        if group.topics:
            items = [t("topic", date=day_text(d), text=shorten(text, TOPIC_LENGTH)) for d, text in group.topics]
            if more := group.discussed - len(group.topics):
                items.append(counted("topics_more", more))
            blocks.append(Bullets(tuple(items)))
    return blocks


def _recommendations(report: Report, numbering: _Numbering) -> list[Block]:
    blocks: list[Block] = [
        Heading(1, t("recommendations_heading")),
        Paragraph(counted("recommendations_total", report.recommendations_total)),
    ]
    if more := report.recommendations_total - len(report.recommendations):
        blocks.append(Paragraph(t("recommendations_more", shown=len(report.recommendations), more=number(more))))
    for rec in report.recommendations:
        blocks.append(Heading(2, t("recommendation_heading", id=rec.number, date=day_text(rec.published))))
        groups = t("all_groups") if rec.everyone else ", ".join(rec.groups)
        deadline = t("deadline", date=day_text(rec.deadline)) if rec.deadline else t("no_deadline")
        blocks.append(Paragraph(_sentences(t("targets", groups=groups), deadline)))
        text = (
            rec.text if len(rec.text) <= RECOMMENDATION_LENGTH else rec.text[: RECOMMENDATION_LENGTH - 1].rstrip() + "…"
        )
        blocks.append(Quote(text))
        blocks.append(Paragraph(counted("respondents", rec.respondents)))
        rows = [
            (f.name, number(f.agree), number(f.concerns), number(f.reject), number(f.comments)) for f in rec.by_group
        ]
        rows.append((t("total"), number(rec.agree), number(rec.concerns), number(rec.reject), number(rec.comments)))
        blocks.append(
            Table(
                numbering.table(t("feedback_caption", id=rec.number)),
                row("feedback_header"),
                tuple(rows),
                (False, True, True, True, True),
                total=True,
            )
        )
        if rec.latest_comments:
            blocks.append(Paragraph(counted("comments_intro", rec.comments, shown=len(rec.latest_comments))))
            quoted = []
            for day, text, organisation in rec.latest_comments:
                source = (
                    t("comment_source", organisation=organisation, date=day_text(day))
                    if organisation
                    else day_text(day)
                )
                quoted.append(t("comment", text=shorten(text, COMMENT_LENGTH), source=source))
            blocks.append(Bullets(tuple(quoted)))
        if rec.closed_on is not None:
            blocks.append(Paragraph("", lead=t("outcome", date=day_text(rec.closed_on))))
            blocks.append(Quote(rec.outcome or t("none")))
        elif rec.deadline_passed and rec.deadline is not None:
            blocks.append(Paragraph(t("deadline_over", date=day_text(rec.deadline))))
        else:
            blocks.append(Paragraph(t("still_open")))
    return blocks


def _state(report: Report, numbering: _Numbering) -> list[Block]:
    until = report.as_of or report.last_day
    rows = tuple(
        (
            g.name,
            g.note or t("none"),
            number(g.members),
            number(g.organisations),
            number(g.joined),
            number(g.left),
            number(g.pending),
        )
        for g in report.groups
    )
    blocks: list[Block] = [
        Heading(1, t("state_heading")),
        Paragraph(t("state_intro", date=day_text(until), today=day_text(report.today))),
        Table(
            numbering.table(t("state_caption")),
            row("state_header"),
            rows,
            (False, False, True, True, True, True, True),
        ),
    ]
    ended = [t("archived", name=g.name, date=day_text(g.ended_on)) for g in report.groups if g.ended_on]
    if ended:
        blocks.append(Bullets(tuple(ended)))
    return blocks


def _outlook(report: Report) -> list[Block]:
    blocks: list[Block] = [Heading(1, t("outlook_heading"))]
    upcoming = sum(g.upcoming_total for g in report.groups)
    blocks.append(Paragraph(counted("upcoming", upcoming)))
    items = []
    for group in report.groups:
        if not group.upcoming:
            continue
        sessions = ", ".join(
            t("upcoming_session", date=day_text(d), title=shorten(title, TITLE_LENGTH)) for d, title in group.upcoming
        )
        if more := group.upcoming_total - len(group.upcoming):
            sessions += " " + counted("upcoming_more", more)
        items.append(t("upcoming_group", name=group.name, sessions=sessions))
    if items:
        blocks.append(Bullets(tuple(items)))
    blocks.append(
        Paragraph(
            _sentences(
                counted("open_recommendations", report.open_recommendations),
                counted("items_waiting", report.items_waiting),
            )
        )
    )
    blocks.append(Paragraph(t("closing")))
    return blocks
