"""Data protection (SPEC 8): `/mydata` and `/forget`.

The notice of Art. 13 DSGVO is shown at registration. The operator edits it
as a plain text file: `PRIVACY_NOTICE_FILE` if set (one file for every
language), else the shipped `bot/privacy/datenschutz.<lang>.txt`. It names
the legal basis the operator chose (for a public body normally Art. 6 (1) (e)
DSGVO, the public task, not consent); the person acknowledges that they have
read it. The file is read once per process: restart the bot after editing it.

`/mydata` gives the person every row stored about them as one JSON document.
`/forget` (after a confirmation button) erases name, username, organisation,
language, Telegram id and memberships, and anonymises their agenda items,
stances and comments, which then show as "ehemaliges Mitglied". An empty row
stays behind so that counts of the past (Zusagen of held sessions, delivery
records) stay right; nothing in it points to the person. Writing to the bot
again afterwards starts as a new person.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.core.people import Caller, known
from storage.uow import UnitOfWork

FILE_NAME = "kimbot-meine-daten.json"


async def my_data(uow: UnitOfWork, caller: Caller, now: datetime) -> dict[str, Any] | None:
    """Everything stored about the caller, or None when nothing is."""
    person = await known(uow, caller.telegram_id)
    if person is None:
        return None
    return {"exported_at": now.isoformat(), **await uow.privacy.export(person)}


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


async def forget(uow: UnitOfWork, caller: Caller, now: datetime) -> bool:
    """Erase the caller's data, also from the inbox of updates; False when nothing was stored."""
    await uow.inbox.forget_user(caller.telegram_id)
    person = await known(uow, caller.telegram_id)
    if person is not None:
        await uow.privacy.erase(person)
    await uow.flush()
    return person is not None
