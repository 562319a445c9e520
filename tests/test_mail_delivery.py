"""Mails of delivery records (SPEC 15), to a real SMTP server: each kind that
goes by e-mail (invitation with its calendar file, reminder, recommendation
with its stance links, announcement with its document, minutes with the Word
file, the coordinators' digest in HTML and plain text), in the person's language."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from docx import Document as WordDocument
from icalendar import Calendar
from sqlalchemy import select

from storage.mail_models import Mail
from storage.models import DeliveryKind, DeliveryStatus
from tests import test_minutes
from tests.harness import free_port
from tests.mailbox import Mailbox, attachments, confirmed, html_of, mail_env, text_of

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
held = test_minutes.held  # the fixture: a session held, with attendance
SUNDAY = datetime(2026, 12, 6, 19, 0, tzinfo=UTC)
MONDAY_8 = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # the scheduled digest, 08:00 in Berlin


@pytest.fixture
def pages() -> bool:
    """Whether the bot has PUBLIC_URL (links in mails); parametrize to change it."""
    return False


@pytest.fixture
def mail_extra() -> dict[str, str]:
    """More configuration beside the mail's; parametrize to change it."""
    return {}


@pytest.fixture
def bot_env(mailbox: Mailbox, pages: bool, mail_extra: dict[str, str]) -> dict[str, str]:
    return {**mail_env(mailbox, free_port() if pages else None), **mail_extra}


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


# --- each kind by mail ----------------------------------------------------------


async def member(bot, coordinator, name: str, slug: str = "ak-eu", language_code: str = "de"):  # type: ignore[no-untyped-def]
    person = await bot.person(name, username=name.lower(), language_code=language_code)
    await person.send("/start")
    await person.press(bot.label("registration.ack_button", language_code))
    await person.send(name)
    await person.send(f"Verein {name}")
    if language_code != "de":
        await person.send(f"/language {language_code}")
    await person.send(f"/join {slug}")
    await coordinator.send(f"/approve @{name.lower()}")
    return person


async def mails_of(bot) -> list[tuple[str, DeliveryKind | None, DeliveryStatus]]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        rows = (await uow.session.execute(select(Mail).order_by(Mail.id))).scalars().all()
        found = []
        for row in rows:
            delivery = await uow.deliveries.get(row.delivery_id) if row.delivery_id else None
            found.append((row.address, delivery.kind if delivery else None, row.status))
    return found


async def send_mails(bot) -> int:  # type: ignore[no-untyped-def]
    await bot.tick()
    return await bot.application.bot_data["mailer"].tick()


async def test_a_reminder_goes_by_mail_with_the_calendar_file(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    await coordinator.register("Sabine Weber")
    ana = await member(bot, coordinator, "Ana")
    await confirmed(bot, ana, "ana@example.org")
    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Sitzung im Rathaus")
    await send_mails(bot)
    await mailbox.wait_to("ana@example.org")
    bot.clock.set(datetime(2026, 12, 3, 13, 0, tzinfo=UTC))  # 7 days before
    await send_mails(bot)
    reminder = await mailbox.wait_to("ana@example.org", 2)
    assert "Erinnerung" in str(reminder["Subject"]) + text_of(reminder)
    assert "Sitzung im Rathaus" in text_of(reminder)
    assert reminder["Content-Language"] == "de"
    assert [a.get_content_type() for a in attachments(reminder)] == ["text/calendar"]
    kinds = [k for _, k, s in await mails_of(bot) if s is DeliveryStatus.SENT]
    assert kinds == [DeliveryKind.INVITATION, DeliveryKind.REMINDER]
    assert len(mailbox.to("ana@example.org")) == 2


@pytest.mark.parametrize("pages", [True])
async def test_a_recommendation_mail_carries_the_stance_links(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    await confirmed(bot, ana, "ana@example.org")
    replies = await coordinator.send("/recommend ak-eu Mehr Sprachkurse am Abend anbieten")
    assert "ist verschickt an" in replies[-1].text
    await send_mails(bot)
    mail = await mailbox.wait_to("ana@example.org")
    text = text_of(mail)
    assert "Mehr Sprachkurse am Abend anbieten" in text
    base = bot.settings.public_url
    for label in ("Zustimmung", "Bedenken", "Ablehnung"):
        assert re.search(rf"{label}: {re.escape(base)}/m/\S+", text), text
        assert f">{label}</a>" in html_of(mail)
    assert "Weitere Antworten" in text, "a comment is given in the chat"


async def test_without_public_url_a_recommendation_mail_has_no_links(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    await confirmed(bot, ana, "ana@example.org")
    await coordinator.send("/recommend ak-eu Mehr Sprachkurse am Abend anbieten")
    await send_mails(bot)
    mail = await mailbox.wait_to("ana@example.org")
    assert "Mehr Sprachkurse am Abend anbieten" in text_of(mail)
    assert "/m/" not in text_of(mail) + html_of(mail) and "Zustimmung:" not in text_of(mail)
    assert "im Chat mit dem Bot" in text_of(mail)


async def test_an_announcement_mail_has_the_document_telegram_keeps(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    await confirmed(bot, ana, "ana@example.org")
    await coordinator.send("/announce eu")
    coordinator.new()
    bot.emulator.send_document(coordinator.user, "Einladung.pdf", b"%PDF-1.4 Einladung", caption="Die Einladung.")
    await bot.settle()
    await coordinator.press("Senden", coordinator.new()[-1])
    await send_mails(bot)
    mail = await mailbox.wait_to("ana@example.org")
    assert "Mitteilung der KIM-Koordination" in text_of(mail) and "Die Einladung." in text_of(mail)
    [pdf] = attachments(mail)
    assert pdf.get_filename() == "Einladung.pdf" and pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == b"%PDF-1.4 Einladung"


async def test_the_scheduled_digest_goes_to_a_coordinator_as_html_and_plain_text(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(SUNDAY)
    await coordinator.register("Sabine Weber")
    await confirmed(bot, coordinator, "sabine@stadt.example.de")
    ana = await member(bot, coordinator, "Ana")
    await confirmed(bot, ana, "ana@example.org")
    await send_mails(bot)
    bot.clock.set(MONDAY_8)
    await send_mails(bot)
    mail = await mailbox.wait_to("sabine@stadt.example.de")
    assert str(mail["Subject"]).startswith("📋 Wochenübersicht")
    assert "AK EU · 1 Mitglied" in text_of(mail) and "<b>" not in text_of(mail)
    assert "<b>AK EU</b>" in html_of(mail) or "AK EU" in html_of(mail)
    assert mail.get_content_type() == "multipart/alternative"
    assert mailbox.to("ana@example.org") == [], "the digest is the coordinators'"


async def test_a_person_with_language_en_gets_english_mails(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ann = await member(bot, coordinator, "Ann", language_code="en")
    await confirmed(bot, ann, "ann@example.org")
    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Sitzung im Rathaus")
    await send_mails(bot)
    mail = await mailbox.wait_to("ann@example.org")
    assert mail["Content-Language"] == "en"
    assert "This e-mail comes from the KIM-Bot" in text_of(mail) and "Diese E-Mail" not in text_of(mail)
    assert "Sitzung im Rathaus" in text_of(mail) and "Invitation" in str(mail["Subject"]) + text_of(mail)


async def test_minutes_go_by_mail_the_draft_and_the_final_with_the_word_file(bot, coordinator, mailbox, held):  # type: ignore[no-untyped-def]
    people, session = held
    await confirmed(bot, people["Ana"], "ana@example.org")
    await coordinator.send(f"/minutes {session}")
    await coordinator.press("Überspringen")
    await coordinator.press("Überspringen")
    await coordinator.press("Zur Korrektur senden")
    await send_mails(bot)
    draft = await mailbox.wait_to("ana@example.org")
    assert "Entwurf: Ergebnisprotokoll" in str(draft["Subject"]) + text_of(draft)
    assert "Korrektur" in text_of(draft) and "im Chat mit dem Bot" in text_of(draft), "corrections in the chat"
    await coordinator.press("Freigeben")
    await coordinator.press("Ja, freigeben")
    await send_mails(bot)
    final = await mailbox.wait_to("ana@example.org", 2)
    assert "(freigegeben)" in text_of(final)
    [word] = attachments(final)
    assert word.get_filename() == f"Ergebnisprotokoll-{session}.docx"
    assert word.get_content_type() == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    read = WordDocument(io.BytesIO(word.get_content()))
    assert read.paragraphs[0].text == "Ergebnisprotokoll"
    assert [k for _, k, _ in await mails_of(bot)] == [DeliveryKind.MINUTES_DRAFT, DeliveryKind.MINUTES_FINAL]
