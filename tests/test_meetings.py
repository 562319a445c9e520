"""Sessions and reminders through the emulator, with the bot's clock under control."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage.models import Delivery, DeliveryStatus, Occurrence

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin


@pytest.fixture
async def group(bot, coordinator):  # type: ignore[no-untyped-def]
    """Ana and Ben in AK EU, Carl in AK Ehrenamt; the clock at START."""
    bot.clock.set(START)
    members = {}
    for name, slug in (("Ana", "ak-eu"), ("Ben", "ak-eu"), ("Carl", "ak-ehrenamt")):
        person = await bot.person(name, username=name.lower())
        await person.register()
        await person.send(f"/join {slug}")
        await coordinator.send(f"/approve @{name.lower()}")
        members[name] = person
    return members


def session_id(text: str) -> int:
    return int(text.split("#")[1].split()[0].rstrip("."))


async def schedule(bot, coordinator, command: str) -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(command)
    assert "Geplant als Sitzung #" in replies[-1].text, replies[-1].text
    await bot.tick()
    return session_id(replies[-1].text.split("Geplant als Sitzung")[1])


async def test_scheduling_invites_exactly_the_members(bot, coordinator, group):
    sid = await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt AK EU | Rathaus Barmen, Raum 210")
    for name in ("Ana", "Ben"):
        invitation = group[name].last
        assert "Einladung" in invitation.text
        assert "Auftakt AK EU" in invitation.text and "Do., 10.12.2026, 14:00 Uhr" in invitation.text
        assert "Rathaus Barmen, Raum 210" in invitation.text and f"#{sid}" in invitation.text
        assert "/agenda ak-eu" in invitation.text
        labels = [b[0] for row in invitation.buttons for b in row]
        assert labels[:3] == ["✅ Zusage", "❌ Absage", "❔ Vielleicht"]
    assert "Einladung" not in group["Carl"].last.text, "not a member of AK EU"
    assert await bot.tick() == 0, "nothing is sent twice"


async def test_reminders_fall_due_with_the_clock_and_declined_members_get_none(bot, coordinator, group):
    sid = await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt")
    ana, ben = group["Ana"], group["Ben"]
    await ben.press("❌ Absage")
    bot.clock.set(datetime(2026, 12, 3, 13, 0, 1, tzinfo=UTC))  # 7 days before 14:00 Berlin
    assert await bot.tick() == 1
    assert "Erinnerung" in ana.last.text and "/agenda ak-eu" in ana.last.text, "the earliest calls for agenda items"
    assert "Erinnerung" not in ben.last.text
    bot.clock.set(datetime(2026, 12, 9, 13, 0, 1, tzinfo=UTC))
    assert await bot.tick() == 1
    assert "Erinnerung" in ana.last.text and "/agenda" not in ana.last.text
    bot.clock.set(datetime(2026, 12, 10, 11, 0, 1, tzinfo=UTC))
    assert await bot.tick() == 1
    assert sum("⏰ Erinnerung" in t for t in ana.texts) == 3
    bot.clock.set(datetime(2026, 12, 10, 14, 0, tzinfo=UTC))
    assert await bot.tick() == 0
    assert f"#{sid}" in ana.last.text


async def test_catch_up_sends_only_the_latest_reminder_due(bot, coordinator, group):
    await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt")
    ana = group["Ana"]
    bot.clock.set(datetime(2026, 12, 10, 11, 30, tzinfo=UTC))  # the bot was down for a week
    assert await bot.tick() == 2  # Ana and Ben, one each
    assert sum("⏰ Erinnerung" in t for t in ana.texts) == 1
    async with bot.db.uow() as uow:
        rows = (await uow.session.execute(select(Delivery))).scalars().all()
    skipped = [r for r in rows if r.status is DeliveryStatus.SKIPPED]
    assert {r.error for r in skipped} == {"caught up by a later reminder"}


async def test_lead_times_passed_at_creation_are_covered_by_the_invitation(bot, coordinator, group):
    bot.clock.set(datetime(2026, 12, 9, 9, 0, tzinfo=UTC))  # 29 hours before the session
    await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Kurzfristig")
    assert await bot.tick() == 0
    assert "Einladung" in group["Ana"].last.text
    bot.clock.set(datetime(2026, 12, 9, 13, 0, 1, tzinfo=UTC))
    assert await bot.tick() == 2  # the 1-day reminder is still to come


async def test_reschedule_tells_members_and_replans(bot, coordinator, group):
    sid = await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt")
    replies = await coordinator.send(f"/reschedule #{sid} 17.12.2026 15:30")
    assert f"Sitzung #{sid} ist verschoben" in replies[0].text
    await bot.tick()
    assert "Neuer Termin" in group["Ana"].last.text and "Do., 17.12.2026, 15:30 Uhr" in group["Ana"].last.text
    bot.clock.set(datetime(2026, 12, 9, 13, 0, 1, tzinfo=UTC))  # the old 1-day point
    assert await bot.tick() == 0
    bot.clock.set(datetime(2026, 12, 16, 14, 30, 1, tzinfo=UTC))  # the new one
    assert await bot.tick() == 2


async def test_cancel_tells_members_and_nothing_follows(bot, coordinator, group):
    sid = await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt")
    replies = await coordinator.send(f"/cancel {sid}")
    assert "ist abgesagt" in replies[-1].text
    await bot.tick()
    assert "Abgesagt" in group["Ana"].last.text
    bot.clock.set(datetime(2026, 12, 10, 11, 0, 1, tzinfo=UTC))
    assert await bot.tick() == 0
    replies = await coordinator.send(f"/cancel {sid}")
    assert "schon abgesagt" in replies[-1].text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/meeting ak-eu 31.02.2026 14:00 Test", "31.02.2026"),
        ("/meeting ak-eu 10.12.2026 25:00 Test", "25:00"),
        ("/meeting ak-eu 01.01.2020 14:00 Test", "Vergangenheit"),
        ("/meeting mars 10.12.2026 14:00 Test", "kenne ich nicht"),
        ("/meeting ak-eu 10.12.2026 14:00", "/meeting"),
        ("/meeting", "Für welche Gruppe"),
        ("/reschedule 999 10.12.2026 14:00", "gibt es nicht"),
        ("/reschedule abc 10.12.2026 14:00", "keine Sitzungsnummer"),
        ("/cancel", "keine Sitzungen geplant"),
        ("/reschedule 1 2", "Beispiel"),
    ],
)
async def test_bad_input_gets_a_clear_answer_and_creates_nothing(bot, coordinator, group, command, expected):
    replies = await coordinator.send(command)
    assert expected in replies[-1].text, replies[-1].text
    async with bot.db.uow() as uow:
        assert (await uow.session.execute(select(Occurrence))).first() is None


async def test_only_coordinators_schedule(bot, coordinator, group):
    for command in ("/meeting ak-eu 10.12.2026 14:00 Test", "/reschedule 1 10.12.2026 14:00", "/cancel 1"):
        replies = await group["Ana"].send(command)
        assert "Das darf nur die KIM-Koordination" in replies[-1].text


async def test_meetings_list_answers_and_counts(bot, coordinator, group):
    sid = await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt")
    replies = await group["Ana"].send("/meetings")
    assert len(replies) == 1 and f"#{sid}" in replies[0].text
    (card,) = await group["Ana"].press(replies[0].buttons[0][0][0], replies[0])
    await group["Ana"].press("✅ Zusage", card)
    await group["Ana"].press("❔ Vielleicht", card)
    assert "Ihre Antwort: Vielleicht" in card.text
    replies = await group["Ana"].send("/meetings")
    assert replies[0].buttons[0][0][0].startswith("❔ #")
    replies = await coordinator.send("/meetings ak-eu")
    assert "Antworten: Zusage 0 · Absage 0 · Vielleicht 1" in replies[0].text
    assert "keine Sitzungen" in (await group["Carl"].send("/meetings"))[-1].text


async def test_weekly_series_keeps_local_time_across_the_clock_change(bot, coordinator, group):
    bot.clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    await schedule(bot, coordinator, "/meeting ak-eu 15.03.2027 10:00 Jour fixe | Online | wöchentlich 4 mal")
    async with bot.db.uow() as uow:
        starts = [
            o.starts_at
            for o in (await uow.session.execute(select(Occurrence).order_by(Occurrence.starts_at))).scalars()
        ]
    assert [s.strftime("%d.%m. %H:%M") for s in starts] == [
        "15.03. 09:00",
        "22.03. 09:00",
        "29.03. 08:00",
        "05.04. 08:00",
    ]


async def test_calendar_button_sends_an_ics_file(bot, coordinator, group):
    import icalendar

    await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt | Rathaus")
    ana = group["Ana"]
    await ana.press("📅 In meinen Kalender")
    document = ana.last.document
    assert document is not None and document.name.endswith(".ics")
    calendar = icalendar.Calendar.from_ical(document.data)
    event = next(c for c in calendar.walk("VEVENT"))
    assert event.decoded("dtstart").astimezone(UTC) == datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
    assert any(c.name == "VTIMEZONE" for c in calendar.walk())


async def test_meeting_without_arguments_asks_step_by_step(bot, coordinator, group):
    await coordinator.register(name="Sabine Weber")
    replies = await coordinator.send("/meeting")
    assert "Für welche Gruppe" in replies[-1].text
    replies = await coordinator.press("AK EU")
    assert "An welchem Tag" in replies[-1].text
    replies = await coordinator.send("31.02.2026 14:00 Test")
    assert "31.02.2026" in replies[-1].text
    replies = await coordinator.send("10.12.2026 14:00 Auftakt | Rathaus")
    assert "Vorschau" in replies[-1].text, "the guided form ends in a preview (tests/test_session_flows.py)"
    replies = await coordinator.press("📨 Senden")
    assert "Geplant als Sitzung #" in replies[-1].text
    await bot.tick()
    assert "Einladung" in group["Ana"].last.text
    replies = await coordinator.send("noch ein Text")
    assert "Vorschau" not in replies[-1].text and "Geplant" not in replies[-1].text, "the guided step is over"


async def test_weekly_series_keeps_local_time_in_october_too(bot, coordinator, group):
    bot.clock.set(datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
    await schedule(bot, coordinator, "/meeting ak-eu 19.10.2026 10:00 Jour fixe | Online | weekly 3 times")
    async with bot.db.uow() as uow:
        starts = [
            o.starts_at
            for o in (await uow.session.execute(select(Occurrence).order_by(Occurrence.starts_at))).scalars()
        ]
    assert [s.astimezone(UTC).strftime("%d.%m. %H:%M") for s in starts] == [
        "19.10. 08:00",
        "26.10. 09:00",
        "02.11. 09:00",
    ]
    (listing,) = await group["Ana"].send("/meetings")
    assert [line.split("</b> ")[1] for line in listing.html.split("\n") if "</b> " in line and "#" in line] == [
        "Mo., 19.10.2026, 10:00 Uhr",
        "Mo., 26.10.2026, 10:00 Uhr",
        "Mo., 02.11.2026, 10:00 Uhr",
    ]
