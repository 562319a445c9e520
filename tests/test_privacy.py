"""/mydata and /forget through the emulator (SPEC 8), on SQLite and PostgreSQL.

Maria registers, joins AK EU, says yes to a session, proposes a topic, and
answers a recommendation. /mydata gives her all of it as a JSON file. /forget
asks first; "no" keeps everything; "yes" erases her: afterwards no table
holds her name, username or organisation, her topic and comment stay but show
"ehemaliges Mitglied", no message is owed to her any more, and the counts of
the session stay as they were. What follows a session (SPEC 13: attendance,
corrections, tasks, deputyships) is in /mydata; after /forget her attendance
stays without her, with her organisation, as evidence for the funding report.
Tracking a recommendation (SPEC 14) names an office, never a person; a
coordinator who forgets themselves is owed no review reminder any more.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core import audit, recommendation_closing, tracking_changes
from bot.core.tracking_changes import Field
from handlers.payloads import ConfirmForget
from storage.followup_models import (
    Attendance,
    AttendanceStatus,
    Deputy,
    Minutes,
    MinutesCorrection,
    MinutesStatus,
    Task,
    TaskStatus,
)
from storage.models import Delivery, DeliveryKind, DeliveryStatus, Occurrence, Person, Rsvp
from storage.tracking_models import RecommendationResult

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NAME, USERNAME, ORGANISATION = "Maria Musterfrau", "maria_m", "Caritas Wuppertal"


@pytest.fixture
async def maria(bot, coordinator):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    maria = await bot.person("Maria", username=USERNAME)
    await maria.register(name=NAME, organisation=ORGANISATION)
    await maria.send("/join ak-eu")
    await coordinator.send(f"/approve @{USERNAME}")
    replies = await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Auftakt")
    session = int(re.search(r"Sitzung #(\d+)", replies[-1].text).group(1))  # type: ignore[union-attr]
    await bot.tick()
    await maria.press("✅ Zusage")
    await maria.send("/agenda Wohnungsmarkt in Oberbarmen")
    replies = await coordinator.send("/recommend ak-eu Mehr Sprachkurse am Abend | 20.12.2026")
    rid = int(re.search(r"Empfehlung #(\d+)", replies[-1].text).group(1))  # type: ignore[union-attr]
    await bot.tick()
    await maria.press("Zustimmung")
    await maria.send(f"/feedback {rid} Bitte auch samstags")
    maria.session, maria.rid = session, rid
    return maria


async def test_mydata_exports_everything_stored_as_json(bot, maria) -> None:  # type: ignore[no-untyped-def]
    readable, message = await maria.send("/mydata")
    assert readable.document is not None and readable.document.name == "kimbot-meine-daten.txt"
    assert message.document is not None and message.document.name == "kimbot-meine-daten.json"
    assert "JSON" in message.caption
    data = json.loads(message.document.data)
    assert data["person"]["display_name"] == NAME
    assert data["person"]["username"] == USERNAME
    assert data["person"]["organisation"] == ORGANISATION
    assert data["person"]["telegram_id"] == maria.id
    assert [(m["group"], m["status"]) for m in data["memberships"]] == [("AK EU", "approved")]
    assert [(r["session"], r["title"], r["answer"]) for r in data["rsvps"]] == [(maria.session, "Auftakt", "yes")]
    assert data["rsvps"][0]["starts_at"] == "2026-12-10T14:00:00+01:00", "local time, with its offset"
    assert [i["text"] for i in data["agenda_items"]] == ["Wohnungsmarkt in Oberbarmen"]
    assert [(s["recommendation"], s["stance"]) for s in data["stances"]] == [(maria.rid, "agree")]
    assert [c["text"] for c in data["comments"]] == ["Bitte auch samstags"]
    kinds = {m["kind"] for m in data["messages_from_the_bot"]}
    assert {"invitation", "recommendation"} <= kinds
    assert data["audit_log"] == [], "a member changed nothing as coordination"


async def test_mydata_is_also_a_readable_german_document(bot, maria) -> None:  # type: ignore[no-untyped-def]
    readable, _ = await maria.send("/meinedaten")
    assert "zum Lesen" in readable.caption
    text = readable.document.data.decode("utf-8")
    assert text.startswith("KIM-Bot: Ihre gespeicherten Daten\nStand: Di., 01.12.2026, 10:00 Uhr")
    for heading in (
        "Ihre Angaben",
        "Ihre Gruppen",
        "Ihre Antworten zu Sitzungen",
        "Ihre Themen für Tagesordnungen",
        "Ihre Rückmeldungen zu Empfehlungen",
        "Ihre Kommentare zu Empfehlungen",
        "Ihre Änderungen als Koordination (Protokoll)",
        "Nachrichten des Bots an Sie",
    ):
        assert f"\n{heading}\n{'=' * len(heading)}\n" in text, heading
    assert f"Name: {NAME}" in text and f"Telegram-Benutzername: @{USERNAME}" in text
    assert f"Organisation: {ORGANISATION}" in text and "KIM-Koordination: nein" in text
    assert "- AK EU: Mitglied (angefragt Di., 01.12.2026, 10:00 Uhr, entschieden Di., 01.12.2026, 10:00 Uhr)" in text
    assert f"- Sitzung #{maria.session}, AK EU: Auftakt, Do., 10.12.2026, 14:00 Uhr: Zusage" in text
    assert "„Wohnungsmarkt in Oberbarmen“ (vorgeschlagen" in text
    assert f"- Empfehlung #{maria.rid}: Zustimmung" in text
    assert "„Bitte auch samstags“" in text
    assert "- Einladung zu einer Sitzung: gesendet, Di., 01.12.2026, 10:00 Uhr" in text
    assert "approved" not in text and "T14:00" not in text and "+00:00" not in text, "words and local times"
    assert "(keine)" in text, "her section of the audit log is empty"


async def test_the_coordinators_own_audit_entries_are_part_of_their_data(bot, coordinator, maria) -> None:  # type: ignore[no-untyped-def]
    # Whatever else the coordination's commands write to the log, one entry of our own:
    async with bot.db.uow() as uow:
        me = await uow.people.by_telegram_id(coordinator.id)
        assert me is not None
        audit.record(uow, me, "meeting.create", "occurrence", maria.session, START, title="Auftakt")
        await uow.commit()
    readable, message = await coordinator.send("/mydata")
    entries = json.loads(message.document.data)["audit_log"]
    assert {"action": "meeting.create", "object_type": "occurrence", "object_id": maria.session} in [
        {k: e[k] for k in ("action", "object_type", "object_id")} for e in entries
    ]
    text = readable.document.data.decode("utf-8")
    section = text.split("Ihre Änderungen als Koordination (Protokoll)")[1].split("Nachrichten des Bots an Sie")[0]
    lines = [line for line in section.splitlines() if line.startswith("- Di., 01.12.2026, 10:00 Uhr: ")]
    assert len(lines) == len(entries), "every entry of theirs, in local time"
    assert any(f"#{maria.session}" in line for line in lines)
    (reply, _) = await maria.send("/mydata")
    assert "meeting.create" not in reply.document.data.decode("utf-8"), "only one's own entries"


async def test_mydata_in_english(bot, maria) -> None:  # type: ignore[no-untyped-def]
    await maria.send("/language en")
    readable, _ = await maria.send("/mydata")
    assert readable.document.name == "kimbot-my-data.txt"
    text = readable.document.data.decode("utf-8")
    assert text.startswith("KIM-Bot: your stored data") and "Your groups" in text and "AK EU: member" in text


async def test_a_stranger_has_nothing_stored(bot) -> None:  # type: ignore[no-untyped-def]
    stranger = await bot.person("Nadia")
    (reply,) = await stranger.send("/mydata")
    assert reply.text == "Über Sie ist nichts gespeichert." and reply.document is None
    (reply,) = await stranger.send("/meinedaten")
    assert reply.text == "Über Sie ist nichts gespeichert."
    async with bot.db.reader() as uow:
        assert await uow.people.by_telegram_id(stranger.id) is None, "asking stores nothing"


async def test_forget_asks_first_and_no_keeps_everything(bot, maria) -> None:  # type: ignore[no-untyped-def]
    before = await bot.every_row()
    (question,) = await maria.send("/forget")
    assert question.text.startswith("Ihre Daten löschen?")
    assert "ehemaliges Mitglied" in question.text and "nicht rückgängig" in question.text
    assert [[b[0] for b in row] for row in question.buttons] == [
        ["🗑 Ja, meine Daten löschen"],
        ["Nein, nichts löschen"],
    ]
    replies = await maria.press("Nein, nichts löschen")
    assert replies[-1].text == "Gut, es bleibt alles, wie es ist."
    assert maria.messages[-2].buttons == [], "the question loses its buttons"
    assert await bot.every_row() == before


async def test_forget_erases_the_person_and_anonymises_what_they_wrote(bot, coordinator, maria) -> None:  # type: ignore[no-untyped-def]
    await maria.send("/vergessen")
    # An update of hers received but not handled yet (queued behind the button press,
    # or waiting for a restart): what it says goes too.
    async with bot.db.uow() as uow:
        await uow.inbox.add_many([(10**9, maria.id, f'{{"text": "{NAME}, {ORGANISATION}"}}')], START)
        await uow.commit()
    assert NAME in await bot.every_row(inbox=True)
    replies = await maria.press("🗑 Ja, meine Daten löschen")
    assert replies[-1].text.startswith("Ihre Daten sind gelöscht.")

    everything = await bot.every_row(inbox=True)
    assert "inbox: [" in everything and "inbox: []" not in everything
    for trace in (NAME, "Musterfrau", USERNAME, ORGANISATION, str(maria.id)):
        assert trace not in everything, f"{trace!r} is still stored"
    async with bot.db.reader() as uow:
        tombstone = (
            (
                await uow.session.execute(
                    select(Person).where(Person.display_name.is_(None), Person.telegram_id.is_(None))
                )
            )
            .scalars()
            .all()
        )
        assert len(tombstone) == 1
        rsvps = (await uow.session.execute(select(Rsvp).where(Rsvp.occurrence_id == maria.session))).scalars().all()
        assert len(rsvps) == 1, "the session keeps its Zusage; it names nobody"
        owed = (
            (
                await uow.session.execute(
                    select(Delivery).where(
                        Delivery.person_id == tombstone[0].id,
                        Delivery.status == DeliveryStatus.PENDING,
                    )
                )
            )
            .scalars()
            .all()
        )
        assert owed == []

    # What she wrote stays, without her name.
    replies = await coordinator.send("/agenda")
    assert "\n1. Wohnungsmarkt in Oberbarmen — ehemaliges Mitglied (#" in replies[-1].text
    replies = await coordinator.send(f"/feedback {maria.rid}")
    assert "Bitte auch samstags" in replies[-1].text and "ehemaliges Mitglied" in replies[-1].text
    assert "Zustimmung 1" in replies[-1].text.replace(": ", " "), "her stance still counts, anonymously"

    # No reminder reaches her any more; writing again starts afresh.
    seen = len(maria.messages)
    bot.clock.advance(days=8, hours=22)
    await bot.tick()
    assert len(maria.messages) == seen
    (reply,) = await maria.send("/mydata")
    assert reply.text == "Über Sie ist nichts gespeichert."
    replies = await maria.send("/start")
    assert "Datenschutz" in replies[-1].text


async def test_a_stale_yes_after_forgetting_erases_nothing_more(bot, maria) -> None:  # type: ignore[no-untyped-def]
    await maria.send("/forget")
    question = maria.last
    await maria.press("🗑 Ja, meine Daten löschen", question)
    assert question.buttons == [], "the question loses its buttons"
    replies = await maria.press_data(ConfirmForget(True).encode(), question)  # pressed in another app
    assert replies[-1].text == "Über Sie ist nichts gespeichert."


async def test_help_lists_mydata_and_forget_for_everyone(bot) -> None:  # type: ignore[no-untyped-def]
    guest = await bot.person("Gast")
    (reply,) = await guest.send("/help")
    assert "/mydata" in reply.text and "/forget" in reply.text


# --- what follows a session (SPEC 13) --------------------------------------------------------

KARL, KARL_ORGANISATION = "Karl Beispiel", "Diakonie Wuppertal"


@pytest.fixture
async def after_the_session(bot, coordinator, maria):  # type: ignore[no-untyped-def]
    """Rows of what follows Maria's session, written directly: her own check-in, Karl's
    attendance with Maria as his deputy, a correction she proposed, a task she owns,
    and a deputyship each way (Maria stands in for Karl; she asked Karl to stand in
    for her, not accepted yet), with a copy of her reminder owed to Karl."""
    karl = await bot.person("Karl", username="karl_b")
    await karl.register(name=KARL, organisation=KARL_ORGANISATION)
    await karl.send("/join ak-eu")
    await coordinator.send("/approve @karl_b")
    at = START + timedelta(days=9, hours=5)
    async with bot.db.uow() as uow:
        me = await uow.people.by_telegram_id(maria.id)
        him = await uow.people.by_telegram_id(karl.id)
        boss = await uow.people.by_telegram_id(coordinator.id)
        occurrence = await uow.session.get(Occurrence, maria.session)
        assert me is not None and him is not None and boss is not None and occurrence is not None
        group_id = (await uow.groups.by_slug("ak-eu")).id  # type: ignore[union-attr]
        uow.session.add_all(
            [
                Attendance(
                    occurrence_id=maria.session,
                    person_id=me.id,
                    organisation=ORGANISATION,
                    status=AttendanceStatus.PRESENT,
                    checked_in_at=at,
                    recorded_by_id=boss.id,
                    recorded_at=at,
                ),
                Attendance(
                    occurrence_id=maria.session,
                    person_id=him.id,
                    organisation=KARL_ORGANISATION,
                    status=AttendanceStatus.PRESENT,
                    checked_in_at=at,
                    deputy_id=me.id,
                    recorded_at=at,
                ),
                Deputy(member_id=him.id, deputy_id=me.id, until=date(2027, 1, 31), created_at=START, accepted_at=at),
                Deputy(member_id=me.id, deputy_id=him.id, until=None, created_at=at),
            ]
        )
        minutes = Minutes(
            occurrence_id=maria.session, status=MinutesStatus.REVIEW, created_by_id=boss.id, created_at=at
        )
        uow.session.add(minutes)
        await uow.flush()
        uow.session.add(
            MinutesCorrection(
                minutes_id=minutes.id, person_id=me.id, text="TOP 2: Oberbarmen, nicht Barmen", created_at=at
            )
        )
        task = Task(
            group_id=group_id,
            occurrence_id=maria.session,
            text="Liste der Sprachkurse verschicken",
            owner_id=me.id,
            due_on=date(2026, 12, 22),
            status=TaskStatus.OPEN,
            created_by_id=boss.id,
            created_at=at,
        )
        uow.session.add(task)
        await uow.flush()
        owed = (
            (
                await uow.session.execute(
                    select(Delivery).where(Delivery.person_id == me.id, Delivery.status == DeliveryStatus.PENDING)
                )
            )
            .scalars()
            .first()
        )
        assert owed is not None, "a reminder of her session is still owed to her"
        uow.session.add_all(
            [
                Delivery(
                    kind=DeliveryKind.TASK_DUE,
                    person_id=me.id,
                    task_id=task.id,
                    due_at=at + timedelta(days=10),
                    status=DeliveryStatus.PENDING,
                ),
                Delivery(
                    kind=DeliveryKind.DEPUTY_COPY,
                    person_id=him.id,
                    copy_of_id=owed.id,
                    due_at=owed.due_at,
                    status=DeliveryStatus.PENDING,
                ),
            ]
        )
        await uow.commit()
    maria.karl = karl
    return maria


async def test_mydata_has_attendance_corrections_tasks_and_deputyships(bot, after_the_session) -> None:  # type: ignore[no-untyped-def]
    maria = after_the_session
    answers = await maria.send("/mydata")
    # (Only the two files are read: the timer may send her the copy owed to her meanwhile.)
    documents = {m.document.name: m for m in answers if m.document is not None}
    readable, message = documents["kimbot-meine-daten.txt"], documents["kimbot-meine-daten.json"]
    data = json.loads(message.document.data)
    assert [
        (a["session"], a["status"], a["as"], a["as_deputy_for"], a["organisation"]) for a in data["attendance"]
    ] == [
        (maria.session, "present", "member", None, ORGANISATION),
        (maria.session, "present", "deputy", KARL, None),
    ]
    assert data["attendance"][0]["checked_in_at"] == "2026-12-10T15:00:00+01:00"
    assert [(c["session"], c["text"]) for c in data["minutes_corrections"]] == [
        (maria.session, "TOP 2: Oberbarmen, nicht Barmen")
    ]
    assert [(t["text"], t["due_on"], t["status"]) for t in data["tasks"]] == [
        ("Liste der Sprachkurse verschicken", "2026-12-22", "open")
    ]
    assert [(d["role"], d["member"], d["deputy"], d["until"]) for d in data["deputyships"]] == [
        ("deputy", KARL, NAME, "2027-01-31"),
        ("member", NAME, KARL, None),
    ]
    text = readable.document.data.decode("utf-8")
    for heading in (
        "Ihre Anwesenheit bei Sitzungen",
        "Ihre Korrekturvorschläge zu Protokollen",
        "Ihre Aufgaben",
        "Ihre Vertretungen",
    ):
        assert f"\n{heading}\n{'=' * len(heading)}\n" in text, heading
    when = "Do., 10.12.2026, 14:00 Uhr"
    assert f"- Sitzung #{maria.session}, AK EU: Auftakt, {when}: anwesend, selbst angemeldet" in text
    assert (
        f"- Sitzung #{maria.session}, AK EU: Auftakt, {when}: anwesend, Sie waren dort in Vertretung für {KARL}" in text
    )
    assert "„TOP 2: Oberbarmen, nicht Barmen“" in text
    assert "„Liste der Sprachkurse verschicken“, fällig am 22.12.2026: offen" in text
    assert f"- Sie vertreten {KARL} bis zum 31.01.2027 (angefragt Di., 01.12.2026, 10:00 Uhr, angenommen" in text
    assert f"- {KARL} vertritt Sie ohne Enddatum (angefragt" in text
    assert "- Erinnerung an eine Aufgabe: noch nicht gesendet" in text


async def test_forget_keeps_attendance_as_former_member_with_the_organisation(
    bot, coordinator, after_the_session
) -> None:  # type: ignore[no-untyped-def]
    maria = after_the_session
    (question,) = await maria.send("/forget")
    assert "Anwesenheit" in question.text and "Organisation" in question.text
    await maria.press("🗑 Ja, meine Daten löschen")

    everything = await bot.every_row()
    for trace in (NAME, "Musterfrau", USERNAME, str(maria.id)):
        assert trace not in everything, f"{trace!r} is still stored"
    holding = [line.split(":")[0] for line in everything.splitlines() if ORGANISATION in line]
    assert holding == ["attendance"], "her organisation stays only as evidence of attendance"
    async with bot.db.reader() as uow:
        rows = (
            (await uow.session.execute(select(Attendance).where(Attendance.occurrence_id == maria.session)))
            .scalars()
            .all()
        )
        by_organisation = {a.organisation: a for a in rows}
        former = by_organisation[ORGANISATION]
        assert (former.person_id, former.guest_name, former.status) == (None, None, AttendanceStatus.PRESENT)
        assert former.recorded_by_id is not None, "the coordination took it: it stays taken"
        karls = by_organisation[KARL_ORGANISATION]
        assert karls.person_id is not None and karls.deputy_id is None, "Karl attended; who stood in is gone"
        (correction,) = (await uow.session.execute(select(MinutesCorrection))).scalars().all()
        assert correction.person_id is None and correction.text == "TOP 2: Oberbarmen, nicht Barmen"
        (task,) = (await uow.session.execute(select(Task))).scalars().all()
        assert task.owner_id is None and task.text == "Liste der Sprachkurse verschicken"
        assert (await uow.session.execute(select(Deputy))).scalars().all() == []
        pending = (
            (
                await uow.session.execute(
                    select(Delivery).where(
                        Delivery.kind.in_([DeliveryKind.TASK_DUE, DeliveryKind.DEPUTY_COPY]),
                        Delivery.status == DeliveryStatus.PENDING,
                    )
                )
            )
            .scalars()
            .all()
        )
        assert pending == [], "neither her task's reminder nor the copy of her reminder to Karl"

    # Karl's own data no longer names her.
    answers = await maria.karl.send("/mydata")
    # (Only the JSON file is read: a message of the timer's may arrive meanwhile.)
    (message,) = [m for m in answers if m.document is not None and m.document.name == "kimbot-meine-daten.json"]
    data = json.loads(message.document.data)
    assert data["deputyships"] == [] and NAME not in message.document.data.decode("utf-8")


# --- tracking the steering circle's recommendations (SPEC 14) ----------------------------------


async def test_tracking_holds_no_personal_data_and_a_forgetting_coordinator_is_owed_no_review(
    bot: Any, coordinator: Any, maria: Any
) -> None:
    """Maria's recommendation closed as adopted and tracked by the coordination (through the
    core functions of the chat flow): responsible office, due and review date. The
    coordinator's /mydata words the review reminder owed and lists the `tracking.set`
    entries; after the coordinator forgets themselves the tracking stays as it was
    (it names an office, never a person) and the review reminder is no longer owed."""
    settings = bot.settings
    async with bot.db.uow() as uow:
        me = await uow.people.by_telegram_id(coordinator.id)
        assert me is not None
        await recommendation_closing.choose_result(uow, me, maria.rid, RecommendationResult.ADOPTED, settings)
        await recommendation_closing.close(uow, me, "Angenommen, die VHS plant Kurse.", settings, START)
        await tracking_changes.answer(uow, me, "Volkshochschule Wuppertal", settings, START)
        await tracking_changes.choose_date(uow, me, maria.rid, Field.DUE, date(2027, 3, 31), settings, START)
        await tracking_changes.choose_date(uow, me, maria.rid, Field.REVIEW, date(2026, 12, 15), settings, START)
        await uow.commit()

    readable, message = await coordinator.send("/mydata")
    data = json.loads(message.document.data)
    assert {e["action"] for e in data["audit_log"]} >= {"recommendation.close", "tracking.set"}
    text = readable.document.data.decode("utf-8")
    assert "Erinnerung an eine Wiedervorlage (Empfehlung)" in text and "review_due" not in text

    await coordinator.send("/forget")
    await coordinator.press("🗑 Ja, meine Daten löschen")
    async with bot.db.reader() as uow:
        tracked = await uow.trackings.get(maria.rid)
        assert tracked is not None and tracked.responsible == "Volkshochschule Wuppertal"
        assert (tracked.due_on, tracked.review_on) == (date(2027, 3, 31), date(2026, 12, 15))
        reviews = (
            (await uow.session.execute(select(Delivery).where(Delivery.kind == DeliveryKind.REVIEW_DUE)))
            .scalars()
            .all()
        )
        assert reviews and all(d.status is not DeliveryStatus.PENDING for d in reviews)
    assert "Sabine" not in await bot.every_row()
    seen = len(coordinator.messages)
    bot.clock.set(datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    await bot.tick()
    assert len(coordinator.messages) == seen, "no review reminder reaches a forgotten coordinator"
