"""Digests: /digest as the coordination reads it, the weekly digest from the
timer, and `kimbot digest` on the terminal, on SQLite and PostgreSQL.

The story (`story` fixture), everything through the emulator, the clock in
Berlin time:

- Tue 01.12.2026 10:00: Ana (Caritas), Ben and Eva join AK EU, Carl joins AK
  Ehrenamt, Dora asks to join AK EU (still pending). Sessions: #S1 AK EU
  Wed 02.12. 14:00 "Auftakt" (Ana Zusage, Ben Vielleicht), #S2 AK EU Thu
  10.12. 14:00 "Zweite Sitzung", #S3 AK Ehrenamt Sat 05.12. 10:00
  "Ehrenamtstag". Ana proposes "Bericht Sprachkurse" (on #S1). Recommendation
  #R to all groups, deadline Sat 05.12.; Ana agrees, Carl comments. Eva
  blocks the bot and the recommendation's delivery fails. Ben leaves AK EU.
- Thu 03.12.2026 10:00: the digest.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.core import digest as core
from bot.core.config import DigestSchedule, load_settings
from bot.core.errors import Refusal
from bot.dev.emulator.html import parse_html
from bot.render.units import LIMIT, split_html, visible_length
from storage.models import (
    AgendaItem,
    AgendaStatus,
    Comment,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Group,
    Membership,
    MembershipStatus,
    Recommendation,
    RecommendationStatus,
    Rsvp,
    RsvpAnswer,
    Stance,
    StanceValue,
)
from tests.factories import registered

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
LATER = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # Thu 03.12.2026, 10:00 in Berlin
REPO = Path(__file__).resolve().parents[1]


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def refused_calls(bot, since: int = 0) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{c.method}: {c.status} {c.description}" for c in bot.emulator.calls[since:] if c.status != 200]


def joined(messages) -> str:  # type: ignore[no-untyped-def]
    return "\n\n".join(m.text for m in messages)


async def join(bot, coordinator, person, slug: str, approve: bool = True) -> None:  # type: ignore[no-untyped-def]
    await person.send(f"/join {slug}")
    if approve:
        await coordinator.send(f"/approve @{person.user.username}")


async def schedule(bot, coordinator, command: str) -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(command)
    match = re.search(r"Geplant als Sitzung #(\d+)", replies[-1].text)
    assert match, replies[-1].text
    await bot.tick()
    return int(match.group(1))


def session_message(person, occurrence_id: int):  # type: ignore[no-untyped-def]
    return next(m for m in reversed(person.messages) if f"#{occurrence_id}" in m.text and m.buttons)


@pytest.fixture
async def story(bot, coordinator):  # type: ignore[no-untyped-def]
    """The module docstring's story, up to Thu 03.12.2026 10:00; returns the people and ids."""
    bot.clock.set(START)
    await coordinator.register(name="Sabine Weber")
    people = {}
    for name, organisation in (("Ana", "Caritas"), ("Ben", None), ("Carl", "Jobcenter"), ("Dora", None), ("Eva", None)):
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=organisation)
        people[name] = person
    for name in ("Ana", "Ben", "Eva"):
        await join(bot, coordinator, people[name], "ak-eu")
    await join(bot, coordinator, people["Carl"], "ak-ehrenamt")
    await join(bot, coordinator, people["Dora"], "ak-eu", approve=False)

    s1 = await schedule(bot, coordinator, "/meeting ak-eu 02.12.2026 14:00 Auftakt | Rathaus Barmen")
    s3 = await schedule(bot, coordinator, "/meeting ak-ehrenamt 05.12.2026 10:00 Ehrenamtstag")
    await people["Ana"].press("✅ Zusage", session_message(people["Ana"], s1))
    await people["Ben"].press("❔ Vielleicht", session_message(people["Ben"], s1))
    replies = await people["Ana"].send("/agenda ak-eu Bericht Sprachkurse")
    assert "gespeichert als #" in replies[-1].text, replies[-1].text
    s2 = await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Zweite Sitzung")

    await people["Eva"].block()
    replies = await coordinator.send("/recommend all Mehr Sprachkurse am Abend anbieten | 05.12.2026")
    rid = int(re.search(r"Empfehlung #(\d+)", replies[-1].text).group(1))  # type: ignore[union-attr]
    await bot.tick()
    await people["Ana"].press("Zustimmung")
    await people["Carl"].send(f"/feedback {rid} Gute Idee, aber <bitte> mit Kinderbetreuung & Abendbus")
    await people["Ben"].send("/leave ak-eu")
    bot.clock.set(LATER)
    async with bot.db.reader() as uow:
        eva = await uow.people.by_telegram_id(people["Eva"].id)
    assert eva is not None and eva.unreachable_since is not None
    return {"people": people, "s1": s1, "s2": s2, "s3": s3, "rid": rid}


# --- /digest -------------------------------------------------------------------------------


async def test_digest_shows_what_happened_per_group_and_what_is_missing(bot, coordinator, story):
    since = len(bot.emulator.calls)
    replies = await coordinator.send("/digest")
    assert refused_calls(bot, since) == []
    text = joined(replies)
    s1, s2, s3, rid = story["s1"], story["s2"], story["s3"], story["rid"]

    assert text.startswith("📋 Übersicht: alle Gruppen\nZeitraum: die letzten 7 Tage (26.11.2026 bis 03.12.2026)")
    missing = text[text.index("⚠️ Was fehlt") : text.index("AK EU ·")]
    # Ana's item is on #S1 (no agenda deadline by default, SPEC 5), so #S2 has none yet
    assert "2 Sitzungen in den nächsten 14 Tagen haben noch keine Tagesordnung:" in missing
    assert f"• AK Ehrenamt: Ehrenamtstag, Sa., 05.12.2026, 10:00 Uhr (#{s3})" in missing
    assert f"• AK EU: Zweite Sitzung, Do., 10.12.2026, 14:00 Uhr (#{s2})" in missing
    assert f"📨 Empfehlung #{rid} „Mehr Sprachkurse am Abend anbieten“ – Frist Sa., 05.12.2026, 23:59 Uhr" in missing
    assert "• 1 Mitglied hat noch nicht geantwortet: Eva" in missing, "Ana agreed, Carl commented, Ben left"
    assert "1 Sitzung in den nächsten 7 Tagen hat wenige Zusagen:" in missing
    assert f"• AK Ehrenamt: Ehrenamtstag, Sa., 05.12.2026, 10:00 Uhr (#{s3}) – Zusagen: 0 von 1" in missing

    eu = text[text.index("AK EU ·") : text.index("AK Ehrenamt ·")]
    assert eu.startswith("AK EU · 2 Mitglieder"), "Ana and Eva; Ben left"
    assert "👋 3 neue Mitglieder: " in eu and "Ana (Caritas)" in eu and "Ben" in eu and "Eva" in eu
    assert "🚪 1 ausgetreten: Ben" in eu
    assert "⏳ 1 offene Beitrittsanfrage: Dora" in eu
    assert "📅 1 Sitzung gehalten:" in eu
    assert f"• Mi., 02.12.2026, 14:00 Uhr: Auftakt (#{s1}) – Zusage 1 · Absage 0 · Vielleicht 1" in eu
    assert "🗓 1 Sitzung in den nächsten 14 Tagen:" in eu
    assert (
        f"• Do., 10.12.2026, 14:00 Uhr: Zweite Sitzung (#{s2}) – Zusage 0 · Absage 0 · Vielleicht 0 – noch keine Themen"
        in eu
    )
    assert "📝 1 neues Thema für die Tagesordnung:" in eu
    assert re.search(r"• „Bericht Sprachkurse“ – Ana \(#\d+\)", eu)
    assert "💬 1 offene Empfehlung:" in eu
    assert f"• #{rid} „Mehr Sprachkurse am Abend anbieten“ – Frist Sa., 05.12.2026, 23:59 Uhr" in eu
    assert "Zustimmung 1 · Bedenken 0 · Ablehnung 0 · Kommentare 1 · 2 Rückmeldungen neu" in eu
    assert "„Gute Idee, aber <bitte> mit Kinderbetreuung & Abendbus“ – Carl, 01.12.2026" in eu, "shown literally"
    assert "📵 1 nicht erreichbar: Eva" in eu

    ehrenamt = text[text.index("AK Ehrenamt ·") : text.index("AK Arbeitsmarktintegration ·")]
    assert ehrenamt.startswith("AK Ehrenamt · 1 Mitglied\n👋 1 neues Mitglied: Carl (Jobcenter)")
    assert f"Ehrenamtstag (#{s3}) – Zusage 0 · Absage 0 · Vielleicht 0 – noch keine Themen" in ehrenamt
    # The recommendation to all groups is detailed once, under the first group.
    assert f"• #{rid} „Mehr Sprachkurse am Abend anbieten“ – Rückmeldungen siehe AK EU" in ehrenamt
    assert "Zustimmung" not in ehrenamt and "Kinderbetreuung" not in ehrenamt
    assert text.count("Kinderbetreuung") == 1
    assert "AK Arbeitsmarktintegration · 0 Mitglieder\nNichts Neues." in text
    assert "Lenkungskreis Integration · 0 Mitglieder\nNichts Neues." in text

    first = replies[0]
    assert first.html.startswith("<b>📋 Übersicht: alle Gruppen</b>"), "titles are bold"
    for person in story["people"].values():
        assert not any("Übersicht" in m.text for m in person.messages), "nothing goes to anyone else"


async def test_one_group_and_the_periods(bot, coordinator, story):
    for command, title, period in (
        ("/digest eu 30d", "📋 Übersicht: AK EU", "die letzten 30 Tage (03.11.2026 bis 03.12.2026)"),
        ("/uebersicht AK EU since 2026-11-01", "📋 Übersicht: AK EU", "seit 01.11.2026 (bis 03.12.2026)"),
        ("/digest ak-eu since 01.11.2026", "📋 Übersicht: AK EU", "seit 01.11.2026"),
        ("/digest ak-eu 2.12.2026", "📋 Übersicht: AK EU", "seit 02.12.2026"),
        ("/digest all 1d", "📋 Übersicht: alle Gruppen", "der letzte Tag (02.12.2026 bis 03.12.2026)"),
        ("/digest alle", "📋 Übersicht: alle Gruppen", "die letzten 7 Tage"),
        ("/digest 30d", "📋 Übersicht: alle Gruppen", "die letzten 30 Tage"),
        ("/digest ag süd", "📋 Übersicht: AG Süd-Ost-Europa", "die letzten 7 Tage"),
    ):
        replies = await coordinator.send(command)
        text = joined(replies)
        assert text.startswith(title + "\nZeitraum: "), (command, text[:200])
        assert period in text.split("\n")[1], (command, text.split("\n")[1])
    text = joined(await coordinator.send("/digest eu"))
    assert "AK Ehrenamt ·" not in text and "AK EU · 2 Mitglieder" in text
    missing = text[text.index("⚠️ Was fehlt") : text.index("AK EU ·")]
    assert "Ehrenamtstag" not in missing, "what is missing is about the group asked for"
    text = joined(await coordinator.send("/digest eu since 02.12.2026"))
    assert "neue Mitglieder" not in text and "1 Sitzung gehalten" in text, "joined on 01.12., before the period"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/digest eu 7x", "„7x“ verstehe ich nicht als Zeitraum"),
        ("/digest 7x", "„7x“ verstehe ich nicht als Zeitraum"),
        ("/digest all since gestern", "„since gestern“ verstehe ich nicht als Zeitraum"),
        ("/digest ak-eu 0d", "„0d“ verstehe ich nicht als Zeitraum"),
        ("/digest ak-eu 31.02.2026", "„31.02.2026“ verstehe ich nicht als Zeitraum"),
        ("/digest eu since 2027-01-01", "Der 01.01.2027 liegt in der Zukunft"),
        ("/digest mars", "Die Gruppe „mars“ kenne ich nicht"),
        ("/digest mars 30d", "Die Gruppe „mars“ kenne ich nicht"),
        ("/digest ak 30d", "„ak“ passt zu mehreren Gruppen: AK EU, AK Ehrenamt, AK Arbeitsmarktintegration"),
    ],
)
async def test_bad_input_is_explained_with_an_example(bot, coordinator, story, command, expected):
    seen = {name: len(p.messages) for name, p in story["people"].items()}
    since = len(bot.emulator.calls)
    replies = await coordinator.send(command)
    assert len(replies) == 1
    assert expected in replies[0].text, replies[0].text
    assert "Beispiel: /digest ak-eu 30d" in replies[0].text
    assert "<code>/digest ak-eu 30d</code>" in replies[0].html
    assert refused_calls(bot, since) == []
    assert {name: len(p.messages) for name, p in story["people"].items()} == seen, "nothing sent to others"


async def test_a_member_of_two_groups_is_one_member_who_has_not_answered(bot, coordinator):
    bot.clock.set(START)
    await coordinator.send("/help")
    ana, ben = await bot.person("Ana", username="ana"), await bot.person("Ben", username="ben")
    for person, slugs in ((ana, ("ak-eu", "ak-ehrenamt")), (ben, ("ak-eu",))):
        await person.register()
        for slug in slugs:
            await join(bot, coordinator, person, slug)
    for day, at in ((2, ""), (3, ""), (3, ""), (4, " 08:00")):
        await coordinator.send(f"/recommend all Empfehlung zum {day}. Dezember | 0{day}.12.2026{at}")
    await bot.tick()
    await ben.press("Bedenken", next(m for m in ben.messages if "Empfehlung zum 4. Dezember" in m.text))
    text = joined(await coordinator.send("/digest"))
    missing = text[text.index("⚠️ Was fehlt") : text.index("AK EU ·")]
    assert missing.count("• 2 Mitglieder haben noch nicht geantwortet: Ana, Ben") == 3, missing
    assert "Empfehlung zum 4. Dezember" not in missing, "the three nearest deadlines are named"
    assert "📨 Und 1 weitere Empfehlung mit naher Frist." in missing
    digest = joined(await coordinator.send("/digest ehrenamt"))
    assert "• 1 Mitglied hat noch nicht geantwortet: Ana" in digest, "only the group asked for"


async def test_members_and_guests_are_told_only_the_coordination_may(bot, coordinator, story):
    stranger = await bot.person("Fritz", username="fritz")
    for person in (story["people"]["Ana"], stranger):
        for command in ("/digest", "/digest all 30d", "/uebersicht eu 7x"):
            replies = await person.send(command)
            assert [m.text for m in replies] == ["Das darf nur die KIM-Koordination. Es wurde nichts geändert."]
    assert not any("Übersicht" in m.text for m in coordinator.messages)


async def test_english_digest(bot, coordinator, story):
    await coordinator.send("/language en")
    text = joined(await coordinator.send("/digest eu"))
    assert text.startswith("📋 Digest: AK EU\nPeriod: the last 7 days (26 Nov 2026 to 3 Dec 2026)")
    assert "👋 3 new members:" in text and "🚪 1 left: Ben" in text
    assert "Agree 1 · Concerns 0 · Reject 0 · Comments 1 · 2 new answers" in text


# --- long digests ---------------------------------------------------------------------------


TELEGRAM_IDS = itertools.count(900_000)


async def _bulk(bot, *, members: int, items: int, comments: int, text: str = "x", name: str = "Person") -> None:  # type: ignore[no-untyped-def]
    """Many members, items and comments in every group, straight into the database
    (what each row looks like is shown through the bot elsewhere in this module)."""
    now = bot.clock()
    async with bot.db.uow() as uow:
        groups = list(await uow.groups.active())
        people = []
        for n in range(members):
            group = groups[n % len(groups)]
            person = registered(uow, next(TELEGRAM_IDS), f"{name} {n}"[:64], now, group.id)
            person.organisation = f"{name} e.V."[:120]
            people.append(person)
        await uow.session.flush()
        recommendation = Recommendation(
            text=text[:3000] or "x", status=RecommendationStatus.OPEN, created_at=now, groups=groups
        )
        uow.session.add(recommendation)
        await uow.session.flush()
        for n in range(items):
            group = groups[n % len(groups)]
            uow.session.add(
                AgendaItem(
                    group_id=group.id,
                    author_id=people[n % len(people)].id if people else None,
                    text=text[:1000] or "x",
                    status=AgendaStatus.PROPOSED,
                    position=n,
                    created_at=now,
                )
            )
        for n in range(comments):
            uow.session.add(
                Comment(
                    recommendation_id=recommendation.id,
                    person_id=people[n % len(people)].id if people else None,
                    text=text[:2000] or "x",
                    created_at=now,
                )
            )
        await uow.commit()


async def test_a_long_digest_is_split_at_group_boundaries(bot, coordinator):
    bot.clock.set(START)
    await coordinator.send("/help")
    await _bulk(
        bot, members=30, items=30, comments=10, text="Ein langer Text " * 60, name="Maximiliane Mustermann-Schulze"
    )
    since = len(bot.emulator.calls)
    replies = await coordinator.send("/digest all 30d")
    assert refused_calls(bot, since) == []
    assert len(replies) == 2
    assert all(visible_length(m.html) <= LIMIT for m in replies)
    for message in replies[1:]:
        assert re.match(r"(AK|AG|Lenkungskreis)[^\n]* · \d+ Mitglieder", message.text), message.text[:80]
    assert sum(m.text.count(" · 6 Mitglieder") for m in replies) == 5, "every group once"


async def test_a_very_long_digest_comes_as_a_summary_and_a_document(bot, coordinator):
    bot.clock.set(START)
    await coordinator.send("/help")
    async with bot.db.uow() as uow:
        for n in range(25):
            uow.groups.add(Group(slug=f"ag-{n}", name=f"AG Stadtteil {n} " + "Nord" * 10, created_at=START))
        await uow.commit()
    await _bulk(
        bot, members=60, items=60, comments=5, text="Ein langer Text " * 60, name="Maximiliane Mustermann-Schulze"
    )
    since = len(bot.emulator.calls)
    replies = await coordinator.send("/digest")
    assert refused_calls(bot, since) == []
    *messages, document = replies
    assert document.document is not None and document.document.name == "kim-uebersicht-2026-12-01.md"
    assert document.caption == "📋 Übersicht 24.11.2026 bis 01.12.2026"
    assert messages and all(visible_length(m.html) <= LIMIT for m in messages)
    summary = joined(messages)
    assert "Die Gruppen in Zahlen" in summary and "📎 Alles im Detail steht in der Datei unten." in summary
    assert "AK EU: 2 Mitglieder · 2 neu · 2 neue Themen · 1 offene Empfehlung" in summary
    markdown = document.document.data.decode()
    assert markdown.startswith("# 📋 Übersicht: alle Gruppen\n")
    assert "## AK EU · 2 Mitglieder" in markdown and "## AG Stadtteil 24 " in markdown
    assert "- „Ein langer Text Ein langer Text" in markdown


TEXT_CHARACTERS = st.one_of(
    st.characters(blacklist_categories=("Cc", "Cs")),
    st.sampled_from(list("<>&\"'\n\t /#|*_[]`") + ["</b>", "<b>", "&amp;", "&lt;", "😀", "👩‍👩‍👧", "שלום", "ğüş"]),
)
TEXTS = st.lists(TEXT_CHARACTERS, min_size=1, max_size=300).map("".join)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    text=TEXTS,
    name=TEXTS,
    members=st.integers(0, 40),
    items=st.integers(0, 80),
    comments=st.integers(0, 8),
    command=st.sampled_from(["/digest", "/digest all 30d", "/digest eu", "/digest since 01.11.2026"]),
)
async def test_any_digest_is_valid_for_telegram(bot, coordinator, text, name, members, items, comments, command):
    """Random names, texts and amounts (the strict emulator refuses too long or broken HTML)."""
    bot.clock.set(START)
    if not any(m.text for m in coordinator.messages):
        await coordinator.send("/help")
    await _bulk(
        bot, members=members, items=items, comments=comments if members else 0, text=text, name=name.strip() or "?"
    )
    since = len(bot.emulator.calls)
    replies = await coordinator.send(command)
    assert replies
    assert refused_calls(bot, since) == []
    for message in replies:
        if message.document is None:
            assert 0 < visible_length(message.html) <= 4096


# --- the weekly digest ------------------------------------------------------------------------

SUNDAY = berlin(2026, 12, 6, 20, 0)
MONDAY_8 = berlin(2026, 12, 7, 8, 0)


async def digests_to(person) -> list:  # type: ignore[no-untyped-def]
    return [m for m in person.messages if "Wochenübersicht" in m.text or "Weekly digest" in m.text]


async def two_coordinators(bot, coordinator):  # type: ignore[no-untyped-def]
    """Sabine (COORDINATOR_IDS) and Paul, promoted in the database."""
    await coordinator.send("/help")
    paul = await bot.person("Paul", username="paul")
    await paul.register(name="Paul Koordination")
    async with bot.db.uow() as uow:
        row = await uow.people.by_telegram_id(paul.id)
        assert row is not None
        row.is_coordinator = True
        await uow.commit()
    return [coordinator, paul]


async def test_the_weekly_digest_comes_monday_at_eight_to_each_coordinator_once(bot, coordinator):
    bot.clock.set(SUNDAY)
    coordinators = await two_coordinators(bot, coordinator)
    member = await bot.person("Ana", username="ana")
    await member.register()
    await join(bot, coordinator, member, "ak-eu")
    await bot.tick()
    async with bot.db.reader() as uow:
        rows = (await uow.session.execute(select(Delivery).where(Delivery.kind == DeliveryKind.DIGEST))).scalars().all()
        next_due = await uow.deliveries.next_due_at()
    assert len(rows) == 2 and {r.scheduled_for for r in rows} == {MONDAY_8} == {r.due_at for r in rows}
    assert next_due == MONDAY_8, "the timer wakes exactly at the digest time"
    assert [await digests_to(c) for c in coordinators] == [[], []]

    bot.clock.set(MONDAY_8 - timedelta(seconds=1))
    await bot.tick()
    assert [await digests_to(c) for c in coordinators] == [[], []]

    since = len(bot.emulator.calls)
    bot.clock.set(MONDAY_8)
    assert await bot.tick() == 2
    assert refused_calls(bot, since) == []
    for person in coordinators:
        [digest] = await digests_to(person)
        assert digest.text.startswith(
            "📋 Wochenübersicht: alle Gruppen\nZeitraum: die letzten 7 Tage (30.11.2026 bis 07.12.2026)"
        )
        assert "AK EU · 1 Mitglied\n👋 1 neues Mitglied: Ana" in digest.text
    assert await digests_to(member) == []

    assert await bot.tick() == 0, "not twice"
    bot.clock.set(MONDAY_8 + timedelta(minutes=20))
    await bot.tick()
    assert [len(await digests_to(c)) for c in coordinators] == [1, 1]
    async with bot.db.reader() as uow:
        planned = (
            await uow.session.execute(
                select(Delivery.scheduled_for, Delivery.status).where(Delivery.kind == DeliveryKind.DIGEST)
            )
        ).all()
    assert sorted(planned) == [(MONDAY_8, DeliveryStatus.SENT)] * 2, "the next one is written the day before"
    bot.clock.set(MONDAY_8 + timedelta(days=6, hours=12))
    await bot.tick()
    async with bot.db.reader() as uow:
        assert await uow.deliveries.next_due_at() == MONDAY_8 + timedelta(days=7)
    bot.clock.set(MONDAY_8 + timedelta(days=7))
    await bot.tick()
    assert [len(await digests_to(c)) for c in coordinators] == [2, 2]


async def test_nothing_new_is_said_in_one_line(bot, coordinator):
    bot.clock.set(SUNDAY)
    await coordinator.send("/help")
    await bot.tick()
    bot.clock.set(MONDAY_8 + timedelta(minutes=5))
    await bot.tick()
    [digest] = await digests_to(coordinator)
    assert digest.text == "📋 Wochenübersicht 30.11.2026 bis 07.12.2026: Nichts Neues in den Gruppen."


async def test_a_digest_more_than_a_day_late_is_skipped_and_the_next_one_comes(bot, coordinator):
    bot.clock.set(SUNDAY)
    await coordinator.send("/help")
    await bot.tick()
    bot.clock.set(MONDAY_8 + timedelta(days=1, minutes=1))
    await bot.tick()
    assert await digests_to(coordinator) == []
    async with bot.db.reader() as uow:
        rows = (await uow.session.execute(select(Delivery).where(Delivery.kind == DeliveryKind.DIGEST))).scalars().all()
    assert [(r.scheduled_for, r.status, r.error) for r in rows] == [
        (MONDAY_8, DeliveryStatus.SKIPPED, "more than a day late")
    ]
    bot.clock.set(MONDAY_8 + timedelta(days=6, hours=23))
    await bot.tick()
    bot.clock.set(MONDAY_8 + timedelta(days=7))
    await bot.tick()
    assert len(await digests_to(coordinator)) == 1, "the next one comes"


async def test_nothing_is_written_long_before(bot, coordinator):
    bot.clock.set(MONDAY_8 - timedelta(days=1, seconds=1))
    await coordinator.send("/help")
    await bot.tick()
    async with bot.db.reader() as uow:
        assert (await uow.session.execute(select(Delivery).where(Delivery.kind == DeliveryKind.DIGEST))).all() == []
    bot.clock.set(MONDAY_8 - timedelta(days=1))
    await bot.tick()
    async with bot.db.reader() as uow:
        assert await uow.deliveries.next_due_at() == MONDAY_8


async def test_a_member_no_longer_coordinator_gets_no_digest(bot, coordinator):
    bot.clock.set(SUNDAY)
    sabine, paul = await two_coordinators(bot, coordinator)
    await bot.tick()
    async with bot.db.uow() as uow:
        row = await uow.people.by_telegram_id(paul.id)
        row.is_coordinator = False  # type: ignore[union-attr]
        await uow.commit()
    bot.clock.set(MONDAY_8)
    await bot.tick()
    assert len(await digests_to(sabine)) == 1 and await digests_to(paul) == []


async def test_the_english_coordinator_reads_it_in_english(bot, coordinator):
    bot.clock.set(SUNDAY)
    await coordinator.send("/language en")
    await bot.tick()
    bot.clock.set(MONDAY_8)
    await bot.tick()
    [digest] = await digests_to(coordinator)
    assert digest.text == "📋 Weekly digest 30 Nov 2026 to 7 Dec 2026: nothing new in the groups."


@pytest.mark.parametrize("bot_env", [{"DIGEST_SCHEDULE": "off"}])
async def test_no_digest_when_switched_off(bot, coordinator):
    bot.clock.set(SUNDAY)
    await coordinator.send("/help")
    for moment in (SUNDAY, MONDAY_8, MONDAY_8 + timedelta(hours=1)):
        bot.clock.set(moment)
        await bot.tick()
    assert await digests_to(coordinator) == []
    async with bot.db.reader() as uow:
        assert (await uow.session.execute(select(Delivery).where(Delivery.kind == DeliveryKind.DIGEST))).all() == []


@pytest.mark.parametrize("bot_env", [{"DIGEST_SCHEDULE": "fri 17:30"}])
async def test_another_schedule(bot, coordinator):
    bot.clock.set(SUNDAY)
    await coordinator.send("/help")
    await bot.tick()
    bot.clock.set(MONDAY_8)
    await bot.tick()
    assert await digests_to(coordinator) == []
    bot.clock.set(berlin(2026, 12, 11, 17, 30))
    await bot.tick()
    [digest] = await digests_to(coordinator)
    assert "04.12.2026 bis 11.12.2026" in digest.text


async def test_a_record_for_an_old_schedule_is_not_sent(bot, coordinator):
    """Written for Monday 08:00, then DIGEST_SCHEDULE changed: the old time is no schedule time."""
    bot.clock.set(SUNDAY)
    await coordinator.send("/help")
    await bot.tick()
    async with bot.db.uow() as uow:
        rows = (await uow.session.execute(select(Delivery).where(Delivery.kind == DeliveryKind.DIGEST))).scalars().all()
        friday = load_settings({"DIGEST_SCHEDULE": "fri 17:30"})
        reasons = await core.screen_due(uow, rows, friday, MONDAY_8)
    assert set(reasons.values()) == {"not a schedule time any more"}
    off = load_settings({"DIGEST_SCHEDULE": "off"})
    async with bot.db.uow() as uow:
        rows = (
            (
                await uow.session.execute(
                    select(Delivery).where(Delivery.kind == DeliveryKind.DIGEST).options(selectinload(Delivery.person))
                )
            )
            .scalars()
            .all()
        )
        assert set((await core.screen_due(uow, rows, off, MONDAY_8)).values()) == {"digests are off"}
        assert await core.screen_due(uow, rows, bot.settings, MONDAY_8) == {}


# --- the schedule and the period, without the bot -----------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (berlin(2026, 12, 6, 20, 0), berlin(2026, 12, 7, 8, 0)),
        (berlin(2026, 12, 7, 8, 0), berlin(2026, 12, 7, 8, 0)),
        (berlin(2026, 12, 7, 8, 0, 1), berlin(2026, 12, 14, 8, 0)),
        (berlin(2026, 3, 28, 12, 0), berlin(2026, 3, 30, 8, 0)),  # over the change to summer time
        (berlin(2026, 10, 24, 12, 0), berlin(2026, 10, 26, 8, 0)),  # and back
    ],
)
def test_next_schedule_time_is_local_time(now: datetime, expected: datetime) -> None:
    settings = load_settings({})
    assert settings.digest_schedule == DigestSchedule(0, datetime.min.time().replace(hour=8))
    assert core.next_schedule_time(settings, now) == expected
    assert core.is_schedule_time(settings, expected)
    assert not core.is_schedule_time(settings, expected + timedelta(hours=1))
    assert core.next_schedule_time(load_settings({"DIGEST_SCHEDULE": "off"}), now) is None


def test_summer_time_moves_the_utc_time() -> None:
    settings = load_settings({})
    assert core.next_schedule_time(settings, berlin(2026, 7, 1, 12, 0)) == datetime(2026, 7, 6, 6, 0, tzinfo=UTC)
    assert core.next_schedule_time(settings, berlin(2026, 12, 1, 12, 0)) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "days"),
    [
        ("", LATER - timedelta(days=7), 7),
        ("7d", LATER - timedelta(days=7), 7),
        ("30d", LATER - timedelta(days=30), 30),
        ("30 D", LATER - timedelta(days=30), 30),
        ("since 2026-01-01", berlin(2026, 1, 1, 0, 0), None),
        ("since 01.01.2026", berlin(2026, 1, 1, 0, 0), None),
        ("seit 1.7.2026", berlin(2026, 7, 1, 0, 0), None),
        ("2026-12-03", berlin(2026, 12, 3, 0, 0), None),
    ],
)
def test_periods(text: str, start: datetime, days: int | None) -> None:
    period = core.parse_period(text, LATER, BERLIN)
    assert (period.start, period.end, period.days) == (start, LATER, days)


@pytest.mark.parametrize("text", ["7x", "d", "0d", "99999d", "since", "since morgen", "32.01.2026", "letzte Woche"])
def test_bad_periods(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        core.parse_period(text, LATER, BERLIN)
    assert refused.value.key == "digest.bad_period"


# --- split_html ---------------------------------------------------------------------------------

HTML_PIECES = st.one_of(
    TEXT_CHARACTERS.map(lambda c: html.escape(c, quote=False)),
    st.sampled_from(["\n", "\n\n", " ", "😀", "&amp;", "&lt;", "x" * 50]),
)


@st.composite
def html_texts(draw):  # type: ignore[no-untyped-def]
    """Valid Telegram HTML: escaped text in (nested) b, i, code and links."""
    parts = []
    for _ in range(draw(st.integers(0, 40))):
        inner = "".join(draw(st.lists(HTML_PIECES, max_size=60)))
        tag = draw(st.sampled_from(["", "b", "i", "code", "a", "bi"]))
        if tag == "":
            parts.append(inner)
        elif tag == "a":
            parts.append(f'<a href="https://example.org/?a=1&amp;b=2">{inner}</a>')
        elif tag == "bi":
            parts.append(f"<b>x <i>{inner}</i> y</b>")
        else:
            parts.append(f"<{tag}>{inner}</{tag}>")
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(text=html_texts(), limit=st.sampled_from([20, 60, 200, LIMIT]))
def test_split_html_keeps_every_part_valid_and_short(text: str, limit: int) -> None:
    parts = split_html(text, limit)
    plain = "".join(parse_html(text)[0].split()) if text.strip() else ""
    for part in parts:
        assert visible_length(part) <= limit
        if part:
            parse_html(part)  # raises on broken HTML
    assert "".join("".join(parse_html(p)[0].split()) for p in parts if p) == plain


def test_split_html_prefers_paragraphs_and_keeps_bold_headings() -> None:
    text = "<b>Titel</b>\n" + "\n".join(f"Zeile {n}" for n in range(30)) + "\n\n<b>Zweiter Titel</b>\nmehr"
    parts = split_html(text, 120)
    assert all(part.count("<b>") == part.count("</b>") for part in parts)
    assert split_html("<b>" + "Wort " * 50 + "</b>", 40)[1].startswith("<b>")
    assert split_html("kurz") == ["kurz"]


# --- kimbot digest --------------------------------------------------------------------------------


async def kimbot(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`kimbot digest …` as a process; the test's event loop (and the bot in it) runs on meanwhile."""
    return await asyncio.to_thread(_run, tmp_path, database_url, *args)


def _run(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
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


@pytest.fixture
async def today_story(bot, coordinator):  # type: ignore[no-untyped-def]
    """A smaller story on the real clock (the command line reads the real time):
    Ana (Caritas) and Ben in AK EU, a session in five days with Ana's Zusage and an
    item, a recommendation Ben agreed to and Ana commented on."""
    await coordinator.send("/help")
    people = {}
    for name, organisation in (("Ana", "Caritas"), ("Ben", None)):
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=organisation)
        await join(bot, coordinator, person, "ak-eu")
        people[name] = person
    day = (datetime.now(BERLIN) + timedelta(days=5)).date()
    session = await schedule(bot, coordinator, f"/meeting ak-eu {day:%d.%m.%Y} 14:00 Auftakt")
    await people["Ana"].press("✅ Zusage", session_message(people["Ana"], session))
    await people["Ana"].send("/agenda ak-eu Bericht <Sprachkurse> & mehr")
    replies = await coordinator.send("/recommend ak-eu Mehr Sprachkurse am Abend anbieten")
    rid = int(re.search(r"Empfehlung #(\d+)", replies[-1].text).group(1))  # type: ignore[union-attr]
    await bot.tick()
    await people["Ben"].press("Zustimmung")
    await people["Ana"].send(f"/feedback {rid} Gern, mit *Kinderbetreuung*")
    return {"session": session, "rid": rid}


async def test_kimbot_digest_prints_json_text_and_markdown(bot, coordinator, today_story, tmp_path, database_url):
    result = await kimbot(tmp_path, database_url, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["group"] is None and data["period"]["days"] == 7
    assert datetime.fromisoformat(data["period"]["end"]) - datetime.fromisoformat(data["period"]["start"]) == timedelta(
        days=7
    )
    eu = next(g for g in data["groups"] if g["slug"] == "ak-eu")
    assert eu["members"] == 2 and eu["joined"]["total"] == 2
    assert {p["name"]: p["organisation"] for p in eu["joined"]["shown"]} == {"Ana": "Caritas", "Ben": None}
    assert eu["sessions_coming"]["total"] == 1
    [coming] = eu["sessions_coming"]["shown"]
    assert coming["id"] == today_story["session"] and coming["rsvps"] == {"yes": 1, "no": 0, "maybe": 0}
    assert coming["agenda_items"] == 1 and datetime.fromisoformat(coming["starts_at"]).tzinfo is not None
    assert eu["new_agenda_items"]["total"] == 1
    assert eu["new_agenda_items"]["shown"][0]["text"] == "Bericht <Sprachkurse> & mehr"
    [recommendation] = eu["open_recommendations"]["shown"]
    assert recommendation["id"] == today_story["rid"]
    assert recommendation["tally"] == {"agree": 1, "concerns": 0, "reject": 0} and recommendation["comments"] == 1
    assert recommendation["latest_comments"][0]["author"] == "Ana"
    assert data["missing"]["sessions_without_agenda"]["total"] == 0
    assert data["missing"]["few_confirmations"]["total"] == 0, "1 Zusage of 2 members is a third"

    text = await kimbot(tmp_path, database_url, "--group", "eu", "--since", "30d")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("📋 Übersicht: AK EU\n")
    assert "AK EU · 2 Mitglieder\n" in text.stdout and "<b>" not in text.stdout
    assert "  - „Bericht <Sprachkurse> & mehr“ – Ana (#" in text.stdout
    assert "Zustimmung 1 · Bedenken 0 · Ablehnung 0 · Kommentare 1" in text.stdout

    markdown = await kimbot(tmp_path, database_url, "--format", "md", "--since", f"{datetime.now(BERLIN):%d.%m.%Y}")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("# 📋 Übersicht: alle Gruppen\n")
    assert "## AK EU · 2 Mitglieder" in markdown.stdout
    assert "- „Bericht \\<Sprachkurse\\> & mehr“ – Ana" in markdown.stdout
    assert "„Gern, mit \\*Kinderbetreuung\\*“ – Ana" in markdown.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--group", "mars"), "Die Gruppe „mars“ kenne ich nicht"),
        (("--group", "ak"), "passt zu mehreren Gruppen"),
        (("--since", "7x"), "„7x“ verstehe ich nicht als Zeitraum"),
        (("--since", "2099-01-01"), "liegt in der Zukunft"),
    ],
)
async def test_kimbot_digest_refuses_bad_input_with_status_2(bot, tmp_path, database_url, args, expected):
    result = await kimbot(tmp_path, database_url, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert expected in result.stderr and "kimbot digest --group ak-eu --since 30d" in result.stderr
    assert "Traceback" not in result.stderr and "<code>" not in result.stderr


# --- the queries ------------------------------------------------------------------------------------


async def test_the_counts_come_from_the_database_as_the_bot_stored_them(bot, coordinator, story):
    """The digest's numbers against plain queries of the same rows."""
    async with bot.db.reader() as uow:
        eu = await uow.groups.by_slug("ak-eu")
        assert eu is not None
        approved = (
            (
                await uow.session.execute(
                    select(Membership).where(
                        Membership.group_id == eu.id, Membership.status == MembershipStatus.APPROVED
                    )
                )
            )
            .scalars()
            .all()
        )
        answers = (
            (await uow.session.execute(select(Rsvp.answer).where(Rsvp.occurrence_id == story["s1"]))).scalars().all()
        )
        stances = (await uow.session.execute(select(Stance.value))).scalars().all()
        digest = await core.build(uow, [eu], core.parse_period("7d", LATER, BERLIN), LATER, bot.settings, scope=eu)
    [group] = digest.groups
    assert group.members == len(approved) == 2
    assert (group.held.shown[0].yes, group.held.shown[0].maybe) == (
        answers.count(RsvpAnswer.YES),
        answers.count(RsvpAnswer.MAYBE),
    )
    assert group.recommendations.shown[0].agree == stances.count(StanceValue.AGREE) == 1
    assert digest.scope == core.Scope("ak-eu", "AK EU")
    assert [u.missing.total for u in digest.missing.unanswered] == [1]
    assert not digest.nothing_new


def test_one_new_answer_is_singular() -> None:
    from bot.render.digest import Line, html_writer
    from bot.render.texts import Texts
    from bot.render.texts import plural as counted

    texts = Texts()
    params = {"agree": 1, "concerns": 0, "reject": 0, "comments": 0, "new": 1}
    assert html_writer(texts, "de").line(Line(counted("digest.tally_new", 1), params)).endswith("· 1 Rückmeldung neu")
    assert html_writer(texts, "en").line(Line(counted("digest.tally_new", 1), params)).endswith("· 1 new answer")
