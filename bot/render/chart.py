"""The participation chart of the half-yearly report: per session the members present
where attendance was taken, else the Zusagen (hatched bars when both occur), grouped by Gremium.

One set of axes: the held sessions as bars in time order, the sessions of
one Gremium side by side in its colour, a small gap between two Gremien, a
legend naming them. Only Gremien with a held session have bars, so there is
no empty slot; the report names the others below the chart. Each bar
carries its number and, below it, its date, as long as they stay readable
(`LABELLED_BARS`); beyond that the dates are thinned out and the numbers left
to the tables.

The figure is drawn at the size it has in the Word document (`WIDTH_CM`
wide, at `DPI`), so a 8-point label in the figure is an 8-point label on
paper: nothing is shrunk. The size in pixels is fixed (`size_for`) and
declared with the image (`Chart`).

matplotlib is imported inside `participation_chart`, not at module level:
the bot starts without it, and only a report pays for the import. The
figure is drawn with the Agg canvas directly (no pyplot and its global
state), so it may run in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

DPI = 200
WIDTH_CM = 16.0
HEIGHT_CM = 8.5
LABELLED_BARS = 40
"""Up to this many bars, each carries its number and its date."""
GAP = 0.8
"""The space between two Gremien, in bar widths."""
COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#2e75b6", "#bf9000", "#843c0c", "#404040")
"""One per Gremium, in order; dark enough for black-and-white print and for the white numbers' contrast."""
FONTS = ("Arial", "Liberation Sans", "Helvetica")
"""The document's font (or one with its metrics), else matplotlib's sans-serif."""


@dataclass(frozen=True)
class Series:
    """One Gremium's sessions: a label per session (its date) and its Zusagen."""

    name: str
    labels: tuple[str, ...]
    values: tuple[int, ...]
    measured: tuple[bool, ...] = ()
    """Per bar: counted from attendance (solid) or from Zusagen (hatched); empty: all solid."""


@dataclass(frozen=True)
class Chart:
    png: bytes
    width_px: int
    height_px: int


def size_for() -> tuple[int, int]:
    """Width and height in pixels of the chart (16 x 8.5 cm at 200 dpi)."""
    return round(WIDTH_CM / 2.54 * DPI), round(HEIGHT_CM / 2.54 * DPI)


def participation_chart(title: str, axis: str, empty: str, series: Sequence[Series]) -> Chart:
    """The chart as PNG; `axis` names the y axis, `empty` is written when no Gremium met."""
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    installed = {font.name for font in font_manager.fontManager.ttflist}
    font = next((name for name in FONTS if name in installed), "sans-serif")
    width, height = size_for()
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0.08, 0.2, 0.9, 0.55))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    figure.suptitle(title, fontsize=10, fontweight="bold", family=font, y=0.97)
    shown = [s for s in series if s.values]
    total = sum(len(s.values) for s in shown)
    if not shown:
        ax.set_axis_off()
        ax.text(0.5, 0.5, empty, ha="center", va="center", fontsize=10, family=font, transform=ax.transAxes)
        return _png(figure, width, height)
    highest = max(max(s.values) for s in shown)
    ax.set_ylim(0, max(4, highest) * 1.18)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.set_ylabel(axis, fontsize=8, family=font)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="y", color="#d9d9d9", linewidth=0.5)
    ax.set_axisbelow(True)
    labelled = total <= LABELLED_BARS
    step = 1 if labelled else -(-total // LABELLED_BARS)
    ticks: list[float] = []
    tick_labels: list[str] = []
    x = 0.0
    for index, row in enumerate(shown):
        positions = [x + n for n in range(len(row.values))]
        colour = COLOURS[index % len(COLOURS)]
        if total <= 4 * LABELLED_BARS:
            bars = ax.bar(positions, row.values, width=0.75, color=colour, label=row.name)
            for bar, measured in zip(bars, row.measured, strict=False):
                if not measured:  # Zusagen where attendance was not taken
                    bar.set_facecolor("white")
                    bar.set_edgecolor(colour)
                    bar.set_hatch("////")
            if labelled:
                ax.bar_label(bars, fontsize=7.5, padding=1.5, family=font)
        else:
            # Hundreds of sessions: one collection of lines draws much faster than a patch per bar.
            ax.vlines(positions, 0, row.values, colors=colour, linewidth=1.0, label=row.name)
        ticks += positions
        tick_labels += list(row.labels)
        x = positions[-1] + 1 + GAP
    ax.set_xlim(-0.6, x - GAP - 0.4)
    ax.set_xticks(ticks[::step], tick_labels[::step], rotation=90, fontsize=7.5, family=font)
    ax.tick_params(axis="x", length=0, pad=3)
    columns = min(3, len(shown))
    handles, names = ax.get_legend_handles_labels()
    order = [i for c in range(columns) for i in range(c, len(handles), columns)]  # read row by row
    ax.legend(
        [handles[i] for i in order],
        [names[i] for i in order],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.02),
        ncols=columns,
        frameon=False,
        handlelength=1.2,
        columnspacing=1.5,
        prop={"family": font, "size": 8},
    )
    return _png(figure, width, height)


def _png(figure: MplFigure, width: int, height: int) -> Chart:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return Chart(buffer.getvalue(), width, height)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (IHDR)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
