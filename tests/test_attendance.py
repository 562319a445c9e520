"""Attendance through the emulator: /here and "Ich bin da" in and outside their
window, the coordination's list (/attendance) with a check-in overridden, a
guest and "Fertig", a deputy checking in for the member, and bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage.admin_models import AuditEntry
from storage.followup_models import Attendance, AttendanceStatus, Deputy
from storage.models import Person

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
SESSION_AT = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # Thu 03.12.2026, 14:00 in Berlin
HERE = "🙋 Ich bin da"


@pytest.fixture
async def members(bot, coordinator):  # type: ignore[no-untyped-def]
    """Ana and Ben in AK EU, Carl in AK Ehrenamt."""
    bot.clock.set(START)
    found = {}
    for name, slug in (("Ana", "ak-eu"), ("Ben", "ak-eu"), ("Carl", "ak-ehrenamt")):
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=f"Verein {name}")
        await person.send(f"/join {slug}")
        await coordinator.send(f"/approve @{name.lower()}")
        found[name] = person
    return found


async def schedule(bot, coordinator, text: str = "ak-eu 03.12.2026 14:00 Auftakt | Rathaus") -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(f"/meeting {text}")
    found = re.search(r"Geplant als Sitzung #(\d+)", replies[-1].text)
    assert found, [r.text for r in replies]
    await bot.tick()
    return int(found.group(1))


async def rows(bot) -> list[Attendance]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return list((await uow.session.execute(select(Attendance).order_by(Attendance.id))).scalars().all())


async def person_id(bot, person) -> int:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        found = await uow.people.by_telegram_id(person.id)
        assert found is not None
        return found.id


def labels(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [label for row in message.buttons for label, _ in row]


async def test_check_in_before_during_and_after_its_window(bot, coordinator, members):
    session = await schedule(bot, coordinator)
    ana = members["Ana"]
    bot.clock.set(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))  # 13:00, an hour before
    [reply] = await ana.send("/here")
    assert f"Die nächste ist Sitzung #{session} „Auftakt“" in reply.text and "ab 13:30 Uhr" in reply.text
    [reply] = await ana.send(f"/here {session}")
    assert "Sie können sich ab 13:30 Uhr anmelden" in reply.text
    assert await rows(bot) == []

    bot.clock.set(datetime(2026, 12, 3, 12, 31, tzinfo=UTC))  # 13:31
    [reply] = await ana.send("/hier")
    assert "Sie sind angemeldet" in reply.text and f"#{session}" in reply.text
    [row] = await rows(bot)
    assert row.person_id == await person_id(bot, ana) and row.status is AttendanceStatus.PRESENT
    assert row.checked_in_at is not None and row.recorded_by_id is None and row.organisation == "Verein Ana"

    bot.clock.set(datetime(2026, 12, 3, 16, 1, tzinfo=UTC))  # 17:01, three hours after the start
    [reply] = await members["Ben"].send("/da")
    assert "Gerade läuft keine Sitzung" in reply.text
    [reply] = await members["Ben"].send(f"/here {session}")
    assert "nur bis 3 Stunden nach Beginn" in reply.text
    assert len(await rows(bot)) == 1, "no row for Ben"


async def test_several_sessions_in_the_window_ask_which(bot, coordinator, members):
    first = await schedule(bot, coordinator)
    second = await schedule(bot, coordinator, "ak-eu 03.12.2026 14:15 Zweite Runde")
    bot.clock.set(datetime(2026, 12, 3, 13, 5, tzinfo=UTC))
    [reply] = await members["Ana"].send("/here")
    assert "mehrere Sitzungen" in reply.text
    assert [label.split()[0] for label in labels(reply)] == [f"#{first}", f"#{second}"]
    assert await rows(bot) == []
    replies = await members["Ana"].press(labels(reply)[1])
    assert "Sie sind angemeldet" in replies[-1].text and "Zweite Runde" in replies[-1].text
    [row] = await rows(bot)
    assert row.occurrence_id == second


async def test_the_coordinator_overrides_a_check_in_adds_a_guest_and_completes(bot, coordinator, members):
    session = await schedule(bot, coordinator)
    ana, ben = members["Ana"], members["Ben"]
    await ana.press("✅ Zusage")
    await ben.press("❌ Absage")
    bot.clock.set(datetime(2026, 12, 3, 12, 45, tzinfo=UTC))
    await ana.send("/here")

    [card] = await coordinator.send(f"/anwesenheit {session}")
    assert "Ana (Verein Ana): anwesend · Zusage · selbst angemeldet" in card.text
    assert "Ben (Verein Ben): entschuldigt · Absage · vorausgefüllt" in card.text
    assert labels(card) == ["✅ Ana", "🟡 Ben", "➕ Gast hinzufügen", "✅ Fertig"]

    await coordinator.press("✅ Ana", card)  # anwesend → entschuldigt: overrides her check-in
    [row] = await rows(bot)
    assert row.status is AttendanceStatus.EXCUSED and row.checked_in_at is not None
    assert row.recorded_by_id == await person_id(bot, coordinator)
    edited = next(m for m in coordinator.messages if m.message_id == card.message_id)
    assert "Ana (Verein Ana): entschuldigt" in edited.text and "🟡 Ana" in labels(edited)

    await coordinator.press("➕ Gast hinzufügen", edited)
    assert "Max Muster, Caritas" in coordinator.last.text
    replies = await coordinator.send("Max Muster, Caritas")
    assert "Gast Max Muster ist für Sitzung" in replies[0].text
    assert "👤 Gast: Max Muster (Caritas)" in replies[-1].text

    replies = await coordinator.press("✅ Fertig", replies[-1])
    assert "0 anwesend, 2 entschuldigt, 0 abwesend; Gäste: 1" in replies[-1].text
    found = await rows(bot)
    assert {(r.guest_name, r.organisation, r.status) for r in found} == {
        (None, "Verein Ana", AttendanceStatus.EXCUSED),
        (None, "Verein Ben", AttendanceStatus.EXCUSED),
        ("Max Muster", "Caritas", AttendanceStatus.PRESENT),
    }
    assert all(r.recorded_by_id is not None for r in found), "attendance is taken"
    async with bot.db.reader() as uow:
        actions = (await uow.session.execute(select(AuditEntry.action))).scalars().all()
    assert {"attendance.set", "attendance.guest", "attendance.complete"} <= set(actions)


async def test_ich_bin_da_only_on_the_last_reminder(bot, coordinator, members):
    session = await schedule(bot, coordinator, "ak-eu 10.12.2026 14:00 Auftakt")
    ana = members["Ana"]
    invitation = next(m for m in ana.messages if "Auftakt" in m.text)
    assert HERE not in labels(invitation)
    for at in (datetime(2026, 12, 3, 13, 0, tzinfo=UTC), datetime(2026, 12, 9, 13, 0, tzinfo=UTC)):
        bot.clock.set(at)
        ana.new()
        assert await bot.tick() >= 1
        [reminder] = [m for m in ana.new() if "Auftakt" in m.text]
        assert HERE not in labels(reminder)
    bot.clock.set(datetime(2026, 12, 10, 11, 0, tzinfo=UTC))  # 12:00, two hours before
    ana.new()
    await bot.tick()
    [last] = [m for m in ana.new() if "Auftakt" in m.text]
    assert HERE in labels(last) and "✅ Zusage" in labels(last)
    replies = await ana.press(HERE, last)
    assert "Sie können sich ab 13:30 Uhr anmelden" in replies[-1].text
    await ana.press("✅ Zusage", last)
    redrawn = next(m for m in ana.messages if m.message_id == last.message_id)
    assert HERE in labels(redrawn), "an answer keeps the button"
    bot.clock.set(datetime(2026, 12, 10, 12, 40, tzinfo=UTC))
    replies = await ana.press(HERE, redrawn)
    assert "Sie sind angemeldet" in replies[-1].text
    [row] = await rows(bot)
    assert row.occurrence_id == session and row.status is AttendanceStatus.PRESENT


async def test_the_invitation_gets_the_button_when_no_reminder_comes(bot, coordinator, members):
    bot.clock.set(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))  # 13:00: the session in an hour
    await schedule(bot, coordinator, "ak-eu 03.12.2026 14:00 Kurzfristig")
    invitation = next(m for m in members["Ana"].messages if "Kurzfristig" in m.text)
    assert HERE in labels(invitation)


async def test_a_deputys_check_in_counts_for_the_member(bot, coordinator, members):
    session = await schedule(bot, coordinator)
    dave = await bot.person("Dave", username="dave")
    await dave.register(organisation="Verein Dave")
    ana_id = await person_id(bot, members["Ana"])
    dave_id = await person_id(bot, dave)
    async with bot.db.uow() as uow:
        uow.deputies.add(Deputy(member_id=ana_id, deputy_id=dave_id, created_at=START, accepted_at=START))
        await uow.commit()
    bot.clock.set(datetime(2026, 12, 3, 13, 10, tzinfo=UTC))
    [reply] = await dave.send("/here")
    assert "In Vertretung angemeldet für: Ana" in reply.text
    [row] = await rows(bot)
    assert (row.person_id, row.deputy_id, row.status) == (ana_id, dave_id, AttendanceStatus.PRESENT)
    assert row.organisation == "Verein Ana", "the member's organisation counts as present"
    [card] = await coordinator.send(f"/attendance {session}")
    assert "Ana (Verein Ana): anwesend · vertreten durch Dave" in card.text


async def test_bad_input_gives_a_clear_answer_and_no_rows(bot, coordinator, members):
    session = await schedule(bot, coordinator)
    [reply] = await coordinator.send("/attendance 999")
    assert "Eine Sitzung #999 gibt es nicht" in reply.text
    [reply] = await coordinator.send("/attendance zwölf")
    assert "keine Sitzungsnummer" in reply.text
    bot.clock.set(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))  # an hour before
    [reply] = await coordinator.send(f"/attendance {session}")
    assert "erst ab 03.12.2026 13:30" in reply.text and f"/attendance {session}" in reply.text
    bot.clock.set(datetime(2026, 12, 3, 13, 0, tzinfo=UTC))
    [reply] = await members["Carl"].send(f"/here {session}")
    assert "Sie sind nicht Mitglied in AK EU" in reply.text
    stranger = await bot.person("Eva", username="eva")
    await stranger.register()
    [reply] = await stranger.send("/here")
    assert "in keiner Gruppe Mitglied" in reply.text
    bot.clock.set(datetime(2026, 12, 10, 13, 1, tzinfo=UTC))  # seven days and a minute after
    [reply] = await coordinator.send(f"/attendance {session}")
    assert "nur bis 7 Tage nach der Sitzung" in reply.text
    assert await rows(bot) == []
    async with bot.db.reader() as uow:
        assert (await uow.session.execute(select(Person).where(Person.display_name == "Eva"))).scalar_one()


async def test_guided_attendance_offers_recent_sessions(bot, coordinator, members):
    session = await schedule(bot, coordinator)
    [reply] = await coordinator.send("/attendance")
    assert "keine Sitzung" in reply.text
    bot.clock.set(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    [reply] = await coordinator.send("/attendance")
    [label] = labels(reply)
    assert label == f"#{session} AK EU · Do 03.12. 14:00 · Auftakt"
    replies = await coordinator.press(label, reply)
    assert "Anwesenheit" in replies[-1].text and "Ana (Verein Ana): abwesend · vorausgefüllt" in replies[-1].text
