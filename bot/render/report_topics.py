"""The report's section on the topics of the agendas: every topic of the half-year (SPEC 7).

Per Gremium: how many topics were handled and submitted, then the handled
topics under the session that handled it ("Sitzung am 10.09.2026: Auftakt"),
then every other topic submitted in the half-year with what became of it
(submitted on, *nachgereicht*, planned for a session, waiting, not taken up,
withdrawn). What counts as handled is `bot.core.report`.
"""

from __future__ import annotations

from datetime import date

from bot.core.report import GroupReport, Report, TopicLine, TopicState
from bot.render.report_blocks import Block, Bullets, Heading, Paragraph
from bot.render.report_text import counted, day_text, number, shorten, t

TOPIC_LENGTH = 300
TITLE_LENGTH = 120


def topics(report: Report) -> list[Block]:
    """The section: an introduction, then each Gremium's topics."""
    blocks: list[Block] = [Heading(1, t("topics_heading")), Paragraph(t("topics_intro"))]
    for group in report.groups:
        blocks.append(Heading(2, group.name))
        blocks += _group(group)
    return blocks


def _group(group: GroupReport) -> list[Block]:
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
    blocks: list[Block] = [
        Paragraph(
            " ".join((counted("discussed", group.discussed), counted("submitted", group.submitted, detail=detail)))
        )
    ]
    sessions: dict[tuple[date | None, str | None], list[str]] = {}
    others: list[str] = []
    for topic in group.topics:
        if topic.state == TopicState.HANDLED:
            text = shorten(topic.text, TOPIC_LENGTH)
            if topic.late:
                text = t("topic_other", text=text, state=t("topic_late"))
            sessions.setdefault((topic.session_day, topic.session_title), []).append(text)
        else:
            others.append(t("topic_other", text=shorten(topic.text, TOPIC_LENGTH), state=_state(topic)))
    for (day, title), texts in sessions.items():
        lead = t("topic_session", date=day_text(day) if day else t("none"), title=shorten(title or "", TITLE_LENGTH))
        blocks += [Paragraph("", lead=lead), Bullets(tuple(texts))]
    if others:
        blocks += [Paragraph("", lead=t("topics_open")), Bullets(tuple(others))]
    if more := group.topics_total - len(group.topics):
        blocks.append(Paragraph(counted("topics_more", more)))
    return blocks


def _state(topic: TopicLine) -> str:
    """What became of a topic: `eingereicht am 01.12.2026; nachgereicht; vorgesehen für die Sitzung am 14.01.2027`."""
    parts = [t("topic_submitted", date=day_text(topic.submitted))]
    if topic.late:
        parts.append(t("topic_late"))
    if topic.state == TopicState.PLANNED and topic.session_day is not None:
        key = "topic_planned_accepted" if topic.accepted else "topic_planned"
        parts.append(t(key, date=day_text(topic.session_day)))
    else:
        parts.append(t(f"topic_{topic.state}"))
    return "; ".join(parts)
