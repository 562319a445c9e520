"""The participation chart of the half-yearly report: Zusagen per session, one panel per group.

One row of bars per group, the sessions in time order, all rows on the same
scale so the groups can be compared. The size in pixels is fixed by the
number of groups (`size_for`) and declared with the image (`Chart`), so the
Word document can place it at a known width.

matplotlib is imported inside `participation_chart`, not at module level:
the bot starts without it, and only a report pays for the import. The
figure is drawn with the Agg canvas directly (no pyplot and its global
state), so it may run in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

DPI = 100
WIDTH_PX = 1600
TOP_PX = 90
PANEL_PX = 190
BOTTOM_PX = 30
LABELLED_BARS = 24
"""Up to this many sessions in a row, each bar carries its number and date."""
COLOUR = "#1f4e79"
LEFT, RIGHT = 0.07, 0.98
"""The plot area's share of the width."""


@dataclass(frozen=True)
class Series:
    """One group's row: a label per session (its date) and its Zusagen."""

    name: str
    labels: tuple[str, ...]
    values: tuple[int, ...]


@dataclass(frozen=True)
class Chart:
    png: bytes
    width_px: int
    height_px: int


def size_for(groups: int) -> tuple[int, int]:
    """Width and height in pixels of the chart for this many groups."""
    return WIDTH_PX, TOP_PX + PANEL_PX * max(1, groups) + BOTTOM_PX


def participation_chart(title: str, axis: str, empty: str, series: Sequence[Series]) -> Chart:
    """The chart as PNG; `axis` names the y axis, `empty` marks a group without sessions."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    width, height = size_for(len(series))
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=15, y=1 - 30 / height)
    rows = max(1, len(series))
    top = 1 - TOP_PX / height
    bottom = BOTTOM_PX / height
    figure.subplots_adjust(left=LEFT, right=RIGHT, top=top, bottom=bottom, hspace=0.9)
    highest = max((max(s.values) for s in series if s.values), default=0)
    limit = max(4, highest) * 1.2
    for index in range(rows):
        ax = figure.add_subplot(rows, 1, index + 1)
        ax.set_ylim(0, limit)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        ax.set_ylabel(axis, fontsize=9)
        ax.tick_params(labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if index >= len(series):
            ax.set_xticks([])
            continue
        row = series[index]
        ax.set_title(row.name, loc="left", fontsize=11, fontweight="bold")
        if not row.values:
            ax.set_xticks([])
            ax.set_xlim(0, 1)
            ax.text(0.5, limit / 2, empty, ha="center", va="center", fontsize=10, color="#555555")
            continue
        positions = range(len(row.values))
        ax.set_xlim(-0.6, max(len(row.values), 8) - 0.4)
        if len(row.values) <= LABELLED_BARS:
            bars = ax.bar(positions, row.values, width=0.7, color=COLOUR)
            ax.bar_label(bars, fontsize=8, padding=2)
            ax.set_xticks(list(positions), row.labels, fontsize=8)
        else:
            # Hundreds of sessions: one collection of lines draws much faster than a patch per bar.
            plot_px = width * (RIGHT - LEFT)
            line_points = max(0.5, 0.7 * plot_px / len(row.values) * 72 / DPI)
            ax.vlines(list(positions), 0, row.values, colors=COLOUR, linewidth=line_points)
            step = -(-len(row.values) // LABELLED_BARS)
            shown = list(positions)[::step]
            ax.set_xticks(shown, [row.labels[i] for i in shown], fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return Chart(buffer.getvalue(), width, height)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (IHDR)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
