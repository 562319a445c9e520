"""The half-yearly report as Markdown: the blocks of `bot.render.report_layout`, written out.

User text is shown as written: every character Markdown gives a meaning
(`*`, `_`, `|`, `#`, `<`, ...) is escaped, and so are a number or a dash
that would start a list at the beginning of a line. For the same blocks
the Markdown is byte for byte the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.render.report_blocks import Block, Bullets, Heading, Paragraph, Quote, Subtitle, Table
from bot.render.report_text import shorten

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
    """The blocks as one Markdown text (the figure as an image link to the chart file)."""
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
