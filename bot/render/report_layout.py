"""How the half-yearly report reads: the whole document, once, as blocks.

`compose` lays a `bot.core.report.Report` out in the structure of the
council's own reports: title and period, Grund der Vorlage,
Beschlussvorschlag, Begründung (with the figures of the half-year and an
overview table), then the sessions with the participation chart and a
table per group, the topics of the agendas, each recommendation with the
feedback per group and its outcome, the state of the adopted
recommendations (`report_tracking`), the state of the groups, an outlook.
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

from bot.core.report import RecommendationReport, Report
from bot.render import report_attendance as attendance
from bot.render.report_blocks import Block, Bullets, Figure, Heading, Paragraph, Quote, Subtitle, Table
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
from bot.render.report_topics import topics
from bot.render.report_tracking import blocks as tracking_blocks

SESSIONS_LISTED = 15
"""Sessions listed per group in its table (all of them are in the chart)."""
COMMENT_LENGTH = 300
RECOMMENDATION_LENGTH = 1500
TITLE_LENGTH = 120


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
    blocks += topics(report)
    blocks += _recommendations(report, numbering)
    blocks += tracking_blocks(report.tracking, day_text(report.today), numbering.table)
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
        facts.append(attendance.of_report(report))
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
        Paragraph(_people_sum(report)),
        Paragraph(t("counting")),
    ]


def _people_sum(report: Report) -> str:
    """Why the people of the total row are not the sum of the rows (a person in several Gremien)."""
    people = sum(g.people for g in report.groups)
    if people == report.people_confirmed:
        return t("people_sum_equal")
    return t("people_sum", sum=number(people), total=number(report.people_confirmed))


def _sessions(report: Report, numbering: _Numbering) -> list[Block]:
    _, _, chart_file = file_names(report.half)
    blocks: list[Block] = [
        Heading(1, t("sessions_heading")),
        Figure(numbering.figure(t(figure_caption(report))), chart_file),
    ]
    without = [g.name for g in report.groups if not g.sessions]
    if without and len(without) < len(report.groups):
        blocks.append(Paragraph(t("chart_without", number=numbering.figures, names=", ".join(without))))
    for group in report.groups:
        blocks.append(Heading(2, group.name))
        facts = [t("focus", note=group.note)] if group.note else []
        facts += [counted("held", group.held), counted("cancelled", group.cancelled)]
        if group.held:
            facts.append(
                t(
                    "group_confirmations",
                    confirmations=number(group.confirmations),
                    average=average(group.confirmations, group.held),
                )
            )
            facts.append(counted("people_confirmed", group.people))
            facts.append(attendance.of_group(group))
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
            blocks += attendance.sessions(listed)
    return blocks


def figure_caption(report: Report) -> str:
    """The chart's caption key: what its bars count (`report_attendance.chart_basis`)."""
    basis = attendance.chart_basis(report)
    return "figure_caption" if basis == "rsvp" else f"figure_caption_{basis}"


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
        if why := _feedback_sum(rec):
            blocks.append(Paragraph(why))
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


def _feedback_sum(rec: RecommendationReport) -> str | None:
    """Why the rows of a feedback table do not add up to its total, or None when they do."""
    columns = (
        (sum(f.agree for f in rec.by_group), rec.agree),
        (sum(f.concerns for f in rec.by_group), rec.concerns),
        (sum(f.reject for f in rec.by_group), rec.reject),
        (sum(f.comments for f in rec.by_group), rec.comments),
    )
    if all(rows == total for rows, total in columns):
        return None
    more = any(rows > total for rows, total in columns)
    less = any(rows < total for rows, total in columns)
    why = t("feedback_sum_both" if more and less else "feedback_sum_more" if more else "feedback_sum_less")
    rows = sum(r for r, _ in columns[:3])
    total = rec.agree + rec.concerns + rec.reject
    if rows == total:  # only the comments differ
        rows, total = columns[3]
        return t("feedback_sum_comments", sum=number(rows), total=number(total), why=why)
    return t("feedback_sum", sum=number(rows), total=number(total), why=why)


def _state(report: Report, numbering: _Numbering) -> list[Block]:
    until = report.as_of or report.last_day
    rows = tuple(
        (
            g.name,
            number(g.members),
            number(g.organisations),
            number(g.joined),
            number(g.left),
            number(g.pending),
        )
        for g in report.groups
    )
    groups = report.groups
    total = (
        t("members_total"),
        number(report.members_distinct),
        number(report.organisations_distinct),
        number(sum(g.joined for g in groups)),
        number(sum(g.left for g in groups)),
        number(sum(g.pending for g in groups)),
    )
    blocks: list[Block] = [
        Heading(1, t("state_heading")),
        Paragraph(t("state_intro", date=day_text(until), today=day_text(report.today))),
        Table(
            numbering.table(t("state_caption")),
            row("state_header"),
            (*rows, total),
            (False, True, True, True, True, True),
            total=True,
        ),
    ]
    sum_people, sum_organisations = sum(g.members for g in groups), sum(g.organisations for g in groups)
    if (sum_people, sum_organisations) != (report.members_distinct, report.organisations_distinct):
        blocks.append(
            Paragraph(
                t(
                    "members_sum",
                    people=number(report.members_distinct),
                    organisations=number(report.organisations_distinct),
                    sum_people=number(sum_people),
                    sum_organisations=number(sum_organisations),
                )
            )
        )
    ended = [t("archived", name=g.name, date=day_text(g.ended_on)) for g in groups if g.ended_on]
    if ended:
        blocks.append(Bullets(tuple(ended)))
    remarks = [g for g in groups if g.remark]
    if remarks:
        blocks.append(Heading(2, t("remarks_heading")))
        blocks += [Paragraph(g.remark or "", lead=t("remark_lead", name=g.name)) for g in remarks]
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
