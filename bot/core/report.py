"""The half-yearly report for the council committee (SPEC 7; `/report`, `kimbot report`).

The *Integrationsausschuss* receives a report on the steering circle
(Lenkungskreis Integration) and the working groups every half-year. It
follows the structure of the council's own reports (Grund der Vorlage,
Beschlussvorschlag, Begründung) and then gives: the sessions held with their
participation and a chart, the topics of the agendas, the recommendations
with the groups' feedback and outcome, the state of each group, an outlook.
It is German only (the council's language); its fixed texts live in
`bot/render/locales/halbjahresbericht.toml`.

Rules that live here:

- A half-year is written `2026-H1` (January to June) or `2026-H2` (July to
  December), in TIMEZONE; `2026 h2`, `2026/H2` and `H2 2026` are read too.
- Only coordinators get a report. A half-year that has not begun yet, or
  that ended before the first thing was recorded (the first group, person,
  membership, session, agenda item or recommendation), is refused with an
  example that works. The running half-year is allowed; it is marked
  "Stand: <date>" and counts what happened until now.
- Everything is counted up to `until`, the end of the half-year or, while
  it runs, now: a session counts when it started before then, a stance or a
  comment when it was given before then, an outcome when the recommendation
  was closed before then. So a report on a past half-year says the same
  whenever it is made, except the waiting join requests and the outlook.
- No person is named: the report is a public council document. Comments
  are quoted with the author's organisation, when they gave one.
- The figures come from grouped queries (`storage.report_repository`) and
  every list is limited there; `build` turns them into a `Report` of plain
  values in local dates. `compose` writes that report once as a list of
  blocks (headings, paragraphs, tables, a figure), and `to_markdown` and
  `to_docx` render the same blocks, so the Markdown and the Word document
  always say the same; `render` adds the chart and is CPU work for a worker
  thread. For the same data and the same "now", the Markdown is byte for
  byte the same, from the chat and from the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import io
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.people import require_coordinator
from bot.render import chart as charts
from storage.models import Person, StanceValue
from storage.uow import UnitOfWork

TEMPLATE = Path(__file__).parent.parent / "render" / "locales" / "halbjahresbericht.toml"
STEERING_SLUG = "lenkungskreis"

SESSIONS_LISTED = 15
"""Sessions listed per group in its table (all of them are in the chart)."""
TOPICS_LISTED = 10
RECOMMENDATIONS_LISTED = 25
COMMENTS_LISTED = 3
UPCOMING_LISTED = 3
TOPIC_LENGTH = 200
COMMENT_LENGTH = 300
RECOMMENDATION_LENGTH = 1500
TITLE_LENGTH = 120

_HALF_YEAR = (
    re.compile(r"(?P<year>\d{4})\s*[-/ ]?\s*H(?P<half>[12])", re.IGNORECASE),
    re.compile(r"H(?P<half>[12])\s*[-/ ]?\s*(?P<year>\d{4})", re.IGNORECASE),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- the half-year -----------------------------------------------------------------


@dataclass(frozen=True, order=True)
class HalfYear:
    year: int
    half: int

    @classmethod
    def of(cls, year: int, half: int) -> HalfYear:
        """A half-year from its parts (a button's data); out of range is refused."""
        if half not in (1, 2) or not 1000 <= year <= 9999:
            raise Refusal("report.bad_half_year", value=f"{year}-H{half}")
        return cls(year, half)

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> HalfYear:
        local = moment.astimezone(tz)
        return cls(local.year, 1 if local.month <= 6 else 2)

    @property
    def label(self) -> str:
        return f"{self.year}-H{self.half}"

    @property
    def first_day(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def previous(self) -> HalfYear:
        return HalfYear(self.year - 1, 2) if self.half == 1 else HalfYear(self.year, 1)

    def following(self) -> HalfYear:
        return HalfYear(self.year, 2) if self.half == 1 else HalfYear(self.year + 1, 1)

    def start(self, tz: ZoneInfo) -> datetime:
        """The first moment, local midnight, in UTC."""
        return datetime(self.year, self.first_day.month, 1, tzinfo=tz).astimezone(UTC)

    def end(self, tz: ZoneInfo) -> datetime:
        """The moment after the last (the next half-year's start), in UTC."""
        return self.following().start(tz)


def parse_half_year(text: str) -> HalfYear:
    """`2026-H1`, `2026-h2`, `2026 H2`, `2026/H1` or `H2 2026`; anything else is refused."""
    value = " ".join(text.split())
    for pattern in _HALF_YEAR:
        if match := pattern.fullmatch(value):
            return HalfYear.of(int(match["year"]), int(match["half"]))
    raise Refusal("report.bad_half_year", value=value[:40])


@dataclass(frozen=True)
class Period:
    half: HalfYear
    start: datetime
    end: datetime
    until: datetime
    """The end, or now while the half-year runs."""
    now: datetime

    @property
    def running(self) -> bool:
        return self.until < self.end


async def period(uow: UnitOfWork, half: HalfYear, settings: Settings, now: datetime) -> Period:
    """The half-year as a period, or a Refusal when it has not begun or has no data."""
    tz = settings.timezone
    current = HalfYear.containing(now, tz)
    start = half.start(tz)
    if start > now:
        raise Refusal("report.future", value=half.label, start=half.first_day, example=current.label)
    end = half.end(tz)
    earliest = await uow.reports.earliest()
    if earliest is None:
        raise Refusal("report.no_data")
    if end <= earliest:
        raise Refusal(
            "report.before_data",
            value=half.label,
            first=earliest.astimezone(tz).date(),
            example=HalfYear.containing(earliest, tz).label,
        )
    return Period(half, start, end, min(end, now), now)


async def choices(uow: UnitOfWork, person: Person, settings: Settings, now: datetime) -> list[HalfYear]:
    """The half-years offered by a guided /report: the current one, and the previous
    one when there are data from before it ended."""
    require_coordinator(person, settings)
    current = HalfYear.containing(now, settings.timezone)
    previous = current.previous()
    earliest = await uow.reports.earliest()
    offered = [current]
    if earliest is not None and previous.end(settings.timezone) > earliest:
        offered.append(previous)
    return offered


# --- the report as plain values ------------------------------------------------------------


@dataclass(frozen=True)
class SessionLine:
    day: date
    title: str
    location: str | None
    confirmations: int


@dataclass(frozen=True)
class GroupReport:
    name: str
    note: str | None
    steering: bool
    ended_on: date | None
    held: int = 0
    cancelled: int = 0
    confirmations: int = 0
    people: int = 0
    sessions: tuple[SessionLine, ...] = ()
    """Every held session, in time order (the table shows the first ones)."""
    topics: tuple[tuple[date, str], ...] = ()
    discussed: int = 0
    submitted: int = 0
    accepted: int = 0
    rejected: int = 0
    withdrawn: int = 0
    undecided: int = 0
    members: int = 0
    organisations: int = 0
    joined: int = 0
    left: int = 0
    pending: int = 0
    upcoming: tuple[tuple[date, str], ...] = ()
    upcoming_total: int = 0


@dataclass(frozen=True)
class GroupFeedback:
    name: str
    agree: int
    concerns: int
    reject: int
    comments: int


@dataclass(frozen=True)
class RecommendationReport:
    number: int
    published: date
    text: str
    groups: tuple[str, ...]
    everyone: bool
    deadline: date | None
    deadline_passed: bool
    closed_on: date | None
    outcome: str | None
    agree: int
    concerns: int
    reject: int
    comments: int
    respondents: int
    by_group: tuple[GroupFeedback, ...]
    latest_comments: tuple[tuple[date, str, str | None], ...]
    """(day, text, organisation), newest first."""


@dataclass(frozen=True)
class Report:
    half: HalfYear
    first_day: date
    last_day: date
    as_of: date | None
    """The day of the report while the half-year runs; None when it is over."""
    today: date
    created: datetime
    groups: tuple[GroupReport, ...]
    people_confirmed: int
    recommendations: tuple[RecommendationReport, ...]
    recommendations_total: int
    stances: int
    comments: int
    open_recommendations: int
    items_waiting: int

    @property
    def held(self) -> int:
        return sum(g.held for g in self.groups)

    @property
    def cancelled(self) -> int:
        return sum(g.cancelled for g in self.groups)

    @property
    def confirmations(self) -> int:
        return sum(g.confirmations for g in self.groups)

    @property
    def discussed(self) -> int:
        return sum(g.discussed for g in self.groups)


def _clean(text: str | None) -> str:
    """User text without control characters other than line breaks and tabs (XML refuses them)."""
    return _CONTROL.sub("", text or "")


async def build(uow: UnitOfWork, half: HalfYear, settings: Settings, now: datetime) -> Report:
    """The report's figures for one half-year (refused as `period` refuses)."""
    tz = settings.timezone
    span = await period(uow, half, settings, now)
    start, until = span.start, span.until
    repo = uow.reports
    await repo.for_aggregates()

    def day(moment: datetime) -> date:
        return moment.astimezone(tz).date()

    every_group = await repo.groups()
    groups = [g for g in every_group if g.archived_at is None or g.archived_at >= start]
    sessions = await repo.sessions(start, until)
    totals = await repo.session_totals(start, until)
    topics = await repo.topics(start, until, TOPICS_LISTED)
    topic_totals = await repo.topic_totals(start, until)
    members = await repo.member_totals(start, until)
    upcoming, upcoming_counts = await repo.upcoming(until, UPCOMING_LISTED)

    by_group: dict[int, list[SessionLine]] = {}
    for session in sessions:
        by_group.setdefault(session.group_id, []).append(
            SessionLine(day(session.starts_at), _clean(session.title), _clean(session.location) or None, session.confirmations)
        )
    topics_of: dict[int, list[tuple[date, str]]] = {}
    for topic in topics:
        topics_of.setdefault(topic.group_id, []).append((day(topic.starts_at), _clean(topic.text)))
    upcoming_of: dict[int, list[tuple[date, str]]] = {}
    for next_session in upcoming:
        upcoming_of.setdefault(next_session.group_id, []).append((day(next_session.starts_at), _clean(next_session.title)))

    reports: list[GroupReport] = []
    names = {group.id: group.name for group in every_group}
    slugs = {group.id: group.slug for group in every_group}
    for group in groups:
        held = totals.get(group.id)
        if group.created_at >= span.end and held is None and group.id not in members:
            continue  # created after the half-year and nothing about it in the period
        t = topic_totals.get(group.id)
        m = members.get(group.id)
        ended = group.archived_at if group.archived_at is not None and group.archived_at < until else None
        reports.append(
            GroupReport(
                name=_clean(group.name),
                note=_clean(group.note) or None,
                steering=group.slug == STEERING_SLUG,
                ended_on=day(ended) if ended else None,
                held=held.held if held else 0,
                cancelled=held.cancelled if held else 0,
                confirmations=held.confirmations if held else 0,
                people=held.people if held else 0,
                sessions=tuple(by_group.get(group.id, ())),
                topics=tuple(topics_of.get(group.id, ())),
                discussed=t.discussed if t else 0,
                submitted=t.submitted if t else 0,
                accepted=t.accepted if t else 0,
                rejected=t.rejected if t else 0,
                withdrawn=t.withdrawn if t else 0,
                undecided=t.undecided if t else 0,
                members=m.members if m else 0,
                organisations=m.organisations if m else 0,
                joined=m.joined if m else 0,
                left=m.left if m else 0,
                pending=m.pending if m else 0,
                upcoming=tuple(upcoming_of.get(group.id, ())),
                upcoming_total=upcoming_counts.get(group.id, 0),
            )
        )
    reports.sort(key=lambda g: not g.steering)  # the steering circle first, the rest in id order

    rows, total = await repo.recommendations(start, until, RECOMMENDATIONS_LISTED)
    ids = [r.id for r in rows]
    targets = await repo.target_groups(ids)
    tallies = await repo.tallies(ids, until)
    group_tallies = await repo.group_tallies(ids, until)
    comment_counts = await repo.comment_counts(ids, until)
    group_comments = await repo.group_comment_counts(ids, until)
    respondents = await repo.respondents(ids, until)
    latest: dict[int, list[tuple[date, str, str | None]]] = {}
    for comment in await repo.latest_comments(ids, until, COMMENTS_LISTED):
        latest.setdefault(comment.recommendation_id, []).append(
            (day(comment.created_at), _clean(comment.text), _clean(comment.organisation).strip() or None)
        )
    all_group_ids = {g.id for g in groups}
    recommendations = []
    for row in rows:
        tally = tallies[row.id]
        target_ids = targets[row.id]
        feedback = []
        for group_id in sorted(target_ids, key=lambda g: (slugs.get(g) != STEERING_SLUG, g)):
            counts = group_tallies.get((row.id, group_id), Counter())
            feedback.append(
                GroupFeedback(
                    _clean(names[group_id]),
                    counts[StanceValue.AGREE],
                    counts[StanceValue.CONCERNS],
                    counts[StanceValue.REJECT],
                    group_comments.get((row.id, group_id), 0),
                )
            )
        recommendations.append(
            RecommendationReport(
                number=row.id,
                published=day(row.created_at),
                text=_clean(row.text),
                groups=tuple(f.name for f in feedback),
                everyone=len(target_ids) > 1 and all_group_ids <= set(target_ids),
                deadline=day(row.deadline) if row.deadline else None,
                deadline_passed=row.deadline is not None and row.deadline <= until,
                closed_on=day(row.closed_at) if row.closed_at else None,
                outcome=_clean(row.outcome) if row.closed_at else None,
                agree=tally[StanceValue.AGREE],
                concerns=tally[StanceValue.CONCERNS],
                reject=tally[StanceValue.REJECT],
                comments=comment_counts[row.id],
                respondents=respondents[row.id],
                by_group=tuple(feedback),
                latest_comments=tuple(latest.get(row.id, ())),
            )
        )
    stances, comments = await repo.feedback_totals(start, until)
    return Report(
        half=half,
        first_day=half.first_day,
        last_day=half.last_day,
        as_of=day(now) if span.running else None,
        today=day(now),
        created=now,
        groups=tuple(reports),
        people_confirmed=await repo.people_confirmed(start, until),
        recommendations=tuple(recommendations),
        recommendations_total=total,
        stances=stances,
        comments=comments,
        open_recommendations=await repo.open_recommendations(until),
        items_waiting=await repo.items_waiting(until),
    )


async def for_coordinator(
    uow: UnitOfWork, person: Person, half: HalfYear, settings: Settings, now: datetime
) -> Report:
    require_coordinator(person, settings)
    return await build(uow, half, settings, now)


# --- the fixed texts ---------------------------------------------------------------------


@cache
def _template() -> dict[str, str | list[str]]:
    with open(TEMPLATE, "rb") as handle:
        return tomllib.load(handle)["bericht"]  # type: ignore[no-any-return]


def t(key: str, **params: object) -> str:
    value = _template()[key]
    assert isinstance(value, str), key
    return value.format(**params)


def row(key: str) -> tuple[str, ...]:
    value = _template()[key]
    assert isinstance(value, list), key
    return tuple(value)


def counted(key: str, n: int, **params: object) -> str:
    """The form of `key` for the number `n` (none, one, several)."""
    forms = row(key)
    return forms[min(max(n, 0), 2)].format(n=number(n), **params)


def number(n: int) -> str:
    """`12.345` (German thousands separator)."""
    return f"{n:,}".replace(",", ".")


def average(total: int, count: int) -> str:
    """`7,3`; a dash when there is nothing to divide by."""
    return f"{total / count:.1f}".replace(".", ",") if count else t("none")


def day_text(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def half_name(half: HalfYear) -> str:
    return t(f"half_{half.half}", year=half.year)


def file_names(half: HalfYear) -> tuple[str, str, str]:
    """The Word, Markdown and chart file names."""
    stem = t("file_stem", label=half.label)
    return f"{stem}.docx", f"{stem}.md", f"{t('chart_stem', label=half.label)}.png"


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with "…"."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# --- the document as blocks --------------------------------------------------------------


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
            t(key, n=number(n))
            for key, n in (
                ("submitted_accepted", group.accepted),
                ("submitted_rejected", group.rejected),
                ("submitted_withdrawn", group.withdrawn),
                ("submitted_undecided", group.undecided),
            )
            if n
        )
        blocks.append(
            Paragraph(_sentences(counted("discussed", group.discussed), counted("submitted", group.submitted, detail=detail)))
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
        text = rec.text if len(rec.text) <= RECOMMENDATION_LENGTH else rec.text[: RECOMMENDATION_LENGTH - 1].rstrip() + "…"
        blocks.append(Quote(text))
        blocks.append(Paragraph(counted("respondents", rec.respondents)))
        rows = [(f.name, number(f.agree), number(f.concerns), number(f.reject), number(f.comments)) for f in rec.by_group]
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
                source = t("comment_source", organisation=organisation, date=day_text(day)) if organisation else day_text(day)
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


# --- Markdown ------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~&!])")
_MD_LINE_START = (
    (re.compile(r"^(\s*)(\d{1,9})([.)])(?=\s|$)"), r"\1\2\\\3"),
    (re.compile(r"^(\s*)([-+=])"), r"\1\\\2"),
)


def md(text: str) -> str:
    """Text that Markdown shows as written: punctuation with a meaning escaped."""
    lines = []
    for line in _MD_SPECIAL.sub(r"\\\1", text).split("\n"):
        for pattern, replacement in _MD_LINE_START:
            line = pattern.sub(replacement, line)
        lines.append(line)
    return "\n".join(lines)


def to_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append("#" * (block.level + 1) + " " + md(shorten(block.text, 10_000)))
        elif isinstance(block, Subtitle):
            out.append(f"**{md(block.text)}**")
        elif isinstance(block, Paragraph):
            text = md(block.text).replace("\n", "  \n")
            out.append(f"**{md(block.lead)}** {text}".rstrip() if block.lead else text)
        elif isinstance(block, Quote):
            out.append("\n".join("> " + line if line else ">" for line in md(block.text).split("\n")))
        elif isinstance(block, Bullets):
            out.append("\n".join("- " + md(shorten(item, 10_000)) for item in block.items))
        elif isinstance(block, Table):
            out.append(_md_table(block))
        else:
            out.append(f"![{md(block.caption)}]({block.filename})\n\n*{md(block.caption)}*")
    return "\n\n".join(out) + "\n"


def _md_table(table: Table) -> str:
    def cells(values: Sequence[str], bold: bool = False) -> str:
        texts = [md(shorten(v, 10_000)) for v in values]
        if bold:
            texts = [f"**{v}**" for v in texts]
        return "| " + " | ".join(texts) + " |"

    lines = []
    if table.caption:
        lines += [f"*{md(table.caption)}*", ""]
    lines.append(cells(table.header))
    lines.append("|" + "|".join("---:" if n else "---" for n in table.numeric) + "|")
    for index, values in enumerate(table.rows):
        lines.append(cells(values, bold=table.total and index == len(table.rows) - 1))
    return "\n".join(lines)


# --- Word ------------------------------------------------------------------------------------

CHART_WIDTH_CM = 16.0


def to_docx(blocks: Sequence[Block], chart_png: bytes, report: Report) -> bytes:
    """The same blocks as a Word document (A4, Arial, German), the chart embedded."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2)
    _sober_styles(document)

    core = document.core_properties
    core.title = f"{t('title')}, {half_name(report.half)}"
    core.subject = t("subtitle", half=half_name(report.half))
    core.author = core.last_modified_by = t("author")
    core.language = "de-DE"
    core.created = core.modified = report.created.astimezone(UTC).replace(tzinfo=None)
    core.revision = 1

    for block in blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=block.level)
        elif isinstance(block, Subtitle):
            document.add_paragraph(block.text, style="Subtitle")
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph()
            if block.lead:
                paragraph.add_run(block.lead + (" " if block.text else "")).bold = True
            _add_lines(paragraph, block.text)
        elif isinstance(block, Quote):
            _add_lines(document.add_paragraph(style="Quote"), block.text)
        elif isinstance(block, Bullets):
            for item in block.items:
                document.add_paragraph(item, style="List Bullet")
        elif isinstance(block, Table):
            if block.caption:
                document.add_paragraph(block.caption, style="Caption")
            table = document.add_table(rows=1 + len(block.rows), cols=len(block.header))
            table.style = document.styles["Table Grid"]
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for r, (table_row, values) in enumerate(zip(table.rows, (block.header, *block.rows), strict=True)):
                bold = r == 0 or (block.total and r == len(block.rows))
                for c, (cell, value) in enumerate(zip(table_row.cells, values, strict=True)):
                    paragraph = cell.paragraphs[0]
                    run = paragraph.add_run(value)
                    run.bold = bold
                    if block.numeric[c] and r > 0:
                        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _repeat_header(table.rows[0], OxmlElement, qn)
            document.add_paragraph()
        else:
            document.add_picture(io.BytesIO(chart_png), width=Cm(CHART_WIDTH_CM))
            document.add_paragraph(block.caption, style="Caption")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


FONT = "Arial"
STYLED = ("Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Caption", "Quote", "List Bullet")


def _sober_styles(document) -> None:  # type: ignore[no-untyped-def]
    """Arial, black headings, German as the document's language: close to a council
    template, and plain enough that the template's own styles take over when pasted."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    themed = [qn(f"w:{name}") for name in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme")]
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = defaults.find(qn("w:rFonts"))
    for attribute in themed:
        fonts.attrib.pop(attribute, None)
    for attribute in ("ascii", "hAnsi", "cs"):
        fonts.set(qn(f"w:{attribute}"), FONT)
    defaults.find(qn("w:lang")).set(qn("w:val"), "de-DE")
    document.styles["Normal"].font.size = Pt(11)
    for name in STYLED:
        style = document.styles[name]
        style.font.name = FONT
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attribute in themed:
            fonts.attrib.pop(attribute, None)
        if name.startswith(("Heading", "Title", "Subtitle")):
            style.font.color.rgb = RGBColor(0, 0, 0)


def _add_lines(paragraph, text: str) -> None:  # type: ignore[no-untyped-def]
    """Text with its line breaks kept, in one paragraph."""
    for index, line in enumerate(text.split("\n")):
        run = paragraph.add_run()
        if index:
            run.add_break()
        run.add_text(line)


def _repeat_header(row, element, qn) -> None:  # type: ignore[no-untyped-def]
    """Mark the header row to repeat on every page a long table spans."""
    header = element("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


# --- rendering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    docx: bytes
    markdown: bytes
    chart: charts.Chart
    docx_name: str
    markdown_name: str
    chart_name: str

    @property
    def files(self) -> tuple[tuple[str, bytes], ...]:
        """(file name, content) of the Word document, the Markdown and the chart."""
        return (
            (self.docx_name, self.docx),
            (self.markdown_name, self.markdown),
            (self.chart_name, self.chart.png),
        )


def render(report: Report) -> Rendered:
    """The chart, the Markdown and the Word document (CPU work: call it in a worker thread)."""
    half = half_name(report.half)
    chart = charts.participation_chart(
        t("chart_title", half=half),
        t("chart_axis"),
        t("chart_empty"),
        [
            charts.Series(
                g.name,
                tuple(t("chart_day", day=s.day.day, month=s.day.month) for s in g.sessions),
                tuple(s.confirmations for s in g.sessions),
            )
            for g in report.groups
        ],
    )
    blocks = compose(report)
    markdown = to_markdown(blocks).encode("utf-8")
    docx = to_docx(blocks, chart.png, report)
    docx_name, markdown_name, chart_name = file_names(report.half)
    return Rendered(docx, markdown, chart, docx_name, markdown_name, chart_name)


# --- the command line ---------------------------------------------------------------------------


def plain(text: str) -> str:
    """A catalog text for the terminal: tags removed, entities resolved."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def command_line(settings: Settings, args: argparse.Namespace, *, now: datetime | None = None) -> int:
    """`kimbot report <YYYY-H1|YYYY-H2> [--out DIR]`: the report as files.

    Writes the Word document, the Markdown and the chart into `--out`
    (created if missing) and prints their paths. Bad input: the reason on
    stderr, exit status 2. `now` is for tests (default: the real time).
    """
    from bot.render.texts import Texts
    from storage.database import Database

    moment = now or datetime.now(UTC)
    out = Path(args.out)

    async def produce(half: HalfYear) -> Rendered:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            async with db.reader() as uow:
                report = await build(uow, half, settings, moment)
        finally:
            await db.dispose()
        return await asyncio.to_thread(render, report)

    try:
        rendered = asyncio.run(produce(parse_half_year(args.half_year)))
    except Refusal as refusal:
        params = {
            name: day_text(value) if isinstance(value, date) else value for name, value in refusal.params.items()
        }
        params.setdefault("example", HalfYear.containing(moment, settings.timezone).label)
        text = Texts().plain(settings.default_language, refusal.key, command="kimbot report", **params)
        print(f"kimbot report: {plain(text)}", file=sys.stderr)
        return 2
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in rendered.files:
            path = out / name
            path.write_bytes(data)
            written.append(path)
    except OSError as error:
        print(f"kimbot report: cannot write into {out}: {error.strerror or error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0
