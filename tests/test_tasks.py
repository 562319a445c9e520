"""Tasks from the minutes (SPEC 13) through the emulator: the new task and its
reminder at 09:00 local two days before it is due (across a clock change),
"Erledigt" by the owner (and refused for someone else), /tasks, the open tasks
under the agenda, and the task lines with their clear refusals.

The tasks are written through the core functions the minutes use
(`parse_task_line`, `add_draft`, `publish`), inside `bot.db.uow()`, on minutes
made in the test: the minutes' own walk is tested in tests/test_minutes.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.core import tasks
from bot.core.errors import Refusal
from bot.render.texts import Texts
from storage.admin_models import AuditEntry
from storage.followup_models import Minutes, MinutesItem, MinutesStatus, Task, TaskStatus
from storage.models import Delivery, DeliveryKind, DeliveryStatus, Meeting, Occurrence

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # Mon 01.03.2027, 10:00 in Berlin
AFTER = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # the day after the session
NEW_TASK = "Neue Aufgabe für Sie"
REMINDER = "Erinnerung:"
DONE = "✓ Erledigt"


@pytest.fixture
async def members(bot, coordinator):  # type: ignore[no-untyped-def]
    """Ana and Ben in AK EU, Carl in AK Ehrenamt; a session of AK EU on 01.03.2027 (held)."""
    bot.clock.set(START)
    found = {}
    for name, slug in (("Ana", "ak-eu"), ("Ben", "ak-eu"), ("Carl", "ak-ehrenamt")):
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=f"Verein {name}")
        await person.send(f"/join {slug}")
        await coordinator.send(f"/approve @{name.lower()}")
        found[name] = person
    await coordinator.send("/meeting ak-eu 01.03.2027 18:00 Auftakt | Rathaus")
    await bot.tick()
    bot.clock.set(AFTER)
    await bot.tick()
    for person in (*found.values(), coordinator):
        person.new()
    return found


async def publish(bot, coordinator, *lines: str, title: str = "Auftakt") -> list[int]:  # type: ignore[no-untyped-def]
    """Approved minutes of the AK EU session with one item holding these task lines,
    published as the approval does; the ids of the tasks."""
    now = bot.clock()
    tz = bot.settings.timezone
    async with bot.db.uow() as uow:
        occurrence = (
            await uow.session.execute(
                select(Occurrence).join(Meeting, Meeting.id == Occurrence.meeting_id).where(Meeting.title == title)
            )
        ).scalar_one()
        meeting = await uow.session.get(Meeting, occurrence.meeting_id)
        assert meeting is not None
        group = await uow.groups.get(meeting.group_id)
        assert group is not None
        creator = await uow.people.by_telegram_id(coordinator.id)
        assert creator is not None
        minutes = Minutes(occurrence_id=occurrence.id, status=MinutesStatus.APPROVED, created_at=now, approved_at=now)
        uow.session.add(minutes)
        await uow.flush()
        item = MinutesItem(minutes_id=minutes.id, title="Berichte", position=0)
        uow.session.add(item)
        await uow.flush()
        for line in lines:
            draft = await tasks.parse_task_line(uow, line, now.astimezone(tz).date(), tz)
            await tasks.add_draft(uow, draft, group, occurrence, item, creator, now)
        published = await tasks.publish(uow, minutes, now, bot.settings)
        await uow.commit()
        return [task.id for task in published]


async def deliveries(bot, task_id: int) -> dict[DeliveryKind, Delivery]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        rows = (await uow.session.execute(select(Delivery).where(Delivery.task_id == task_id))).scalars().all()
    return {row.kind: row for row in rows}


async def task_row(bot, task_id: int) -> Task:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        task = await uow.session.get(Task, task_id)
    assert task is not None
    return task


def with_text(person, text: str) -> list:  # type: ignore[no-untyped-def]
    return [m for m in person.messages if text in m.text]


async def test_a_new_task_is_sent_and_reminded_at_nine_local_across_the_clock_change(bot, coordinator, members):
    ana, ben = members["Ana"], members["Ben"]
    [task_id, soon_id] = await publish(
        bot, coordinator, "Aufgabe: Flyer drucken @ana bis 30.03.2027", "#aufgabe Raum buchen @ben bis 3.3.2027"
    )
    assert (await task_row(bot, task_id)).status is TaskStatus.OPEN
    await bot.tick()
    [assigned] = with_text(ana, NEW_TASK)
    assert "aus der Sitzung Auftakt (AK EU) am 01.03.2027: Flyer drucken" in assigned.text
    assert "Fällig bis 30.03.2027" in assigned.text
    assert [[label for label, _ in row] for row in assigned.buttons] == [[DONE]]
    [ben_assigned] = with_text(ben, NEW_TASK)
    assert "Raum buchen" in ben_assigned.text and with_text(members["Carl"], NEW_TASK) == []

    # 30.03.2027 is due; the clocks go forward on Sunday 28.03.2027: 09:00 CEST is 07:00 UTC.
    rows = await deliveries(bot, task_id)
    assert rows[DeliveryKind.TASK_DUE].due_at == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)
    assert DeliveryKind.TASK_DUE not in await deliveries(bot, soon_id), "due in a day: no reminder two days before"
    bot.clock.set(datetime(2027, 3, 28, 6, 59, tzinfo=UTC))
    await bot.tick()
    assert with_text(ana, REMINDER) == []
    bot.clock.set(datetime(2027, 3, 28, 7, 0, tzinfo=UTC))
    await bot.tick()
    [reminder] = with_text(ana, REMINDER)
    assert "„Flyer drucken“ ist am 30.03.2027 fällig" in reminder.text and "Auftakt (AK EU)" in reminder.text
    assert [[label for label, _ in row] for row in reminder.buttons] == [[DONE]]
    assert await bot.tick() == 0, "nothing is sent twice"


async def test_done_by_the_owner_refused_for_someone_else_and_no_reminder_after(bot, coordinator, members):
    ana, ben = members["Ana"], members["Ben"]
    [task_id, ben_task] = await publish(
        bot, coordinator, "Aufgabe: Flyer drucken @ana bis 30.03.2027", "Aufgabe: Raum buchen @ben bis 30.03.2027"
    )
    await bot.tick()
    before = await bot.every_row()
    [refused] = await ben.press_data(f"td:{task_id}:one")
    assert "gehört jemand anderem" in refused.text
    assert await bot.every_row() == before, "refused: nothing changed"

    [assigned] = with_text(ana, NEW_TASK)
    await ana.press(DONE, assigned)
    shown = next(m for m in ana.messages if m.message_id == assigned.message_id)
    assert "Flyer drucken" in shown.text and "✓ Erledigt am 02.03.2027" in shown.text and shown.buttons == []
    task = await task_row(bot, task_id)
    assert task.status is TaskStatus.DONE and task.done_at == AFTER
    bot.clock.set(datetime(2027, 3, 3, 9, 0, tzinfo=UTC))
    before = await bot.every_row()
    await ana.press_data(f"td:{task_id}:one", assigned)
    assert await bot.every_row() == before, "pressed again: nothing changes"
    assert (await task_row(bot, task_id)).done_at == AFTER

    # The coordination may mark someone's task done; it is written in the log.
    await coordinator.send("/tasks all")
    await coordinator.press(f"{DONE[0]} 1. Raum buchen")
    assert (await task_row(bot, ben_task)).status is TaskStatus.DONE
    async with bot.db.reader() as uow:
        [entry] = (await uow.session.execute(select(AuditEntry).where(AuditEntry.action == "task.done"))).scalars()
    assert entry.object_id == ben_task
    assert Texts().plain("de", "audit.task_done", id=ben_task, text="Raum buchen").startswith("Aufgabe #")

    bot.clock.set(datetime(2027, 3, 28, 7, 0, tzinfo=UTC))
    await bot.tick()
    assert with_text(ana, REMINDER) == [] and with_text(ben, REMINDER) == []
    row = (await deliveries(bot, task_id))[DeliveryKind.TASK_DUE]
    assert row.status is DeliveryStatus.SKIPPED and row.error == "task done"


async def test_no_reminder_for_a_task_whose_owner_is_gone(bot, coordinator, members):
    [task_id] = await publish(bot, coordinator, "Aufgabe: Flyer drucken @ana bis 30.03.2027")
    await bot.tick()
    async with bot.db.uow() as uow:
        task = await uow.session.get(Task, task_id)
        assert task is not None
        task.owner_id = None  # as /forget leaves it
        await uow.commit()
    bot.clock.set(datetime(2027, 3, 28, 7, 0, tzinfo=UTC))
    await bot.tick()
    assert with_text(members["Ana"], REMINDER) == []
    row = (await deliveries(bot, task_id))[DeliveryKind.TASK_DUE]
    assert row.status is DeliveryStatus.SKIPPED and row.error == "owner forgotten"


async def test_tasks_lists_the_open_tasks_due_first_first_with_overdue_marked(bot, coordinator, members):
    ana, ben, carl = members["Ana"], members["Ben"], members["Carl"]
    assert "keine offenen Aufgaben" in (await ana.send("/tasks"))[-1].text
    await publish(
        bot,
        coordinator,
        "Aufgabe: Bericht schreiben @ana bis 20.03.2027",
        "Aufgabe: Flyer drucken @ana bis 10.03.2027",
        f"Aufgabe: Raum buchen {ben.id} bis 25.03.2027",
    )
    bot.clock.set(datetime(2027, 3, 12, 9, 0, tzinfo=UTC))
    [listing] = await ana.send("/aufgaben")
    text = listing.text
    assert "Ihre offenen Aufgaben" in text and "Raum buchen" not in text
    assert text.index("Flyer drucken") < text.index("Bericht schreiben")
    flyer_line = text[text.index("Flyer drucken") : text.index("Bericht schreiben")]
    assert (
        "AK EU" in flyer_line and "Auftakt" in flyer_line and "10.03.2027" in flyer_line and "überfällig" in flyer_line
    )
    assert "überfällig" not in text[text.index("Bericht schreiben") :]
    labels = [label for row in listing.buttons for label, _ in row]
    assert labels == ["✓ 1. Flyer drucken", "✓ 2. Bericht schreiben"]
    await ana.press("✓ 1. Flyer drucken", listing)
    shown = next(m for m in ana.messages if m.message_id == listing.message_id)
    assert "✓ Erledigt am 12.03.2027: Flyer drucken" in shown.text
    assert [label for row in shown.buttons for label, _ in row] == ["✓ 1. Bericht schreiben"]
    assert "keine offenen Aufgaben" in (await carl.send("/tasks"))[-1].text

    [everything] = await coordinator.send("/tasks all")
    assert "Offene Aufgaben aller Gruppen" in everything.text
    assert "Ben" in everything.text and "Ana" in everything.text and "Flyer drucken" not in everything.text
    [one_group] = await coordinator.send("/tasks ak-ehrenamt")
    assert "AK Ehrenamt hat keine offenen Aufgaben" in one_group.text
    [unknown] = await coordinator.send("/tasks ak-nirgends")
    assert "kenne ich nicht" in unknown.text and "/tasks all" in unknown.text
    [refused] = await ana.send("/tasks all")
    assert "Das darf nur die KIM-Koordination" in refused.text
    stranger = await bot.person("Eve", username="eve")
    [unregistered] = await stranger.send("/tasks")
    assert unregistered.text == Texts().plain("de", "errors.not_registered")


async def test_open_tasks_appear_under_the_agenda_and_in_the_reminder(bot, coordinator, members):
    ana, carl = members["Ana"], members["Carl"]
    await coordinator.send("/meeting ak-eu 16.03.2027 14:00 Zweite Sitzung")
    await bot.tick()
    await publish(
        bot, coordinator, "Aufgabe: Flyer drucken @ana bis 10.03.2027", "Aufgabe: Raum buchen @ben bis 20.03.2027"
    )
    await bot.tick()
    texts = "\n".join(m.text for m in await ana.send("/agenda"))
    assert "Offene Aufgaben" in texts
    assert "Flyer drucken – Ana, fällig bis 10.03.2027" in texts and "Raum buchen – Ben" in texts
    assert "Offene Aufgaben" not in "\n".join(m.text for m in await carl.send("/agenda")), "only the group's own"

    await ana.press(DONE, with_text(ana, NEW_TASK)[0])
    await bot.tick()
    ana.new()
    bot.clock.set(datetime(2027, 3, 15, 13, 0, tzinfo=UTC))  # the day before: the reminders go out
    await bot.tick()
    [reminder] = [m for m in ana.new() if "Zweite Sitzung" in m.text and "Offene Aufgaben" in m.text]
    assert "Raum buchen – Ben, fällig bis 20.03.2027" in reminder.text and "Flyer drucken" not in reminder.text


@pytest.mark.parametrize(
    ("line", "key", "says"),
    [
        ("Aufgabe: Flyer drucken @niemand bis 30.03.2027", "tasks.unknown_owner", "„@niemand“ kenne ich nicht"),
        ("Aufgabe: Flyer drucken @ana bis 01.02.2027", "tasks.due_past", "in der Vergangenheit"),
        ("Aufgabe: Flyer drucken @ana", "tasks.missing_due", "bis wann"),
        ("Aufgabe: Flyer drucken @ana bis morgen", "tasks.bad_due", "kein Datum"),
        ("Aufgabe: Flyer drucken bis 30.03.2027", "tasks.missing_owner", "wer sie übernimmt"),
        ("Aufgabe: @ana bis 30.03.2027", "tasks.missing_text", "was zu tun ist"),
    ],
)
async def test_a_bad_task_line_is_refused_with_a_clear_text(bot, coordinator, members, line, key, says):
    today = date(2027, 3, 2)
    async with bot.db.uow() as uow:
        with pytest.raises(Refusal) as refused:
            await tasks.parse_task_line(uow, line, today, bot.settings.timezone)
    assert refused.value.key == key
    text = Texts().plain("de", key, **refused.value.params)
    assert says in text and "Aufgabe: Flyer drucken @ana bis " in text, text


async def test_a_task_line_names_its_owner_by_username_or_id_anywhere(bot, coordinator, members):
    today = date(2027, 3, 2)
    async with bot.db.uow() as uow:
        first = await tasks.parse_task_line(
            uow, "#Aufgabe @ana Flyer drucken bis 2027-03-30", today, bot.settings.timezone
        )
        second = await tasks.parse_task_line(
            uow, f"Raum buchen {members['Ben'].id} bis 2.3.", today, bot.settings.timezone
        )
    assert (first.text, first.owner.username, first.due_on) == ("Flyer drucken", "ana", date(2027, 3, 30))
    assert (second.text, second.owner.username, second.due_on) == ("Raum buchen", "ben", today), "today is allowed"
