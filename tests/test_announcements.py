"""Announcements (/announce) through the emulator: one line and guided, with a
preview and "Senden", a document attached, paced crash-safe deliveries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.render.texts import Texts
from storage.admin_models import Announcement, AuditEntry
from storage.models import Delivery, DeliveryKind, DeliveryStatus, Membership, MembershipStatus
from tests.factories import registered

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
HEADING = "Mitteilung der KIM-Koordination"


@pytest.fixture
async def members(bot, coordinator):  # type: ignore[no-untyped-def]
    """Ana in AK EU, Ben in AK EU and AK Ehrenamt, Carl in AK Ehrenamt."""
    bot.clock.set(START)
    found = {}
    for name, slugs in (("Ana", ("ak-eu",)), ("Ben", ("ak-eu", "ak-ehrenamt")), ("Carl", ("ak-ehrenamt",))):
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=f"Verein {name}")
        for slug in slugs:
            await person.send(f"/join {slug}")
            await coordinator.send(f"/approve @{name.lower()}")
        found[name] = person
    return found


def announced(person, text: str) -> list:  # type: ignore[no-untyped-def]
    return [m for m in person.messages if HEADING in m.text and text in m.text]


def labels(message) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[label for label, _ in row] for row in message.buttons]


async def count(bot, model, **where) -> int:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await uow.session.scalar(query) or 0)


async def test_one_line_announcement_reaches_the_groups_members_once(bot, coordinator, members):
    replies = await coordinator.send("/announce ak-eu Die Sitzung am Donnerstag ist in Raum 210.\nBitte pünktlich.")
    reply = replies[-1].text
    assert "Mitteilung #" in reply and "an AK EU wird verschickt" in reply and "Empfänger: 2 Personen" in reply
    await bot.tick()
    for name in ("Ana", "Ben"):
        [message] = announced(members[name], "Raum 210")
        assert "an AK EU" in message.text and "Raum 210.\nBitte pünktlich." in message.text, "lines kept"
    assert announced(members["Carl"], "Raum 210") == []
    assert await bot.tick() == 0, "nothing is sent twice"
    async with bot.db.reader() as uow:
        query = select(AuditEntry).where(AuditEntry.action == "announcement.send")
        [entry] = (await uow.session.execute(query)).scalars().all()
    assert entry.action == "announcement.send" and entry.detail == {"groups": "AK EU", "recipients": 2}
    log = Texts().plain("de", "audit.announcement_send", id=entry.object_id, groups="AK EU", recipients=2)
    assert log.startswith(f"Mitteilung #{entry.object_id} an AK EU")


async def test_all_reaches_each_member_once_and_the_alias_works(bot, coordinator, members):
    replies = await coordinator.send("/mitteilung all Frohe Feiertage!")
    assert "an alle Gruppen" in replies[-1].text and "Empfänger: 3 Personen" in replies[-1].text
    await bot.tick()
    for person in members.values():
        assert len(announced(person, "Frohe Feiertage")) == 1, person.user.first_name


async def test_guided_with_a_document_and_its_caption_then_senden(bot, coordinator, members):
    replies = await coordinator.send("/announce")
    assert "An wen geht die Mitteilung" in replies[-1].text
    assert ["Alle Gruppen"] in labels(replies[-1]) and ["AK Ehrenamt"] in labels(replies[-1])
    replies = await coordinator.press("AK Ehrenamt")
    assert "Mitteilung an AK Ehrenamt" in replies[-1].text and "Datei" in replies[-1].text
    coordinator.new()
    bot.emulator.send_document(
        coordinator.user, "Einladung.pdf", b"%PDF-1.4 Einladung", caption="Die Einladung im Anhang."
    )
    await bot.settle()
    preview = coordinator.new()[-1]
    assert "Vorschau" in preview.text and "Die Einladung im Anhang." in preview.text
    assert "Mit Datei: Einladung.pdf" in preview.text and "Empfänger: 2 Personen" in preview.text
    assert labels(preview) == [["Senden", "Abbrechen"]]
    assert await count(bot, Announcement) == 0 and await count(bot, Delivery) == 0, "nothing before Senden"
    replies = await coordinator.press("Senden", preview)
    assert "wird verschickt" in replies[-1].text and "Mit Datei: Einladung.pdf" in replies[-1].text
    await bot.tick()
    for name in ("Ben", "Carl"):
        person = members[name]
        [message] = announced(person, "Die Einladung im Anhang.")
        document = person.messages[person.messages.index(message) + 1].document
        assert document is not None and document.data == b"%PDF-1.4 Einladung"
    assert announced(members["Ana"], "Einladung") == []
    replies = await coordinator.press_data("av:send:1", preview)
    assert "nichts mehr zu senden" in replies[-1].text
    assert await count(bot, Announcement) == 1


async def test_a_document_without_caption_asks_for_the_text_and_cancel_sends_nothing(bot, coordinator, members):
    await coordinator.send("/announce eu")
    coordinator.new()
    bot.emulator.send_document(coordinator.user, "Protokoll.docx", b"PK docx")
    await bot.settle()
    assert "Die Datei „Protokoll.docx“ wird angehängt" in coordinator.last.text
    replies = await coordinator.send("Das Protokoll der letzten Sitzung.")
    preview = replies[-1]
    assert "Das Protokoll der letzten Sitzung." in preview.text and "Mit Datei: Protokoll.docx" in preview.text
    replies = await coordinator.send("Das Protokoll, bitte lesen.")
    assert "bitte lesen" in replies[-1].text and "Mit Datei: Protokoll.docx" in replies[-1].text, "text replaced"
    replies = await coordinator.press("Senden", preview)
    assert "Diese Vorschau ist veraltet" in replies[-1].text
    replies = await coordinator.press("Abbrechen")
    assert "Es wurde nichts verschickt" in replies[-1].text
    await bot.tick()
    assert await count(bot, Announcement) == 0 and announced(members["Ana"], "Protokoll") == []
    replies = await coordinator.send("Noch ein Text")
    assert HEADING not in replies[-1].text, "the guided step is over"


async def test_a_document_nobody_asked_for_gets_the_usual_answer(bot, coordinator, members):
    ana = members["Ana"]
    bot.emulator.send_document(ana.user, "liste.pdf", b"%PDF-1.4 test")
    await bot.settle()
    assert "Ich kann nur Text lesen" in ana.last.text
    assert await count(bot, Announcement) == 0


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/announce mars Hallo", "Die Gruppe „mars“ kenne ich nicht"),
        ("/announce a Hallo", "passt zu mehreren Gruppen"),
        ("/announce all " + "x" * 3501, "höchstens 3500 Zeichen"),
    ],
)
async def test_bad_input_is_explained_and_nothing_is_saved(bot, coordinator, members, command, expected):
    replies = await coordinator.send(command)
    assert expected in replies[-1].text, replies[-1].text
    assert await count(bot, Announcement) == 0 and await count(bot, Delivery) == 0


async def test_group_alone_asks_for_the_text_and_members_may_not_announce(bot, coordinator, members):
    replies = await coordinator.send("/announce ehrenamt")
    assert "Mitteilung an AK Ehrenamt" in replies[-1].text
    ana = members["Ana"]
    before = await bot.every_row()
    replies = await ana.send("/announce ak-eu Hallo")
    assert "Koordination" in replies[-1].text
    for data in ("av:send:1", "av:cancel:1", "an:0"):
        replies = await ana.press_data(data)
        assert "Koordination" in replies[-1].text, data
    assert await bot.every_row() == before


@pytest.mark.telegram_limits
async def test_fan_out_with_faults_reaches_every_member_exactly_once(bot, coordinator):
    """Twenty members, Telegram's limits on, 429s and 502s injected, one member blocked:
    the same paced, crash-safe sender as reminders, so nothing lost or doubled."""
    bot.clock.set(START)
    await bot.tick()
    people = []
    async with bot.db.uow() as uow:
        groups = {g.slug: g for g in await uow.groups.active()}
        registered(uow, coordinator.id, "Sabine Weber", START)
        for number in range(20):
            person = await bot.person(f"Mitglied{number:02d}")
            slugs = ["ak-eu"] if number < 8 else ["ak-ehrenamt"] if number >= 12 else ["ak-eu", "ak-ehrenamt"]
            row = registered(uow, person.id, f"Mitglied {number:02d}", START, groups[slugs[0]].id)
            for slug in slugs[1:]:
                uow.memberships.add(
                    Membership(
                        person=row,
                        group_id=groups[slug].id,
                        status=MembershipStatus.APPROVED,
                        requested_at=START,
                        decided_at=START,
                    )
                )
            people.append(person)
        await uow.commit()
    blocked = people[5]
    blocked.user.blocked = True
    bot.telegram_limits()
    bot.emulator.inject_fault("sendMessage", status=429, retry_after=1, times=3)
    bot.emulator.inject_fault("sendMessage", status=502, times=2)
    replies = await coordinator.send("/announce ak-eu,ak-ehrenamt Gemeinsamer Fachtag im Januar")
    assert "Empfänger: 20 Personen" in replies[-1].text
    await bot.tick()
    assert bot.emulator.faults.rules == [], "the fan-out met every injected fault"
    for person in people:
        expected = 0 if person is blocked else 1
        assert len(announced(person, "Fachtag")) == expected, person.user.first_name
    assert await bot.tick() == 0, "nothing is sent again, the failed one included"
    async with bot.db.reader() as uow:
        query = select(Delivery).where(Delivery.kind == DeliveryKind.ANNOUNCEMENT)
        rows = (await uow.session.execute(query)).scalars().all()
    assert sorted(r.status.value for r in rows) == [DeliveryStatus.FAILED.value] + [DeliveryStatus.SENT.value] * 19


async def test_an_archived_group_takes_no_announcement_and_all_means_the_active_ones(bot, coordinator, members):
    async with bot.db.uow() as uow:
        group = await uow.groups.by_slug("ak-ehrenamt")
        assert group is not None
        group.archived_at = START
        await uow.commit()
    replies = await coordinator.send("/announce ak-ehrenamt Hallo")
    assert "ist archiviert" in replies[-1].text
    replies = await coordinator.send("/recommend ak-ehrenamt Mehr Räume")
    assert "ist archiviert" in replies[-1].text
    replies = await coordinator.send("/announce all Hallo an alle")
    assert "Empfänger: 2 Personen" in replies[-1].text, "Ana and Ben of AK EU; Carl only in the archived group"
    await bot.tick()
    assert announced(members["Carl"], "Hallo an alle") == []
