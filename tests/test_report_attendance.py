"""Attendance, minutes and what is missing, in the half-yearly report and in the
digest (SPEC 13), through the emulator on SQLite and PostgreSQL.

Members register, join and answer invitations as people do; the attendance
rows and the minutes are written straight into the database, as
`/attendance` and `/minutes` write them (recorded by the coordinator).

The report story (second half of 2026, AK EU; Ana, Ben, Carl members; Dora
Carl's deputy, not a member):

| session | Zusagen | attendance |
|---|---|---|
| S1 10.09.2026 "Auftakt AK EU" | Ana, Ben | taken: Ana present, Carl present by his deputy Dora, Ben absent (a no-show), a guest |
| S2 08.10.2026 "Zweite Sitzung" | Ana | not taken (only Ana's own check-in) |

S1 has approved minutes (a result, a decision, an open and a done task); S2
has draft minutes, which the report leaves out.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import docx
import pytest
from sqlalchemy import select, update

from bot.core import report as core
from bot.render import chart, report_attendance, report_layout, report_markdown
from storage.followup_models import (
    Attendance,
    AttendanceStatus,
    Minutes,
    MinutesDecision,
    MinutesItem,
    MinutesStatus,
    Task,
    TaskStatus,
)
from storage.models import Group, Person

START = datetime(2026, 8, 3, 8, 0, tzinfo=UTC)
LATER = datetime(2027, 1, 10, 11, 0, tzinfo=UTC)


async def schedule(bot, coordinator, command: str) -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(command)
    match = re.search(r"Geplant als Sitzung #(\d+)", replies[-1].text)
    assert match, replies[-1].text
    await bot.tick()
    return int(match.group(1))


async def rsvp(person, session: int) -> None:  # type: ignore[no-untyped-def]
    invitation = next(m for m in person.messages if "Einladung" in m.text and f"#{session}" in m.text)
    await person.press("✅ Zusage", invitation)


async def members(bot, coordinator, names: list[tuple[str, str | None]], slug: str = "ak-eu"):  # type: ignore[no-untyped-def]
    people = {}
    for name, organisation in names:
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=organisation)
        await person.send(f"/join {slug}")
        await coordinator.send(f"/approve @{name.lower()}")
        people[name] = person
    return people


async def ids(uow) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rows = (await uow.session.execute(select(Person.username, Person.id, Person.telegram_id))).all()
    found = {username: pid for username, pid, _ in rows if username}
    return found


def attendance(occurrence: int, person: int | None, status: AttendanceStatus, by: int | None, **kw) -> Attendance:  # type: ignore[no-untyped-def]
    return Attendance(
        occurrence_id=occurrence, person_id=person, status=status, recorded_by_id=by, recorded_at=START, **kw
    )


@pytest.fixture
async def story(bot, coordinator):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    async with bot.db.uow() as uow:
        await uow.session.execute(update(Group).values(created_at=START))
        await uow.commit()
    await coordinator.register(name="Sabine Weber", organisation="Stadt Wuppertal")
    people = await members(bot, coordinator, [("Ana", "Caritas Wuppertal"), ("Ben", "Jobcenter"), ("Carl", None)])
    dora = await bot.person("Dora", username="dora")
    await dora.register(organisation="Diakonie")
    s1 = await schedule(bot, coordinator, "/meeting ak-eu 10.09.2026 14:00 Auftakt AK EU | Rathaus")
    s2 = await schedule(bot, coordinator, "/meeting ak-eu 08.10.2026 14:00 Zweite Sitzung")
    await rsvp(people["Ana"], s1)
    await rsvp(people["Ben"], s1)
    await rsvp(people["Ana"], s2)
    async with bot.db.uow() as uow:
        who = await ids(uow)
        sabine = (
            await uow.session.execute(select(Person.id).where(Person.display_name == "Sabine Weber"))
        ).scalar_one()
        ana, ben, carl, dora_id = who["ana"], who["ben"], who["carl"], who["dora"]
        uow.session.add_all(
            [
                attendance(s1, ana, AttendanceStatus.PRESENT, sabine, organisation="Caritas Wuppertal"),
                attendance(s1, ben, AttendanceStatus.ABSENT, sabine, organisation="Jobcenter"),
                attendance(s1, carl, AttendanceStatus.PRESENT, sabine, deputy_id=dora_id),
                attendance(s1, None, AttendanceStatus.PRESENT, sabine, guest_name="Gisela Gast", organisation="VHS"),
                attendance(s2, ana, AttendanceStatus.PRESENT, None, checked_in_at=START),
            ]
        )
        approved = Minutes(
            occurrence_id=s1,
            status=MinutesStatus.APPROVED,
            created_by_id=sabine,
            created_at=START,
            approved_at=datetime(2026, 9, 20, 9, 0, tzinfo=UTC),
            approved_by_id=sabine,
        )
        item = MinutesItem(title="Bericht aus der Beratungsstelle", result="Die Nachfrage steigt.", position=0)
        item.decisions = [MinutesDecision(text="Wir laden die VHS ein.", position=0)]
        approved.items = [item, MinutesItem(title="Verschiedenes", result=None, position=1)]
        draft = Minutes(occurrence_id=s2, status=MinutesStatus.DRAFT, created_by_id=sabine, created_at=START)
        draft.items = [MinutesItem(title="Entwurfspunkt", result="Noch geheim.", position=0)]
        group_id = (await uow.session.execute(select(Group.id).where(Group.slug == "ak-eu"))).scalar_one()
        uow.session.add_all([approved, draft])
        await uow.session.flush()
        for text, owner, due, status, done in (
            ("VHS anschreiben", ana, date(2026, 9, 30), TaskStatus.OPEN, None),
            ("Raum buchen", ben, date(2026, 9, 25), TaskStatus.DONE, datetime(2026, 9, 21, 10, 0, tzinfo=UTC)),
            ("Entwurfsaufgabe", ben, date(2026, 9, 25), TaskStatus.DRAFT, None),
        ):
            uow.session.add(
                Task(
                    group_id=group_id,
                    occurrence_id=s1,
                    minutes_item_id=item.id,
                    text=text,
                    owner_id=owner,
                    due_on=due,
                    status=status,
                    created_by_id=sabine,
                    created_at=START,
                    done_at=done,
                )
            )
        await uow.commit()
    return {"sessions": (s1, s2), "people": people}


def documents(messages) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {m.document.name.rsplit(".", 1)[-1]: m for m in messages if m.document is not None}


async def test_the_report_shows_attendance_beside_the_zusagen_with_their_denominators(bot, coordinator, story):
    bot.clock.set(LATER)
    sent = documents(await coordinator.send("/report 2026-H2"))
    report = docx.Document(io.BytesIO(sent["docx"].document.data))
    paragraphs = [p.text for p in report.paragraphs]
    text = "\n".join(paragraphs)
    bullets = [p.text for p in report.paragraphs if p.style.name == "List Bullet"]

    assert "Die tatsächliche Anwesenheit wird nicht erfasst" not in text, "the old sentence is gone"
    assert "Die tatsächliche Anwesenheit erfasst die Koordination je Sitzung" in text
    assert (
        "10.09.2026, Auftakt AK EU: Zusagen: 2 von 3 eingeladenen Mitgliedern; anwesend: 2 von 3 Mitgliedern, dazu 1 Gast; Zusage, aber abwesend: 1"
        in bullets
    )
    assert (
        "08.10.2026, Zweite Sitzung: Zusagen: 1 von 3 eingeladenen Mitgliedern; Anwesenheit nicht erfasst" in bullets
    ), "a check-in alone is not attendance taken"
    # the response rate over the invitations, the attendance rate over the one session where it was taken
    assert "Von 6 Einladungen an Mitglieder wurden 3 mit „Zusage“ beantwortet (50 %)." in text
    assert (
        "Die Anwesenheit wurde in 1 von 2 Sitzungen erfasst; dort waren 2 von 3 Mitgliedern anwesend (67 %), dazu 1 Gast."
        in text
    )
    assert "Zusage, aber abwesend: 1-mal." in text
    assert (
        "Abbildung 1: Teilnahme je Gremium und Sitzung (anwesende Mitglieder, wo die Anwesenheit erfasst ist; sonst Zahl der Zusagen, schraffiert)"
        in text
    )

    heading = [p for p in report.paragraphs if p.text == "Ergebnisprotokoll der Sitzung am 10.09.2026: Auftakt AK EU"]
    assert [p.style.name for p in heading] == ["Heading 3"], "the approved minutes under their session"
    start = paragraphs.index("Ergebnisprotokoll der Sitzung am 10.09.2026: Auftakt AK EU")
    assert paragraphs[start + 1 : start + 7] == [
        "Freigegeben am 20.09.2026.",
        "TOP 1: Bericht aus der Beratungsstelle. Die Nachfrage steigt.",
        "Beschluss: Wir laden die VHS ein.",
        "Aufgabe: Raum buchen (Jobcenter); erledigt am 21.09.2026",
        "Aufgabe: VHS anschreiben (Caritas Wuppertal); offen, fällig bis 30.09.2026",
        "TOP 2: Verschiedenes. Ohne festgehaltenes Ergebnis.",
    ]
    for hidden in ("Entwurfspunkt", "Noch geheim", "Entwurfsaufgabe", "Ana", "Ben", "Carl", "Dora", "Gisela"):
        assert hidden not in text, f"{hidden!r}: draft minutes left out, no person named"

    markdown = sent["md"].document.data.decode()
    assert (
        "- 10.09.2026, Auftakt AK EU: Zusagen: 2 von 3 eingeladenen Mitgliedern; anwesend: 2 von 3 Mitgliedern, dazu 1 Gast; Zusage, aber abwesend: 1"
        in markdown
    )
    assert (
        "- 08.10.2026, Zweite Sitzung: Zusagen: 1 von 3 eingeladenen Mitgliedern; Anwesenheit nicht erfasst" in markdown
    )
    assert "#### Ergebnisprotokoll der Sitzung am 10.09.2026: Auftakt AK EU" in markdown
    assert "**TOP 1: Bericht aus der Beratungsstelle.** Die Nachfrage steigt." in markdown
    assert "- Aufgabe: VHS anschreiben (Caritas Wuppertal); offen, fällig bis 30.09.2026" in markdown
    assert "Noch geheim" not in markdown


async def test_the_chart_counts_attendance_where_it_was_taken(bot, coordinator, story):
    bot.clock.set(LATER)
    async with bot.db.reader() as uow:
        report = await core.build(uow, core.parse_half_year("2026-H2"), bot.settings, LATER)
    [eu] = [g for g in report.groups if g.name == "AK EU"]
    assert [report_attendance.chart_value(s) for s in eu.sessions] == [2, 1], "S1 present, S2 Zusagen"
    assert (eu.invited, eu.confirmed_members, eu.attendance_taken, eu.present, eu.recorded) == (6, 3, 1, 2, 3)
    assert (eu.guests, eu.no_shows) == (1, 1)
    assert report_attendance.chart_basis(report) == "mixed"
    assert report_layout.figure_caption(report) == "figure_caption_mixed"


def test_a_report_without_attendance_says_so_and_keeps_the_zusagen_chart():
    day = date(2026, 9, 10)
    session = core.SessionLine(day, "Auftakt", None, 2, invited=4, confirmed_members=2)
    group = core.GroupReport(
        name="AK EU", note=None, steering=False, ended_on=None, held=1, confirmations=2, people=2,
        sessions=(session,), invited=4, confirmed_members=2,
    )  # fmt: skip
    report = core.Report(
        half=core.parse_half_year("2026-H2"),
        first_day=date(2026, 7, 1),
        last_day=date(2026, 12, 31),
        as_of=None,
        today=date(2027, 1, 10),
        created=LATER,
        groups=(group,),
        people_confirmed=2,
        recommendations=(),
        recommendations_total=0,
        stances=0,
        comments=0,
        open_recommendations=0,
        items_waiting=0,
    )
    markdown = report_markdown.to_markdown(report_layout.compose(report))
    assert "Die Anwesenheit wurde in keiner Sitzung erfasst." in markdown
    assert "- 10.09.2026, Auftakt: Zusagen: 2 von 4 eingeladenen Mitgliedern; Anwesenheit nicht erfasst" in markdown
    assert "(Zahl der Zusagen)" in markdown
    assert report_attendance.chart_basis(report) == "rsvp"
    made = chart.participation_chart(
        "t", "a", "e", [chart.Series("AK EU", ("10.09.", "08.10."), (2, 1), (True, False))]
    )
    assert chart.png_size(made.png) == chart.size_for()


# --- the digest -------------------------------------------------------------------------------------

DIGEST_START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tue 01.12.2026, 09:00 in Berlin
DIGEST_AT = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # Sat 05.12.2026, 10:00 in Berlin


async def test_the_digest_names_sessions_without_attendance_or_approved_minutes(bot, coordinator):
    bot.clock.set(DIGEST_START)
    await coordinator.register(name="Sabine Weber")
    await members(bot, coordinator, [("Ana", "Caritas")])
    await members(bot, coordinator, [("Carl", None)], slug="ak-ehrenamt")
    bare = await schedule(bot, coordinator, "/meeting ak-eu 02.12.2026 10:00 Ohne alles")
    overdue = await schedule(bot, coordinator, "/meeting ak-eu 02.12.2026 14:00 Korrektur vorbei")
    done = await schedule(bot, coordinator, "/meeting ak-eu 03.12.2026 10:00 Alles erledigt")
    reviewing = await schedule(bot, coordinator, "/meeting ak-eu 03.12.2026 14:00 In Korrektur")
    drafted = await schedule(bot, coordinator, "/meeting ak-ehrenamt 04.12.2026 10:00 Entwurf")
    coming = await schedule(bot, coordinator, "/meeting ak-eu 09.12.2026 10:00 Kommt noch")
    async with bot.db.uow() as uow:
        who = await ids(uow)
        sabine = (
            await uow.session.execute(select(Person.id).where(Person.display_name == "Sabine Weber"))
        ).scalar_one()
        for session in (overdue, done, reviewing, drafted):
            uow.session.add(attendance(session, who["ana"], AttendanceStatus.PRESENT, sabine))
        for session, status, until in (
            (overdue, MinutesStatus.REVIEW, DIGEST_AT - timedelta(hours=1)),
            (done, MinutesStatus.APPROVED, None),
            (reviewing, MinutesStatus.REVIEW, DIGEST_AT + timedelta(days=5)),
            (drafted, MinutesStatus.DRAFT, None),
        ):
            uow.session.add(
                Minutes(
                    occurrence_id=session,
                    status=status,
                    created_by_id=sabine,
                    created_at=DIGEST_START,
                    review_until=until,
                    approved_at=DIGEST_AT - timedelta(hours=2) if status == MinutesStatus.APPROVED else None,
                )
            )
        await uow.commit()

    bot.clock.set(DIGEST_AT)
    text = "\n\n".join(m.text for m in await coordinator.send("/digest"))
    overall = text[text.index("⚠️ Was fehlt") : text.index("AK EU ·")]
    assert "📋 3 vergangene Sitzungen ohne Anwesenheit oder freigegebenes Protokoll (siehe die Gruppen)." in overall
    eu = text[text.index("AK EU ·") : text.index("AK Ehrenamt ·")]
    gaps = eu[eu.index("⚠️ Was fehlt: 2 Sitzungen ohne Anwesenheit oder freigegebenes Protokoll") :]
    assert gaps.split("\n")[1:6] == [
        f"• Mi., 02.12.2026, 14:00 Uhr: Korrektur vorbei (#{overdue})",
        f"    Korrekturfrist vorbei, Protokoll nicht freigegeben – /minutes {overdue}",
        f"• Mi., 02.12.2026, 10:00 Uhr: Ohne alles (#{bare})",
        f"    Anwesenheit nicht erfasst – /attendance {bare}",
        f"    kein Protokoll – /minutes {bare}",
    ], gaps
    for fine in (done, reviewing, coming):
        assert f"(#{fine})\n    " not in gaps, "approved, in review in time, or not yet held: nothing missing"
    ehrenamt = text[text.index("AK Ehrenamt ·") :]
    assert f"• Fr., 04.12.2026, 10:00 Uhr: Entwurf (#{drafted})" in ehrenamt
    assert f"Protokoll noch im Entwurf – /minutes {drafted}" in ehrenamt
    assert f"/attendance {drafted}" not in ehrenamt

    data = await _json_digest(bot)
    eu_json = next(g for g in data["groups"] if g["slug"] == "ak-eu")
    assert eu_json["sessions_without_followup"]["total"] == 2
    assert [s["id"] for s in eu_json["sessions_without_followup"]["shown"]] == [overdue, bare]
    assert data["missing"]["sessions_without_followup"]["total"] == 3


async def _json_digest(bot):  # type: ignore[no-untyped-def]
    import json

    from bot.core import digest
    from bot.render.digest_formats import to_json

    async with bot.db.reader() as uow:
        groups = list(await uow.groups.active())
        period = digest.parse_arguments("", groups, DIGEST_AT, bot.settings.timezone)[1]
        built = await digest.build(uow, groups, period, DIGEST_AT, bot.settings)
    return json.loads(to_json(built))
