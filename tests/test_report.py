"""The half-yearly report through the emulator, on SQLite and PostgreSQL.

The data are made as people make them: members register and join, the
coordination schedules sessions, members answer "✅ Zusage", propose topics
that the coordination accepts on the item cards, answer a recommendation
with stances and comments, and the coordination closes it with an outcome.
Then `/report 2026-H2` must send a Word document, the same text as
Markdown and the chart, with figures that match what happened.

What happened in the second half of 2026 (Berlin time):

| session | group | when | Zusagen |
|---|---|---|---|
| S1 "Auftakt AK EU" | AK EU | Thu 10.09.2026 14:00 | Ana, Ben |
| S2 "Ehrenamt stärken" | AK Ehrenamt | Tue 15.09.2026 10:00 | Ben, Carl |
| S3 "Lenkungskreis Herbst" | Lenkungskreis | Thu 01.10.2026 16:00 | Dora |
| S4 "Zweite Sitzung" | AK EU | Thu 08.10.2026 14:00 | Ana (Ben: Absage) |
| S5 "Fällt aus" | AK EU | Thu 05.11.2026 14:00 | cancelled |
| S6 "Jahresauftakt" | AK EU | Thu 14.01.2027 14:00 | (the outlook) |

Topics accepted: two on S1, one on S2; one proposed on S4 that nobody
accepted. Recommendation R1 to AK EU and AK Ehrenamt: Ana agrees, Ben has
concerns, Carl agrees; Ana and Ben comment; closed on 20.10.2026 with an
outcome. Recommendation R2 to all groups with a deadline in 2027: Dora
rejects; still open.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import docx.table
import pytest
from matplotlib import image as mpimg
from sqlalchemy import update

from bot.core import report as core
from bot.core import report_period
from bot.core.errors import Refusal
from bot.render import chart, report_layout, report_markdown, report_text
from bot.render import report as render
from bot.render.chart import png_size, size_for
from storage.models import Group

START = datetime(2026, 8, 3, 8, 0, tzinfo=UTC)  # Mon 03.08.2026, 10:00 in Berlin
AFTER_SESSIONS = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)
RUNNING = datetime(2026, 12, 20, 11, 0, tzinfo=UTC)  # Sun 20.12.2026: the half-year still runs
LATER = datetime(2027, 1, 10, 11, 0, tzinfo=UTC)  # the half-year is over
REPO = Path(__file__).resolve().parents[1]
GROUP_NAMES = [
    "Lenkungskreis Integration",
    "AK EU",
    "AK Ehrenamt",
    "AK Arbeitsmarktintegration",
    "AG Süd-Ost-Europa",
]


async def schedule(bot, coordinator, command: str) -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(command)
    match = re.search(r"Geplant als Sitzung #(\d+)", replies[-1].text)
    assert match, replies[-1].text
    await bot.tick()
    return int(match.group(1))


async def rsvp(person, session: int, label: str = "✅ Zusage") -> None:  # type: ignore[no-untyped-def]
    invitation = next(m for m in person.messages if "Einladung" in m.text and f"#{session}" in m.text)
    await person.press(label, invitation)


async def propose(person, command: str) -> int:  # type: ignore[no-untyped-def]
    replies = await person.send(command)
    match = re.search(r"gespeichert als #(\d+)", replies[-1].text)
    assert match, replies[-1].text
    return int(match.group(1))


async def accept(coordinator, item_id: int) -> None:  # type: ignore[no-untyped-def]
    """Open the item's card from /agenda and press "✅ Annehmen"."""
    listing = (await coordinator.send("/agenda"))[-1]
    label = next(label for row in listing.buttons for label, data in row if data == f"ai:{item_id}")
    await coordinator.press(label, listing)
    replies = await coordinator.press("✅ Annehmen")
    assert f"Thema #{item_id} ist angenommen" in replies[-1].text, replies[-1].text


async def publish(bot, coordinator, command: str) -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(command)
    match = re.search(r"Empfehlung #(\d+)", replies[-1].text)
    assert match and "ist verschickt an" in replies[-1].text, replies[-1].text
    await bot.tick()
    return int(match.group(1))


async def stance(person, rid: int, label: str) -> None:  # type: ignore[no-untyped-def]
    card = next(m for m in person.messages if f"Neue Empfehlung #{rid}" in m.text)
    await person.press(label, card)


@pytest.fixture
async def history(bot, coordinator):  # type: ignore[no-untyped-def]
    """The second half of 2026 as the table in the module's docstring says."""
    bot.clock.set(START)
    async with bot.db.uow() as uow:  # the seeded groups exist from before the half-year
        await uow.session.execute(update(Group).values(created_at=START))
        await uow.commit()
    await coordinator.register(name="Sabine Weber", organisation="Stadt Wuppertal")
    people = {}
    for name, organisation, slugs in (
        ("Ana", "Caritas Wuppertal", ["ak-eu"]),
        ("Ben", "Jobcenter", ["ak-eu", "ak-ehrenamt"]),
        ("Carl", None, ["ak-ehrenamt"]),
        ("Dora", "Diakonie", ["lenkungskreis"]),
    ):
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=organisation)
        for slug in slugs:
            await person.send(f"/join {slug}")
            await coordinator.send(f"/approve @{name.lower()}")
        people[name] = person
    ana, ben, carl, dora = (people[n] for n in ("Ana", "Ben", "Carl", "Dora"))

    s1 = await schedule(bot, coordinator, "/meeting ak-eu 10.09.2026 14:00 Auftakt AK EU | Rathaus Barmen, Raum 210")
    s2 = await schedule(bot, coordinator, "/meeting ak-ehrenamt 15.09.2026 10:00 Ehrenamt stärken")
    s3 = await schedule(bot, coordinator, "/meeting lenkungskreis 01.10.2026 16:00 Lenkungskreis Herbst")
    s4 = await schedule(bot, coordinator, "/meeting ak-eu 08.10.2026 14:00 Zweite Sitzung")
    s5 = await schedule(bot, coordinator, "/meeting ak-eu 05.11.2026 14:00 Fällt aus")
    s6 = await schedule(bot, coordinator, "/meeting ak-eu 14.01.2027 14:00 Jahresauftakt")
    for person, session in ((ana, s1), (ben, s1), (ben, s2), (carl, s2), (dora, s3), (ana, s4)):
        await rsvp(person, session)
    await rsvp(ben, s4, "❌ Absage")

    first = await propose(ana, "/agenda ak-eu Bericht aus der Beratungsstelle")
    second = await propose(ben, "/agenda ak-eu Sprachkurse am Abend | mit *Kinderbetreuung*")
    third = await propose(carl, "/agenda ak-ehrenamt Ehrenamtskarte")
    for item_id in (first, second, third):
        await accept(coordinator, item_id)

    bot.clock.set(datetime(2026, 9, 1, 9, 0, tzinfo=UTC))
    r1 = await publish(bot, coordinator, "/recommend ak-eu, ak-ehrenamt Mehr Sprachkurse am Abend anbieten")
    await stance(ana, r1, "Zustimmung")
    await stance(ben, r1, "Bedenken")
    await stance(carl, r1, "Zustimmung")
    await ana.send(f"/feedback {r1} Wir brauchen Kinderbetreuung dazu.")
    await ben.send(f"/feedback {r1} Die Räume im Stadtteil fehlen.")

    bot.clock.set(datetime(2026, 9, 20, 9, 0, tzinfo=UTC))  # after S1 and S2: a topic for S4
    await propose(ana, "/agenda ak-eu Noch offen")
    bot.clock.set(AFTER_SESSIONS)
    await coordinator.send(f"/cancel {s5}")
    overview = (await coordinator.send(f"/feedback {r1}"))[-1]
    await coordinator.press("Abschließen", overview)
    await coordinator.press("Zur Kenntnis genommen")
    replies = await coordinator.send("Die Stadt bietet ab März zwei Abendkurse an.")
    assert "ist abgeschlossen" in replies[-1].text
    r2 = await publish(bot, coordinator, "/recommend all Gemeinsame Fortbildung im Frühjahr | 30.01.2027")
    await stance(dora, r2, "Ablehnung")
    await bot.tick()
    return {"people": people, "sessions": (s1, s2, s3, s4, s5, s6), "recommendations": (r1, r2)}


def documents(messages) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The documents among `messages`, by the end of their file name."""
    found = {}
    for message in messages:
        if message.document is not None:
            found[message.document.name.rsplit(".", 1)[-1]] = message
    return found


async def ask_report(coordinator, command: str = "/report 2026-H2"):  # type: ignore[no-untyped-def]
    replies = await coordinator.send(command)
    sent = documents(replies)
    assert set(sent) == {"docx", "md", "png"}, [m.text for m in replies]
    assert [m.document.name for m in replies if m.document] == [
        "kim-bericht-2026-H2.docx",
        "kim-bericht-2026-H2.md",
        "kim-bericht-2026-H2-teilnahme.png",
    ]
    return sent


def table_after(document, caption: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The table that follows the paragraph starting with `caption`, as rows of cell texts."""
    found = False
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            if found:
                return [[cell.text for cell in row.cells] for row in block.rows]
        elif block.text.startswith(caption):
            found = True
    raise AssertionError(f"no table after {caption!r}")


def by_first_cell(rows: list[list[str]]) -> dict[str, list[str]]:
    return {r[0]: r[1:] for r in rows[1:]}


def headings(document) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]


# --- the report ----------------------------------------------------------------------------


async def test_the_report_has_the_councils_structure_and_the_right_figures(bot, coordinator, history):
    bot.clock.set(LATER)
    sent = await ask_report(coordinator)
    assert "Halbjahresbericht 2. Halbjahr 2026" in sent["docx"].caption
    assert "Stand" not in sent["docx"].caption, "the half-year is over"
    report = docx.Document(io.BytesIO(sent["docx"].document.data))
    found = headings(report)
    top = [text for style, text in found if style in ("Title", "Heading 1")]
    assert top == [
        "Kommunales Integrationsmanagement: Bericht aus dem Lenkungskreis Integration und den Arbeitskreisen",
        "Grund der Vorlage",
        "Beschlussvorschlag",
        "Begründung",
        "Sitzungen im Berichtszeitraum",
        "Themen der Tagesordnungen",
        "Empfehlungen des Lenkungskreises und Rückmeldungen der Gremien",
        "Stand der Empfehlungen",
        "Stand der Gremien",
        "Ausblick",
    ]
    r1, r2 = history["recommendations"]
    second_level = [text for style, text in found if style == "Heading 2"]
    assert second_level == GROUP_NAMES * 2 + [
        f"Empfehlung Nr. {r1} vom 01.09.2026",
        f"Empfehlung Nr. {r2} vom 20.10.2026",
    ]
    text = "\n".join(p.text for p in report.paragraphs)
    assert "Berichtszeitraum: 01.07.2026 bis 31.12.2026" in text
    assert "Stand:" not in text
    assert "Im Berichtszeitraum fanden 4 Sitzungen statt. Davon war 1 Sitzung des Lenkungskreises Integration." in text
    assert "1 Sitzung wurde abgesagt." in text
    assert (
        "Zu den Sitzungen gab es insgesamt 6 Zusagen, im Mittel 1,5 je Sitzung. 4 Personen haben mindestens einmal zugesagt."
        in text
    )
    assert "Auf den Tagesordnungen standen 3 Themen." in text
    assert "2 Empfehlungen des Lenkungskreises waren zur Rückmeldung" in text
    assert "Im Berichtszeitraum gingen dazu 4 Voten und 2 Kommentare ein." in text
    assert "Zusage eines Mitglieds" in text, "says that participation counts confirmations"
    assert (
        "Die Spalte „Personen mit Zusage“ ergibt in der Summe 5, in der Zeile „Gesamt“ aber 4: Wer mehreren Gremien"
        in text
    ), "Ben said yes in AK EU and AK Ehrenamt: the total says why it is not the sum"
    assert "Schwerpunkt: EU-(Neu)Zuwanderung." in text

    overview = by_first_cell(table_after(report, "Tabelle 1"))
    #                          Sitzungen, abgesagt, Zusagen, je Sitzung, Personen, Themen
    assert overview["Lenkungskreis Integration"] == ["1", "0", "1", "1,0", "1", "0"]
    assert overview["AK EU"] == ["2", "1", "3", "1,5", "2", "2"]
    assert overview["AK Ehrenamt"] == ["1", "0", "2", "2,0", "2", "1"]
    assert overview["AK Arbeitsmarktintegration"] == ["0", "0", "0", "–", "0", "0"]
    assert overview["Gesamt"] == ["4", "1", "6", "1,5", "4", "3"]

    sessions = table_after(report, "Tabelle 3: Sitzungen: AK EU")
    assert sessions == [
        ["Datum", "Sitzung", "Ort", "Zusagen"],
        ["10.09.2026", "Auftakt AK EU", "Rathaus Barmen, Raum 210", "2"],
        ["08.10.2026", "Zweite Sitzung", "–", "1"],
    ]
    bullets = [p.text for p in report.paragraphs if p.style.name == "List Bullet"]
    paragraphs = [p.text for p in report.paragraphs]
    first_session = paragraphs.index("Sitzung am 10.09.2026: Auftakt AK EU")
    assert paragraphs[first_session + 1 : first_session + 3] == [
        "Bericht aus der Beratungsstelle",
        "Sprachkurse am Abend | mit *Kinderbetreuung*",
    ], "the handled topics under the session that handled them"
    assert paragraphs[paragraphs.index("Sitzung am 15.09.2026: Ehrenamt stärken") + 1] == "Ehrenamtskarte"
    [still_open] = [b for b in bullets if b.startswith("Noch offen")]
    assert still_open.startswith("Noch offen (eingereicht am 20.09.2026; "), "not handled, still named with its state"
    assert (
        "In den Sitzungen wurden 2 Themen behandelt. Im Berichtszeitraum wurden 3 Themen eingereicht (angenommen: 2, noch nicht entschieden: 1)."
        in text
    )

    feedback = by_first_cell(table_after(report, f"Tabelle 5: Rückmeldungen zu Empfehlung Nr. {r1}"))
    #                Zustimmung, Bedenken, Ablehnung, Kommentare
    assert feedback["AK EU"] == ["1", "1", "0", "2"]
    assert feedback["AK Ehrenamt"] == ["1", "1", "0", "1"]
    assert feedback["Gesamt"] == ["2", "1", "0", "2"]
    assert (
        "Die Voten in den Zeilen der Gremien ergeben zusammen 4, in „Gesamt“ aber 3: Wer mehreren der angeschriebenen Gremien"
        in text
    )
    assert "Gerichtet an: AK EU, AK Ehrenamt. Ohne Frist für Rückmeldungen." in text
    assert "3 Personen haben geantwortet." in text
    assert "„Die Räume im Stadtteil fehlen.“ (Jobcenter, 01.09.2026)" in bullets
    assert "„Wir brauchen Kinderbetreuung dazu.“ (Caritas Wuppertal, 01.09.2026)" in bullets
    assert "Ergebnis (abgeschlossen am 20.10.2026):" in text
    assert "Die Stadt bietet ab März zwei Abendkurse an." in text
    second = by_first_cell(table_after(report, f"Tabelle 6: Rückmeldungen zu Empfehlung Nr. {r2}"))
    assert second["Lenkungskreis Integration"] == ["0", "0", "1", "0"]
    assert second["Gesamt"] == ["0", "0", "1", "0"]
    assert "Gerichtet an: alle Gremien. Frist für Rückmeldungen: 30.01.2027." in text
    assert "Die Empfehlung ist noch offen; die Rückmeldungen laufen." in text

    members = by_first_cell(table_after(report, "Tabelle 7: Mitglieder der Gremien"))
    #             Mitglieder, Organisationen, neu, ausgetreten, offene Anfragen
    assert members["AK EU"] == ["2", "2", "2", "0", "0"]
    assert members["AK Ehrenamt"] == ["2", "1", "2", "0", "0"]
    assert members["Lenkungskreis Integration"] == ["1", "1", "1", "0", "0"]
    assert members["Gesamt"] == ["4", "3", "5", "0", "0"], "each person and organisation once"
    assert "4 verschiedene Personen aus 3 Organisationen" in text and "5 Mitgliedschaften" in text
    assert "Geplant ist 1 weitere Sitzung:" in text
    assert "AK EU: 14.01.2027 (Jahresauftakt)" in bullets
    assert (
        "1 Empfehlung ist noch offen; die Rückmeldungen laufen. 1 Thema ist für kommende Sitzungen eingereicht." in text
    )

    for word in ("#", "Bot", "/report", "/feedback", "✅", "Ana", "Ben", "Carl", "Dora", "Sabine"):
        assert word not in text, f"{word!r}: no bot jargon, no emoji, no names of people"


async def test_the_chart_is_in_the_document_and_sent_as_an_image_of_its_declared_size(bot, coordinator, history):
    bot.clock.set(LATER)
    sent = await ask_report(coordinator)
    png = sent["png"].document.data
    assert png_size(png) == size_for()
    pixels = mpimg.imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (size_for()[1], size_for()[0])
    assert pixels.min() < pixels.max(), "not a blank image"
    report = docx.Document(io.BytesIO(sent["docx"].document.data))
    images = [part.blob for part in report.part.package.parts if part.content_type == "image/png"]
    assert images == [png], "the same chart is embedded"
    [shape] = report.inline_shapes
    assert abs(shape.height / shape.width - size_for()[1] / size_for()[0]) < 0.01, "not distorted"
    assert abs(shape.width.cm - chart.WIDTH_CM) < 0.01, "placed at the size it was drawn for: labels not shrunk"
    markdown = sent["md"].document.data.decode()
    assert (
        "![Abbildung 1: Teilnahme je Gremium und Sitzung (Zahl der Zusagen)](kim-bericht-2026-H2-teilnahme.png)"
        in markdown
    )


async def test_markdown_says_what_the_word_document_says(bot, coordinator, history):
    bot.clock.set(LATER)
    sent = await ask_report(coordinator)
    markdown = sent["md"].document.data.decode()
    assert markdown.startswith(
        "# Kommunales Integrationsmanagement: Bericht aus dem Lenkungskreis Integration und den Arbeitskreisen\n\n"
        "**Halbjahresbericht 2. Halbjahr 2026**\n\n"
        "Berichtszeitraum: 01.07.2026 bis 31.12.2026\n\n"
        "| Gremium | Beschlussqualität |\n|---|---|\n| Integrationsausschuss | Kenntnisnahme ohne Beschluss |\n\n"
        "## Grund der Vorlage\n\n"
    )
    assert "| AK EU | 2 | 1 | 3 | 1,5 | 2 | 2 |" in markdown
    assert "| **Gesamt** | **4** | **1** | **6** | **1,5** | **4** | **3** |" in markdown
    assert "- Sprachkurse am Abend \\| mit \\*Kinderbetreuung\\*" in markdown, "user text escaped"
    assert "Entgegennahme" not in markdown, "one word for it: Kenntnisnahme ohne Beschluss"
    report = docx.Document(io.BytesIO(sent["docx"].document.data))
    for style, heading in headings(report):
        level = 1 if style == "Title" else int(style.split()[-1]) + 1
        assert f"\n{'#' * level} {heading}\n" in "\n" + markdown, heading


async def test_the_running_half_year_is_marked_with_the_day(bot, coordinator, history):
    bot.clock.set(RUNNING)
    sent = await ask_report(coordinator)
    assert "Stand 20.12.2026" in sent["docx"].caption
    markdown = sent["md"].document.data.decode()
    assert "Stand: 20.12.2026. Das Halbjahr läuft noch" in markdown
    report = docx.Document(io.BytesIO(sent["docx"].document.data))
    assert any(p.text.startswith("Stand: 20.12.2026.") for p in report.paragraphs)


async def test_report_and_kimbot_report_write_the_same_markdown(bot, coordinator, history, tmp_path, capsys):
    bot.clock.set(LATER)
    sent = await ask_report(coordinator, "/bericht 2026-h2")
    args = argparse.Namespace(half_year="2026-H2", out=str(tmp_path / "out"))
    status = await asyncio.to_thread(render.command_line, bot.settings, args, now=bot.clock())
    assert status == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "out" / name) for name in report_text.file_names(report_period.HalfYear(2026, 2))]
    assert (tmp_path / "out" / "kim-bericht-2026-H2.md").read_bytes() == sent["md"].document.data
    written = docx.Document(str(tmp_path / "out" / "kim-bericht-2026-H2.docx"))
    sent_docx = docx.Document(io.BytesIO(sent["docx"].document.data))
    assert [p.text for p in written.paragraphs] == [p.text for p in sent_docx.paragraphs]
    assert png_size((tmp_path / "out" / "kim-bericht-2026-H2-teilnahme.png").read_bytes()) == size_for()


async def test_without_arguments_the_current_half_year_is_offered(bot, coordinator, history):
    bot.clock.set(RUNNING)
    replies = await coordinator.send("/report")
    assert "Für welches Halbjahr" in replies[-1].text
    labels = [label for row in replies[-1].buttons for label, _ in row]
    assert labels == ["2. Halbjahr 2026 (läuft noch)", "📝 Notizen"], "no data before 01.07.2026: no first half"
    replies = await coordinator.press("2. Halbjahr 2026 (läuft noch)")
    assert set(documents(replies)) == {"docx", "md", "png"}
    bot.clock.set(LATER)
    replies = await coordinator.send("/report")
    labels = [label for row in replies[-1].buttons for label, _ in row]
    assert labels == ["1. Halbjahr 2027 (läuft noch)", "📝 Notizen", "2. Halbjahr 2026", "📝 Notizen"]
    replies = await coordinator.press("2. Halbjahr 2026")
    assert "Stand" not in documents(replies)["docx"].caption


# --- refusals ----------------------------------------------------------------------------------


BAD_INPUT = [
    ("/report 2026", "„2026“ verstehe ich nicht als Halbjahr. Bitte schreiben Sie das Jahr, einen Strich und H1"),
    ("/report 2026-H3", "„2026-H3“ verstehe ich nicht als Halbjahr"),
    ("/report H1", "„H1“ verstehe ich nicht als Halbjahr"),
    ("/report 2026-H1 bitte", "„2026-H1 bitte“ verstehe ich nicht als Halbjahr"),
    ("/report 2027-H2", "Das Halbjahr 2027-H2 hat noch nicht begonnen (es beginnt am 01.07.2027)"),
    ("/report 3000-H1", "Das Halbjahr 3000-H1 hat noch nicht begonnen"),
    ("/report 2025-H2", "Für das Halbjahr 2025-H2 gibt es keine Daten: Die ersten Einträge stammen vom 03.08.2026."),
    ("/report 2026-H1", "Für das Halbjahr 2026-H1 gibt es keine Daten"),
    ("/report 1000-H1", "Für das Halbjahr 1000-H1 gibt es keine Daten"),
]


async def test_bad_half_years_are_explained_with_an_example_and_nothing_is_sent(bot, coordinator, history):
    bot.clock.set(LATER)
    others = {name: len(person.messages) for name, person in history["people"].items()}
    for command, expected in BAD_INPUT:
        replies = await coordinator.send(command)
        assert len(replies) == 1 and replies[0].document is None, command
        assert expected in replies[0].text, replies[0].text
        example = "Beispiel: /report 2026-H2" if "keine Daten" in expected else "Beispiel: /report 2027-H1"
        assert example in replies[0].text, replies[0].text
    assert {name: len(person.messages) for name, person in history["people"].items()} == others
    assert not any(m.document for m in coordinator.messages)


async def test_other_spellings_of_a_half_year(bot, coordinator, history):
    bot.clock.set(LATER)
    for command in ("/report 2026 H2", "/report H2 2026", "/report 2026/h2"):
        replies = await coordinator.send(command)
        assert [m.document.name for m in replies if m.document][0] == "kim-bericht-2026-H2.docx", command


async def test_members_get_the_coordinators_only_answer_and_nothing_else(bot, coordinator, history):
    bot.clock.set(LATER)
    ana = history["people"]["Ana"]
    others = {name: len(p.messages) for name, p in history["people"].items() if name != "Ana"}
    coordinator_seen = len(coordinator.messages)
    for command in ("/report 2026-H2", "/report", "/bericht 2026", "/report 2099-H1"):
        replies = await ana.send(command)
        assert [r.text for r in replies] == ["Das darf nur die KIM-Koordination. Es wurde nichts geändert."], command
    replies = await ana.press_data("rp:2026:2")
    assert replies[-1].text == "Das darf nur die KIM-Koordination. Es wurde nichts geändert."
    assert not any(m.document for m in ana.messages)
    assert {name: len(p.messages) for name, p in history["people"].items() if name != "Ana"} == others
    assert len(coordinator.messages) == coordinator_seen


async def test_a_forged_half_year_button_is_refused(bot, coordinator, history):
    bot.clock.set(LATER)
    await coordinator.send("/report")
    replies = await coordinator.press_data("rp:2026:3")
    assert "„2026-H3“ verstehe ich nicht als Halbjahr" in replies[-1].text
    replies = await coordinator.press_data("rp:2030:1")
    assert "hat noch nicht begonnen" in replies[-1].text


async def test_english_answers_and_a_german_report(bot, coordinator, history):
    bot.clock.set(LATER)
    await coordinator.send("/language en")
    replies = await coordinator.send("/report 2026-H5")
    assert "I do not understand “2026-H5” as a half-year" in replies[-1].text
    assert "Example: /report 2027-H1" in replies[-1].text
    replies = await coordinator.send("/report 2027-H2")
    assert "(it begins on 1 Jul 2027)" in replies[-1].text
    replies = await coordinator.send("/report 2026-H2")
    sent = documents(replies)
    assert "second half of 2026" in sent["docx"].caption
    assert "Grund der Vorlage" in sent["md"].document.data.decode()


async def test_an_empty_half_year_still_gives_a_report_and_ended_groups_are_marked(bot, coordinator):
    bot.clock.set(START)
    async with bot.db.uow() as uow:
        await uow.session.execute(update(Group).values(created_at=datetime(2026, 1, 5, tzinfo=UTC)))
        await uow.session.execute(  # ended before the half-year: not in the report
            update(Group).where(Group.slug == "ag-soe").values(archived_at=datetime(2026, 6, 1, tzinfo=UTC))
        )
        await uow.session.execute(  # ended during it: in the report, marked
            update(Group).where(Group.slug == "ak-arbeitsmarkt").values(archived_at=datetime(2026, 7, 15, tzinfo=UTC))
        )
        await uow.commit()
    await coordinator.register(name="Sabine Weber")
    sent = await ask_report(coordinator)
    markdown = sent["md"].document.data.decode()
    assert "Im Berichtszeitraum fand keine Sitzung statt." in markdown
    assert "Stand: 03.08.2026." in markdown
    assert "- AK Arbeitsmarktintegration: Arbeit am 15.07.2026 beendet." in markdown
    assert "Süd-Ost-Europa" not in markdown
    assert png_size(sent["png"].document.data) == size_for()


# --- the command line as a process ----------------------------------------------------------------


def kimbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kimbot.db'}",
        "KIMBOT_ENV_FILE": str(tmp_path / "none.env"),
        "HOME": str(tmp_path),
        "MPLCONFIGDIR": str(tmp_path / "mpl"),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_kimbot_report_refuses_bad_input_with_status_2(tmp_path):
    done = kimbot(tmp_path, "2026-H3")
    assert done.returncode == 2
    assert "„2026-H3“ verstehe ich nicht als Halbjahr" in done.stderr
    assert "Beispiel: kimbot report " in done.stderr and "<code>" not in done.stderr
    done = kimbot(tmp_path, "9999-H1")
    assert done.returncode == 2 and "hat noch nicht begonnen" in done.stderr
    assert not list(tmp_path.glob("*.docx"))


def test_kimbot_report_writes_the_files_of_the_current_half_year(tmp_path):
    current = report_period.HalfYear.containing(datetime.now(UTC), ZoneInfo("Europe/Berlin"))
    done = kimbot(tmp_path, current.label, "--out", "berichte")
    assert done.returncode == 0, done.stderr
    names = report_text.file_names(current)
    assert done.stdout.split() == [f"berichte/{name}" for name in names]
    for name in names:
        assert (tmp_path / "berichte" / name).stat().st_size > 0
    markdown = (tmp_path / "berichte" / names[1]).read_text()
    assert "Stand: " in markdown and "Grund der Vorlage" in markdown


# --- limits and escaping, on the composed report ------------------------------------------------


def synthetic(sessions: int, topics: int, comments: int) -> core.Report:
    from datetime import date, timedelta

    day = date(2026, 7, 1)
    group = core.GroupReport(
        name="AK EU",
        note="EU-(Neu)Zuwanderung",
        steering=False,
        ended_on=None,
        held=sessions,
        confirmations=3 * sessions,
        people=4,
        sessions=tuple(core.SessionLine(day + timedelta(days=n), f"Sitzung {n + 1}", None, 3) for n in range(sessions)),
        topics=tuple(
            core.TopicLine(f"Thema {n + 1}", day, core.TopicState.HANDLED, False, True, day, "Auftakt")
            for n in range(min(topics, 10))
        ),
        topics_total=topics,
        discussed=topics,
    )
    recommendation = core.RecommendationReport(
        number=7,
        published=day,
        text="# Kein Titel\n1. Punkt\n- Strich <b>fett</b> & mehr",
        groups=("AK EU",),
        everyone=False,
        deadline=None,
        deadline_passed=False,
        closed_on=None,
        outcome=None,
        agree=1,
        concerns=0,
        reject=0,
        comments=comments,
        respondents=1,
        by_group=(core.GroupFeedback("AK EU", 1, 0, 0, comments),),
        latest_comments=tuple((day, "x" * 500, None) for _ in range(min(comments, core.COMMENTS_LISTED))),
    )
    return core.Report(
        half=report_period.HalfYear(2026, 2),
        first_day=date(2026, 7, 1),
        last_day=date(2026, 12, 31),
        as_of=None,
        today=date(2027, 1, 10),
        created=LATER,
        groups=(group,),
        people_confirmed=4,
        recommendations=(recommendation,),
        recommendations_total=30,
        stances=1,
        comments=comments,
        open_recommendations=1,
        items_waiting=0,
    )


def test_long_lists_are_cut_with_the_rest_counted():
    markdown = report_markdown.to_markdown(report_layout.compose(synthetic(sessions=20, topics=14, comments=5)))
    assert len(re.findall(r"\| Sitzung \d+ \|", markdown)) == report_layout.SESSIONS_LISTED
    assert "Dazu 5 weitere Sitzungen; sie sind in Abbildung 1 enthalten." in markdown
    assert "**Sitzung am 01.07.2026: Auftakt**\n\n- Thema 1\n- Thema 2\n" in markdown
    assert markdown.count("- Thema ") == 10 and "Dazu 4 weitere Themen (nur gezählt)." in markdown
    assert "Aus den Kommentaren (die neuesten 3 von 5):" in markdown
    assert "„" + "x" * (report_layout.COMMENT_LENGTH - 1) + "…“ (01.07.2026)" in markdown
    assert "Einzeln aufgeführt sind die ersten 1 nach dem Tag der Veröffentlichung; 29 weitere" in markdown


def test_markdown_shows_user_text_as_written():
    markdown = report_markdown.to_markdown(report_layout.compose(synthetic(sessions=1, topics=1, comments=0)))
    assert "> \\# Kein Titel\n> 1\\. Punkt\n> \\- Strich \\<b\\>fett\\</b\\> \\& mehr\n" in markdown
    assert report_markdown.md("Zeile | mit * und _") == "Zeile \\| mit \\* und \\_"
    assert report_markdown.md("03.09.2026: Bericht") == "03.09.2026: Bericht", "a date is not a list number"


def test_the_same_report_gives_byte_identical_markdown():
    report = synthetic(sessions=3, topics=2, comments=1)
    assert render.render(report).markdown == render.render(report).markdown


def test_half_years_are_read_and_counted():
    assert report_period.parse_half_year(" 2026-h1 ") == report_period.HalfYear(2026, 1)
    assert report_period.parse_half_year("H2 2026") == report_period.HalfYear(2026, 2)
    assert report_period.HalfYear(2027, 1).previous() == report_period.HalfYear(2026, 2)
    assert report_period.HalfYear(2026, 2).previous() == report_period.HalfYear(2026, 1)
    berlin = ZoneInfo("Europe/Berlin")
    assert report_period.HalfYear(2026, 2).start(berlin) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    assert report_period.HalfYear(2026, 2).end(berlin) == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    for text in ("2026", "2026-H0", "26-H1", "2026-H12", ""):
        with pytest.raises(Refusal):
            report_period.parse_half_year(text)
