"""Help, language, unknown input and group chats, through the emulator."""

from __future__ import annotations


async def test_help_shows_only_what_each_role_may_use(bot, coordinator):
    guest = await bot.person("Gus")
    text = (await guest.send("/help"))[-1].text
    assert "/join" in text and "/pending" not in text and "/leave" not in text
    assert "Beispiel: /join ak-eu" in text

    member = await bot.person("Mia", username="mia")
    await member.register()
    await member.send("/join ak-eu")
    await coordinator.send("/approve @mia")
    text = (await member.send("/help"))[-1].text
    assert "/leave" in text and "/approve" not in text

    text = (await coordinator.send("/help"))[-1].text
    for command in ("/pending", "/approve", "/reject", "/members", "/invite", "/join"):
        assert command in text


async def test_language_switch_with_buttons_and_argument(bot):
    lena = await bot.person("Lena")
    replies = await lena.send("/language")
    assert [b[0] for b in replies[-1].buttons[0]] == ["Deutsch", "English"]
    replies = await lena.press("English")
    assert "in English now" in replies[-1].text
    assert "What you can do" in (await lena.send("/help"))[-1].text
    replies = await lena.send("/sprache de")
    assert "auf Deutsch" in replies[-1].text
    replies = await lena.send("/language fr")
    assert "Die Sprache „fr“ gibt es nicht" in replies[-1].text


async def test_unknown_command_and_stray_text(bot):
    otto = await bot.person("Otto")
    replies = await otto.send("/frobnicate now")
    assert "Den Befehl /frobnicate kenne ich nicht" in replies[-1].text
    await otto.register()
    replies = await otto.send("Hallo Bot, wie geht's?")
    assert "Ich erwarte gerade keinen Text" in replies[-1].text


async def test_german_aliases(bot):
    otto = await bot.person("Otto")
    assert "Was Sie tun können" in (await otto.send("/hilfe"))[-1].text
    assert "Die Gruppen" in (await otto.send("/gruppen"))[-1].text


async def test_group_chats_get_a_pointer_to_the_private_chat_and_nothing_else(bot, coordinator):
    ana = await bot.person("Ana")
    group = bot.emulator.add_group_chat("AK EU Runde", members=[ana.user, coordinator.user])
    bot.emulator.send_text(ana.user, "Hallo zusammen, wann ist das nächste Treffen?", chat=group)
    bot.emulator.send_text(ana.user, "/join ak-eu", chat=group)
    bot.emulator.send_text(coordinator.user, "/pending", chat=group)
    await bot.settle()
    in_group = bot.emulator.messages(group.id)
    assert len(in_group) == 2, "one pointer per command, nothing for plain talk"
    assert all("nur im privaten Chat" in m.text and "@kim_test_bot" in m.text for m in in_group)
    assert ana.messages == [] and coordinator.messages == []
    async with bot.db.uow() as uow:
        person = await uow.people.by_telegram_id(ana.id)
        assert person is None, "writing in a group makes no one known to the bot"


async def test_documents_and_other_non_text_messages_get_a_polite_answer(bot):
    ana = await bot.person("Ana")
    bot.emulator.send_document(ana.user, "liste.pdf", b"%PDF-1.4 test")
    await bot.settle()
    assert "Ich kann nur Text lesen" in ana.last.text


async def test_many_people_at_once_on_one_database(bot, coordinator):
    """Concurrent handlers: no "database is locked", nobody lost, nothing doubled."""
    people = [await bot.person(f"P{i}", username=f"p_{i}") for i in range(12)]
    for person in people:
        bot.emulator.send_text(person.user, "/start")
    await bot.settle()
    for person in people:
        bot.emulator.press_button(person.user, person.messages[-1], "✅ Gelesen")
    await bot.settle()
    for person in people:
        bot.emulator.send_text(person.user, f"Name {person.user.first_name}")
    await bot.settle()
    for person in people:
        bot.emulator.send_text(person.user, "Verein")
    await bot.settle()
    for person in people:
        bot.emulator.send_text(person.user, "/join ak-eu")
    await bot.settle()
    for person in people:
        assert "Anfrage für AK EU ist bei der Koordination" in person.last.text, person.texts
    cards = [m for m in coordinator.messages if "Beitrittsanfrage" in m.text]
    assert len(cards) == len(people)
    failures = [c for c in bot.emulator.calls if c.status != 200 and c.method != "getUpdates"]
    assert failures == []
