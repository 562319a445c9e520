"""Registration through the emulator: /start, privacy notice, name, organisation."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Person


async def person_row(bot, telegram_id: int) -> Person | None:  # type: ignore[no-untyped-def]
    async with bot.db.uow() as uow:
        return await uow.people.by_telegram_id(telegram_id)


async def test_start_walks_through_privacy_name_and_organisation(bot):
    alice = await bot.person("Alice", last_name="Nowak", username="alice_n")
    replies = await alice.send("/start")
    assert "Willkommen beim KIM-Bot" in replies[0].text
    assert "Datenschutzhinweise" in " ".join(m.text for m in replies)
    assert "Art. 6" in " ".join(m.text for m in replies), "the notice names the legal basis"
    assert replies[-1].buttons[0][0][0] == "✅ Gelesen"

    replies = await alice.press("✅ Gelesen")
    assert "Wie sollen wir Sie nennen" in replies[-1].text
    assert replies[-1].buttons[0][0][0] == "Alice Nowak", "Telegram's name is offered"

    replies = await alice.send("Alicja Nowak-Kowalska")
    assert "Für welche Organisation" in replies[-1].text
    replies = await alice.send("Caritas Wuppertal")
    assert "Sie sind registriert" in replies[-1].text
    labels = [row[0][0] for row in replies[-1].buttons]
    assert labels == [
        "AK EU",
        "AK Ehrenamt",
        "AK Arbeitsmarktintegration",
        "AG Süd-Ost-Europa",
        "Lenkungskreis Integration",
    ]

    row = await person_row(bot, alice.id)
    assert row is not None
    assert row.display_name == "Alicja Nowak-Kowalska"
    assert row.organisation == "Caritas Wuppertal"
    assert row.privacy_acknowledged_at is not None and row.registered_at is not None
    assert row.awaiting is None


async def test_telegram_name_button_and_skipping_the_organisation(bot):
    bob = await bot.person("Bob")
    await bob.register()
    row = await person_row(bot, bob.id)
    assert row.display_name == "Bob" and row.organisation is None and row.registered_at is not None
    replies = await bob.send("/start")
    assert "Willkommen zurück, Bob" in replies[-1].text


async def test_text_before_acknowledging_asks_for_the_button(bot):
    carla = await bot.person("Carla")
    await carla.send("/start")
    replies = await carla.send("Carla")
    assert "„✅ Gelesen“" in replies[-1].text
    assert (await person_row(bot, carla.id)).display_name is None


async def test_a_5000_character_name_is_refused_and_nothing_saved(bot):
    dan = await bot.person("Dan")
    await dan.send("/start")
    await dan.press("✅ Gelesen")
    replies = await dan.send("x" * 5000)
    assert "zu lang (5000 Zeichen)" in replies[-1].text
    assert "höchstens 64" in replies[-1].text
    row = await person_row(bot, dan.id)
    assert row.display_name is None and row.awaiting == "name"
    replies = await dan.send("Dan")
    assert "Für welche Organisation" in replies[-1].text


async def test_html_in_names_and_organisations_is_shown_literally(bot, coordinator):
    eve = await bot.person("Eve")
    await eve.send("/start")
    await eve.press("✅ Gelesen")
    await eve.send("<b>Eve</b> & *Co* _x_")
    replies = await eve.send("<script>alert(1)</script> e.V. & Partner")
    assert "Fertig, <b>Eve</b> & *Co* _x_!" in replies[-1].text
    await eve.press("AK EU")
    card = coordinator.last
    assert "<script>alert(1)</script> e.V. & Partner" in card.text
    assert "&lt;script&gt;" in card.html


async def test_pressing_an_old_registration_button_again_changes_nothing(bot):
    fay = await bot.person("Fay")
    await fay.register(name="Fay Example", organisation="Jobcenter")
    name_question = next(m for m in fay.messages if "Wie sollen wir Sie nennen" in m.text)
    # The keyboard was removed after use; a forged press of the same data is refused.
    replies = await fay.press_data("nm", name_question)
    assert (await person_row(bot, fay.id)).display_name == "Fay Example"
    assert [r.text for r in replies] == ["Dieser Knopf gilt nicht mehr."]


async def test_english_speakers_get_english_texts(bot):
    george = await bot.person("George", language_code="en-GB")
    replies = await george.send("/start")
    assert "Welcome to KIM-Bot" in replies[0].text
    assert replies[-1].buttons[0][0][0] == "✅ I have read it"


async def test_one_row_per_person_however_often_they_start(bot):
    hana = await bot.person("Hana")
    for _ in range(3):
        await hana.send("/start")
    async with bot.db.uow() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(Person).where(Person.telegram_id == hana.id))
    assert count == 1
