"""/profile (alias /profil): a person corrects their display name and
organisation, in one line or with buttons, through the emulator."""

from __future__ import annotations

from storage.models import Person


async def row(bot, person) -> Person:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        found = await uow.people.by_telegram_id(person.id)
    assert found is not None
    return found


async def test_one_line_changes_act_at_once_and_say_old_and_new(bot, coordinator) -> None:  # type: ignore[no-untyped-def]
    maria = await bot.person("Maria", username="maria_m")
    await maria.register(name="Maria Musterfrau", organisation="Caritas")
    (reply,) = await maria.send("/profile name Maria Schmidt")
    assert reply.text == "Gespeichert. Ihr Name war „Maria Musterfrau“, jetzt heißt er „Maria Schmidt“."
    (reply,) = await maria.send("/profil Organisation Caritas Wuppertal")
    assert "war „Caritas“, jetzt ist sie „Caritas Wuppertal“" in reply.text
    person = await row(bot, maria)
    assert (person.display_name, person.organisation) == ("Maria Schmidt", "Caritas Wuppertal")
    (reply,) = await maria.send("/profile organisation -")
    assert reply.text == "Gespeichert. Ihre Organisation „Caritas Wuppertal“ ist entfernt."
    assert (await row(bot, maria)).organisation is None
    (reply,) = await maria.send("/profile name Maria Schmidt")
    assert "schon „Maria Schmidt“" in reply.text

    # Others see the corrected name.
    await maria.send("/join ak-eu")
    replies = await coordinator.send("/pending")
    assert any("Maria Schmidt" in r.text for r in replies)


async def test_the_guided_form_shows_the_profile_and_asks_with_buttons(bot) -> None:  # type: ignore[no-untyped-def]
    maria = await bot.person("Maria", username="maria_m")
    await maria.register(name="Maria Musterfrau", organisation="Caritas")
    (shown,) = await maria.send("/profile")
    assert "Name: Maria Musterfrau" in shown.text and "Organisation: Caritas" in shown.text
    assert "/profile name" in shown.text, "an example of the one-line form"
    assert [row[0][0] for row in shown.buttons] == [
        "✏️ Name ändern",
        "🏢 Organisation ändern",
        "Organisation entfernen",
    ]
    (question,) = await maria.press("✏️ Name ändern", shown)
    assert "Wie sollen wir Sie nennen?" in question.text and "Beispiel" in question.text
    assert shown.buttons == [], "the buttons go once one was pressed"
    (refused,) = await maria.send("M" * 200)
    assert "zu lang" in refused.text
    (reply,) = await maria.send("Maria Schmidt")
    assert "jetzt heißt er „Maria Schmidt“" in reply.text

    (shown,) = await maria.send("/profil")
    await maria.press("🏢 Organisation ändern", shown)
    (reply,) = await maria.send("Diakonie Wuppertal")
    assert "jetzt ist sie „Diakonie Wuppertal“" in reply.text
    (shown,) = await maria.send("/profile")
    (reply,) = await maria.press("Organisation entfernen", shown)
    assert "ist entfernt" in reply.text
    (shown,) = await maria.send("/profile")
    assert "Organisation: keine Angabe" in shown.text
    assert [row[0][0] for row in shown.buttons] == ["✏️ Name ändern", "🏢 Organisation ändern"]
    person = await row(bot, maria)
    assert (person.display_name, person.organisation, person.awaiting) == ("Maria Schmidt", None, None)


async def test_a_command_ends_the_question(bot) -> None:  # type: ignore[no-untyped-def]
    maria = await bot.person("Maria")
    await maria.register(name="Maria Musterfrau")
    await maria.send("/profile")
    await maria.press("✏️ Name ändern")
    await maria.send("/help")
    await maria.send("Ein ganz anderer Text")
    assert (await row(bot, maria)).display_name == "Maria Musterfrau"


async def test_bad_input_gets_an_example_and_changes_nothing(bot) -> None:  # type: ignore[no-untyped-def]
    maria = await bot.person("Maria")
    await maria.register(name="Maria Musterfrau")
    before = await bot.every_row()
    for text in ("/profile alter 30", "/profile name", "/profile organisation"):
        (reply,) = await maria.send(text)
        assert "<code>/profile name Maria Schmidt</code>" in reply.html, text
    (reply,) = await maria.send("/profile name " + "x" * 200)
    assert "zu lang" in reply.text
    assert await bot.every_row() == before


async def test_only_registered_people_have_a_profile(bot) -> None:  # type: ignore[no-untyped-def]
    guest = await bot.person("Gast")
    for text in ("/profile", "/profile name Gast"):
        (reply,) = await guest.send(text)
        assert "Bitte melden Sie sich zuerst an" in reply.text
    async with bot.db.reader() as uow:
        person = await uow.people.by_telegram_id(guest.id)
    assert person is None or person.display_name is None


async def test_profile_in_english_and_in_help(bot) -> None:  # type: ignore[no-untyped-def]
    anna = await bot.person("Anna")
    await anna.register(name="Anna Smith")
    await anna.send("/language en")
    (help_text,) = await anna.send("/help")
    assert "/profile" in help_text.text
    (shown,) = await anna.send("/profile")
    assert "Your profile" in shown.text and "Name: Anna Smith" in shown.text
    (reply,) = await anna.send("/profile organisation Jobcenter")
    assert reply.text == "Saved. Your organisation was “not given”, now it is “Jobcenter”."
