"""The state of the steering circle's recommendations (SPEC 14) in the half-yearly
report and in the weekly digest, through the emulator on SQLite and PostgreSQL.

Members register and join and answer as people do; the coordination
publishes with `/recommend`. The recommendations are closed with a result
and their tracking fields set through the core functions the chat uses
(`bot.core.recommendation_closing`, `bot.core.tracking_changes`), in one
unit of work each, as the chat's handlers call them: the chat flow for
closing and `/track` is tested in `tests/test_tracking.py`.

The report story (second half of 2026, Berlin time), all closed on 01.09.2026:

| rec | result | tracking | at the end of 2026 (31.12.) |
|---|---|---|---|
| R1 | angenommen | Jobcenter Wuppertal, due 30.11.2026, in Arbeit | open, überfällig |
| R2 | angenommen | Stadtsportbund, due 15.03.2027, verzögert (reason) | open, yellow |
| R3 | angenommen | nothing set | open, green |
| R4 | angenommen | Integrationsrat, due 31.01.2027, erledigt 10.01.2027 | open (erledigt after the period), green |
| R5 | angenommen | Bürgerbüro, due 30.11.2026, erledigt 15.11.2026 | finished in the half-year |
| R6 | nicht angenommen | | |
| R7 | zur Kenntnis genommen | | |
| R8 | still open | | not in the section |
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import docx
import docx.table
from sqlalchemy import func, select, update

from bot.core import digest as core_digest
from bot.core import recommendation_closing, tracking_changes
from bot.core import report as core_report
from bot.core.report_tracking import TrackedLine, TrackingReport
from bot.core.tracking import Light
from bot.core.tracking_changes import Field
from bot.render import report_layout, report_markdown
from bot.render.digest_formats import to_json
from storage.models import Group
from storage.tracking_models import RecommendationResult, Tracking, TrackStatus

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 8, 3, 8, 0, tzinfo=UTC)  # Mon 03.08.2026, 10:00 in Berlin
CLOSED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
FINISHED_IN = datetime(2026, 11, 15, 10, 0, tzinfo=UTC)
FINISHED_AFTER = datetime(2027, 1, 10, 10, 0, tzinfo=UTC)
LATER = datetime(2027, 1, 12, 11, 0, tzinfo=UTC)  # the half-year is over

ADOPTED, REJECTED, NOTED = RecommendationResult.ADOPTED, RecommendationResult.REJECTED, RecommendationResult.NOTED
DELAY_REASON = "Der Raum ist erst ab April frei."


async def members(bot, coordinator, names: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """Register each (name, group slug) and approve the join request."""
    people = {}
    for name, slug in names:
        person = await bot.person(name, username=name.lower())
        await person.register(organisation="Caritas Wuppertal")
        await person.send(f"/join {slug}")
        await coordinator.send(f"/approve @{name.lower()}")
        people[name] = person
    return people


async def publish(bot, coordinator, command: str) -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(command)
    match = re.search(r"Empfehlung #(\d+)", replies[-1].text)
    assert match, replies[-1].text
    await bot.tick()
    return int(match.group(1))


async def close_as(  # type: ignore[no-untyped-def]
    bot,
    coordinator,
    rid: int,
    result: RecommendationResult,
    *,
    responsible: str | None = None,
    due: date | None = None,
    status: TrackStatus | None = None,
) -> None:
    """Close recommendation `rid` with `result` and answer the questions after closing
    (responsible, due date; the review date left for later), then set `status`."""
    async with bot.db.uow() as uow:
        me = await uow.people.by_telegram_id(coordinator.id)
        now, settings = bot.clock(), bot.settings
        await recommendation_closing.choose_result(uow, me, rid, result, settings)
        closed = await recommendation_closing.close(uow, me, "Der Lenkungskreis hat entschieden.", settings, now)
        if result is ADOPTED:
            assert closed.asks is Field.RESPONSIBLE
            if responsible:
                await tracking_changes.answer(uow, me, responsible, settings, now)
            else:
                await tracking_changes.skip(uow, me, rid, settings, now)
            if due:
                await tracking_changes.choose_date(uow, me, rid, Field.DUE, due, settings, now)
            else:
                await tracking_changes.skip(uow, me, rid, settings, now)
            change = await tracking_changes.skip(uow, me, rid, settings, now)
            assert change.asks is None, "the questions after closing are over"
        await uow.commit()
    if status is not None:
        await set_status(bot, coordinator, rid, status)
    await bot.tick()


async def set_status(bot, coordinator, rid: int, status: TrackStatus) -> None:  # type: ignore[no-untyped-def]
    async with bot.db.uow() as uow:
        me = await uow.people.by_telegram_id(coordinator.id)
        change = await tracking_changes.set_status(uow, me, rid, status, bot.settings, bot.clock())
        if change.asks is Field.REASON:
            await tracking_changes.answer(uow, me, DELAY_REASON, bot.settings, bot.clock())
        await uow.commit()


async def stance(person, rid: int, label: str) -> None:  # type: ignore[no-untyped-def]
    card = next(m for m in person.messages if f"Neue Empfehlung #{rid}" in m.text)
    await person.press(label, card)


def documents(messages) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {m.document.name.rsplit(".", 1)[-1]: m for m in messages if m.document is not None}


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


async def story(bot, coordinator) -> dict[str, int]:  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    async with bot.db.uow() as uow:  # the seeded groups exist from before the half-year
        await uow.session.execute(update(Group).values(created_at=START))
        await uow.commit()
    await coordinator.register(name="Sabine Weber", organisation="Stadt Wuppertal")
    people = await members(bot, coordinator, [("Ana", "ak-eu"), ("Carl", "ak-ehrenamt")])
    texts = {
        "R1": "/recommend ak-eu Sprachkurse am Abend anbieten",
        "R2": "/recommend ak-ehrenamt Ehrenamtskarte für Dolmetschende",
        "R3": "/recommend ak-eu Mehrsprachige Infoblätter im Bürgerbüro",
        "R4": "/recommend all Anerkennungsberatung im Jobcenter",
        "R5": "/recommend ak-eu Wartezeiten im Bürgerbüro verkürzen",
        "R6": "/recommend ak-ehrenamt Gemeinsamer Fortbildungstag",
        "R7": "/recommend ak-eu Newsletter der Arbeitskreise",
        "R8": "/recommend ak-eu Noch in der Abstimmung",
    }
    rec = {name: await publish(bot, coordinator, command) for name, command in texts.items()}
    await stance(people["Ana"], rec["R1"], "Zustimmung")
    await stance(people["Carl"], rec["R2"], "Bedenken")

    bot.clock.set(CLOSED)
    await close_as(
        bot, coordinator, rec["R1"], ADOPTED, responsible="Jobcenter Wuppertal", due=date(2026, 11, 30),
        status=TrackStatus.IN_PROGRESS,
    )  # fmt: skip
    await close_as(
        bot, coordinator, rec["R2"], ADOPTED, responsible="Stadtsportbund", due=date(2027, 3, 15),
        status=TrackStatus.DELAYED,
    )  # fmt: skip
    await close_as(bot, coordinator, rec["R3"], ADOPTED)
    await close_as(bot, coordinator, rec["R4"], ADOPTED, responsible="Integrationsrat", due=date(2027, 1, 31))
    await close_as(bot, coordinator, rec["R5"], ADOPTED, responsible="Bürgerbüro", due=date(2026, 11, 30))
    await close_as(bot, coordinator, rec["R6"], REJECTED)
    await close_as(bot, coordinator, rec["R7"], NOTED)

    bot.clock.set(FINISHED_IN)
    await set_status(bot, coordinator, rec["R5"], TrackStatus.DONE)
    bot.clock.set(FINISHED_AFTER)
    await set_status(bot, coordinator, rec["R4"], TrackStatus.DONE)
    return rec


# --- the report ---------------------------------------------------------------------------------


async def test_the_report_says_where_the_adopted_recommendations_stand(bot, coordinator):
    rec = await story(bot, coordinator)
    async with bot.db.reader() as uow:
        adopted = await uow.session.scalar(select(func.count()).select_from(Tracking).where(Tracking.result == ADOPTED))
    assert adopted == 5

    bot.clock.set(LATER)
    sent = documents(await coordinator.send("/report 2026-H2"))
    report = docx.Document(io.BytesIO(sent["docx"].document.data))
    headings = [(p.style.name, p.text) for p in report.paragraphs if p.style.name.startswith("Heading")]
    top = [text for style, text in headings if style == "Heading 1"]
    recommendations = top.index("Empfehlungen des Lenkungskreises und Rückmeldungen der Gremien")
    assert top[recommendations + 1 : recommendations + 3] == ["Stand der Empfehlungen", "Stand der Gremien"], (
        "after the recommendations and the groups' feedback"
    )
    section = [text for _, text in headings[headings.index(("Heading 1", "Stand der Empfehlungen")) :]][:3]
    assert section == ["Stand der Empfehlungen", "Offene Empfehlungen", "Im Berichtszeitraum erledigt"]

    text = "\n".join(p.text for p in report.paragraphs)
    assert (
        "Im Berichtszeitraum wurden 7 Empfehlungen abgeschlossen "
        "(angenommen: 5, nicht angenommen: 1, zur Kenntnis genommen: 1). "
        "Angenommen wurden bis zum 31.12.2026 5 Empfehlungen: 4 offen, davon 1 überfällig; 1 erledigt." in text
    ), "totals that add up: 4 open + 1 done = 5 adopted; 5 + 1 + 1 = 7 closed"
    assert "wie sie am 12.01.2027 erfasst sind. Die Ampel bewertet die Fälligkeit zum 31.12.2026." in text

    caption = next(p.text for p in report.paragraphs if "Offene angenommene Empfehlungen am 31.12.2026" in p.text)
    assert re.fullmatch(r"Tabelle \d+: Offene angenommene Empfehlungen am 31\.12\.2026", caption), caption
    open_rows = table_after(report, caption)
    assert open_rows == [
        ["Nr.", "Empfehlung", "Zuständig", "Fällig bis", "Stand", "Ampel"],
        [str(rec["R1"]), "Sprachkurse am Abend anbieten", "Jobcenter Wuppertal", "30.11.2026", "in Arbeit", "überfällig"],
        [
            str(rec["R2"]), "Ehrenamtskarte für Dolmetschende", "Stadtsportbund", "15.03.2027",
            f"verzögert: {DELAY_REASON}", "bald fällig oder verzögert",
        ],
        [
            str(rec["R4"]), "Anerkennungsberatung im Jobcenter", "Integrationsrat", "31.01.2027",
            "erledigt am 10.01.2027 (nach dem Berichtszeitraum)", "im Plan",
        ],
        [str(rec["R3"]), "Mehrsprachige Infoblätter im Bürgerbüro", "noch offen", "noch offen", "offen", "im Plan"],
    ]  # fmt: skip
    done_caption = next(
        p.text for p in report.paragraphs if p.text.endswith("Im Berichtszeitraum erledigte Empfehlungen")
    )
    assert table_after(report, done_caption) == [
        ["Nr.", "Empfehlung", "Zuständig", "Fällig bis", "erledigt am"],
        [str(rec["R5"]), "Wartezeiten im Bürgerbüro verkürzen", "Bürgerbüro", "30.11.2026", "15.11.2026"],
    ]
    for word in ("Noch in der Abstimmung", "Gemeinsamer Fortbildungstag", "#", "🔴", "/track"):
        assert word not in "\n".join(["\n".join(r) for r in open_rows]), word
    assert "#" not in text and "/track" not in text, "no chat jargon in the council document"

    markdown = sent["md"].document.data.decode()
    assert "\n## Stand der Empfehlungen\n" in markdown
    assert "\n### Offene Empfehlungen\n" in markdown
    assert (
        f"| {rec['R1']} | Sprachkurse am Abend anbieten | Jobcenter Wuppertal | 30.11.2026 | in Arbeit | überfällig |"
        in markdown
    )
    assert f"| verzögert: {DELAY_REASON} | bald fällig oder verzögert |" in markdown
    assert "Angenommen wurden bis zum 31.12.2026 5 Empfehlungen: 4 offen, davon 1 überfällig; 1 erledigt." in markdown
    assert f"| {rec['R5']} | Wartezeiten im Bürgerbüro verkürzen | Bürgerbüro | 30.11.2026 | 15.11.2026 |" in markdown


async def test_a_running_half_year_judges_the_lights_today(bot, coordinator):
    rec = await story(bot, coordinator)
    async with bot.db.uow() as uow:  # R4 back to in Arbeit: in a running half-year nothing is "after the period"
        me = await uow.people.by_telegram_id(coordinator.id)
        await tracking_changes.set_status(uow, me, rec["R4"], TrackStatus.IN_PROGRESS, bot.settings, bot.clock())
        await uow.commit()
    bot.clock.set(datetime(2027, 1, 20, 9, 0, tzinfo=UTC))
    async with bot.db.reader() as uow:
        report = await core_report.build(uow, core_report.parse_half_year("2027-H1"), bot.settings, bot.clock())
    tracking = report.tracking
    assert tracking is not None and tracking.day == date(2027, 1, 20)
    lights = {line.number: line.light for line in tracking.open}
    assert lights == {
        rec["R1"]: Light.RED,
        rec["R2"]: Light.YELLOW,
        rec["R4"]: Light.YELLOW,  # due 31.01.2027: within 14 days of 20.01.
        rec["R3"]: Light.GREEN,
    }
    assert [line.number for line in tracking.open] == [rec["R1"], rec["R4"], rec["R2"], rec["R3"]], "as /track orders"
    assert (tracking.adopted, tracking.open_total, tracking.done, tracking.overdue) == (5, 4, 1, 1)
    assert tracking.closed == (), "nothing was closed in 2027-H1"
    assert tracking.finished == ()
    markdown = report_markdown.to_markdown(report_layout.compose(report))
    assert "Im Berichtszeitraum wurde keine Empfehlung abgeschlossen." in markdown
    assert "Im Berichtszeitraum wurde keine angenommene Empfehlung erledigt." in markdown


def _report(tracking: TrackingReport | None) -> core_report.Report:
    return core_report.Report(
        half=core_report.parse_half_year("2026-H2"),
        first_day=date(2026, 7, 1),
        last_day=date(2026, 12, 31),
        as_of=None,
        today=date(2027, 1, 12),
        created=LATER,
        groups=(),
        people_confirmed=0,
        recommendations=(),
        recommendations_total=0,
        stances=0,
        comments=0,
        open_recommendations=0,
        items_waiting=0,
        tracking=tracking,
    )


def test_nothing_to_report_is_a_sentence_never_an_empty_table():
    empty = TrackingReport(date(2026, 12, 31), (), 0, (), 0, 0, 0, 0, ())
    markdown = report_markdown.to_markdown(report_layout.compose(_report(empty)))
    section = markdown[markdown.index("## Stand der Empfehlungen") : markdown.index("## Stand der Gremien")]
    assert "Zum Stand der Empfehlungen gibt es darum nichts zu berichten." in section
    assert "|" not in section and "###" not in section

    done = TrackedLine(3, "Sprachkurse", "VHS", None, TrackStatus.DONE, None, Light.DONE, date(2026, 10, 1))
    old = ((RecommendationResult.ADOPTED, 1), (None, 2))
    all_done = TrackingReport(date(2026, 12, 31), (), 0, (done,), 1, 1, 1, 0, old)
    markdown = report_markdown.to_markdown(report_layout.compose(_report(all_done)))
    section = markdown[markdown.index("## Stand der Empfehlungen") : markdown.index("## Stand der Gremien")]
    assert (
        "Im Berichtszeitraum wurden 3 Empfehlungen abgeschlossen (angenommen: 1, ohne erfasstes Ergebnis: 2)."
        in section
    )
    assert "Angenommen wurde bis zum 31.12.2026 1 Empfehlung: 0 offen; 1 erledigt." in section
    assert "bevor das Ergebnis erfasst wurde, werden nicht verfolgt." in section
    assert "Am 31.12.2026 war keine angenommene Empfehlung offen." in section
    assert "| 3 | Sprachkurse | VHS | noch offen | 01.10.2026 |" in section

    markdown = report_markdown.to_markdown(report_layout.compose(_report(None)))
    assert "Stand der Empfehlungen" not in markdown, "a report made without the section"


# --- the digest -----------------------------------------------------------------------------------

SETUP = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FRIDAY = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # R1 due today: not yet overdue
SUNDAY = datetime(2026, 12, 6, 19, 0, tzinfo=UTC)  # the weekly digest is planned the day before
MONDAY_8 = datetime(2026, 12, 7, 8, 0, tzinfo=BERLIN)


def flagged(text: str) -> list[str]:
    """The overdue lines of a digest: the count and the entries under it."""
    lines = text.split("\n")
    found = [i for i, line in enumerate(lines) if "überfällig:" in line or "overdue:" in line]
    if not found:
        return []
    return [lines[found[0]], *(line for line in lines[found[0] + 1 :] if line.startswith(("•", "    ")))][:5]


async def digest_story(bot, coordinator) -> dict[str, int]:  # type: ignore[no-untyped-def]
    bot.clock.set(SETUP)
    await coordinator.register(name="Sabine Weber", organisation="Stadt Wuppertal")
    await members(bot, coordinator, [("Ana", "ak-eu"), ("Carl", "ak-ehrenamt")])
    rec = {
        "R1": await publish(bot, coordinator, "/recommend ak-eu Sprachkurse am Abend anbieten"),
        "R2": await publish(bot, coordinator, "/recommend ak-ehrenamt Ehrenamtskarte für Dolmetschende"),
        "R3": await publish(bot, coordinator, "/recommend ak-eu Mehrsprachige Infoblätter"),
        "R4": await publish(bot, coordinator, "/recommend ak-eu Wartezeiten verkürzen"),
        "R5": await publish(bot, coordinator, "/recommend ak-eu Newsletter"),
    }
    await close_as(
        bot, coordinator, rec["R1"], ADOPTED, responsible="Jobcenter Wuppertal", due=date(2026, 12, 4),
        status=TrackStatus.DELAYED,
    )  # fmt: skip
    await close_as(bot, coordinator, rec["R2"], ADOPTED, due=date(2026, 12, 5))
    await close_as(bot, coordinator, rec["R3"], ADOPTED, responsible="Bürgerbüro", due=date(2027, 3, 1))
    await close_as(bot, coordinator, rec["R4"], ADOPTED, responsible="Bürgerbüro", due=date(2026, 12, 1))
    await set_status(bot, coordinator, rec["R4"], TrackStatus.DONE)
    await close_as(bot, coordinator, rec["R5"], NOTED)
    return rec


async def test_the_digest_flags_overdue_recommendations_with_the_command_to_update_them(bot, coordinator):
    rec = await digest_story(bot, coordinator)
    bot.clock.set(FRIDAY)
    before = "\n\n".join(m.text for m in await coordinator.send("/digest all"))
    assert flagged(before) == [], "due today is not overdue"
    assert "/track" not in before

    bot.clock.set(SUNDAY)
    await bot.tick()
    bot.clock.set(MONDAY_8)
    await bot.tick()
    [weekly] = [m for m in coordinator.messages if "Wochenübersicht" in m.text]
    r1, r2 = rec["R1"], rec["R2"]
    expected = [
        "🔴 2 angenommene Empfehlungen sind überfällig:",
        f"• Empfehlung #{r1} „Sprachkurse am Abend anbieten“ – fällig bis 04.12.2026",
        f"    Zuständig: Jobcenter Wuppertal · Stand: verzögert ({DELAY_REASON}) – bitte aktualisieren: /track {r1}",
        f"• Empfehlung #{r2} „Ehrenamtskarte für Dolmetschende“ – fällig bis 05.12.2026",
        f"    Zuständig: noch offen · Stand: offen – bitte aktualisieren: /track {r2}",
    ]
    assert flagged(weekly.text) == expected, weekly.text
    assert "Nichts Neues in den Gruppen" not in weekly.text, "an overdue recommendation is something to act on"
    missing = weekly.text[weekly.text.index("⚠️ Was fehlt") :]
    assert missing.index("🔴 2 angenommene") < missing.index("AK EU ·"), "under „Was fehlt“, above the groups"
    for fine in (rec["R3"], rec["R4"], rec["R5"]):
        assert f"/track {fine}" not in weekly.text, "not due yet, done, or not adopted"

    everything = "\n\n".join(m.text for m in await coordinator.send("/digest all"))
    assert flagged(everything) == expected
    eu = "\n\n".join(m.text for m in await coordinator.send("/digest ak-eu"))
    assert flagged(eu) == ["🔴 1 angenommene Empfehlung ist überfällig:", *expected[1:3]], "only those to the group"
    ehrenamt = "\n\n".join(m.text for m in await coordinator.send("/digest ak-ehrenamt"))
    assert flagged(ehrenamt) == ["🔴 1 angenommene Empfehlung ist überfällig:", *expected[3:5]]
    quiet = "\n\n".join(m.text for m in await coordinator.send("/digest ag-soe"))
    assert flagged(quiet) == [] and "/track" not in quiet

    async with bot.db.reader() as uow:
        groups = list(await uow.groups.active())
        period = core_digest.parse_arguments("", groups, bot.clock(), bot.settings.timezone)[1]
        built = await core_digest.build(uow, groups, period, bot.clock(), bot.settings)
    data = json.loads(to_json(built))["missing"]["overdue_recommendations"]
    assert data["total"] == 2
    assert data["shown"][0] == {
        "id": r1,
        "text": "Sprachkurse am Abend anbieten",
        "responsible": "Jobcenter Wuppertal",
        "due_on": "2026-12-04",
        "status": "delayed",
        "delay_reason": DELAY_REASON,
    }

    await set_status(bot, coordinator, r1, TrackStatus.DONE)
    after = "\n\n".join(m.text for m in await coordinator.send("/digest all"))
    assert flagged(after)[0] == "🔴 1 angenommene Empfehlung ist überfällig:", "erledigt: no longer flagged"
    assert f"/track {r1}" not in after and f"/track {r2}" in after


async def test_the_overdue_flag_in_english(bot, coordinator):
    rec = await digest_story(bot, coordinator)
    await coordinator.send("/language en")
    bot.clock.set(MONDAY_8 + timedelta(hours=1))
    text = "\n\n".join(m.text for m in await coordinator.send("/digest all"))
    assert flagged(text)[:3] == [
        "🔴 2 adopted recommendations are overdue:",
        f"• Recommendation #{rec['R1']} “Sprachkurse am Abend anbieten” – due by 4 Dec 2026",
        f"    Responsible: Jobcenter Wuppertal · Status: delayed ({DELAY_REASON}) – please update: /track {rec['R1']}",
    ], text
