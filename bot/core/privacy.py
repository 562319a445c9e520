"""Data protection (SPEC 8): `/mydata` and `/forget`.

The notice of Art. 13 DSGVO is shown at registration. The operator edits it
as a plain text file: `PRIVACY_NOTICE_FILE` if set (one file for every
language), else the shipped `bot/privacy/datenschutz.<lang>.txt`. It names
the legal basis the operator chose (for a public body normally Art. 6 (1) (e)
DSGVO, the public task, not consent); the person acknowledges that they have
read it. The file is read once per process: restart the bot after editing it.

`/mydata` gives the person every row stored about them twice: as a readable
document in their language (`bot.render.my_data`: German headings, local
times, statuses in words) and as one JSON document for machines (the same
content, English keys, times in ISO 8601 with the offset of `TIMEZONE`). Both
include the person's own entries of the audit log (SPEC 2: what they changed
as coordination); what others did to them (an approval, a removal) is in
their memberships.
What follows a session (SPEC 13) is part of it: attendance (also where they
stood in for a member), corrections they proposed to minutes, tasks they
own, and deputyships as member and as deputy. The e-mail address (SPEC 15:
confirmed, pending, the choice) and the mails the bot sent are part of it.

`/forget` (after a confirmation button) erases name, username, organisation,
language, Telegram id, memberships and deputyships, and anonymises their
agenda items, stances, comments, corrections and tasks, which then show as
"ehemaliges Mitglied". Their e-mail address and every mail to it go
(`bot.core.email.erase`). Their attendance stays, without them: it is evidence
for the funding report, so the row keeps the organisation copied into it
and shows as "ehemaliges Mitglied" of it. An empty row stays behind so that
counts of the past (Zusagen of held sessions, delivery records, attendance
the coordination took) stay right; nothing in it points to the person.
Writing to the bot again afterwards starts as a new person.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import email
from bot.core.people import Caller, known
from storage.uow import UnitOfWork

FILE_NAME = "kimbot-meine-daten.json"
FORMER = "ehemaliges Mitglied"
"""What the audit log's details say instead of the name of a person who used /forget
(the log is the coordination's, in German, as "ehemaliges Mitglied" elsewhere)."""


async def my_data(uow: UnitOfWork, caller: Caller, now: datetime) -> dict[str, Any] | None:
    """Everything stored about the caller, or None when nothing is."""
    person = await known(uow, caller.telegram_id)
    if person is None:
        return None
    audit = [
        {
            "at": entry.at,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "detail": entry.detail or {},
        }
        for entry in await uow.audit.by_actor(person.id)
    ]
    return {"exported_at": now, **await uow.privacy.export(person), "audit_log": audit}


def as_json(data: dict[str, Any], tz: ZoneInfo) -> bytes:
    """The export as JSON; times in ISO 8601 in `tz`, with their offset."""

    def local(value: object) -> str:
        if isinstance(value, datetime):
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            return aware.astimezone(tz).isoformat()
        if isinstance(value, date):  # a local date already (a task's due date, a deputy's end)
            return value.isoformat()
        raise TypeError(f"not JSON: {type(value).__name__}")

    return json.dumps(data, ensure_ascii=False, indent=2, default=local).encode("utf-8")


async def forget(uow: UnitOfWork, caller: Caller, now: datetime) -> bool:
    """Erase the caller's data, also from the inbox of updates; False when nothing was stored."""
    await uow.inbox.forget_user(caller.telegram_id)
    person = await known(uow, caller.telegram_id)
    if person is not None:
        await email.erase(uow, person.id)
        await uow.privacy.erase(person, FORMER)
    await uow.flush()
    return person is not None
