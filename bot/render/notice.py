"""The privacy notice of Art. 13 DSGVO, shown at registration (SPEC 8).

The operator edits it as a plain text file: `PRIVACY_NOTICE_FILE` if set (one
file for every language), else the shipped `bot/render/privacy/datenschutz.<lang>.txt`.
It names the legal basis the operator chose (for a public body normally
Art. 6 (1) (e) DSGVO, the public task, not consent); the person acknowledges
that they have read it. The file is read once per process: restart the bot
after editing it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from bot.core.config import Settings

SHIPPED = Path(__file__).parent / "privacy"


def privacy_notice(settings: Settings, lang: str) -> str:
    path = settings.privacy_notice_file or SHIPPED / f"datenschutz.{lang}.txt"
    if not path.is_file():
        path = SHIPPED / "datenschutz.de.txt"
    return _read(path)


@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()
