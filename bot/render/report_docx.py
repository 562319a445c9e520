"""The half-yearly report as a Word document: the blocks of `bot.render.report_layout`, written out.

A4, Arial, black headings, German as the document's language, tables with
a header row that repeats on every page and numbers set to the right, the
participation chart embedded: close to a council template, and plain
enough that the template's own styles take over when the text is pasted
into it. The document's properties (title, subject, author, creation time)
come from the report, so the same report gives the same document.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING

from bot.core.report import Report
from bot.render.report_layout import Block, Bullets, Heading, Paragraph, Quote, Subtitle, Table
from bot.render.report_text import half_name, t

if TYPE_CHECKING:
    from docx.document import Document as WordDocument
    from docx.table import _Row
    from docx.text.paragraph import Paragraph as WordParagraph

CHART_WIDTH_CM = 16.0


def to_docx(blocks: Sequence[Block], chart_png: bytes, report: Report) -> bytes:
    """The same blocks as a Word document (A4, Arial, German), the chart embedded."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
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
            _repeat_header(table.rows[0])
            document.add_paragraph()
        else:
            document.add_picture(io.BytesIO(chart_png), width=Cm(CHART_WIDTH_CM))
            document.add_paragraph(block.caption, style="Caption")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


FONT = "Arial"
STYLED = ("Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Caption", "Quote", "List Bullet")


def _sober_styles(document: WordDocument) -> None:
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


def _add_lines(paragraph: WordParagraph, text: str) -> None:
    """Text with its line breaks kept, in one paragraph."""
    for index, line in enumerate(text.split("\n")):
        run = paragraph.add_run()
        if index:
            run.add_break()
        run.add_text(line)


def _repeat_header(row: _Row) -> None:
    """Mark the header row to repeat on every page a long table spans."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)
