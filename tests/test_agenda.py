"""Agenda items through the emulator, as members and the coordination read them,
on SQLite and PostgreSQL, with the bot's clock under control.

Sessions: #S1 on Thu 10.12.2026 14:00 (Berlin), #S2 on Thu 17.12.2026 14:00; no
agenda deadline (the default, `AGENDA_DEADLINE=0`) except in the tests of the
deadline, which set two days (S1: Tue 08.12.2026, 14:00).
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage.admin_models import AuditEntry
from storage.models import AgendaItem, AgendaStatus, Delivery

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
S1 = "10.12.2026 14:00"
S2 = "17.12.2026 14:00"


@pytest.fixture
async def members(bot, coordinator):  # type: ignore[no-untyped-def]
    """Ana and Ben in AK EU, Carl in AK Ehrenamt, Dora in both; the clock at START."""
    bot.clock.set(START)
    people = {}
    for name, slugs in (
        ("Ana", ["ak-eu"]),
        ("Ben", ["ak-eu"]),
        ("Carl", ["ak-ehrenamt"]),
        ("Dora", ["ak-eu", "ak-ehrenamt"]),
    ):
        person = await bot.person(name, username=name.lower())
        await person.register()
        for slug in slugs:
            await person.send(f"/join {slug}")
            await coordinator.send(f"/approve @{name.lower()}")
        people[name] = person
    return people


async def schedule(bot, coordinator, when: str, title: str = "Auftakt", group: str = "ak-eu") -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(f"/meeting {group} {when} {title}")
    assert "Geplant als Sitzung #" in replies[-1].text, replies[-1].text
    await bot.tick()
    return int(re.search(r"Geplant als Sitzung #(\d+)", replies[-1].text).group(1))  # type: ignore[union-attr]


async def propose(person, command: str) -> int:  # type: ignore[no-untyped-def]
    replies = await person.send(command)
    match = re.search(r"gespeichert als #(\d+)", replies[-1].text)
    assert match, replies[-1].text
    return int(match.group(1))


async def stored(bot) -> list[AgendaItem]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return list((await uow.session.execute(select(AgendaItem).order_by(AgendaItem.id))).scalars())


async def item(bot, item_id: int) -> AgendaItem:  # type: ignore[no-untyped-def]
    return next(i for i in await stored(bot) if i.id == item_id)


async def notes(bot) -> list[Delivery]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        rows = (await uow.session.execute(select(Delivery).where(Delivery.agenda_item_id.is_not(None)))).scalars()
        return list(rows)


def data_of(message, label: str) -> str:  # type: ignore[no-untyped-def]
    """The callback data behind a button, kept to press it again later (a stale press)."""
    return next(data for row in message.buttons for text, data in row if text == label)


def refused_calls(bot) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{c.method}: {c.description}" for c in bot.emulator.calls if c.status != 200]


# --- proposing ---------------------------------------------------------------------


async def test_one_line_with_the_group_goes_to_the_next_session(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    await schedule(bot, coordinator, S2, "Zweite Sitzung")
    replies = await members["Ana"].send("/agenda ak-eu Bericht aus der Beratungsstelle")
    reply = replies[-1].text
    assert "Ihr Thema ist gespeichert als #" in reply and "„Bericht aus der Beratungsstelle“" in reply
    assert f"Sitzung #{s1} „Auftakt“ am Do., 10.12.2026, 14:00 Uhr, als Punkt 1" in reply
    labels = [b[0] for row in replies[-1].buttons for b in row]
    assert labels == ["✏️ Ändern", "↩️ Zurückziehen"]
    [saved] = await stored(bot)
    assert (saved.occurrence_id, saved.status, saved.text) == (
        s1,
        AgendaStatus.PROPOSED,
        "Bericht aus der Beratungsstelle",
    )


async def test_group_names_and_prefixes_and_aliases(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    ana = members["Ana"]
    await propose(ana, "/agenda AK EU Zwei Wörter im Namen")
    await propose(ana, "/tagesordnung eu Nur der Anfang des Namens")
    await propose(ana, "/thema ak-eu - mit Strich")
    await propose(ana, "/agenda ak eu: mit Doppelpunkt")
    await propose(ana, "/agenda akeu ist kein Name")
    assert [i.text for i in await stored(bot)] == [
        "Zwei Wörter im Namen",
        "eu Nur der Anfang des Namens",  # a prefix is not a group (SPEC 5): the text as written
        "- mit Strich",
        "mit Doppelpunkt",
        "akeu ist kein Name",
    ]


async def test_a_prefix_of_a_group_name_stays_text(bot, coordinator, members):
    """Issue 16: a member only in AK Ehrenamt writes about "Ehrenamt"; nothing is cut off."""
    s1 = await schedule(bot, coordinator, S1, group="ak-ehrenamt")
    carl = members["Carl"]
    replies = await carl.send("/agenda Ehrenamt braucht Räume im Quartier")
    assert "„Ehrenamt braucht Räume im Quartier“" in replies[-1].text
    await propose(carl, "/agenda AK Ehrenamt braucht Räume im Quartier")
    await propose(carl, "/agenda AK   EHRENAMT Zweimal")
    assert [(i.text, i.occurrence_id) for i in await stored(bot)] == [
        ("Ehrenamt braucht Räume im Quartier", s1),
        ("braucht Räume im Quartier", s1),  # the full name is the group
        ("Zweimal", s1),
    ]
    dora = members["Dora"]  # in two groups: a prefix is text, so she is asked for the group
    replies = await dora.send("/agenda Ehrenamt stärken")
    assert "Für welche Gruppe ist Ihr Thema?" in replies[-1].text
    await dora.press("AK Ehrenamt")
    assert (await stored(bot))[-1].text == "Ehrenamt stärken"


async def test_one_line_without_group_for_a_member_of_one_group(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    ana = members["Ana"]
    await propose(ana, "/agenda Sprachkurse am Abend")
    # "Arbeit" is the beginning of another group's name; Ana is in one group: it is her text.
    await propose(ana, "/agenda Arbeit für Geflüchtete")
    assert [(i.text, i.occurrence_id) for i in await stored(bot)] == [
        ("Sprachkurse am Abend", s1),
        ("Arbeit für Geflüchtete", s1),
    ]


async def test_lines_and_spacing_are_kept(bot, coordinator, members):
    await propose(members["Ana"], "/agenda ak-eu   Erste Zeile\n\n  zweite  Zeile   ")
    assert [i.text for i in await stored(bot)] == ["Erste Zeile\n\n  zweite  Zeile"]


async def test_member_of_several_groups_chooses_with_buttons(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1, group="ak-ehrenamt")
    dora = members["Dora"]
    replies = await dora.send("/agenda Freiwillige gewinnen")
    question = replies[-1]
    assert "Für welche Gruppe ist Ihr Thema?" in question.text
    assert [b[0] for row in question.buttons for b in row] == ["AK EU", "AK Ehrenamt"]
    assert await stored(bot) == [], "nothing is saved before the group is chosen"
    stale = data_of(question, "AK Ehrenamt")
    replies = await dora.press("AK Ehrenamt")
    assert "gespeichert als #" in replies[-1].text and f"Sitzung #{s1}" in replies[-1].text
    assert question.buttons == [], "the question's buttons are gone"
    replies = await dora.press_data(stale, question)
    assert "Diese Auswahl ist schon erledigt" in replies[-1].text
    assert [(i.text, i.occurrence_id) for i in await stored(bot)] == [("Freiwillige gewinnen", s1)], "saved once"


async def test_text_sent_instead_of_a_group_is_kept_and_the_group_asked_again(bot, coordinator, members):
    dora = members["Dora"]
    await dora.send("/agenda Erster Versuch")
    replies = await dora.send("Besserer Text")
    assert "Für welche Gruppe ist Ihr Thema?" in replies[-1].text
    replies = await dora.press("AK EU")
    assert "„Besserer Text“" in replies[-1].text
    assert [i.text for i in await stored(bot)] == ["Besserer Text"]


async def test_propose_button_asks_for_group_then_text(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    dora = members["Dora"]
    replies = await dora.send("/agenda")
    assert "➕ Thema vorschlagen" in [b[0] for row in replies[-1].buttons for b in row]
    replies = await dora.press("➕ Thema vorschlagen")
    assert "Für welche Gruppe möchten Sie ein Thema vorschlagen?" in replies[-1].text
    replies = await dora.press("AK EU")
    assert "Welches Thema möchten Sie für AK EU vorschlagen?" in replies[-1].text and "1000 Zeichen" in replies[-1].text
    replies = await dora.send("Wohnungssuche für Familien")
    assert "gespeichert als #" in replies[-1].text and f"Sitzung #{s1}" in replies[-1].text
    replies = await dora.send("noch ein Text")
    assert "Das habe ich nicht verstanden" in replies[-1].text, "the guided step is over"


async def test_a_command_ends_the_guided_step(bot, coordinator, members):
    ana = members["Ana"]
    await ana.send("/agenda")
    replies = await ana.press("➕ Thema vorschlagen")
    assert "Welches Thema möchten Sie für AK EU vorschlagen?" in replies[-1].text
    await ana.send("/meetings")
    replies = await ana.send("Das war nicht als Thema gemeint")
    assert "Das habe ich nicht verstanden" in replies[-1].text
    assert await stored(bot) == []


async def test_item_waits_for_the_next_session_created(bot, coordinator, members):
    ana = members["Ana"]
    replies = await ana.send("/agenda Thema ohne Sitzung")
    assert "Für AK EU ist noch keine Sitzung geplant" in replies[-1].text
    replies = await ana.send("/agenda")
    assert "Noch keine Sitzung geplant." in replies[-1].text
    assert "Diese Themen warten auf die nächste Sitzung, die geplant wird:" in replies[-1].text
    assert "1. Thema ohne Sitzung — Ana (#" in replies[-1].text
    s1 = await schedule(bot, coordinator, S1)
    invitation = ana.last.text
    assert "Einladung" in invitation and "Tagesordnung\n1. Thema ohne Sitzung — Ana (#" in invitation
    [waiting] = await stored(bot)
    assert waiting.occurrence_id == s1


# --- bad input ---------------------------------------------------------------------


async def test_not_a_member_of_the_group_is_refused(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    replies = await members["Carl"].send("/agenda ak-eu Ein Thema")
    text = replies[-1].text
    assert "Sie sind nicht Mitglied in AK EU" in text and "AK Ehrenamt" in text
    assert "/agenda ak-ehrenamt Bericht aus der Beratungsstelle" in text, "with a correct example"
    replies = await members["Dora"].send("/agenda Lenkungskreis Integration Ein Thema")
    assert "Sie sind nicht Mitglied in Lenkungskreis Integration" in replies[-1].text
    replies = await members["Dora"].send("/agenda lenkungskreis: Ein Thema")
    assert "Sie sind nicht Mitglied in Lenkungskreis Integration" in replies[-1].text
    assert await stored(bot) == []


async def test_a_person_in_no_group_is_told_how_to_join(bot, coordinator, members):
    eva = await bot.person("Eva", username="eva")
    await eva.register()
    for command in ("/agenda", "/agenda ak-eu Ein Thema"):
        replies = await eva.send(command)
        assert "Sie sind noch in keiner Gruppe" in replies[-1].text and "/join ak-eu" in replies[-1].text
    stranger = await bot.person("Fritz")
    replies = await stranger.send("/agenda Thema")
    assert "/join" in replies[-1].text and "/start" in replies[-1].text
    assert await stored(bot) == []


async def test_empty_and_too_long_texts_say_what_is_wrong(bot, coordinator, members):
    ana = members["Ana"]
    replies = await ana.send("/agenda ak-eu " + "x" * 1001)
    assert "zu lang (1001 Zeichen)" in replies[-1].text and "höchstens 1000 Zeichen" in replies[-1].text
    assert "/agenda ak-eu Bericht aus der Beratungsstelle" in replies[-1].text
    await ana.send("/agenda")
    await ana.press("➕ Thema vorschlagen")
    replies = await ana.send(" \n ")
    assert "Bitte schreiben Sie ein Thema" in replies[-1].text
    replies = await ana.send("y" * 1200)
    assert "höchstens 1000 Zeichen" in replies[-1].text
    assert await stored(bot) == [], "nothing half-saved"
    replies = await ana.send("x" * 1000)
    assert "gespeichert als #" in replies[-1].text, "the limit itself is allowed, and the step was kept"


async def test_html_characters_are_shown_as_written(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    ana = members["Ana"]
    written = "<b>Fett</b> & <script>alert(1)</script> a<b"
    replies = await ana.send(f"/agenda ak-eu {written}")
    assert f"„{written}“" in replies[-1].text
    replies = await ana.send("/agenda")
    assert f"1. {written} — Ana (#" in replies[-1].text
    assert (await stored(bot))[0].text == written
    assert refused_calls(bot) == []


# --- the agendas -------------------------------------------------------------------


async def test_members_see_their_groups_agendas_numbered_with_ids(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    first = await propose(members["Ana"], "/agenda Erstes Thema")
    second = await propose(members["Ben"], "/agenda Zweites Thema")
    other = await propose(members["Carl"], "/agenda Thema im Ehrenamt")
    replies = await members["Ana"].send("/agenda")
    text = replies[-1].text
    assert f"📅 Sitzung #{s1} „Auftakt“: Do., 10.12.2026, 14:00 Uhr" in text
    assert "Themen bis" not in text, "no agenda deadline by default"
    assert f"1. Erstes Thema — Ana (#{first})\n2. Zweites Thema — Ben (#{second})" in text
    assert "Thema im Ehrenamt" not in text and f"(#{other})" not in text, "only her own groups"
    labels = [b[0] for row in replies[-1].buttons for b in row]
    assert labels == [f"#{first} Erstes Thema", "➕ Thema vorschlagen"], "a button for her own item only"
    replies = await members["Dora"].send("/agenda")
    assert "AK EU" in replies[-1].text and "AK Ehrenamt" in replies[-1].text and "Thema im Ehrenamt" in replies[-1].text
    replies = await coordinator.send("/agenda ak-eu")
    labels = [b[0] for row in replies[-1].buttons for b in row]
    assert labels == [f"#{first} Erstes Thema", f"#{second} Zweites Thema", "➕ Thema vorschlagen"]
    assert "AK Ehrenamt" not in replies[-1].text, "/agenda <group> shows that group"


async def test_a_long_agenda_is_split_into_valid_messages(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    ana = members["Ana"]
    ids = [await propose(ana, f"/agenda Thema {n} " + "😀 & <x> " * 110) for n in range(12)]
    replies = await ana.send("/agenda")
    assert len(replies) == 4
    assert refused_calls(bot) == []
    everything = "\n".join(r.text for r in replies)
    for number, item_id in enumerate(ids, 1):
        assert f"\n{number}. Thema {number - 1} " in everything and f"(#{item_id})" in everything
    buttons = [b[0] for r in replies for row in r.buttons for b in row]
    assert len(buttons) == 13 and buttons[-1] == "➕ Thema vorschlagen"


# --- the author: edit and withdraw -----------------------------------------------------


async def test_author_edits_and_an_accepted_item_is_proposed_again(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    ana = members["Ana"]
    item_id = await propose(ana, "/agenda Alter Text")
    await coordinator.send("/agenda")
    await coordinator.press(f"#{item_id} Alter Text")
    await coordinator.press("✅ Annehmen")
    assert (await item(bot, item_id)).status is AgendaStatus.ACCEPTED
    replies = await ana.press("✏️ Ändern")
    assert f"neuen Text für Thema #{item_id}" in replies[-1].text and "Bisher: „Alter Text“" in replies[-1].text
    replies = await ana.send("Neuer <i>Text</i>")
    assert f"Thema #{item_id} ist geändert" in replies[-1].text and "entscheidet noch einmal" in replies[-1].text
    assert "„Neuer <i>Text</i>“" in replies[-1].text and "Stand: vorgeschlagen" in replies[-1].text
    changed = await item(bot, item_id)
    assert (changed.text, changed.status) == ("Neuer <i>Text</i>", AgendaStatus.PROPOSED)


async def test_author_withdraws_and_a_second_press_changes_nothing(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    ana = members["Ana"]
    item_id = await propose(ana, "/agenda Doch nicht")
    confirmation = ana.last
    stale = data_of(confirmation, "↩️ Zurückziehen")
    replies = await ana.press("↩️ Zurückziehen")
    assert f"Thema #{item_id} ist zurückgezogen" in replies[-1].text
    assert "Stand: zurückgezogen" in confirmation.text and confirmation.buttons == []
    replies = await ana.press_data(stale, confirmation)
    assert f"Thema #{item_id} ist schon zurückgezogen. Es wurde nichts geändert." in replies[-1].text
    replies = await ana.send("/agenda")
    assert "Doch nicht" not in replies[-1].text and "Noch keine Themen." in replies[-1].text


async def test_only_the_author_edits_or_withdraws(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    item_id = await propose(members["Ana"], "/agenda Anas Thema")
    ben = members["Ben"]
    await ben.send("/agenda")
    for action in ("edit", "withdraw"):
        replies = await ben.press_data(f"ia:{item_id}:{action}")
        assert f"Nur die Person, die Thema #{item_id} vorgeschlagen hat" in replies[-1].text
    replies = await coordinator.send("/agenda")
    replies = await coordinator.press_data(f"ia:{item_id}:withdraw")
    assert "Nur die Person" in replies[-1].text, "the coordination rejects, with a reason, instead"
    assert (await item(bot, item_id)).status is AgendaStatus.PROPOSED


async def test_no_changes_once_the_session_has_started(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    ana = members["Ana"]
    item_id = await propose(ana, "/agenda Spät dran")
    bot.clock.set(datetime(2026, 12, 10, 13, 30, tzinfo=UTC))  # the session runs
    replies = await ana.press("✏️ Ändern")
    assert f"Die Sitzung #{s1} hat schon begonnen" in replies[-1].text
    replies = await ana.send("/agenda")
    assert "Die Sitzung läuft gerade." in replies[-1].text and "1. Spät dran" in replies[-1].text
    assert (await item(bot, item_id)).text == "Spät dran"


# --- the coordination: accept, reject, reorder, defer -------------------------------------


async def test_coordinator_accepts_and_a_second_press_changes_nothing(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    item_id = await propose(members["Ana"], "/agenda Annehmen bitte")
    await coordinator.send("/agenda")
    replies = await coordinator.press(f"#{item_id} Annehmen bitte")
    card = replies[-1]
    assert f"Thema #{item_id} (AK EU)" in card.text and "Von: Ana" in card.text and "Stand: vorgeschlagen" in card.text
    stale = data_of(card, "✅ Annehmen")
    replies = await coordinator.press("✅ Annehmen")
    assert f"Thema #{item_id} ist angenommen" in replies[-1].text
    assert "Stand: angenommen" in card.text, "the card is redrawn"
    replies = await coordinator.press_data(stale, card)
    assert f"Thema #{item_id} ist schon angenommen. Es wurde nichts geändert." in replies[-1].text
    replies = await members["Ben"].send("/agenda")
    assert f"1. Annehmen bitte — Ana (#{item_id}) ✓ angenommen" in replies[-1].text


async def test_coordinator_rejects_with_a_reason_the_author_reads(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    ana = members["Ana"]
    item_id = await propose(ana, "/agenda Nicht hier")
    await coordinator.send("/agenda")
    await coordinator.press(f"#{item_id} Nicht hier")
    replies = await coordinator.press("❌ Ablehnen")
    assert f"Warum lehnen Sie Thema #{item_id} ab?" in replies[-1].text and "500 Zeichen" in replies[-1].text
    replies = await coordinator.send("z" * 501)
    assert "höchstens 500 Zeichen" in replies[-1].text
    assert (await item(bot, item_id)).status is AgendaStatus.PROPOSED and await notes(bot) == []
    replies = await coordinator.send("Das passt besser in den <AK Arbeitsmarkt>.")
    assert f"Thema #{item_id} ist abgelehnt. Ana bekommt eine Nachricht." in replies[-1].text
    await bot.tick()
    note = ana.last.text
    assert f"Ihr Thema #{item_id} für AK EU wurde leider abgelehnt" in note
    assert "„Nicht hier“" in note and "Begründung der Koordination: Das passt besser in den <AK Arbeitsmarkt>." in note
    assert await bot.tick() == 0, "told once"
    replies = await ana.send("/agenda")
    assert "Nicht hier" not in replies[-1].text
    replies = await coordinator.press_data(f"ia:{item_id}:reject", coordinator.last)
    assert f"Thema #{item_id} ist schon abgelehnt" in replies[-1].text


async def test_a_member_pressing_a_coordination_button_changes_nothing(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    ana = members["Ana"]
    item_id = await propose(ana, "/agenda Mein Thema")
    for action in ("accept", "reject", "defer", "up", "down"):
        replies = await ana.press_data(f"ia:{item_id}:{action}")
        assert "Das darf nur die KIM-Koordination. Es wurde nichts geändert." in replies[-1].text
    saved = await item(bot, item_id)
    assert (saved.status, saved.occurrence_id, saved.position) == (AgendaStatus.PROPOSED, s1, 1)
    assert await notes(bot) == []
    replies = await ana.send("Ein Text")
    assert "Ich erwarte gerade keinen Text" in replies[-1].text, "no reason was asked for"


async def test_coordinator_reorders(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    a = await propose(members["Ana"], "/agenda Eins")
    b = await propose(members["Ben"], "/agenda Zwei")
    c = await propose(members["Ana"], "/agenda Drei")
    await coordinator.send("/agenda ak-eu")
    card = (await coordinator.press(f"#{c} Drei"))[-1]
    assert "Punkt 3 von 3" in card.text
    assert "⬇️ Nach unten" not in [b[0] for row in card.buttons for b in row]
    await coordinator.press("⬆️ Nach oben", card)
    assert "Punkt 2 von 3" in card.text, "the card is redrawn"
    await coordinator.press("⬆️ Nach oben", card)
    assert "Punkt 1 von 3" in card.text and "⬆️ Nach oben" not in [b[0] for row in card.buttons for b in row]
    replies = await coordinator.press_data(f"ia:{c}:up", card)
    assert f"Thema #{c} steht schon ganz oben" in replies[-1].text
    replies = await members["Ben"].send("/agenda")
    assert f"1. Drei — Ana (#{c})\n2. Eins — Ana (#{a})\n3. Zwei — Ben (#{b})" in replies[-1].text


async def test_coordinator_defers_and_the_author_is_told(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    s2 = await schedule(bot, coordinator, S2, "Zweite Sitzung")
    ana = members["Ana"]
    item_id = await propose(ana, "/agenda Später besprechen")
    await propose(members["Ben"], "/agenda Schon da")
    await coordinator.send("/agenda")
    await coordinator.press(f"#{item_id} Später besprechen")
    replies = await coordinator.press("⏭ Vertagen")
    assert (
        f"Thema #{item_id} ist vertagt auf Sitzung #{s2} „Zweite Sitzung“ am Do., 17.12.2026, 14:00 Uhr"
        in replies[-1].text
    )
    assert "Ana bekommt eine Nachricht" in replies[-1].text
    await bot.tick()
    assert f"Ihr Thema #{item_id} für AK EU wurde von der Koordination vertagt" in ana.last.text
    assert f"Sitzung #{s2} „Zweite Sitzung“ am Do., 17.12.2026, 14:00 Uhr" in ana.last.text
    assert (await item(bot, item_id)).occurrence_id == s2
    replies = await ana.send("/agenda")
    assert f"Sitzung #{s1}" in replies[-1].text and "Später besprechen" not in replies[-1].text


async def test_deferred_with_no_later_session_waits_and_does_not_come_back(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    ana = members["Ana"]
    item_id = await propose(ana, "/agenda Nächstes Mal")
    await coordinator.send("/agenda")
    await coordinator.press(f"#{item_id} Nächstes Mal")
    replies = await coordinator.press("⏭ Vertagen")
    assert "Eine spätere Sitzung ist noch nicht geplant" in replies[-1].text
    await bot.tick()
    assert "Es kommt auf die nächste Sitzung, sobald sie geplant ist." in ana.last.text
    assert (await item(bot, item_id)).occurrence_id is None, f"not back on #{s1}"
    s2 = await schedule(bot, coordinator, S2, "Zweite Sitzung")
    assert (await item(bot, item_id)).occurrence_id == s2
    replies = await coordinator.press_data(f"ia:{item_id}:defer", coordinator.last)
    assert "Eine spätere Sitzung ist noch nicht geplant" in replies[-1].text, f"none after #{s2}: it waits again"
    assert (await item(bot, item_id)).occurrence_id is None


# --- the deadline ------------------------------------------------------------------


async def test_no_deadline_by_default(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    bot.clock.set(datetime(2026, 12, 10, 12, 59, tzinfo=UTC))  # a minute before the session
    replies = await members["Ana"].send("/agenda ak-eu Kurz vorher")
    assert "nachgereicht" not in replies[-1].text and f"Sitzung #{s1}" in replies[-1].text
    assert [(i.occurrence_id, i.late) for i in await stored(bot)] == [(s1, False)]
    assert "Themen bis" not in (await members["Ana"].send("/agenda"))[-1].text


DEADLINE = [{"AGENDA_DEADLINE": "2d"}]


async def audit_entries(bot) -> list[tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        rows = (await uow.session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(e.action, e.object_id) for e in rows if e.action.startswith("agenda.")]


@pytest.mark.parametrize("bot_env", DEADLINE)
async def test_after_the_deadline_an_item_stays_late_and_the_coordination_decides(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    s2 = await schedule(bot, coordinator, S2, "Zweite Sitzung")
    on_time = await propose(members["Ben"], "/agenda ak-eu Rechtzeitig")
    assert "Themen bis: Di., 08.12.2026, 14:00 Uhr" in (await members["Ben"].send("/agenda"))[-1].text
    bot.clock.set(datetime(2026, 12, 9, 9, 0, tzinfo=UTC))  # after Tue 08.12., 14:00
    replies = await members["Ana"].send("/agenda ak-eu Zu spät")
    text = replies[-1].text
    assert "Die Frist für Themen war am Di., 08.12.2026, 14:00 Uhr" in text
    assert f"als nachgereicht auf der Tagesordnung der Sitzung #{s1} „Auftakt“ am Do., 10.12.2026, 14:00 Uhr" in text
    assert "Die Koordination entscheidet" in text
    late = (await stored(bot))[-1]
    assert (late.occurrence_id, late.late, late.status) == (s1, True, AgendaStatus.PROPOSED)
    # the coordination gets it at once, with the buttons to decide
    told = coordinator.last
    assert "Ein Thema kam nach der Frist" in told.text and f"Thema #{late.id} (AK EU)" in told.text
    assert "⏰ Nachgereicht" in told.text
    labels = [b[0] for row in told.buttons for b in row]
    assert "✅ Annehmen" in labels and "⏭ Vertagen" in labels
    # shown as late in the agenda, and in the reminder; it does not move on its own
    replies = await members["Ben"].send("/agenda")
    assert "Neue Themen kommen noch auf diese Sitzung, als „nachgereicht“" in replies[-1].text
    assert f"2. Zu spät — Ana (#{late.id}) ⏰ nachgereicht" in replies[-1].text
    bot.clock.set(datetime(2026, 12, 9, 13, 0, 1, tzinfo=UTC))  # the 1-day reminder
    await bot.tick()
    assert f"2. Zu spät — Ana (#{late.id}) ⏰ nachgereicht" in members["Ana"].last.text
    assert (await item(bot, late.id)).occurrence_id == s1
    # accepted: it stays, still marked
    await coordinator.press("✅ Annehmen", told)
    assert (await item(bot, late.id)).status is AgendaStatus.ACCEPTED
    replies = await members["Ben"].send("/agenda")
    assert f"2. Zu spät — Ana (#{late.id}) ⏰ nachgereicht, ✓ angenommen" in replies[-1].text
    # another late one is deferred: it goes to the next session, on time there, and the author is told
    other = await propose(members["Ben"], "/agenda ak-eu Auch zu spät")
    await coordinator.press("⏭ Vertagen", coordinator.last)
    deferred = await item(bot, other)
    assert (deferred.occurrence_id, deferred.late) == (s2, False)
    await bot.tick()
    assert "wurde von der Koordination vertagt" in members["Ben"].last.text
    # coordinators are not bound by the deadline
    own = await propose(coordinator, "/agenda ak-eu Die Koordination setzt die Tagesordnung")
    assert ((await item(bot, own)).occurrence_id, (await item(bot, own)).late) == (s1, False)
    assert (await item(bot, on_time)).late is False
    assert await audit_entries(bot) == [("agenda.accept", late.id), ("agenda.defer", other)]


@pytest.mark.parametrize("bot_env", DEADLINE)
async def test_a_late_item_left_undecided_moves_on_with_the_undecided_ones(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    s2 = await schedule(bot, coordinator, S2, "Zweite Sitzung")
    bot.clock.set(datetime(2026, 12, 9, 9, 0, tzinfo=UTC))
    late = await propose(members["Ana"], "/agenda ak-eu Nicht entschieden")
    assert ((await item(bot, late)).occurrence_id, (await item(bot, late)).late) == (s1, True)
    replies = await coordinator.send("/digest ak-eu 7 Tage")
    assert f"„Nicht entschieden“ – Ana (#{late}) ⏰ nachgereicht" in "\n".join(r.text for r in replies)
    bot.clock.set(datetime(2026, 12, 10, 15, 0, 1, tzinfo=UTC))  # S1 is over
    await bot.tick()
    assert ((await item(bot, late)).occurrence_id, (await item(bot, late)).late) == (s2, False)


# --- carried over ------------------------------------------------------------------


async def test_items_not_handled_carry_over_and_accepted_ones_stay(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    s2 = await schedule(bot, coordinator, S2, "Zweite Sitzung")
    handled = await propose(members["Ana"], "/agenda Besprochen")
    open_one = await propose(members["Ben"], "/agenda Nicht geschafft")
    await coordinator.send("/agenda")
    await coordinator.press(f"#{handled} Besprochen")
    await coordinator.press("✅ Annehmen")
    bot.clock.set(datetime(2026, 12, 10, 14, 0, tzinfo=UTC))  # 15:00 Berlin: still running
    await bot.tick()
    assert (await item(bot, open_one)).occurrence_id == s1, "not during the session"
    bot.clock.set(datetime(2026, 12, 10, 15, 0, 1, tzinfo=UTC))  # over at 16:00 Berlin
    await bot.tick()
    assert (await item(bot, handled)).occurrence_id == s1, "accepted: handled, stays for the report"
    assert (await item(bot, open_one)).occurrence_id == s2
    replies = await members["Ana"].send("/agenda")
    assert f"Sitzung #{s2}" in replies[-1].text and f"1. Nicht geschafft — Ben (#{open_one})" in replies[-1].text
    assert "Besprochen" not in replies[-1].text


async def test_a_proposal_after_a_session_comes_after_what_it_left_open(bot, coordinator, members):
    """Before the timer has carried over, a proposal moves the open items of the
    session that is over first, and takes its place after them."""
    s1 = await schedule(bot, coordinator, S1)
    s2 = await schedule(bot, coordinator, S2, "Zweite Sitzung")
    open_one = await propose(members["Ben"], "/agenda Nicht geschafft")
    bot.clock.set(datetime(2026, 12, 10, 15, 0, 1, tzinfo=UTC))  # over at 16:00 Berlin; no tick yet
    replies = await members["Ana"].send("/agenda Neu nach der Sitzung")
    assert f"Sitzung #{s2}" in replies[-1].text and "als Punkt 2." in replies[-1].text, replies[-1].text
    assert (await item(bot, open_one)).occurrence_id == s2
    replies = await members["Ana"].send("/agenda")
    assert f"Sitzung #{s1}" not in replies[-1].text
    assert f"1. Nicht geschafft — Ben (#{open_one})\n2. Neu nach der Sitzung — Ana" in replies[-1].text


async def test_items_of_a_cancelled_session_carry_over(bot, coordinator, members):
    s1 = await schedule(bot, coordinator, S1)
    s2 = await schedule(bot, coordinator, S2, "Zweite Sitzung")
    there = await propose(members["Dora"], "/agenda ak-eu Schon auf der zweiten")
    await coordinator.send("/agenda")
    await coordinator.press(f"#{there} Schon auf der zweiten")
    await coordinator.press("⏭ Vertagen")
    proposed = await propose(members["Ben"], "/agenda Noch offen")
    accepted = await propose(members["Ana"], "/agenda Angenommen")
    await coordinator.send("/agenda ak-eu")
    await coordinator.press(f"#{accepted} Angenommen")
    await coordinator.press("✅ Annehmen")
    await coordinator.send(f"/cancel {s1}")
    await bot.tick()
    items = {i.id: i for i in await stored(bot)}
    assert items[proposed].occurrence_id == s2 and items[accepted].occurrence_id == s2
    assert items[accepted].status is AgendaStatus.ACCEPTED, "the decision is kept"
    replies = await members["Ana"].send("/agenda")
    assert f"Sitzung #{s1}" not in replies[-1].text
    assert (
        f"1. Schon auf der zweiten — Dora (#{there})\n2. Noch offen — Ben (#{proposed})\n"
        f"3. Angenommen — Ana (#{accepted}) ✓ angenommen"
    ) in replies[-1].text


# --- the agenda inside reminders ------------------------------------------------------


async def test_the_reminder_shows_the_current_agenda(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    ana = members["Ana"]
    assert "Tagesordnung: noch keine Themen." in ana.last.text, "the invitation says there is none yet"
    first = await propose(ana, "/agenda Erstes <Thema>")
    second = await propose(members["Ben"], "/agenda Zweites\nmit zwei Zeilen")
    bot.clock.set(datetime(2026, 12, 3, 13, 0, 1, tzinfo=UTC))  # 7 days before
    assert await bot.tick() == 3
    reminder = ana.last.text
    assert "⏰ Erinnerung" in reminder
    assert f"Tagesordnung\n1. Erstes <Thema> — Ana (#{first})\n2. Zweites mit zwei Zeilen — Ben (#{second})" in reminder


async def test_a_long_agenda_is_shortened_in_the_reminder(bot, coordinator, members):
    await schedule(bot, coordinator, "10.12.2026 14:00", "T" * 200)
    ana = members["Ana"]
    for n in range(15):
        await propose(ana, f"/agenda {n:02d} " + "Ü&<😀 " * 199)
    bot.clock.set(datetime(2026, 12, 3, 13, 0, 1, tzinfo=UTC))
    await bot.tick()
    reminder = ana.last.text
    assert "⏰ Erinnerung" in reminder and "… und 5 weitere: /agenda" in reminder
    assert "\n10. 09 " in reminder and "\n11. " not in reminder
    assert len(reminder.encode("utf-16-le")) // 2 <= 4096
    assert refused_calls(bot) == []


# --- old and forged buttons -------------------------------------------------------------


async def test_buttons_of_unknown_items_or_other_groups_are_answered(bot, coordinator, members):
    await schedule(bot, coordinator, S1)
    item_id = await propose(members["Ana"], "/agenda Nur für AK EU")
    carl = members["Carl"]
    await carl.send("/agenda")
    replies = await carl.press_data(f"ai:{item_id}")
    assert "Sie sind nicht Mitglied in AK EU" in replies[-1].text and "Nur für AK EU" not in replies[-1].text
    replies = await carl.press_data("ai:99999")
    assert "Ein Thema #99999 gibt es nicht" in replies[-1].text
    replies = await carl.press_data(f"ia:{item_id}:fly")
    assert "Dieser Knopf gilt nicht mehr" in replies[-1].text
    replies = await carl.press_data("ag:1")
    assert "Diese Auswahl ist schon erledigt" in replies[-1].text
    ben = members["Ben"]
    await ben.send("/agenda")
    replies = await ben.press_data(f"ai:{item_id}")
    assert "„Nur für AK EU“" in replies[-1].text and replies[-1].buttons == [], "a member sees it, without buttons"
    assert (await item(bot, item_id)).status is AgendaStatus.PROPOSED


async def test_english_texts(bot, coordinator, members):
    ana = members["Ana"]
    await ana.send("/language en")
    s1 = await schedule(bot, coordinator, S1)
    replies = await ana.send("/agenda Report from the advice centre")
    assert "Your topic is saved as #" in replies[-1].text
    assert f"session #{s1} “Auftakt” on Thu, 10 Dec 2026, 14:00, as item 1" in replies[-1].text
    replies = await ana.send("/agenda ak-eu " + "x" * 1001)
    assert "At most 1000 characters" in replies[-1].text


@contextlib.contextmanager
def timer_not_woken(bot):  # type: ignore[no-untyped-def]
    """Commands in this block do not wake the delivery timer, which would move
    what they left to move at once; it stays until the test ticks."""
    runtime = bot.application.bot_data["runtime"]
    wake, runtime.wake = runtime.wake, None
    try:
        yield
    finally:
        runtime.wake = wake


async def moving_found_before_a_proposal(bot, slug: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the look a proposal takes first (`next_session_and_end`, from the
    sessions' side) finds items to move; it must agree with the timer's own list
    (`to_carry`, from the items' side)."""
    now = bot.clock()
    async with bot.db.reader() as uow:
        group = await uow.groups.by_slug(slug)
        assert group is not None
        session, _, _, unsettled = await uow.agenda.next_session_and_end(group.id, now)
        moving = await uow.agenda.to_carry(now, [group.id])
    assert session is not None, "without a session a proposal always looks"
    assert unsettled == bool(moving), (unsettled, [(i.id, i.status, i.occurrence_id) for i in moving])
    return unsettled


async def test_a_proposal_finds_what_has_to_move_as_the_timer_does(bot, coordinator, members):
    """Each case of "may have to move" (a session that started, a cancelled one,
    a waiting item and a session planned since), with many items beside it."""
    await schedule(bot, coordinator, S1)
    s2 = await schedule(bot, coordinator, S2, "Zweite Sitzung")
    for n in range(12):
        await propose(members["Ana" if n % 2 else "Ben"], f"/agenda ak-eu Punkt {n}")
    assert not await moving_found_before_a_proposal(bot, "ak-eu")
    accepted = await propose(members["Ana"], "/agenda ak-eu Angenommen")
    await coordinator.send("/agenda ak-eu")
    await coordinator.press(f"#{accepted} Angenommen")
    await coordinator.press("✅ Annehmen")

    bot.clock.set(datetime(2026, 12, 10, 13, 0, 1, tzinfo=UTC))  # S1 has started: its proposed items may move
    assert await moving_found_before_a_proposal(bot, "ak-eu")
    await bot.tick()
    bot.clock.set(datetime(2026, 12, 10, 15, 0, 1, tzinfo=UTC))
    await bot.tick()  # S1 is over: its proposed items went to S2, the accepted one stays
    assert not await moving_found_before_a_proposal(bot, "ak-eu")
    assert (await item(bot, accepted)).occurrence_id != s2

    third = await schedule(bot, coordinator, "07.01.2027 14:00", "Dritte Sitzung")
    with timer_not_woken(bot):
        await coordinator.send(f"/cancel {s2}")
    assert await moving_found_before_a_proposal(bot, "ak-eu"), "S2 is cancelled and holds the items"
    await bot.tick()
    assert not await moving_found_before_a_proposal(bot, "ak-eu")
    assert {i.occurrence_id for i in await stored(bot) if i.status is AgendaStatus.PROPOSED} == {third}

    waiting = await propose(members["Carl"], "/agenda ak-ehrenamt Wartet auf eine Sitzung")
    assert (await item(bot, waiting)).occurrence_id is None
    with timer_not_woken(bot):
        await coordinator.send("/meeting ak-ehrenamt 14.01.2027 14:00 Ehrenamt")
    assert (await item(bot, waiting)).occurrence_id is None
    assert await moving_found_before_a_proposal(bot, "ak-ehrenamt"), "a session planned since can take it"
