"""Mails of delivery records (SPEC 15): an invitation by e-mail as well as by
Telegram, with the calendar file attached, to a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from storage.mail_models import EmailAddress, Mail, MailMode
from storage.models import DeliveryStatus
from tests.mailbox import Mailbox, attachments, mail_env, text_of

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin


@pytest.fixture
async def mailbox():  # type: ignore[no-untyped-def]
    box = await Mailbox.start()
    try:
        yield box
    finally:
        await box.away()


@pytest.fixture
def bot_env(mailbox: Mailbox) -> dict[str, str]:
    return mail_env(mailbox)


async def confirmed(bot, person, address: str, mode: MailMode = MailMode.ALL) -> None:  # type: ignore[no-untyped-def]
    """A confirmed address, written as the confirmation would leave it."""
    async with bot.db.uow() as uow:
        row = await uow.people.by_telegram_id(person.id)
        assert row is not None
        uow.mail.add(
            EmailAddress(person_id=row.id, address=address, confirmed_at=bot.clock(), mode=mode, pending_tries=0)
        )
        await uow.commit()


async def test_an_invitation_goes_by_mail_too_with_the_calendar_file(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    await coordinator.register("Sabine Weber")
    ana = await bot.person("Ana", username="ana")
    await ana.register(organisation="Caritas")
    await ana.send("/join ak-eu")
    await coordinator.send("/approve @ana")
    await confirmed(bot, ana, "ana@example.org")

    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Sitzung im Rathaus")
    await bot.tick()
    await bot.application.bot_data["mailer"].tick()

    mail = await mailbox.wait_to("ana@example.org")
    assert "Sitzung im Rathaus" in str(mail["Subject"]) + text_of(mail)
    calendars = [a for a in attachments(mail) if a.get_content_type() == "text/calendar"]
    assert len(calendars) == 1
    (event,) = Calendar.from_ical(calendars[0].get_content()).walk("VEVENT")
    assert event.decoded("dtstart").astimezone(UTC) == datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
    assert any("Sitzung im Rathaus" in m.text for m in ana.messages)  # Telegram too
    async with bot.db.reader() as uow:
        rows = (await uow.session.execute(select(Mail))).scalars().all()
    assert [(r.address, r.status) for r in rows] == [("ana@example.org", DeliveryStatus.SENT)]
    assert timedelta(0) <= rows[0].sent_at - START  # type: ignore[operator]
