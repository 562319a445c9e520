"""The sign-in sheet (*Teilnahmeliste*, `/sheet`) as a Word document for printing.

A4 portrait, margins of 2 cm, Arial; the heading, then group, title, date and
time, place; a table Name | Organisation | Unterschrift whose header row
repeats on every page, rows about 1 cm high (room to sign) and never split,
pre-filled with those who said Zusage (by name), then blank rows: at least
`BLANK_ROWS`, and as many more as fill the first page.
"""

from __future__ import annotations

import io

from bot.core.attendance import SignIn
from bot.core.dates import format_when
from bot.render.texts import Texts
from bot.render.word import a4_document

BLANK_ROWS = 5
"""Blank rows at least, for those who come without having said Zusage."""
ROWS_ON_FIRST_PAGE = 18
"""Name rows that fit under the heading on the first page."""
WIDTHS_CM = (6.0, 6.0, 5.0)
"""Name, Organisation, Unterschrift: together the text width (21 cm less 2 × 2 cm)."""
ROW_HEIGHT_CM = 1.0


def file_name(sheet: SignIn) -> str:
    return f"Teilnahmeliste-{sheet.occurrence.id}.docx"


def to_docx(sheet: SignIn, texts: Texts, lang: str) -> bytes:
    """The sheet as a .docx document."""
    from zoneinfo import ZoneInfo

    from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    def t(key: str, **params: object) -> str:
        return texts.plain(lang, f"attendance.sheet_{key}", **params)

    occurrence = sheet.occurrence
    meeting = occurrence.meeting
    document = a4_document(side_margin_cm=2)
    core = document.core_properties
    core.title = f"{t('heading')} #{occurrence.id}"
    core.language = "de-DE" if lang == "de" else "en-GB"

    document.add_paragraph(t("heading"), style="Title")
    lines = [
        t("group", group=meeting.group.name),
        t("title", title=meeting.title),
        t("when", when=format_when(occurrence.starts_at, ZoneInfo(meeting.timezone), lang)),
    ]
    if meeting.location:
        lines.append(t("where", location=meeting.location))
    info = document.add_paragraph()
    for index, line in enumerate(lines):
        run = info.add_run(line)
        if index < len(lines) - 1:
            run.add_break()

    names = list(sheet.names)
    total = max(len(names) + BLANK_ROWS, ROWS_ON_FIRST_PAGE)
    values = [*names, *[("", "")] * (total - len(names))]
    table = document.add_table(rows=1 + total, cols=3)
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for r, row in enumerate(table.rows):
        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:cantSplit"))
        if r == 0:
            repeat = OxmlElement("w:tblHeader")
            repeat.set(qn("w:val"), "true")
            properties.append(repeat)
            cells = (t("column_name"), t("column_organisation"), t("column_signature"))
        else:
            row.height = Cm(ROW_HEIGHT_CM)
            row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
            cells = (*values[r - 1], "")
        for cell, value, width in zip(row.cells, cells, WIDTHS_CM, strict=True):
            cell.width = Cm(width)
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            run = paragraph.add_run(value)
            run.bold = r == 0
    for column, width in zip(table.columns, WIDTHS_CM, strict=True):
        column.width = Cm(width)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
