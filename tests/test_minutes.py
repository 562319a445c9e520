"""Minutes (/minutes) through the emulator: written item by item with decisions
and tasks, circulated to those present (a check-in counts, a deputy gets the
member's copy), a correction proposed, approved and locked, the approved
minutes with their Word document to every member; bad input changes nothing.

The attendance rows are written directly: recording them is another command's
work (/attendance, /here), and here only what they say matters."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from docx import Document
from sqlalchemy import func, select, update

from storage.admin_models import AuditEntry
from storage.followup_models import (
    Attendance,
    AttendanceStatus,
    Minutes,
    MinutesCorrection,
    MinutesDecision,
    MinutesItem,
    MinutesStatus,
    Task,
    TaskStatus,
)
from storage.models import AgendaItem, AgendaStatus, Delivery, DeliveryKind, DeliveryStatus, Person

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
HELD = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # an hour after the session began


async def count(bot, model, **where) -> int:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await uow.session.scalar(query) or 0)


async def person_id(bot, telegram_id: int) -> int:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        person = await uow.people.by_telegram_id(telegram_id)
        assert person is not None
        return person.id


def with_text(person, text: str) -> list:  # type: ignore[no-untyped-def]
    return [m for m in person.messages if m.text and text in m.text]


@pytest.fixture
async def held(bot, coordinator):  # type: ignore[no-untyped-def]
    """AK EU: Ana, Ben and Carl; Dora, registered in no group, is Carl's deputy.
    Session "Auftakt" on 03.12.2026 14:00 with two accepted agenda items and one
    rejected. Attendance: Ana checked in, Ben excused, Carl present through Dora."""
    bot.clock.set(START)
    people = {}
    for name in ("Ana", "Ben", "Carl", "Dora"):
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=f"Verein {name}")
        if name != "Dora":
            await person.send("/join ak-eu")
            await coordinator.send(f"/approve @{name.lower()}")
        people[name] = person
    replies = await coordinator.send("/meeting ak-eu 03.12.2026 14:00 Auftakt | Rathaus Barmen")
    session = int(re.search(r"#(\d+)", replies[-1].text).group(1))  # type: ignore[union-attr]
    for text in ("Haushalt 2027", "Sprachkurse", "Abgelehnt"):
        await people["Ana"].send(f"/agenda ak-eu {text}")
    async with bot.db.uow() as uow:
        items = (await uow.session.execute(select(AgendaItem).order_by(AgendaItem.id))).scalars().all()
        for item in items:
            item.status = AgendaStatus.REJECTED if item.text == "Abgelehnt" else AgendaStatus.ACCEPTED
        ids = {name: (await uow.people.by_telegram_id(p.id)).id for name, p in people.items()}  # type: ignore[union-attr]
        rows = [
            ("Ana", AttendanceStatus.PRESENT, None),
            ("Ben", AttendanceStatus.EXCUSED, None),
            ("Carl", AttendanceStatus.PRESENT, ids["Dora"]),
        ]
        for name, status, deputy in rows:
            uow.attendance.add(
                Attendance(
                    occurrence_id=session,
                    person_id=ids[name],
                    organisation=f"Verein {name}",
                    status=status,
                    checked_in_at=HELD if status is AttendanceStatus.PRESENT else None,
                    deputy_id=deputy,
                    recorded_at=HELD,
                )
            )
        await uow.commit()
    await bot.tick()
    bot.clock.set(HELD)
    return people, session


async def test_a_whole_cycle_with_a_correction_and_approval(bot, coordinator, held):  # type: ignore[no-untyped-def]
    people, session = held
    replies = await coordinator.send("/minutes")
    [choice] = [label for row in replies[-1].buttons for label, _ in row]
    assert choice.startswith(f"#{session} AK EU · ") and choice.endswith(" · Auftakt")
    replies = await coordinator.press(choice)
    texts = [r.text for r in replies]
    assert any("angelegt, mit 2 Tagesordnungspunkten" in t for t in texts)
    assert "TOP 1 von 2: Haushalt 2027" in texts[-1] and "Beschluss:" in texts[-1]
    replies = await coordinator.send(
        "Der Haushalt wurde vorgestellt.\nBeschluss: Wir beantragen 5000 Euro.\nAufgabe: Antrag schreiben @ana bis 15.12.2026"
    )
    assert "Gespeichert" in replies[0].text and "TOP 2 von 2: Sprachkurse" in replies[-1].text
    replies = await coordinator.press("Punkt hinzufügen")
    assert "Wie heißt der neue Tagesordnungspunkt" in replies[-1].text
    replies = await coordinator.send("Verschiedenes")
    assert "TOP 3 von 3: Verschiedenes" in replies[-1].text
    replies = await coordinator.send("Nichts weiter.")
    overview = replies[-1]
    assert "Übersicht" in overview.text and "TOP 2: Sprachkurse" in overview.text
    assert "kein Ergebnis eingetragen" in overview.text, "the skipped item says so"

    # Sending an item's text again replaces its result, decisions and draft tasks.
    await coordinator.press("Bearbeiten", overview)
    assert "Wir beantragen 5000 Euro" in coordinator.last.text, "the walk shows what the item says"
    await coordinator.send(
        "Vorgestellt.\n#beschluss Wir beantragen 6000 Euro.\nAufgabe: Antrag schreiben @ben bis 16.12.2026"
    )
    async with bot.db.reader() as uow:
        decisions = (await uow.session.execute(select(MinutesDecision.text))).scalars().all()
        tasks = (await uow.session.execute(select(Task))).scalars().all()
    assert decisions == ["Wir beantragen 6000 Euro."]
    assert [(t.text, t.due_on.isoformat(), t.status) for t in tasks] == [
        ("Antrag schreiben", "2026-12-16", TaskStatus.DRAFT)
    ]
    assert tasks[0].owner_id == await person_id(bot, people["Ben"].id)

    replies = await coordinator.press("Überspringen")
    replies = await coordinator.press("Überspringen")
    assert "Zur Korrektur senden" in [label for row in coordinator.last.buttons for label, _ in row]
    replies = await coordinator.press("Zur Korrektur senden")
    assert "geht an 2 Personen" in replies[0].text
    await bot.tick()
    for name in ("Ana", "Dora"):
        [draft] = with_text(people[name], "Entwurf: Ergebnisprotokoll")
        assert "Wir beantragen 6000 Euro" in draft.text and "Korrektur vorschlagen" in str(draft.buttons)
    for who in (people["Ben"], people["Carl"], coordinator):
        assert with_text(who, "Entwurf: Ergebnisprotokoll") == [], "only those present, not the coordination"
    assert with_text(people["Ben"], "Neue Aufgabe") == [], "a draft task tells nobody"

    # A correction from someone present; the coordination is told.
    await people["Ana"].press("Korrektur vorschlagen")
    assert "Welche Korrektur" in people["Ana"].last.text
    coordinator.new()
    replies = await people["Ana"].send("Es waren 6500 Euro.")
    assert "Danke" in replies[-1].text
    [notice] = coordinator.new()
    assert "Korrekturvorschlag" in notice.text and "Ana" in notice.text and "6500 Euro" in notice.text
    replies = await people["Ben"].press_data(f"ek:{await _minutes_id(bot)}")
    assert "nur die Personen" in replies[-1].text, "Ben was not present"

    # The coordination edits during the review, then approves.
    replies = await coordinator.send(f"/minutes {session}")
    assert "Es waren 6500 Euro" in replies[-1].text and "Korrekturen sind möglich bis" in replies[-1].text
    await coordinator.press("Bearbeiten")
    await coordinator.send(
        "Vorgestellt.\nBeschluss: Wir beantragen 6500 Euro.\nAufgabe: Antrag schreiben @ben bis 16.12.2026"
    )
    replies = await coordinator.press("Freigeben")
    assert "Danach kann das Protokoll nicht mehr geändert werden" in replies[-1].text
    assert await count(bot, Minutes, status=MinutesStatus.REVIEW) == 1, "nothing before the confirmation"
    replies = await coordinator.press("Ja, freigeben")
    assert "ist freigegeben. Es geht an 3 Mitglieder. Aufgaben verschickt: 1" in replies[-1].text
    await bot.tick()
    for name in ("Ana", "Ben", "Carl"):
        person = people[name]
        [final] = with_text(person, "Ergebnisprotokoll</b> (freigegeben)") or with_text(person, "(freigegeben)")
        assert "Wir beantragen 6500 Euro" in final.text
        document = person.messages[person.messages.index(final) + 1].document
        assert document is not None and document.name == f"Ergebnisprotokoll-{session}.docx"
    assert with_text(people["Dora"], "(freigegeben)") == [], "the final minutes go to the group's members"
    assert len(with_text(people["Ben"], "Neue Aufgabe")) == 1, "the task's owner is told"
    async with bot.db.reader() as uow:
        [task] = (await uow.session.execute(select(Task))).scalars().all()
        actions = (await uow.session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars().all()
    assert task.status is TaskStatus.OPEN
    assert [a for a in actions if a.startswith("minutes.")] == [
        "minutes.create",
        "minutes.circulate",
        "minutes.approve",
    ]
    assert await count(bot, MinutesCorrection) == 1

    # The Word document, read back.
    data = people["Ana"].messages[people["Ana"].messages.index(with_text(people["Ana"], "(freigegeben)")[0]) + 1]
    read = Document(io.BytesIO(data.document.data))
    paragraphs = [p.text for p in read.paragraphs]
    assert paragraphs[0] == "Ergebnisprotokoll"
    facts = {row.cells[0].text: row.cells[1].text for row in read.tables[0].rows}
    assert facts["Gruppe"] == "AK EU" and facts["Sitzung"] == "Auftakt" and facts["Ort"] == "Rathaus Barmen"
    assert "03.12.2026, 14:00" in facts["Datum und Uhrzeit"]
    assert "Ana (Verein Ana)" in paragraphs and "Carl (Verein Carl), vertreten durch Dora" in paragraphs
    assert paragraphs[paragraphs.index("Entschuldigt") + 1] == "Ben (Verein Ben)"
    assert "TOP 1: Haushalt 2027" in paragraphs and "TOP 3: Verschiedenes" in paragraphs
    assert "Beschluss: Wir beantragen 6500 Euro." in paragraphs
    assert "Aufgabe: Antrag schreiben – Ben, bis 16.12.2026" in paragraphs


async def _minutes_id(bot) -> int:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return int((await uow.session.scalar(select(Minutes.id))) or 0)


async def test_approved_minutes_are_locked(bot, coordinator, held):  # type: ignore[no-untyped-def]
    people, session = held
    paul = await bot.person("Paul", username="paul")
    await paul.register()
    await coordinator.send("/promote @paul")
    await coordinator.send(f"/minutes {session}")
    await coordinator.press("Überspringen")
    await coordinator.press("Überspringen")
    await coordinator.press("Zur Korrektur senden")
    await bot.tick()
    await paul.send(f"/minutes {session}")
    walk = (await paul.press("Bearbeiten"))[-1]  # Paul is in the walk
    await coordinator.press("Freigeben")
    await coordinator.press("Ja, freigeben")
    replies = await paul.send("Noch ein Ergebnis.")
    assert "ist freigegeben und kann nicht mehr geändert werden" in replies[-1].text
    async with bot.db.reader() as uow:
        assert (await uow.people.by_telegram_id(paul.id)).awaiting is None, "and the bot waits no more"  # type: ignore[union-attr]
    await bot.tick()  # the approved minutes go out to the group first: the timer's rows change no more
    before = await bot.every_row()
    for label in ("Überspringen", "Punkt hinzufügen"):
        replies = await paul.press(label, walk)
        assert "kann nicht mehr geändert werden" in replies[-1].text, label
    minutes_id = await _minutes_id(bot)
    for data in (f"ec:{minutes_id}", f"ef:{minutes_id}:1", f"eg:{minutes_id}:0"):
        replies = await coordinator.press_data(data)
        assert "kann nicht mehr geändert werden" in replies[-1].text, data
    replies = await people["Ana"].press("Korrektur vorschlagen")
    assert "schon freigegeben" in replies[-1].text
    assert await bot.every_row() == before, "nothing changed"

    replies = await coordinator.send(f"/minutes {session}")
    assert "(freigegeben)" in replies[0].text
    assert "kann nicht mehr geändert werden" in replies[1].text
    assert replies[-1].document is not None and replies[-1].document.name.endswith(".docx")
    assert await count(bot, Delivery, kind=DeliveryKind.MINUTES_FINAL) == 3


async def test_a_correction_after_the_review_period_is_refused(bot, coordinator, held):  # type: ignore[no-untyped-def]
    people, session = held
    await coordinator.send(f"/minutes {session}")
    await coordinator.press("Überspringen")
    await coordinator.press("Überspringen")
    await coordinator.press("Zur Korrektur senden")
    await bot.tick()
    bot.clock.set(HELD + timedelta(days=7, minutes=1))
    replies = await people["Ana"].press("Korrektur vorschlagen")
    assert "Frist für Korrekturen" in replies[-1].text and "abgelaufen" in replies[-1].text
    assert await count(bot, MinutesCorrection) == 0


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(bot, coordinator, held):  # type: ignore[no-untyped-def]
    people, session = held
    bot.clock.set(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))  # two hours before the session
    before = await bot.every_row()
    replies = await coordinator.send(f"/minutes {session}")
    assert "hat noch nicht begonnen" in replies[-1].text and "03.12.2026, 14:00" in replies[-1].text
    replies = await coordinator.send("/minutes 999")
    assert "Eine Sitzung #999 gibt es nicht" in replies[-1].text
    replies = await coordinator.send("/minutes zwölf")
    assert "keine Sitzungsnummer" in replies[-1].text
    assert await bot.every_row() == before

    bot.clock.set(HELD)
    await coordinator.send(f"/minutes {session}")
    before = await bot.every_row()
    for line, expected in (
        ("Aufgabe: Antrag schreiben @niemand bis 15.12.2026", "kenne ich nicht"),
        ("Aufgabe: Antrag schreiben @ana bis 01.12.2026", "in der Vergangenheit"),
        ("Aufgabe: Antrag schreiben @ana", "bis wann"),
    ):
        replies = await coordinator.send(f"Ergebnis.\nBeschluss: Etwas.\n{line}")
        assert expected in replies[-1].text, line
        assert "Beispiel" in replies[-1].text
        assert await bot.every_row() == before, f"nothing of the message is stored: {line}"
    replies = await coordinator.send("Ergebnis.")
    assert "TOP 2 von 2" in replies[-1].text, "still in the walk after a refused message"
    async with bot.db.reader() as uow:
        results = (await uow.session.execute(select(MinutesItem.result).order_by(MinutesItem.position))).all()
    assert [r for (r,) in results] == ["Ergebnis.", None]
    assert await count(bot, Task) == 0 and await count(bot, MinutesDecision) == 0
    assert await count(bot, Person) == 5


async def test_a_draft_not_sent_before_the_approval_is_skipped(bot, coordinator, held):  # type: ignore[no-untyped-def]
    people, session = held
    await coordinator.send(f"/minutes {session}")
    await coordinator.send("Vorgestellt.")
    await coordinator.press("Überspringen")
    await coordinator.press("Zur Korrektur senden")
    await coordinator.press("Freigeben")
    await coordinator.press("Ja, freigeben")
    await bot.tick()
    for person in people.values():
        person.new()
    async with bot.db.uow() as uow:  # as if Telegram had not taken the drafts before (an outage)
        await uow.session.execute(
            update(Delivery)
            .where(Delivery.kind == DeliveryKind.MINUTES_DRAFT)
            .values(status=DeliveryStatus.PENDING, sent_at=None)
        )
        await uow.commit()
    await bot.tick()
    for name in ("Ana", "Dora"):
        assert people[name].new() == [], f"{name}: no draft after the approval"
    async with bot.db.reader() as uow:
        drafts = (
            await uow.session.execute(select(Delivery).where(Delivery.kind == DeliveryKind.MINUTES_DRAFT))
        ).scalars()
        assert {(d.status.value, d.error) for d in drafts} == {("skipped", "minutes approved")}
