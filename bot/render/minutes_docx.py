"""The approved minutes as a Word document (*Ergebnisprotokoll*, SPEC 13): A4,
Arial, the heading, the session (group, title, date and time, place), who was
present (names and organisations; "ehemaliges Mitglied" for a person whose
data was erased; guests) and who was excused, then per item its title,
result, decisions and tasks with owner and due date. The words come from the
catalogs, in the reader's language."""

from __future__ import annotations

import io
from datetime import UTC
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core.dates import format_when
from bot.core.minutes import Record
from bot.render.minutes_text import attendee_text, task_text
from bot.render.texts import Texts
from bot.render.word import a4_document

if TYPE_CHECKING:
    from docx.document import Document as WordDocument


def file_name(record: Record) -> str:
    return f"Ergebnisprotokoll-{record.occurrence.id}.docx"


def to_docx(texts: Texts, lang: str, record: Record) -> bytes:
    """The minutes as a .docx file."""

    def t(key: str, **params: object) -> str:
        return texts.plain(lang, f"minutes.doc_{key}", **params)

    occurrence = record.occurrence
    meeting = occurrence.meeting
    document = a4_document(side_margin_cm=2.5)
    core = document.core_properties
    core.title = f"{t('heading')}: {meeting.title}"
    core.author = core.last_modified_by = t("author")
    core.language = "de-DE" if lang == "de" else "en-GB"
    approved = record.minutes.approved_at or record.minutes.created_at
    core.created = core.modified = approved.astimezone(UTC).replace(tzinfo=None)
    core.revision = 1

    document.add_heading(t("heading"), level=0)
    when = format_when(occurrence.starts_at, ZoneInfo(meeting.timezone), lang)
    facts = [
        (t("group"), meeting.group.name),
        (t("title"), meeting.title),
        (t("when"), when),
        (t("place"), meeting.location or t("no_place")),
    ]
    table = document.add_table(rows=0, cols=2)
    for label, value in facts:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
        cells[0].paragraphs[0].runs[0].bold = True

    document.add_heading(t("present"), level=2)
    _people(document, [attendee_text(texts, lang, a) for a in record.present], t("nobody"))
    document.add_heading(t("excused"), level=2)
    _people(document, [attendee_text(texts, lang, a) for a in record.excused], t("nobody"))

    for number, item in enumerate(record.items, 1):
        document.add_heading(t("item", number=number, title=item.title), level=1)
        document.add_paragraph(item.result or t("no_result"))
        for decision in item.decisions:
            paragraph = document.add_paragraph()
            paragraph.add_run(t("decision")).bold = True
            paragraph.add_run(" " + decision.text)
        for task in record.tasks.get(item.id, []):
            paragraph = document.add_paragraph()
            paragraph.add_run(t("task")).bold = True
            paragraph.add_run(" " + task_text(texts, lang, task))
    if not record.items:
        document.add_paragraph(t("no_items"))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _people(document: WordDocument, names: list[str], nobody: str) -> None:
    if not names:
        document.add_paragraph(nobody)
        return
    for name in names:
        document.add_paragraph(name, style="List Bullet")
