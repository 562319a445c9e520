"""The demo's e-mail addresses (SPEC 15), given and confirmed as in the chat.

Two personas gave an address `EMAIL_DAYS_AGO` (`bot.dev.sandbox.demo_data.EMAIL`)
with `/email <address>` and typed the code from the confirmation mail: Ana
wants everything also by e-mail, Mehmet only when Telegram cannot reach him.
So the demo's invitations, the open recommendation and the announcement go to
Ana by e-mail too (the sandbox's Postfach shows them), and nothing to Mehmet
while Telegram reaches him. The confirmation mails of then are marked skipped
(`HISTORY_SKIPPED`), as the history's messages are.

Only with e-mail on (`settings.mail_on`, as in the sandbox); otherwise nobody
has an address.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from bot.core import email, mail_links
from bot.core.config import Settings
from bot.dev.sandbox.demo_data import EMAIL, EMAIL_DAYS_AGO
from storage.database import Database
from storage.mail_models import Mail, MailMode, MailPurpose
from storage.models import DeliveryStatus

CODE_TYPED_AFTER = timedelta(minutes=7)


async def confirm_addresses(
    db: Database, users: dict[str, Any], settings: Settings, now: datetime, skipped: str
) -> None:
    """`/email <address>`, the code typed, the choice pressed; the old confirmation mails `skipped`."""
    if not settings.mail_on:
        return
    asked = now - timedelta(days=EMAIL_DAYS_AGO)
    typed = asked + CODE_TYPED_AFTER
    async with db.uow() as uow:
        for key, (address, everything) in EMAIL.items():
            person = await uow.people.by_telegram_id(users[key].id)
            assert person is not None, key
            given = await email.request(uow, person, address, settings, asked)
            code = mail_links.code(settings, person.id, given, asked)
            await email.confirm_code(uow, person, code, settings, typed)
            await email.set_mode(uow, person, MailMode.ALL if everything else MailMode.FALLBACK, typed)
        await uow.session.execute(
            update(Mail)
            .where(Mail.purpose == MailPurpose.CONFIRM, Mail.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.SKIPPED, error=skipped)
        )
        await uow.commit()
