"""The minutes as a Telegram message (Html): the session, who was there, and
per item its result, decisions and tasks; the Word document is
`bot.render.minutes_docx`. A message longer than `LIMIT` ends after the last
item that fits, with a note that the document has everything."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.core.dates import format_date, format_when
from bot.core.minutes import Attendee, Record
from bot.core.text import telegram_length
from bot.render.texts import Html, Texts, escape
from storage.followup_models import MinutesItem, MinutesStatus, Task

LIMIT = 3600
"""Room for the heading a message puts above the minutes and the buttons' words."""


def attendee_text(texts: Texts, lang: str, attendee: Attendee) -> str:
    """`Ana Berg (Verein A)`, `ehemaliges Mitglied (Verein A)`, `Gast: …`, `… – vertreten durch …` (plain)."""
    name = attendee.name if attendee.name is not None else texts.plain(lang, "minutes.former_member")
    text = f"{name} ({attendee.organisation})" if attendee.organisation else name
    if attendee.guest:
        text = texts.plain(lang, "minutes.guest", name=text)
    if attendee.deputy:
        text = texts.plain(lang, "minutes.represented", name=text, deputy=attendee.deputy)
    return text


def session_line(texts: Texts, lang: str, record: Record) -> Html:
    occurrence = record.occurrence
    meeting = occurrence.meeting
    when = format_when(occurrence.starts_at, ZoneInfo(meeting.timezone), lang)
    line = texts.get(
        lang, "minutes.session", group=meeting.group.name, title=meeting.title, id=occurrence.id, when=when
    )
    if meeting.location:
        line = Html(line + "\n" + texts.get(lang, "minutes.place", place=meeting.location))
    return line


def task_text(texts: Texts, lang: str, task: Task) -> str:
    owner = task.owner.display_name if task.owner is not None and task.owner.telegram_id is not None else None
    return texts.plain(
        lang,
        "minutes.task_line",
        text=task.text,
        owner=owner or texts.plain(lang, "minutes.former_member"),
        due=format_date(task.due_on, lang),
    )


def item_block(texts: Texts, lang: str, number: int, count: int, item: MinutesItem, tasks: list[Task]) -> Html:
    lines = [texts.get(lang, "minutes.item_heading", number=number, title=item.title)]
    lines.append(escape(item.result) if item.result else texts.get(lang, "minutes.no_result"))
    lines += [texts.get(lang, "minutes.decision_line", text=d.text) for d in item.decisions]
    lines += [texts.get(lang, "minutes.task_item", task=task_text(texts, lang, t)) for t in tasks]
    return Html("\n".join(lines))


def minutes_text(texts: Texts, lang: str, record: Record, heading: str) -> Html:
    """The minutes under a heading key (`minutes.draft_heading` ...), cut to `LIMIT`."""
    parts: list[str] = [texts.get(lang, heading), session_line(texts, lang, record)]
    if record.present:
        present = ", ".join(attendee_text(texts, lang, a) for a in record.present)
        parts.append(texts.get(lang, "minutes.present", names=present))
    if record.excused:
        excused = ", ".join(attendee_text(texts, lang, a) for a in record.excused)
        parts.append(texts.get(lang, "minutes.excused", names=excused))
    if not record.items:
        parts.append(texts.get(lang, "minutes.no_items"))
    count = len(record.items)
    for number, item in enumerate(record.items, 1):
        block = item_block(texts, lang, number, count, item, record.tasks.get(item.id, []))
        if telegram_length("\n\n".join([*parts, block])) > LIMIT:
            parts.append(texts.get(lang, "minutes.cut"))
            break
        parts.append(block)
    return Html("\n\n".join(parts))


def overview_text(texts: Texts, lang: str, record: Record, tz: ZoneInfo) -> Html:
    """What the coordination sees after the last item: the minutes, their state,
    the corrections proposed so far, and what to do next."""
    status = record.minutes.status
    text = minutes_text(texts, lang, record, "minutes.overview_heading")
    parts = [str(text)]
    if record.corrections:
        lines = [texts.get(lang, "minutes.corrections_heading", count=len(record.corrections))]
        for correction in record.corrections:
            who = correction.person.display_name if correction.person is not None else None
            lines.append(
                texts.get(
                    lang,
                    "minutes.correction_line",
                    name=who or texts.plain(lang, "minutes.former_member"),
                    text=correction.text,
                )
            )
        parts.append("\n".join(lines))
    if status is MinutesStatus.DRAFT:
        parts.append(texts.get(lang, "minutes.overview_draft"))
    elif status is MinutesStatus.REVIEW:
        until = record.minutes.review_until
        when = format_when(until, tz, lang) if until is not None else ""
        parts.append(texts.get(lang, "minutes.overview_review", until=when))
    else:
        parts.append(texts.get(lang, "minutes.locked_note"))
    return Html("\n\n".join(parts))
