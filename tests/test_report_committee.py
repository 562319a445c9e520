"""The half-yearly report as the committee gets it, and the coordinator's notes per group.

The same second half of 2026 as `tests/test_report.py` (its `history`
fixture). Here: the Word document read back with python-docx (columns sized
so that no word breaks, rows not split, captions kept with their tables, a
header with the office and the date, PAGE and NUMPAGES fields in the
footer), every topic of the half-year named with what became of it, and the
notes a coordinator adds per group before generating (`/report 2026-H2 note
<group> <text>`, or the "📝 Notizen" buttons), with the audit log.
"""

from __future__ import annotations

import io
from datetime import date

import docx
import docx.table
from docx.oxml.ns import qn
from sqlalchemy import select, update

from bot.core import report as core
from bot.core.report_period import HalfYear
from bot.render import chart, report_columns, report_layout, report_markdown
from storage.admin_models import AuditEntry, ReportNote
from storage.models import AgendaItem, AgendaStatus
from tests import test_report
from tests.test_report import LATER, RUNNING, ask_report, documents, propose

story = test_report.history
"""The second half of 2026 of `tests/test_report.py`, as a fixture of this module."""

COORDINATORS_ONLY = "Das darf nur die KIM-Koordination. Es wurde nichts geändert."


def word(sent) -> docx.document.Document:  # type: ignore[no-untyped-def]
    return docx.Document(io.BytesIO(sent["docx"].document.data))


def all_text(document) -> str:  # type: ignore[no-untyped-def]
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(texts)


# --- the Word document ----------------------------------------------------------------------------


async def test_the_word_document_is_fit_to_hand_to_the_committee(bot, coordinator, story):
    bot.clock.set(LATER)
    document = word(await ask_report(coordinator))

    section = document.sections[0]
    header = section.header.paragraphs[0].text
    assert header.startswith("Kommunales Integrationsmanagement (KIM)\t"), header
    assert header.endswith("Halbjahresbericht 2. Halbjahr 2026 · 10.01.2027"), "office and the report's date"
    footer = section.footer.paragraphs[0]._p
    instructions = [code.text.strip() for code in footer.iter(qn("w:instrText"))]
    assert instructions == ["PAGE", "NUMPAGES"], "Seite x von y, filled in by the reader's program"
    assert section.footer.paragraphs[0].text.startswith("Seite ")

    assert document.tables, "the report has tables"
    for table in document.tables:
        properties = table._tbl.tblPr
        assert properties.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        widths = [int(col.get(qn("w:w"))) for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]
        assert all(widths) and sum(widths) <= 16 * 567 + 5, "every column has a width; the table fits the page"
        for r, row in enumerate(table.rows):
            assert row._tr.trPr.find(qn("w:cantSplit")) is not None, "no row split across two pages"
            for c, cell in enumerate(row.cells):
                runs = cell.paragraphs[0].runs
                size = runs[0].font.size.pt if runs and runs[0].font.size else 10
                bold = bool(runs and runs[0].bold)
                for piece in report_columns._BREAK.split(cell.text):
                    needed = report_columns.text_width(piece, size, bold) + 2 * 5.4
                    assert needed <= widths[c] / 20 + 0.01, f"{piece!r} would break in column {c} of row {r}"
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None, "the header row repeats"

    body = list(document.iter_inner_content())
    for index, block in enumerate(body):
        if isinstance(block, docx.table.Table):
            caption = body[index - 1]
            if caption.style.name == "Caption":
                assert caption.paragraph_format.keep_with_next, f"{caption.text!r} stays with its table"
    [picture] = [p for p in document.paragraphs if p._p.findall(".//" + qn("w:drawing"))]
    assert picture.paragraph_format.keep_with_next, "the chart stays with its caption"

    text = all_text(document)
    assert "Kenntnisnahme ohne Beschluss" in text and "Entgegennahme" not in text, "one word for it"
    assert "Arbeitskreis" not in " ".join(" ".join(c.text for c in t.rows[0].cells) for t in document.tables)
    assert "Stand der Gremien" in text and "Rückmeldungen der Gremien" in text, "Gremium: the Lenkungskreis is in"


async def test_every_topic_of_the_half_year_is_named_with_what_became_of_it(bot, coordinator, story):
    ana, ben, carl = (story["people"][n] for n in ("Ana", "Ben", "Carl"))
    bot.clock.set(datetime_at(2026, 10, 21))
    rejected = await propose(carl, "/agenda ak-ehrenamt Ein Thema, das nicht passt")
    withdrawn = await propose(ben, "/agenda ak-ehrenamt Zurückgezogener Vorschlag")
    await propose(carl, "/agenda ak-ehrenamt Räume für das Ehrenamt")
    late = await propose(ana, "/agenda ak-eu Nachgereichtes Thema")
    async with bot.db.uow() as uow:
        for item_id, status in ((rejected, AgendaStatus.REJECTED), (withdrawn, AgendaStatus.WITHDRAWN)):
            await uow.session.execute(update(AgendaItem).where(AgendaItem.id == item_id).values(status=status))
        await uow.session.execute(update(AgendaItem).where(AgendaItem.id == late).values(late=True))
        await uow.commit()
    bot.clock.set(LATER)
    document = word(await ask_report(coordinator))
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]

    async with bot.db.uow() as uow:
        texts = (await uow.session.execute(select(AgendaItem.text))).scalars().all()
    for text in texts:
        assert any(b.startswith(text) for b in bullets), f"{text!r} is missing from the report"
    assert "Ein Thema, das nicht passt (eingereicht am 21.10.2026; von der Koordination nicht aufgenommen)" in bullets
    assert (
        "Zurückgezogener Vorschlag (eingereicht am 21.10.2026; von der einreichenden Person zurückgezogen)" in bullets
    )
    assert "Räume für das Ehrenamt (eingereicht am 21.10.2026; wartet auf die nächste Sitzung)" in bullets
    [late_line] = [b for b in bullets if b.startswith("Nachgereichtes Thema")]
    assert late_line.startswith("Nachgereichtes Thema (eingereicht am 21.10.2026; nachgereicht; "), late_line
    assert "Jahresauftakt" not in late_line and "14.01.2027" in late_line, "named with the session it waits for"


def datetime_at(year: int, month: int, day: int):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(year, month, day, 9, 0, tzinfo=UTC)


def test_topics_are_listed_under_their_session_and_late_ones_marked():
    day = date(2026, 9, 10)
    group = core.GroupReport(
        name="AK EU",
        note=None,
        steering=False,
        ended_on=None,
        topics=(
            core.TopicLine("Erstes", day, core.TopicState.HANDLED, False, True, day, "Auftakt"),
            core.TopicLine("Spät", day, core.TopicState.HANDLED, True, True, day, "Auftakt"),
            core.TopicLine("Offen", date(2026, 12, 1), core.TopicState.PLANNED, True, True, date(2027, 1, 14), "X"),
            core.TopicLine("Wartet", date(2026, 12, 2), core.TopicState.WAITING, False, False),
            core.TopicLine("Liegt", date(2026, 12, 3), core.TopicState.PENDING, False, False),
        ),
        topics_total=5,
        discussed=2,
        submitted=5,
    )
    report = core.Report(
        half=HalfYear(2026, 2),
        first_day=date(2026, 7, 1),
        last_day=date(2026, 12, 31),
        as_of=None,
        today=date(2027, 1, 10),
        created=LATER,
        groups=(group,),
        people_confirmed=0,
        recommendations=(),
        recommendations_total=0,
        stances=0,
        comments=0,
        open_recommendations=0,
        items_waiting=0,
    )
    markdown = report_markdown.to_markdown(report_layout.compose(report))
    assert (
        "**Sitzung am 10.09.2026: Auftakt**\n\n- Erstes\n- Spät (nachgereicht)\n\n"
        "**Offene und weitere eingereichte Themen**\n\n"
        "- Offen (eingereicht am 01.12.2026; nachgereicht; angenommen für die Sitzung am 14.01.2027)\n"
        "- Wartet (eingereicht am 02.12.2026; wartet auf die nächste Sitzung)\n"
        "- Liegt (eingereicht am 03.12.2026; noch nicht behandelt; geht in die nächste Sitzung)\n"
    ) in markdown
    assert "weitere Themen" not in markdown, "all five named"


def test_columns_fit_their_longest_words_and_the_page():
    rows = [
        ["Gremium", "Sitzungen", "abgesagt", "Zusagen", "Zusagen je Sitzung", "Personen mit Zusage", "Themen"],
        ["AK Arbeitsmarktintegration", "4", "0", "14", "3,5", "5", "8"],
        ["Gesamt", "18", "0", "66", "3,7", "21", "38"],
    ]
    page = 16 / 2.54 * 72
    columns = report_columns.layout(rows, [True, False, True], page, full_width=True)
    assert abs(sum(columns.widths_pt) - page) < 0.5, "spans the text width"
    for c in range(7):
        longest = max(
            report_columns.text_width(w, columns.font_pt, r[0] != "AK Arbeitsmarktintegration")
            for r in rows
            for w in r[c].split()
        )
        assert columns.widths_pt[c] >= longest + 2 * 5.4, rows[0][c]
    assert columns.widths_pt[0] > columns.widths_pt[6], "the names get more room than a number"
    narrow = report_columns.layout([["Gremium", "Beschlussqualität"], ["A", "B"]], [True, False], page)
    assert sum(narrow.widths_pt) < page / 2, "a small table keeps its natural width"
    assert report_columns.text_width("W", 10) > report_columns.text_width("i", 10)


def test_the_chart_has_no_empty_slots_and_readable_labels():
    series = [
        chart.Series("Lenkungskreis Integration", ("01.10.",), (3,)),
        chart.Series("AK EU", ("10.09.", "08.10."), (2, 1)),
        chart.Series("AG Süd-Ost-Europa", (), ()),
    ]
    made = chart.participation_chart("Zusagen je Sitzung", "Zusagen", "keine", series)
    assert chart.png_size(made.png) == chart.size_for() == (made.width_px, made.height_px)
    assert abs(made.width_px / chart.DPI * 2.54 - chart.WIDTH_CM) < 0.01, "drawn at its printed size: 8 pt stays 8 pt"
    empty = chart.participation_chart("Zusagen je Sitzung", "Zusagen", "keine Sitzung", [series[2]])
    assert chart.png_size(empty.png) == chart.size_for()


# --- notes per group --------------------------------------------------------------------------------


async def notes_in_db(bot) -> dict[int, str]:  # type: ignore[no-untyped-def]
    async with bot.db.uow() as uow:
        rows = (await uow.session.execute(select(ReportNote.group_id, ReportNote.text))).all()
    return dict(rows)


async def audit_actions(bot) -> list[str]:  # type: ignore[no-untyped-def]
    async with bot.db.uow() as uow:
        return list((await uow.session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())


async def test_a_note_in_one_line_is_saved_audited_and_printed(bot, coordinator, story):
    bot.clock.set(LATER)
    replies = await coordinator.send("/report 2026-H2 note ak-eu Der AK hat sich neu aufgestellt.")
    assert "Die Notiz zu AK EU für den Bericht 2. Halbjahr 2026 ist gespeichert" in replies[-1].text
    assert "Der AK hat sich neu aufgestellt." in replies[-1].text
    assert [label for row in replies[-1].buttons for label, _ in row] == ["📝 Notizen", "📄 Bericht erstellen"]
    assert (await audit_actions(bot))[-1] == "report_note.set"

    replies = await coordinator.send("/bericht 2026-H2 notiz eu Der AK hat sich neu aufgestellt & tagt digital.")
    assert "ist ersetzt" in replies[-1].text and "&amp;" not in replies[-1].text
    assert list((await notes_in_db(bot)).values()) == ["Der AK hat sich neu aufgestellt & tagt digital."]

    replies = await coordinator.press("📄 Bericht erstellen", replies[-1])
    document = word(documents(replies))
    paragraphs = [p.text for p in document.paragraphs]
    assert "Anmerkungen der Koordination" in paragraphs
    assert "AK EU: Der AK hat sich neu aufgestellt & tagt digital." in paragraphs
    markdown = documents(replies)["md"].document.data.decode()
    assert "**AK EU:** Der AK hat sich neu aufgestellt \\& tagt digital." in markdown

    replies = await coordinator.send("/report 2026-H2 note ak-eu -")
    assert "ist gelöscht" in replies[-1].text and "tagt digital" in replies[-1].text, "says what it was"
    assert await notes_in_db(bot) == {}
    assert (await audit_actions(bot))[-1] == "report_note.delete"
    document = word(await ask_report(coordinator))
    assert "Anmerkungen der Koordination" not in [p.text for p in document.paragraphs]


async def test_notes_with_buttons_from_the_guided_report(bot, coordinator, story):
    bot.clock.set(RUNNING)
    await coordinator.send("/report")
    replies = await coordinator.press("📝 Notizen")
    overview = replies[-1]
    assert "Notizen zum Bericht 2. Halbjahr 2026" in overview.text
    assert "AK Ehrenamt: keine Notiz" in overview.text
    labels = [label for row in overview.buttons for label, _ in row]
    assert labels[:2] == ["✏️ Lenkungskreis Integration", "✏️ AK EU"] and labels[-1] == "📄 Bericht erstellen"

    replies = await coordinator.press("✏️ AK Ehrenamt", overview)
    assert "Bitte schreiben Sie jetzt die Notiz zu AK Ehrenamt" in replies[-1].text
    replies = await coordinator.send("x" * 801)
    assert "zu lang (801 Zeichen)" in replies[-1].text, "refused; the question stays"
    replies = await coordinator.send("Neue Patenschaften im Quartier.\nZwei Treffen mehr als geplant.")
    assert "ist gespeichert" in replies[-1].text
    assert list((await notes_in_db(bot)).values()) == [
        "Neue Patenschaften im Quartier.\nZwei Treffen mehr als geplant."
    ]

    replies = await coordinator.press("📝 Notizen", replies[-1])
    assert "AK Ehrenamt: Neue Patenschaften im Quartier." in replies[-1].text
    replies = await coordinator.press("✏️ AK Ehrenamt ✓", replies[-1])
    assert "Schreiben Sie einen neuen Text" in replies[-1].text and "Neue Patenschaften" in replies[-1].text
    replies = await coordinator.press("🗑 Notiz löschen", replies[-1])
    assert "ist gelöscht" in replies[-1].text
    assert await notes_in_db(bot) == {}
    replies = await coordinator.send("Dieser Text ist keine Notiz mehr.")
    assert await notes_in_db(bot) == {}, "the question was answered by the deletion"
    assert (await audit_actions(bot))[-2:] == ["report_note.set", "report_note.delete"]


async def test_notes_are_for_the_coordination_only_and_name_a_known_group(bot, coordinator, story):
    bot.clock.set(LATER)
    ana = story["people"]["Ana"]
    await coordinator.send("/report 2026-H2 note ak-eu Bleibt so.")
    before = await notes_in_db(bot)
    [group_id] = before
    for command in ("/report 2026-H2 note ak-eu Von Ana", "/report 2026-H3 note ak-eu x", "/bericht 2026-H2 notizen"):
        replies = await ana.send(command)
        assert [r.text for r in replies] == [COORDINATORS_ONLY], command
    for data in ("bn:2026:2", f"bg:2026:2:{group_id}", f"bx:2026:2:{group_id}"):
        replies = await ana.press_data(data)
        assert replies[-1].text == COORDINATORS_ONLY, data
    assert await notes_in_db(bot) == before
    assert not any(m.document for m in ana.messages)

    replies = await coordinator.send("/report 2026-H2 note gibtsnicht Ein Text")
    assert "gibtsnicht" in replies[-1].text and await notes_in_db(bot) == before
    replies = await coordinator.send("/report 2027-H2 note ak-eu Zukunft")
    assert "hat noch nicht begonnen" in replies[-1].text
    replies = await coordinator.press_data("bg:2026:2:9999")
    assert "gehört nicht zu diesem Bericht" in replies[-1].text
    replies = await coordinator.send("/report 2026-H2 note ak-ehrenamt -")
    assert "Zu AK Ehrenamt gibt es für 2026-H2 keine Notiz." in replies[-1].text
    replies = await coordinator.send("/report notiz ak-ehrenamt Für das laufende Halbjahr.")
    assert "Die Notiz zu AK Ehrenamt für den Bericht 1. Halbjahr 2027 ist gespeichert" in replies[-1].text
