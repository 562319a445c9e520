"""The half-yearly report as a Word document: the blocks of `bot.render.report_layout`, written out.

A4, Arial, black headings, German as the document's language; on every
page a header with the office and the report's date and a footer "Seite 2
von 7" (PAGE and NUMPAGES fields); tables with columns sized to their
content (`bot.render.report_columns`), the caption kept with its table, no
row split across pages, small tables kept on one page, a header row that
repeats on every page and numbers set to the right; the participation
chart embedded at its own size, kept with its caption: close to a council template, and plain
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
from bot.render.report_blocks import Block, Bullets, Heading, Paragraph, Quote, Subtitle, Table
from bot.render.report_columns import layout
from bot.render.report_text import day_text, half_name, t
from bot.render.word import a4_document

if TYPE_CHECKING:
    from docx.document import Document as WordDocument
    from docx.oxml.table import CT_Tbl
    from docx.table import _Row
    from docx.text.paragraph import Paragraph as WordParagraph

CHART_WIDTH_CM = 16.0
TEXT_WIDTH_CM = 21.0 - 2 * 2.5
"""A4 less the left and right margins."""


def to_docx(blocks: Sequence[Block], chart_png: bytes, report: Report) -> bytes:
    """The same blocks as a Word document (A4, Arial, German), the chart embedded."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    document = a4_document(side_margin_cm=2.5)
    _header_and_footer(document, report)
    text_width = Cm(TEXT_WIDTH_CM)

    core = document.core_properties
    core.title = f"{t('title')}, {half_name(report.half)}"
    core.subject = t("subtitle", half=half_name(report.half))
    core.author = core.last_modified_by = t("author")
    core.language = "de-DE"
    core.created = core.modified = report.created.astimezone(UTC).replace(tzinfo=None)
    core.revision = 1

    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if isinstance(block, Heading):
            document.add_heading(block.text, level=block.level)
        elif isinstance(block, Subtitle):
            document.add_paragraph(block.text, style="Subtitle")
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph()
            if block.lead:
                paragraph.add_run(block.lead + (" " if block.text else "")).bold = True
            _add_lines(paragraph, block.text)
            # A lead alone introduces what follows; a paragraph before a table introduces the table.
            paragraph.paragraph_format.keep_with_next = (block.lead is not None and not block.text) or isinstance(
                following, Table
            )
        elif isinstance(block, Quote):
            _add_lines(document.add_paragraph(style="Quote"), block.text)
        elif isinstance(block, Bullets):
            for item in block.items:
                document.add_paragraph(item, style="List Bullet")
        elif isinstance(block, Table):
            _add_table(document, block, text_width)
        else:
            document.add_picture(io.BytesIO(chart_png), width=Cm(CHART_WIDTH_CM))
            picture = document.paragraphs[-1]
            picture.paragraph_format.keep_with_next = True
            picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
            document.add_paragraph(block.caption, style="Caption")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _add_lines(paragraph: WordParagraph, text: str) -> None:
    """Text with its line breaks kept, in one paragraph."""
    for index, line in enumerate(text.split("\n")):
        run = paragraph.add_run()
        if index:
            run.add_break()
        run.add_text(line)


KEPT_TOGETHER = 25
"""A table of up to this many rows is kept on one page (with its caption)."""


def _add_table(document: WordDocument, block: Table, text_width: int) -> None:
    """The caption kept with the table; columns sized to their content; rows never
    split across pages; the header row repeated; small tables kept on one page."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Emu, Pt

    if block.caption:
        caption = document.add_paragraph(block.caption, style="Caption")
        caption.paragraph_format.keep_with_next = True
    values = (block.header, *block.rows)
    bold = [r == 0 or (block.total and r == len(block.rows)) for r in range(len(values))]
    columns = layout(values, bold, Emu(text_width).pt, full_width=len(block.header) > 3, numeric=block.numeric)
    table = document.add_table(rows=len(values), cols=len(block.header))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _fixed_layout(table._tbl, sum(columns.widths_pt))
    keep = len(values) <= KEPT_TOGETHER
    for r, (table_row, cells) in enumerate(zip(table.rows, values, strict=True)):
        _row_properties(table_row, header=r == 0)
        for c, (cell, value) in enumerate(zip(table_row.cells, cells, strict=True)):
            cell.width = Pt(columns.widths_pt[c])
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            paragraph.paragraph_format.keep_with_next = keep and r < len(values) - 1
            run = paragraph.add_run(value)
            run.bold = bold[r]
            run.font.size = Pt(columns.font_pt)
            if block.numeric[c] and r > 0:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for column, width in zip(table.columns, columns.widths_pt, strict=True):
        column.width = Pt(width)
    document.add_paragraph()


def _fixed_layout(tbl: CT_Tbl, width_pt: float) -> None:
    """A fixed table layout of the given width: Word and LibreOffice keep the columns as set."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = tbl.tblPr
    for tag in ("w:tblW", "w:tblLayout"):
        for old in properties.findall(qn(tag)):
            properties.remove(old)
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), str(round(width_pt * 20)))
    width.set(qn("w:type"), "dxa")
    properties.append(width)
    fixed = OxmlElement("w:tblLayout")
    fixed.set(qn("w:type"), "fixed")
    properties.append(fixed)


def _row_properties(row: _Row, *, header: bool) -> None:
    """A row never split across two pages; the header row repeated on every page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    properties.append(OxmlElement("w:cantSplit"))
    if header:
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        properties.append(repeat)


def _header_and_footer(document: WordDocument, report: Report) -> None:
    """The office and the report's date at the top of every page; "Seite 2 von 7" at the foot."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
    from docx.shared import Cm, Pt

    section = document.sections[0]
    right = Cm(TEXT_WIDTH_CM)
    header = section.header.paragraphs[0]
    stops = header.paragraph_format.tab_stops
    for inherited in document.styles["Header"].paragraph_format.tab_stops:
        stops.add_tab_stop(inherited.position, WD_TAB_ALIGNMENT.CLEAR)  # the template's Letter-size stops
    stops.add_tab_stop(right, WD_TAB_ALIGNMENT.RIGHT)
    office = header.add_run(t("office"))
    office.bold = True
    header.add_run("\t" + t("header_right", half=half_name(report.half), date=day_text(report.today)))
    for run in header.runs:
        run.font.size = Pt(9)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    before, _, rest = t("footer_page", page=_PAGE, pages=_PAGES).partition(_PAGE)
    middle, _, after = rest.partition(_PAGES)
    for text, field in ((before, "PAGE"), (middle, "NUMPAGES"), (after, None)):
        if text:
            footer.add_run(text).font.size = Pt(9)
        if field:
            _field(footer, field)


_PAGE, _PAGES = "\x00", "\x01"
"""Where the footer's text has its two fields."""


def _field(paragraph: WordParagraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that the reader's program fills in."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    for kind, text in (("begin", None), (None, f" {instruction} "), ("separate", None), (None, "1"), ("end", None)):
        run = paragraph.add_run()
        run.font.size = Pt(9)
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text and text.strip() == instruction:
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = text
            run._r.append(code)
        else:
            run.add_text(text or "")
