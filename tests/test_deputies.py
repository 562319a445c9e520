"""Deputies (/deputy, SPEC 13) through the emulator: naming, acceptance and
decline, the copies of the member's invitations, reminders and feedback
requests during the period and none after, answers in the member's place,
and bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select

from storage.followup_models import Deputy
from storage.models import Delivery, DeliveryKind, DeliveryStatus, Person, Rsvp, RsvpAnswer, Stance, StanceValue

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
MARK = "In Vertretung für Ana (Verein Ana)"


@pytest.fixture
async def people(bot, coordinator):  # type: ignore[no-untyped-def]
    """Ana and Ben in AK EU; Dina and Eva registered, in no group."""
    bot.clock.set(START)
    found = {}
    for name, slug in (("Ana", "ak-eu"), ("Ben", "ak-eu"), ("Dina", None), ("Eva", None)):
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=f"Verein {name}")
        if slug:
            await person.send(f"/join {slug}")
            await coordinator.send(f"/approve @{name.lower()}")
        found[name] = person
    return found


def copies(person) -> list:  # type: ignore[no-untyped-def]
    return [m for m in person.messages if MARK in m.text]


def labels(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [label for row in message.buttons for label, _ in row]


async def rows_of(bot, model):  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return list((await uow.session.execute(select(model).order_by(model.id))).scalars().all())


async def person_id(bot, person) -> int:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        row = (await uow.session.execute(select(Person).where(Person.telegram_id == person.id))).scalar_one()
        return row.id


async def send_all(bot) -> None:  # type: ignore[no-untyped-def]
    """The timer's round, and the next one that sends the deputies' copies."""
    await bot.tick()
    await bot.tick()


async def accepted(bot, member, deputy, args: str = "") -> None:  # type: ignore[no-untyped-def]
    replies = await member.send(f"/deputy @{deputy.user.username} {args}".strip())
    assert "um Vertretung gebeten" in replies[-1].text, replies[-1].text
    assert "Bitte um Vertretung" in deputy.last.text
    await deputy.press("Annehmen")
    assert "Sie vertreten jetzt Ana (Verein Ana)" in deputy.last.text
    assert "hat die Vertretung angenommen" in member.last.text


async def test_the_deputy_gets_exactly_the_members_messages_until_the_end_date(bot, coordinator, people):
    ana, dina = people["Ana"], people["Dina"]
    await accepted(bot, ana, dina, "bis 09.12.2026")
    assert "bis einschließlich 09.12.2026" in ana.last.text

    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Auftakt")
    await send_all(bot)
    [invitation] = copies(dina)
    assert "Einladung" in invitation.text and "Auftakt" in invitation.text
    assert "Ana hat noch nicht geantwortet" in invitation.text
    assert labels(invitation)[:3] == ["✅ Zusage", "❌ Absage", "❔ Vielleicht"]
    assert all(data.startswith(("wr:", "wk:")) for row in invitation.buttons for _, data in row), invitation.buttons
    assert "/agenda ak-eu" in ana.texts[-1] and "Haben Sie ein Thema" in ana.texts[-1]
    assert "/agenda" not in invitation.text and "Haben Sie ein Thema" not in invitation.text, "Ana proposes her own"

    await coordinator.send("/recommend ak-eu Mehr Sprachkurse am Abend")
    await send_all(bot)
    recommendation = copies(dina)[-1]
    assert "Mehr Sprachkurse am Abend" in recommendation.text
    assert "Kommentar" not in " ".join(labels(recommendation)), "a comment is the member's own words"
    assert "Tippen Sie für Ana auf Zustimmung" in recommendation.text and "/feedback" not in recommendation.text

    # Dina answers for Ana: saved as Ana's, Ana is told, Dina's message shows it.
    await dina.press("✅ Zusage", invitation)
    [rsvp] = await rows_of(bot, Rsvp)
    assert rsvp.person_id == await person_id(bot, ana) and rsvp.answer is RsvpAnswer.YES
    assert "Dina (Verein Dina) hat für Sie geantwortet: Zusage" in ana.last.text and "Auftakt" in ana.last.text
    shown = next(m for m in dina.messages if m.message_id == invitation.message_id)
    assert shown.text.endswith("Ana hat zugesagt.") and "✓" in labels(shown)[0]
    await dina.press("Zustimmung", recommendation)
    [stance] = await rows_of(bot, Stance)
    assert stance.person_id == await person_id(bot, ana) and stance.value is StanceValue.AGREE
    assert "Stellung genommen: Zustimmung" in ana.last.text

    bot.clock.set(datetime(2026, 12, 3, 13, 0, 1, tzinfo=UTC))  # the 7-day reminder
    await send_all(bot)
    assert "Erinnerung" in copies(dina)[-1].text and "Ana hat zugesagt." in copies(dina)[-1].text
    bot.clock.set(datetime(2026, 12, 9, 13, 0, 1, tzinfo=UTC))  # the 1-day reminder, on the end date
    await send_all(bot)
    assert len(copies(dina)) == 4
    bot.clock.set(datetime(2026, 12, 10, 11, 0, 1, tzinfo=UTC))  # the 2-hour reminder, the day after
    await send_all(bot)
    assert sum("⏰ Erinnerung" in t for t in ana.texts) == 3
    assert len(copies(dina)) == 4, "nothing after the end date"
    assert not any("Vertretung für Ben" in t for t in dina.texts)
    kinds = [d.kind for d in await rows_of(bot, Delivery) if d.person_id == await person_id(bot, dina)]
    assert kinds.count(DeliveryKind.DEPUTY_COPY) == 4


async def test_deputy_off_ends_the_copies_even_one_already_planned(bot, coordinator, people):
    ana, dina = people["Ana"], people["Dina"]
    await accepted(bot, ana, dina)
    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Auftakt")
    await send_all(bot)
    assert len(copies(dina)) == 1
    bot.clock.set(datetime(2026, 12, 3, 13, 0, 1, tzinfo=UTC))
    await send_all(bot)
    assert len(copies(dina)) == 2
    replies = await ana.send("/deputy off")
    assert "Die Vertretung durch Dina (Verein Dina) ist beendet" in replies[-1].text
    assert "Ana (Verein Ana) hat die Vertretung beendet" in dina.last.text
    # A copy planned before the end but not sent yet is not sent after it.
    ana_id, dina_id = await person_id(bot, ana), await person_id(bot, dina)
    sent = [d for d in await rows_of(bot, Delivery) if d.kind is DeliveryKind.REMINDER and d.sent_at]
    reminder = next(d for d in sent if d.person_id == ana_id)
    async with bot.db.uow() as uow:  # as if the copy of Ana's reminder had waited
        await uow.session.execute(delete(Delivery).where(Delivery.copy_of_id == reminder.id))
        await uow.deliveries.insert_many(
            [
                {
                    "copy_of_id": reminder.id,
                    "person_id": dina_id,
                    "kind": DeliveryKind.DEPUTY_COPY,
                    "due_at": bot.clock(),
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                }
            ]
        )
        await uow.commit()
    await bot.tick()
    late = [d for d in await rows_of(bot, Delivery) if d.kind is DeliveryKind.DEPUTY_COPY][-1]
    assert (late.status, late.error) == (DeliveryStatus.SKIPPED, "deputyship ended")
    bot.clock.set(datetime(2026, 12, 9, 13, 0, 1, tzinfo=UTC))
    await send_all(bot)
    assert sum("⏰ Erinnerung" in t for t in ana.texts) == 2
    assert len(copies(dina)) == 2, "nothing after /deputy off"
    # Answering for Ana is over too.
    invitation = copies(dina)[0]
    await dina.press("✅ Zusage", invitation)
    assert "nicht die Vertretung dieses Mitglieds" in dina.last.text
    assert await rows_of(bot, Rsvp) == []


async def test_decline_accept_state_and_one_member_at_a_time(bot, coordinator, people):
    ana, ben, dina, eva = people["Ana"], people["Ben"], people["Dina"], people["Eva"]
    await ana.send("/vertretung @dina")
    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Auftakt")
    await send_all(bot)
    assert copies(dina) == [], "nothing before the deputy accepts"
    await dina.press("Ablehnen")
    assert "abgelehnt" in dina.last.text and "Dina (Verein Dina) hat die Vertretung abgelehnt" in ana.last.text
    [row] = await rows_of(bot, Deputy)
    assert row.ended_at is not None and row.accepted_at is None

    await accepted(bot, ana, eva)
    replies = await ben.send("/deputy @eva")
    assert "Eva vertritt schon ein anderes Mitglied" in replies[-1].text
    replies = await ana.send("/deputy")
    assert "Ihre Vertretung: Eva (Verein Eva), ohne Enddatum" in replies[-1].text
    assert "/deputy @maria_s bis" in replies[-1].text
    replies = await eva.send("/deputy")
    assert "Sie vertreten Ana (Verein Ana)" in replies[-1].text

    # Naming someone else ends Eva's deputyship; Eva is told.
    await ana.send("/deputy @dina")
    assert "Ana (Verein Ana) hat die Vertretung beendet" in eva.last.text
    await dina.press("Annehmen")
    await ana.send("/deputy")
    await ana.press("Beenden")
    assert "Ana (Verein Ana) hat die Vertretung beendet" in dina.last.text
    deputyships = await rows_of(bot, Deputy)
    assert len(deputyships) == 3 and all(d.ended_at is not None for d in deputyships)
    replies = await ana.send("/deputy")
    assert "Sie haben keine Vertretung" in replies[-1].text


@pytest.mark.parametrize(
    ("who", "text", "answer"),
    [
        ("Ana", "/deputy @ana", "nicht selbst vertreten"),
        ("Ana", "/deputy @niemand", "Ich kenne niemanden mit „@niemand“"),
        ("Ana", "/deputy @dina bis 30.11.2026", "liegt in der Vergangenheit"),
        ("Ana", "/deputy @dina bis morgen", "„morgen“ ist kein Datum"),
        ("Ana", "/deputy @dina bis", "fehlt das Datum"),
        ("Dina", "/deputy @eva", "nur Mitglieder einer Gruppe"),
        ("Ana", "/deputy off", "Sie haben keine Vertretung"),
    ],
)
async def test_bad_input_gets_a_clear_answer_and_changes_nothing(bot, people, who, text, answer):
    before = await bot.every_row()
    replies = await people[who].send(text)
    assert answer in replies[-1].text, replies[-1].text
    assert "/deputy" in replies[-1].text or "/groups" in replies[-1].text, "with an example"
    assert await bot.every_row() == before


async def test_only_the_asked_person_decides_and_only_the_deputy_answers(bot, coordinator, people):
    ana, ben, dina = people["Ana"], people["Ben"], people["Dina"]
    await ana.send("/deputy @dina")
    request = dina.last
    before = await bot.every_row()
    [data] = [d for row in request.buttons for label, d in row if label == "Annehmen"]
    replies = await ben.press_data(data, ben.last)
    assert "betrifft Sie nicht" in replies[-1].text
    assert await bot.every_row() == before
    await dina.press("Annehmen")
    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Auftakt")
    await send_all(bot)
    [copy] = copies(dina)
    [forged] = [d for row in copy.buttons for label, d in row if label == "✅ Zusage"]
    before = await bot.every_row()
    replies = await ben.press_data(forged, ben.last)
    assert "nicht die Vertretung dieses Mitglieds" in replies[-1].text
    assert await bot.every_row() == before
    await dina.press("📅 In meinen Kalender", copy)  # the member's session, though Dina is in no group
    assert dina.last.document is not None and dina.last.document.name.endswith(".ics")
