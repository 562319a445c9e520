"""Messages: fitting long texts into Telegram's 4096-character limit."""

from __future__ import annotations

LIMIT = 4000  # below 4096, room for a closing question or a line break


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Split at paragraph, then line, then word boundaries; never mid-entity.

    `text` must be plain or escaped text without HTML tags spanning a split
    point; escaped entities (`&amp;`) are kept whole.
    """
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cuts = [rest.rfind(sep, 0, limit) for sep in ("\n\n", "\n", " ")]
        cut = next((c for c in cuts if c > limit // 2), max(cuts))
        if cut <= 0:
            cut = limit
            amp = rest.rfind("&", cut - 8, cut)
            if amp != -1 and ";" not in rest[amp:cut]:
                cut = amp
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    chunks.append(rest)
    return [chunk for chunk in chunks if chunk] or [""]
