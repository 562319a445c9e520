"""The coordinator's sessions, tap-first (SPEC 3): guided /meeting with day and time
buttons and a preview before anything is sent; /reschedule and /cancel with the
sessions as buttons, a reason and a confirmation; the audit log's entries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from storage.admin_models import AuditEntry
from storage.models import Delivery, Group, Occurrence, OccurrenceStatus

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


def labels(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [label for row in message.buttons for label, _ in row]


def session_id(text: str) -> int:
    return int(text.split("Geplant als Sitzung #")[1].split(".")[0])


async def occurrences(bot) -> list[Occurrence]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return list((await uow.session.execute(select(Occurrence).order_by(Occurrence.id))).scalars())


async def audit(bot) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return list((await uow.session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


async def schedule(bot, coordinator, line: str = "ak-eu 10.12.2026 14:00 Auftakt") -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(f"/meeting {line}")
    await bot.tick()
    return session_id(replies[-1].text)


# --- guided /meeting -------------------------------------------------------------------


async def test_guided_meeting_offers_days_and_times_and_sends_only_after_senden(bot, coordinator, group):
    replies = await coordinator.send("/meeting")
    assert "Für welche Gruppe" in replies[-1].text
    replies = await coordinator.press("AK EU")
    day_question = replies[-1]
    assert "An welchem Tag" in day_question.text and "Sitzung für AK EU" in day_question.text
    days = labels(day_question)
    assert days[:3] == ["Mi 02.12.", "Do 03.12.", "Fr 04.12."], "the next working days, from tomorrow"
    assert days[-1] == "Abbrechen" and len(days) == 11 and not any(d.startswith(("Sa", "So")) for d in days)
    assert "{example_date}" not in day_question.text and "<code>" not in day_question.text

    replies = await coordinator.press("Do 10.12.")
    assert "am Donnerstag, 10.12.2026" in replies[-1].text and "Um wie viel Uhr" in replies[-1].text
    assert "14:00" in labels(replies[-1]) and "09:00" in labels(replies[-1])
    replies = await coordinator.press("14:00")
    assert "Do., 10.12.2026, 14:00 Uhr" in replies[-1].text and "Wie heißt die Sitzung" in replies[-1].text
    replies = await coordinator.send("Auftakt <AK EU>")
    assert "Titel: Auftakt <AK EU>" in replies[-1].text and labels(replies[-1]) == ["Ohne Ort", "Abbrechen"]
    replies = await coordinator.send("Rathaus Barmen, Raum 210")
    preview = replies[-1]
    assert "Vorschau" in preview.text and "Auftakt <AK EU> (AK EU)" in preview.text
    assert "Do., 10.12.2026, 14:00 Uhr" in preview.text and "Rathaus Barmen, Raum 210" in preview.text
    assert "Die Einladung geht an 2 Personen" in preview.text
    assert labels(preview) == ["📨 Senden", "Abbrechen"]

    await bot.tick()
    assert await occurrences(bot) == [], "nothing is created before Senden"
    assert not any(t.startswith("Einladung") for t in group["Ana"].texts)

    replies = await coordinator.press("📨 Senden")
    assert preview.buttons == [], "the preview's buttons are gone"
    assert (
        "Geplant als Sitzung #" in replies[-1].text
        and "Einladungen, die jetzt verschickt werden: 2" in replies[-1].text
    )
    await bot.tick()
    for name in ("Ana", "Ben"):
        assert "Einladung" in group[name].last.text and "Rathaus Barmen, Raum 210" in group[name].last.text
    assert not any(t.startswith("Einladung") for t in group["Carl"].texts)

    # The same "Senden" again (a second tap, an old preview): nothing is sent twice.
    replies = await coordinator.press_data("ms", preview)
    assert "nicht mehr offen" in replies[-1].text
    assert len(await occurrences(bot)) == 1
    assert await bot.tick() == 0

    entries = await audit(bot)
    assert [(e.action, e.object_type) for e in entries][-1] == ("meeting.create", "session")
    assert entries[-1].detail["title"] == "Auftakt <AK EU>" and entries[-1].detail["group"] == "AK EU"


async def test_guided_meeting_takes_typed_date_and_time_and_abbrechen_creates_nothing(bot, coordinator, group):
    await coordinator.send("/meeting")
    await coordinator.press("AK EU")
    replies = await coordinator.send("01.11.2026")
    assert "Vergangenheit" in replies[-1].text
    replies = await coordinator.send("12.12.2026")
    assert "Samstag, 12.12.2026" in replies[-1].text
    replies = await coordinator.send("25:00")
    assert "25:00" in replies[-1].text and "keine gültige Uhrzeit" in replies[-1].text
    replies = await coordinator.send("09:30")
    assert "Sa., 12.12.2026, 09:30 Uhr" in replies[-1].text
    await coordinator.send("Klausur")
    replies = await coordinator.press("Ohne Ort")
    assert "Vorschau" in replies[-1].text and "📍" not in replies[-1].text
    replies = await coordinator.send("noch etwas")
    assert "Vorschau" in replies[-1].text, "at the preview, a text shows the preview again"
    replies = await coordinator.press("Abbrechen")
    assert "Abgebrochen" in replies[-1].text
    assert await occurrences(bot) == []
    assert await bot.tick() == 0
    replies = await coordinator.press_data("ms", coordinator.messages[-2])
    assert "nicht mehr offen" in replies[-1].text and await occurrences(bot) == []


async def test_guided_meeting_takes_the_whole_line_and_a_series(bot, coordinator, group):
    await coordinator.send("/meeting")
    await coordinator.press("AK EU")
    replies = await coordinator.send("10.12.2026 10:00 Jour fixe | Online | wöchentlich 3 mal")
    preview = replies[-1]
    assert "Vorschau" in preview.text and "Jour fixe" in preview.text and "🔁" in preview.text
    assert await occurrences(bot) == []
    replies = await coordinator.press("📨 Senden")
    assert "Die Reihe hat 3 Termine" in replies[-1].text
    assert len(await occurrences(bot)) == 3


async def test_preview_counts_one_member_and_none(bot, coordinator, group):
    await coordinator.send("/meeting")
    await coordinator.press("AK Ehrenamt")
    replies = await coordinator.send("10.12.2026 10:00 Jour fixe")
    assert "Die Einladung geht an 1 Person" in replies[-1].text
    await coordinator.send("/meeting")
    await coordinator.press("AG Süd-Ost-Europa")
    replies = await coordinator.send("10.12.2026 10:00 Jour fixe")
    assert "hat noch keine Mitglieder" in replies[-1].text


async def test_a_day_button_offers_only_times_still_ahead(bot, coordinator, group):
    bot.clock.set(datetime(2026, 12, 1, 14, 30, tzinfo=UTC))  # 15:30 in Berlin
    await coordinator.send("/meeting")
    await coordinator.press("AK EU")
    replies = await coordinator.send("01.12.2026")  # today
    assert labels(replies[-1]) == ["16:00", "18:00", "Abbrechen"]


async def test_unknown_and_archived_groups_in_meeting(bot, coordinator, group):
    replies = await coordinator.send("/meeting mars 10.12.2026 14:00 Test")
    assert "kenne ich nicht" in replies[-1].text and "/meeting ak-eu" in replies[-1].text
    assert "/join" not in replies[-1].text
    replies = await coordinator.send("/meeting ak 10.12.2026 14:00 Test")
    assert "mehreren Gruppen" in replies[-1].text and "/meeting ak-eu" in replies[-1].text
    await coordinator.send("/meeting")  # the group buttons, before the archiving
    async with bot.db.uow() as uow:
        await uow.session.execute(update(Group).where(Group.slug == "ag-soe").values(archived_at=START))
        await uow.commit()
    replies = await coordinator.send("/meeting ag-soe 10.12.2026 14:00 Test")
    assert "archiviert" in replies[-1].text
    replies = await coordinator.press("AG Süd-Ost-Europa")
    assert "archiviert" in replies[-1].text
    replies = await coordinator.send("/meeting")
    assert "AG Süd-Ost-Europa" not in labels(replies[-1])
    assert await occurrences(bot) == []


async def test_a_command_ends_the_guided_meeting(bot, coordinator, group):
    await coordinator.send("/meeting")
    await coordinator.press("AK EU")
    await coordinator.send("/groups")
    replies = await coordinator.press("Do 10.12.")  # an older day button still does what it says
    assert "Um wie viel Uhr" in replies[-1].text
    await coordinator.send("/groups")
    replies = await coordinator.press_data("mn")
    assert "nicht mehr offen" in replies[-1].text


# --- /reschedule -----------------------------------------------------------------------


async def test_reschedule_offers_sessions_days_and_times_and_asks_first(bot, coordinator, group):
    sid = await schedule(bot, coordinator)
    replies = await coordinator.send("/reschedule")
    assert "Welche Sitzung möchten Sie verschieben" in replies[-1].text
    assert labels(replies[-1]) == [f"#{sid} AK EU · Do 10.12. 14:00 · Auftakt"]
    replies = await coordinator.press(f"#{sid} AK EU · Do 10.12. 14:00 · Auftakt")
    assert f"Sitzung #{sid} verschieben (bisher: Do., 10.12.2026, 14:00 Uhr)" in replies[-1].text
    assert labels(replies[-1])[:2] == ["Do 03.12.", "Fr 04.12."], "from a week before the session's day"
    assert "Do 10.12." in labels(replies[-1]), "its own day, for another time on the same day"
    assert "Abbrechen" in labels(replies[-1])
    replies = await coordinator.press("Mo 14.12.")
    assert "auf Montag, 14.12.2026 verschieben" in replies[-1].text
    replies = await coordinator.press("15:00")
    confirm = replies[-1]
    assert "Bisher: Do., 10.12.2026, 14:00 Uhr" in confirm.text and "Neu: Mo., 14.12.2026, 15:00 Uhr" in confirm.text
    assert "2 Personen bekommen eine Nachricht" in confirm.text
    assert labels(confirm) == ["Verschieben", "Abbrechen"]
    assert (await occurrences(bot))[0].revision == 0, "nothing moves before the confirmation"
    replies = await coordinator.press("Verschieben")
    assert f"Sitzung #{sid} ist verschoben" in replies[-1].text
    await bot.tick()
    assert "Neuer Termin" in group["Ana"].last.text and "Mo., 14.12.2026, 15:00 Uhr" in group["Ana"].last.text
    assert confirm.buttons == [], "the confirmation's buttons are gone"
    replies = await coordinator.press_data(f"vc:{sid}:20261214:1500", confirm)
    assert "schon zu dieser Zeit" in replies[-1].text, "a second tap moves nothing"
    entry = (await audit(bot))[-1]
    assert entry.action == "meeting.reschedule" and entry.object_id == sid
    assert entry.detail["before"] == "10.12.2026 14:00" and entry.detail["when"] == "14.12.2026 15:00"


async def test_reschedule_with_an_id_asks_for_typed_day_and_time(bot, coordinator, group):
    sid = await schedule(bot, coordinator)
    replies = await coordinator.send(f"/reschedule #{sid}")
    assert "Auf welchen Tag" in replies[-1].text
    replies = await coordinator.send("2026-12-18")
    assert "Freitag, 18.12.2026" in replies[-1].text
    replies = await coordinator.send("16:30")
    assert "Neu: Fr., 18.12.2026, 16:30 Uhr" in replies[-1].text
    replies = await coordinator.press("Abbrechen")
    assert "Abgebrochen" in replies[-1].text
    assert (await occurrences(bot))[0].revision == 0
    assert await bot.tick() == 0


async def test_reschedule_and_cancel_without_sessions(bot, coordinator, group):
    for command in ("/reschedule", "/cancel"):
        replies = await coordinator.send(command)
        assert "keine Sitzungen geplant" in replies[-1].text and "/meeting" in replies[-1].text


# --- /cancel ---------------------------------------------------------------------------


async def test_cancel_asks_for_a_reason_and_a_confirmation(bot, coordinator, group):
    sid = await schedule(bot, coordinator)
    replies = await coordinator.send("/cancel")
    assert "Welche Sitzung möchten Sie absagen" in replies[-1].text
    replies = await coordinator.press(f"#{sid} AK EU · Do 10.12. 14:00 · Auftakt")
    assert "Möchten Sie einen Grund nennen" in replies[-1].text
    assert labels(replies[-1]) == ["Ohne Grund", "Abbrechen"]
    replies = await coordinator.send("Der Raum ist <nicht> frei.")
    confirm = replies[-1]
    assert "wirklich absagen" in confirm.text and "Grund: Der Raum ist <nicht> frei." in confirm.text
    assert "2 Personen bekommen eine Nachricht" in confirm.text
    assert labels(confirm) == ["Ja, absagen", "Nein, nicht absagen"]
    assert (await occurrences(bot))[0].status is OccurrenceStatus.SCHEDULED
    replies = await coordinator.press("Ja, absagen")
    assert f"Sitzung #{sid} „Auftakt“ ist abgesagt" in replies[-1].text
    assert "Grund: Der Raum ist <nicht> frei." in replies[-1].text
    await bot.tick()
    for name in ("Ana", "Ben"):
        notice = group[name].last.text
        assert "Abgesagt" in notice and "Grund: Der Raum ist <nicht> frei." in notice
    stored = (await occurrences(bot))[0]
    assert stored.status is OccurrenceStatus.CANCELLED and stored.cancel_reason == "Der Raum ist <nicht> frei."
    entry = (await audit(bot))[-1]
    assert entry.action == "meeting.cancel" and entry.object_id == sid
    assert entry.detail["reason"] == "Der Raum ist <nicht> frei."
    replies = await coordinator.press_data(f"xc:{sid}:1", confirm)
    assert "nicht mehr offen" in replies[-1].text
    replies = await coordinator.press_data(f"xc:{sid}:0", confirm)
    assert "schon abgesagt" in replies[-1].text


async def test_cancel_without_reason_and_keeping_the_session(bot, coordinator, group):
    sid = await schedule(bot, coordinator)
    await coordinator.send("/cancel")
    await coordinator.press(f"#{sid} AK EU · Do 10.12. 14:00 · Auftakt")
    replies = await coordinator.press("Ohne Grund")
    assert "wirklich absagen" in replies[-1].text and "Ohne Grund." in replies[-1].text
    replies = await coordinator.press("Nein, nicht absagen")
    assert "Abgebrochen" in replies[-1].text
    assert (await occurrences(bot))[0].status is OccurrenceStatus.SCHEDULED
    assert await bot.tick() == 0
    await coordinator.send("/cancel")
    await coordinator.press(f"#{sid} AK EU · Do 10.12. 14:00 · Auftakt")
    await coordinator.press("Ohne Grund")
    replies = await coordinator.press("Ja, absagen")
    assert "ist abgesagt" in replies[-1].text and "Grund" not in replies[-1].text
    await bot.tick()
    assert "Abgesagt" in group["Ana"].last.text and "Grund" not in group["Ana"].last.text


async def test_one_line_cancel_acts_at_once_with_an_optional_reason(bot, coordinator, group):
    sid = await schedule(bot, coordinator)
    replies = await coordinator.send(f"/cancel #{sid} Krankheit der Leitung")
    assert "ist abgesagt" in replies[-1].text and "Grund: Krankheit der Leitung" in replies[-1].text
    await bot.tick()
    assert "Grund: Krankheit der Leitung" in group["Ben"].last.text
    async with bot.db.reader() as uow:
        notices = (await uow.session.execute(select(Delivery).where(Delivery.kind == "cancelled"))).scalars().all()
    assert len(notices) == 2


async def test_one_line_commands_are_audited(bot, coordinator, group):
    sid = await schedule(bot, coordinator)
    await coordinator.send(f"/reschedule {sid} 17.12.2026 15:30")
    await coordinator.send(f"/cancel {sid}")
    entries = [e for e in await audit(bot) if e.action.startswith("meeting.")]
    assert [e.action for e in entries] == ["meeting.create", "meeting.reschedule", "meeting.cancel"]
    assert {e.object_id for e in entries} == {sid}
    async with bot.db.reader() as uow:
        me = await uow.people.by_telegram_id(coordinator.id)
    assert me is not None and {e.actor_id for e in entries} == {me.id}


async def test_audit_wording_exists_in_both_languages(bot):
    from bot.render.texts import Texts

    texts = Texts()
    detail = {"id": 12, "title": "Auftakt", "group": "AK EU", "when": "17.12.2026 15:30", "before": "x", "count": 1}
    for lang in ("de", "en"):
        for action in ("meeting_create", "meeting_reschedule", "meeting_cancel"):
            assert "#12" in texts.get(lang, f"audit.{action}", **detail)


async def test_members_cannot_use_the_session_buttons(bot, coordinator, group):
    sid = await schedule(bot, coordinator)
    ana = group["Ana"]
    for data in (f"vs:{sid}", f"xs:{sid}", f"xc:{sid}:0", f"vc:{sid}:20261217:1500", "ms", "mn", "sa"):
        replies = await ana.press_data(data)
        assert "Das darf nur die KIM-Koordination" in replies[-1].text, data
    assert (await occurrences(bot))[0].status is OccurrenceStatus.SCHEDULED
    assert (await occurrences(bot))[0].revision == 0


async def test_guided_meeting_takes_a_date_and_a_time_in_one_answer(bot, coordinator, group):
    await coordinator.send("/meeting")
    await coordinator.press("AK EU")
    replies = await coordinator.send("10.12.2026 9 Uhr")
    assert "Do., 10.12.2026, 09:00 Uhr" in replies[-1].text and "Wie heißt die Sitzung" in replies[-1].text
    await coordinator.send("Auftakt")
    replies = await coordinator.press("Ohne Ort")
    assert "Vorschau" in replies[-1].text and "Do., 10.12.2026, 09:00 Uhr" in replies[-1].text


def test_offered_days_and_times() -> None:
    from datetime import date, time
    from zoneinfo import ZoneInfo

    from bot.core.session_choices import (
        day_code,
        from_day_code,
        from_time_code,
        offered_days,
        offered_times,
        time_code,
    )

    berlin = ZoneInfo("Europe/Berlin")
    friday_evening = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)  # Fri 23:30 in Berlin
    assert offered_days(friday_evening, berlin, 3) == [date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)]
    assert offered_days(START, berlin, 2, near=date(2027, 3, 10)) == [date(2027, 3, 3), date(2027, 3, 4)]
    assert offered_days(START, berlin, 1, near=date(2026, 12, 2)) == [date(2026, 12, 2)], "never before tomorrow"
    assert offered_times(date(2026, 12, 1), START, berlin) == [
        time(11),
        time(13),
        time(14),
        time(15),
        time(16),
        time(18),
    ]
    assert time(14, 30) in offered_times(date(2026, 12, 2), START, berlin, keep=time(14, 30))
    assert from_day_code(day_code(date(2026, 12, 10))) == date(2026, 12, 10) and from_day_code(20261341) is None
    assert from_time_code(time_code(time(9, 30))) == time(9, 30) and from_time_code(2460) is None


async def test_a_step_about_a_session_that_began_meanwhile_ends(bot, coordinator, group):
    sid = await schedule(bot, coordinator)
    await coordinator.send("/cancel")
    await coordinator.press(f"#{sid} AK EU · Do 10.12. 14:00 · Auftakt")
    bot.clock.set(datetime(2026, 12, 10, 13, 30, tzinfo=UTC))  # the session has begun
    replies = await coordinator.send("Der Raum ist nicht frei.")
    assert "hat schon begonnen" in replies[-1].text
    replies = await coordinator.send("Noch ein Text")
    assert "hat schon begonnen" not in replies[-1].text, "the step ended with the refusal"
    assert (await occurrences(bot))[0].status is OccurrenceStatus.SCHEDULED


async def test_members_are_refused_before_their_arguments_are_read(bot, coordinator, group):
    for command in ("/reschedule abc", "/reschedule", "/cancel", "/cancel abc Grund", "/meeting mars 1.1.2020 x y"):
        replies = await group["Ana"].send(command)
        assert [r.text for r in replies] == [replies[0].text] and "Das darf nur die KIM-Koordination" in replies[0].text
