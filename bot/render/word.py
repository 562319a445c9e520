"""Word documents of KIM-Bot: A4 with sober styles (Arial, black headings,
German), the one starting point of the report, the minutes and the sign-in
sheet (python-docx, imported only when a document is made)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docx.document import Document as WordDocument

FONT = "Arial"
STYLED = ("Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Caption", "Quote", "List Bullet")


def sober_styles(document: WordDocument) -> None:
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


def a4_document(side_margin_cm: float) -> WordDocument:
    """A new document: A4 portrait, 2 cm at top and bottom, `side_margin_cm` left
    and right, sober styles."""
    from docx import Document
    from docx.shared import Cm

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(side_margin_cm)
    section.top_margin = section.bottom_margin = Cm(2)
    sober_styles(document)
    return document
