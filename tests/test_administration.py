"""Administration through the emulator: adding, renaming and archiving groups,
promoting and demoting coordinators, taking a member out of a group, rejecting
a join request with a reason, `/members all`, the audit log and `/log`, and
`kimbot digest [group|all] [period]`."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.admin_models import AuditEntry
from storage.models import Group, MembershipStatus, Occurrence, OccurrenceStatus, Person

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
REPO = Path(__file__).resolve().parents[1]
REFUSED = "Das darf nur die KIM-Koordination. Es wurde nichts geändert."


@pytest.fixture
async def mira(bot, coordinator):  # type: ignore[no-untyped-def]
    """Mira Kovač (Caritas), an approved member of AK EU; the clock on 01.12.2026."""
    bot.clock.set(START)
    await coordinator.register(name="Sabine Weber")
    person = await bot.person("Mira", username="mira_m")
    await person.register(name="Mira Kovač", organisation="Caritas")
    await person.send("/join ak-eu")
    await coordinator.send("/approve @mira_m")
    return person


async def audit_actions(bot) -> list[tuple[str, str, dict[str, object] | None]]:  # type: ignore[no-untyped-def]
    """(action, object type, detail) of every audit entry, oldest first."""
    async with bot.db.reader() as uow:
        rows = (await uow.session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
        return [(e.action, e.object_type, e.detail) for e in rows]


async def group_named(bot, slug: str) -> Group | None:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return await uow.groups.by_slug(slug)


async def status_of(bot, telegram_id: int, slug: str):  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        person = await uow.people.by_telegram_id(telegram_id)
        group = await uow.groups.by_slug(slug)
        membership = await uow.memberships.of(person.id, group.id) if person and group else None
        return membership


def now_shown(person, message):  # type: ignore[no-untyped-def]
    """`message` as the person sees it now (after the bot edited it)."""
    return next(m for m in person.messages if m.message_id == message.message_id)


# --- groups ------------------------------------------------------------------------


async def test_addgroup_in_one_line_and_guided(bot, coordinator, mira) -> None:  # type: ignore[no-untyped-def]
    [reply] = await coordinator.send("/addgroup ak-wohnen AK Wohnen")
    group = await group_named(bot, "ak-wohnen")
    assert group is not None and group.name == "AK Wohnen" and group.archived_at is None
    assert reply.text.startswith(f"✅ Gruppe #{group.id} ist angelegt: AK Wohnen (ak-wohnen).")
    assert "/join ak-wohnen" in reply.text

    [question] = await coordinator.send("/neuegruppe")
    assert "Wie soll die neue Gruppe heißen?" in question.text and "AK Wohnen" in question.text
    [reply] = await coordinator.send("AG Süd-Nord <Test>")
    created = await group_named(bot, "ag-sued-nord-test")
    assert created is not None and created.name == "AG Süd-Nord <Test>"
    assert f"Gruppe #{created.id} ist angelegt: AG Süd-Nord <Test> (ag-sued-nord-test)" in reply.text

    replies = await mira.send("/groups")
    assert "AK Wohnen (ak-wohnen): nicht Mitglied" in replies[-1].text
    replies = await mira.send("/join wohnen")
    assert "Anfrage für AK Wohnen ist bei der Koordination" in replies[-1].text

    assert [a for a in await audit_actions(bot) if a[0] == "group.create"] == [
        ("group.create", "group", {"name": "AK Wohnen", "slug": "ak-wohnen"}),
        ("group.create", "group", {"name": "AG Süd-Nord <Test>", "slug": "ag-sued-nord-test"}),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/addgroup ak-eu Noch einmal EU", "Den Kurznamen ak-eu hat schon eine Gruppe"),
        ("/addgroup ak-neu AK EU", "Eine Gruppe heißt schon „AK EU“"),
        ("/addgroup ak_neu! AK Neu", "„ak_neu!“ geht nicht als Kurzname"),
        ("/addgroup ak-neu " + "x" * 81, "Der Name ist zu lang (81 Zeichen)"),
    ],
)
async def test_addgroup_refuses_taken_or_bad_names(bot, coordinator, text, expected) -> None:  # type: ignore[no-untyped-def]
    before = await bot.every_row()
    replies = await coordinator.send(text)
    assert expected in replies[-1].text
    assert await bot.every_row() == before


async def test_renamegroup_keeps_the_slug(bot, coordinator, mira) -> None:  # type: ignore[no-untyped-def]
    [reply] = await coordinator.send("/renamegroup ak eu AK EU-Zuwanderung")
    assert reply.text == "✅ Die Gruppe „AK EU“ heißt jetzt AK EU-Zuwanderung. Der Kurzname bleibt ak-eu."
    group = await group_named(bot, "ak-eu")
    assert group is not None and group.name == "AK EU-Zuwanderung"

    [choose] = await coordinator.send("/umbenennen")
    assert "Welche Gruppe möchten Sie umbenennen?" in choose.text
    [question] = await coordinator.press("AK EU-Zuwanderung", choose)
    assert "Wie soll AK EU-Zuwanderung künftig heißen?" in question.text and "ak-eu" in question.text
    replies = await coordinator.send("AK EU")
    assert "heißt jetzt AK EU." in replies[-1].text
    replies = await mira.send("/groups")
    assert "AK EU (ak-eu): Mitglied" in replies[-1].text

    replies = await coordinator.send("/renamegroup ak-eu AK Ehrenamt")
    assert "Eine Gruppe heißt schon „AK Ehrenamt“" in replies[-1].text
    renames = [d for a, _, d in await audit_actions(bot) if a == "group.rename"]
    assert renames == [
        {"old": "AK EU", "name": "AK EU-Zuwanderung", "slug": "ak-eu"},
        {"old": "AK EU-Zuwanderung", "name": "AK EU", "slug": "ak-eu"},
    ]


async def test_archivegroup_asks_then_cancels_sessions_and_keeps_history(bot, coordinator, mira) -> None:  # type: ignore[no-untyped-def]
    replies = await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Auftakt")
    session = int(re.search(r"#(\d+)", replies[-1].text).group(1))  # type: ignore[union-attr]
    await bot.tick()
    nina = await bot.person("Nina")
    await nina.register()
    await nina.send("/join ak-eu")

    [question] = await coordinator.send("/archivegroup eu")
    assert "Gruppe AK EU archivieren?" in question.text
    assert "Geplante Sitzungen, die abgesagt werden: 1." in question.text
    await coordinator.press("Abbrechen", question)
    assert "Nichts geändert. Die Gruppe AK EU bleibt aktiv." in now_shown(coordinator, question).text
    assert (await group_named(bot, "ak-eu")).archived_at is None  # type: ignore[union-attr]

    [choose] = await coordinator.send("/archivieren")
    await coordinator.press("AK EU", choose)
    question = coordinator.last
    assert "Gruppe AK EU archivieren?" in question.text
    await coordinator.press("🗄 Ja, archivieren", question)
    edited = now_shown(coordinator, question)
    assert edited.text == "🗄 Die Gruppe AK EU ist archiviert. Abgesagte Sitzungen: 1. Beendete Anfragen: 1."
    assert edited.buttons == []
    assert "Die Gruppe AK EU wurde archiviert. Ihre Anfrage ist damit erledigt." in nina.last.text

    await bot.tick()
    assert any("Abgesagt" in t and "Auftakt" in t for t in mira.texts), "members are told of the cancellation"
    async with bot.db.reader() as uow:
        occurrence = await uow.session.get(Occurrence, session)
        assert occurrence is not None and occurrence.status is OccurrenceStatus.CANCELLED
        group = await uow.groups.by_slug("ak-eu")
        assert group is not None and group.archived_at == START
    assert (await status_of(bot, mira.id, "ak-eu")).status is MembershipStatus.APPROVED, "history stays"
    assert (await status_of(bot, nina.id, "ak-eu")).status is MembershipStatus.REJECTED

    replies = await nina.send("/join ak-eu")
    assert "Die Gruppe „ak-eu“ kenne ich nicht" in replies[-1].text
    replies = await coordinator.send("/meeting ak-eu 17.12.2026 14:00 Weiter")
    assert "Geplant" not in replies[-1].text
    replies = await coordinator.press_data(f"ga:{group.id}:1", question)
    assert replies[-1].text == "Die Gruppe „AK EU“ ist schon archiviert."
    [archive] = [d for a, _, d in await audit_actions(bot) if a == "group.archive"]
    assert archive == {"name": "AK EU", "cancelled": 1}


# --- coordinators ------------------------------------------------------------------


async def test_promote_and_demote(bot, coordinator, mira) -> None:  # type: ignore[no-untyped-def]
    assert [r.text for r in await mira.send("/pending")] == [REFUSED]
    [reply] = await coordinator.send("/promote @mira_m")
    assert reply.text == "✅ Mira Kovač gehört jetzt zur KIM-Koordination. Zurücknehmen: /demote"
    assert "Sie gehören jetzt zur KIM-Koordination" in mira.last.text
    assert "keine offenen Beitrittsanfragen" in (await mira.send("/pending"))[-1].text
    replies = await mira.send("/help")
    assert any("/addgroup" in r.text for r in replies), "a promoted coordinator sees the coordinator commands"
    menu = [c["command"] for c in bot.emulator.commands_for(mira.id)]
    assert "log" in menu and "addgroup" in menu, "and has them in Telegram's command menu at once"

    replies = await mira.send(f"/demote {coordinator.id}")
    assert "gehört fest zur Koordination (Einstellung COORDINATOR_IDS)" in replies[-1].text
    replies = await coordinator.send("/promote @mira_m")
    assert "Mira Kovač gehört schon zur KIM-Koordination." in replies[-1].text

    [choose] = await coordinator.send("/abberufen")
    assert "Wen möchten Sie aus der Koordination nehmen?" in choose.text
    assert [label for row in choose.buttons for label, _ in row] == ["Mira Kovač (Caritas)"]
    replies = await coordinator.press("Mira Kovač (Caritas)", choose)
    assert "Mira Kovač gehört nicht mehr zur KIM-Koordination." in replies[-1].text
    assert "Sie gehören nicht mehr zur KIM-Koordination" in mira.last.text
    menu = [c["command"] for c in bot.emulator.commands_for(mira.id)]
    assert "agenda" in menu and "log" not in menu, "her menu is the members' again"
    assert [r.text for r in await mira.send("/pending")] == [REFUSED]
    replies = await coordinator.send("/demote @mira_m")
    assert "Mira Kovač gehört nicht zur KIM-Koordination." in replies[-1].text

    [choose] = await coordinator.send("/promote")
    assert [label for row in choose.buttons for label, _ in row] == ["Mira Kovač (Caritas)"]
    await coordinator.press("Mira Kovač (Caritas)", choose)
    async with bot.db.reader() as uow:
        person = await uow.people.by_telegram_id(mira.id)
        assert person is not None and person.is_coordinator
    assert [a for a, _, _ in await audit_actions(bot) if a.startswith("person.")] == [
        "person.promote",
        "person.demote",
        "person.promote",
    ]


async def test_promote_needs_a_registered_person(bot, coordinator) -> None:  # type: ignore[no-untyped-def]
    stranger = await bot.person("Stefan", username="stefan_s")
    await stranger.send("/help")
    replies = await coordinator.send("/promote @stefan_s")
    assert "ist noch nicht angemeldet" in replies[-1].text
    replies = await coordinator.send("/promote @niemand_hier")
    assert "Ich kenne niemanden mit „@niemand_hier“" in replies[-1].text


# --- removing a member ---------------------------------------------------------------


async def test_remove_in_one_line_with_a_reason(bot, coordinator, mira) -> None:  # type: ignore[no-untyped-def]
    [reply] = await coordinator.send("/remove @mira_m ak-eu | Wechsel in den AK Ehrenamt")
    assert reply.text == "✅ Mira Kovač ist nicht mehr in AK EU. Mira Kovač bekommt eine Nachricht."
    told = mira.last.text
    assert "hat Sie aus der Gruppe AK EU herausgenommen" in told and "Danke für Ihre Mitarbeit" in told
    assert told.endswith("Grund: Wechsel in den AK Ehrenamt")
    membership = await status_of(bot, mira.id, "ak-eu")
    assert membership.status is MembershipStatus.LEFT and membership.reason == "Wechsel in den AK Ehrenamt"
    replies = await coordinator.send("/remove @mira_m ak-eu")
    assert "Mira Kovač ist nicht in AK EU. Es wurde nichts geändert." in replies[-1].text
    replies = await coordinator.send("/remove @mira_m")
    assert "Bitte nennen Sie die Person und die Gruppe" in replies[-1].text
    replies = await coordinator.send("/remove @mira_m all")
    assert replies[-1].text == "Mira Kovač ist in keiner Gruppe. Es wurde nichts geändert."
    [entry] = [d for a, _, d in await audit_actions(bot) if a == "membership.remove"]
    assert entry == {"name": "Mira Kovač", "group": "AK EU", "reason": "Wechsel in den AK Ehrenamt"}

    await mira.send("/join ehrenamt")
    await coordinator.send("/approve @mira_m")
    await mira.send("/join soe")
    replies = await coordinator.send("/remove @mira_m alle")
    assert [r.text for r in replies] == [
        "✅ Mira Kovač ist nicht mehr in AK Ehrenamt. Mira Kovač bekommt eine Nachricht.",
        "✅ Mira Kovač ist nicht mehr in AG Süd-Ost-Europa. Mira Kovač bekommt eine Nachricht.",
    ]
    assert (await status_of(bot, mira.id, "ag-soe")).status is MembershipStatus.LEFT


async def test_remove_guided(bot, coordinator, mira) -> None:  # type: ignore[no-untyped-def]
    [choose] = await coordinator.send("/entfernen")
    [members] = await coordinator.press("AK EU", choose)
    assert "Wen möchten Sie aus AK EU herausnehmen?" in members.text
    await coordinator.press("Mira Kovač", members)
    question = now_shown(coordinator, members)
    assert "Mira Kovač aus AK EU herausnehmen?" in question.text
    await coordinator.press("Abbrechen", question)
    assert (await status_of(bot, mira.id, "ak-eu")).status is MembershipStatus.APPROVED
    [choose] = await coordinator.send("/remove")
    [members] = await coordinator.press("AK EU", choose)
    await coordinator.press("Mira Kovač", members)
    replies = await coordinator.press("Ja, herausnehmen")
    assert "Mira Kovač ist nicht mehr in AK EU" in replies[-1].text
    assert (await status_of(bot, mira.id, "ak-eu")).status is MembershipStatus.LEFT
    assert "hat Sie aus der Gruppe AK EU herausgenommen" in mira.last.text


# --- join requests: "Ablehnen" asks for a reason and a confirmation ------------------


async def test_reject_button_asks_for_a_reason_and_a_confirmation(bot, coordinator) -> None:  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    alice = await bot.person("Alice", username="alice_n")
    await alice.register(name="Alice Nowak")
    await alice.send("/join ak-eu")
    card = coordinator.last
    before = await bot.every_row()
    [question] = await coordinator.press("❌ Ablehnen", card)
    assert "Anfrage von Alice Nowak für AK EU ablehnen." in question.text
    assert "Möchten Sie einen Grund nennen? Alice Nowak liest ihn." in question.text
    assert (await status_of(bot, alice.id, "ak-eu")).status is MembershipStatus.PENDING

    [confirm] = await coordinator.send("Die Gruppe ist für Fachleute <aus> der Verwaltung.")
    assert "wirklich ablehnen?\nGrund: Die Gruppe ist für Fachleute <aus> der Verwaltung." in confirm.text
    [confirm] = await coordinator.send("Die Gruppe ist nur für Fachleute.")
    assert "Grund: Die Gruppe ist nur für Fachleute." in confirm.text
    assert (await status_of(bot, alice.id, "ak-eu")).status is MembershipStatus.PENDING
    assert not any("abgelehnt" in t for t in alice.texts), "nothing decided before the confirmation"

    await coordinator.press("❌ Ja, ablehnen", confirm)
    edited = now_shown(coordinator, confirm)
    assert (
        edited.text
        == "❌ Die Anfrage von Alice Nowak für AK EU ist abgelehnt. Grund: Die Gruppe ist nur für Fachleute."
    )
    assert alice.last.text == (
        "Ihre Anfrage für AK EU wurde leider abgelehnt.\nGrund: Die Gruppe ist nur für Fachleute.\n"
        "Bei Fragen wenden Sie sich bitte an die KIM-Koordination."
    )
    membership = await status_of(bot, alice.id, "ak-eu")
    assert membership.status is MembershipStatus.REJECTED and membership.reason == "Die Gruppe ist nur für Fachleute."
    assert before != await bot.every_row()
    replies = await coordinator.send("/help")
    assert replies, "the step has ended: a command works as usual"
    [entry] = [e for e in await audit_actions(bot) if e[0] == "membership.reject"]
    assert entry == (
        "membership.reject",
        "membership",
        {"name": "Alice Nowak", "group": "AK EU", "reason": "Die Gruppe ist nur für Fachleute."},
    )


async def test_reject_without_reason_and_cancel(bot, coordinator) -> None:  # type: ignore[no-untyped-def]
    alice = await bot.person("Alice", username="alice_n")
    await alice.register(name="Alice Nowak")
    await alice.send("/join ak-eu")
    await alice.send("/join ak-ehrenamt")
    eu_card, ehrenamt_card = coordinator.messages[-2:]
    [question] = await coordinator.press("❌ Ablehnen", eu_card)
    await coordinator.press("Abbrechen", question)
    kept = now_shown(coordinator, question)
    assert kept.text == "Nichts geändert. Die Anfrage von Alice Nowak für AK EU bleibt offen."
    assert (await status_of(bot, alice.id, "ak-eu")).status is MembershipStatus.PENDING

    [question] = await coordinator.press("❌ Ablehnen", ehrenamt_card)
    await coordinator.press("Ohne Grund", question)
    confirm = now_shown(coordinator, question)
    assert "Grund: (ohne Grund)" in confirm.text
    await coordinator.press("❌ Ja, ablehnen", confirm)
    assert alice.last.text.startswith("Ihre Anfrage für AK Ehrenamt wurde leider abgelehnt. Bei Fragen")
    assert (await status_of(bot, alice.id, "ak-ehrenamt")).status is MembershipStatus.REJECTED
    assert (await status_of(bot, alice.id, "ak-eu")).status is MembershipStatus.PENDING

    replies = await coordinator.send("/reject @alice_n eu | Kein Platz mehr")
    assert replies[-1].text == "❌ Die Anfrage von Alice Nowak für AK EU ist abgelehnt. Grund: Kein Platz mehr"
    assert "Grund: Kein Platz mehr" in alice.last.text


# --- /members all, /log -------------------------------------------------------------


async def test_members_all_lists_every_group(bot, coordinator, mira) -> None:  # type: ignore[no-untyped-def]
    replies = await coordinator.send("/members all")
    text = "\n".join(r.text for r in replies)
    assert "AK EU (Mitglieder: 1)" in text and "Mira Kovač, Caritas: Mitglied" in text
    assert "Lenkungskreis Integration (Mitglieder: 0)" in text
    assert "kenne ich nicht" not in text
    assert "\n".join(r.text for r in await coordinator.send("/mitglieder alle")) == text


async def test_log_shows_the_latest_entries_in_words(bot, coordinator, mira) -> None:  # type: ignore[no-untyped-def]
    await coordinator.send("/addgroup ak-wohnen AK Wohnen")
    await coordinator.send("/remove @mira_m ak-eu | Umzug")
    replies = await coordinator.send("/log")
    text = replies[0].text
    lines = text.split("\n")
    assert lines[0] == "Protokoll: die letzten 3 Einträge, die neuesten zuerst"
    assert lines[1].startswith("01.12.2026 10:00 · Sabine Weber: Mira Kovač aus AK EU herausgenommen (Grund: Umzug)")
    assert re.fullmatch(r"01\.12\.2026 10:00 · Sabine Weber: Gruppe #\d+ angelegt: AK Wohnen \(ak-wohnen\)", lines[2])
    assert lines[3] == "01.12.2026 10:00 · Sabine Weber: Anfrage von Mira Kovač für AK EU angenommen"
    replies = await coordinator.send("/protokoll 1")
    assert len(replies[0].text.split("\n")) == 2
    for bad in ("0", "201", "zwanzig"):
        replies = await coordinator.send(f"/log {bad}")
        assert f"„{bad}“ verstehe ich nicht als Anzahl" in replies[-1].text
    assert [r.text for r in await mira.send("/log")] == [REFUSED]


async def test_log_words_unknown_actions_plainly(bot, coordinator) -> None:  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    await coordinator.send("/help")
    async with bot.db.uow() as uow:
        actor = (await uow.session.execute(select(Person))).scalars().first()
        uow.audit.add(
            AuditEntry(at=START, actor_id=actor.id, action="thing.frobnicate", object_type="thing", object_id=7)
        )
        uow.audit.add(AuditEntry(at=START, actor_id=None, action="group.create", object_type="group", object_id=9))
        await uow.commit()
    text = (await coordinator.send("/log"))[0].text
    assert "01.12.2026 10:00 · ehemaliges Mitglied: group.create (group #9)" in text
    assert "thing.frobnicate (thing #7)" in text


# --- kimbot digest [group|all] [period] -----------------------------------------------


def kimbot_digest(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TELEGRAM_", "WEBHOOK_", "KIMBOT_", "DIGEST_", "COORDINATOR_"))
    }
    env.update(PYTHONPATH=str(REPO), DATABASE_URL=database_url, DEFAULT_LANGUAGE="de", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "digest", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_kimbot_digest_takes_the_arguments_of_the_chat_command(bot, tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(kimbot_digest, tmp_path, database_url, *args)

    every = await run("all", "30d")
    assert every.returncode == 0, every.stderr
    assert every.stdout.startswith("📋 Übersicht: alle Gruppen\n")
    assert "Zeitraum: die letzten 30 Tage" in every.stdout
    one = await run("ak", "eu", "since", "2026-01-01")
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("📋 Übersicht: AK EU\n") and "Zeitraum: seit 01.01.2026" in one.stdout
    alone = await run("ehrenamt")
    assert alone.returncode == 0 and alone.stdout.startswith("📋 Übersicht: AK Ehrenamt\n")
    assert "die letzten 7 Tage" in alone.stdout
    period = await run("30d", "--format", "json")
    assert period.returncode == 0 and '"days": 30' in period.stdout
    wrong = await run("all", "7x")
    assert wrong.returncode == 2 and "„7x“ verstehe ich nicht als Zeitraum" in wrong.stderr
    mars = await run("mars", "30d")
    assert mars.returncode == 2 and "Die Gruppe „mars“ kenne ich nicht" in mars.stderr
    both = await run("all", "--group", "eu")
    assert both.returncode == 2 and "either as words or as --group/--since" in both.stderr


async def test_archiving_ends_a_series(bot, coordinator) -> None:  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    olga = await bot.person("Olga", username="olga_o")
    await olga.register()
    await olga.send("/join ehrenamt")
    await coordinator.send("/approve @olga_o")
    john = await bot.person("John", username="john_e")
    await john.register()
    await john.send("/language en")
    await john.send("/join ehrenamt")
    await coordinator.send("/approve @john_e")
    replies = await coordinator.send("/meeting ehrenamt 03.12.2026 10:00 Treffen | Rathaus | wöchentlich")
    assert "#" in replies[-1].text
    await bot.tick()

    async def sessions() -> list[Occurrence]:
        async with bot.db.reader() as uow:
            return list((await uow.session.execute(select(Occurrence).order_by(Occurrence.id))).scalars().all())

    planned = await sessions()
    assert len(planned) > 1 and all(o.status is OccurrenceStatus.SCHEDULED for o in planned)
    [question] = await coordinator.send("/archivegroup ak-ehrenamt")
    assert f"Geplante Sitzungen, die abgesagt werden: {len(planned)}." in question.text
    await coordinator.press("🗄 Ja, archivieren", question)
    olga.new()
    john.new()
    await bot.tick()
    [notice] = olga.new()
    assert "Abgesagt" in notice.text and "Do., 03.12.2026" in notice.text, "one notice, for the next session"
    assert "Die Gruppe AK Ehrenamt wurde archiviert. Ihre Sitzungen finden nicht mehr statt." in notice.text
    [english] = john.new()
    assert "The group AK Ehrenamt was archived. Its sessions no longer take place." in english.text, "in his language"
    bot.clock.advance(days=400)
    await bot.tick()
    after = await sessions()
    assert [o.id for o in after] == [o.id for o in planned], "no new session of an archived group's series"
    assert all(o.status is OccurrenceStatus.CANCELLED for o in after)
