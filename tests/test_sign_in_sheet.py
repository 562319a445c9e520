"""The sign-in sheet (/sheet) through the emulator, read back with python-docx:
heading, session details, the table Name | Organisation | Unterschrift with a
repeated header row, those who said Zusage by name, then blank rows."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Cm

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin


@pytest.fixture
async def session(bot, coordinator) -> int:  # type: ignore[no-untyped-def]
    """AK EU's session "Auftakt" in the Rathaus: Zusage from Ben and Ana, Absage from
    Carl, nothing from Dora; Eva (AK Ehrenamt) is in another group."""
    bot.clock.set(START)
    people = {}
    for name, slug in (
        ("Ben", "ak-eu"),
        ("Ana", "ak-eu"),
        ("Carl", "ak-eu"),
        ("Dora", "ak-eu"),
        ("Eva", "ak-ehrenamt"),
    ):
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=f"Verein {name}")
        await person.send(f"/join {slug}")
        await coordinator.send(f"/approve @{name.lower()}")
        people[name] = person
    replies = await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Auftakt | Rathaus, Raum 210")
    found = re.search(r"Geplant als Sitzung #(\d+)", replies[-1].text)
    assert found
    await bot.tick()
    for name, label in (("Ben", "✅ Zusage"), ("Ana", "✅ Zusage"), ("Carl", "❌ Absage")):
        await people[name].press(label)
    return int(found.group(1))


async def test_the_sheet_lists_who_said_zusage_then_blank_rows(bot, coordinator, session):
    replies = await coordinator.send(f"/teilnahmeliste {session}")
    [message] = [m for m in replies if m.document is not None]
    assert message.document.name == f"Teilnahmeliste-{session}.docx"
    sheet = docx.Document(io.BytesIO(message.document.data))

    section = sheet.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert round(section.left_margin.cm, 1) == 2.0 and round(section.top_margin.cm, 1) == 2.0
    texts = [p.text for p in sheet.paragraphs if p.text]
    assert texts[0] == "Teilnahmeliste"
    details = "\n".join(texts[1:])
    for part in ("Gruppe: AK EU", "Sitzung: Auftakt", "Do., 10.12.2026, 14:00 Uhr", "Ort: Rathaus, Raum 210"):
        assert part in details

    [table] = sheet.tables
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert cells[0] == ["Name", "Organisation", "Unterschrift"]
    assert cells[1:3] == [["Ana", "Verein Ana", ""], ["Ben", "Verein Ben", ""]], "Zusage only, by name"
    blank = cells[3:]
    assert len(blank) >= 5 and all(row == ["", "", ""] for row in blank)
    header = table.rows[0]._tr.trPr
    assert header.find(qn("w:tblHeader")) is not None, "the header row repeats on every page"
    assert all(row.height is not None and row.height >= Cm(0.95) for row in table.rows[1:]), "room to sign"


async def test_the_sheet_without_zusage_is_all_blank_and_guided_without_id(bot, coordinator, session):
    [choice] = await coordinator.send("/sheet")
    [label] = [label for row in choice.buttons for label, _ in row]
    assert label == f"#{session} AK EU · Do 10.12. 14:00 · Auftakt"
    replies = await coordinator.press(label, choice)
    [message] = [m for m in replies if m.document is not None]
    assert message.document.name == f"Teilnahmeliste-{session}.docx"

    replies = await coordinator.send("/meeting ak-eu 17.12.2026 14:00 Leer")
    other = int(re.search(r"Geplant als Sitzung #(\d+)", replies[-1].text).group(1))  # type: ignore[union-attr]
    replies = await coordinator.send(f"/liste {other}")
    [message] = [m for m in replies if m.document is not None]
    [table] = docx.Document(io.BytesIO(message.document.data)).tables
    assert all(cell.text == "" for row in table.rows[1:] for cell in row.cells)
    assert len(table.rows) - 1 >= 5


async def test_bad_input(bot, coordinator, session):
    [reply] = await coordinator.send("/sheet 999")
    assert "Eine Sitzung #999 gibt es nicht" in reply.text
    [reply] = await coordinator.send("/sheet abc")
    assert "keine Sitzungsnummer" in reply.text
