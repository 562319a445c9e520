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


def labels(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [b[0] for row in message.buttons for b in row]


async def test_unexpected_text_gets_a_short_menu_for_a_guest(bot):
    otto = await bot.person("Otto")
    await otto.register()
    replies = await otto.send("Hallo?")
    menu = replies[-1]
    assert "Tippen Sie auf einen Knopf" in menu.text
    assert labels(menu) == ["👥 Gruppen", "🚪 Gruppe beitreten", "❓ Hilfe"]
    typed = (await otto.send("/groups"))[-1].text
    assert (await otto.press("👥 Gruppen", menu))[-1].text == typed, "the button does what the command does"
    replies = await otto.press("🚪 Gruppe beitreten", menu)
    assert "AK EU" in labels(replies[-1])
    assert "Was Sie tun können" in (await otto.press("❓ Hilfe", menu))[-1].text


async def test_unexpected_text_gets_a_short_menu_for_members_and_coordinators(bot, coordinator):
    mia = await bot.person("Mia", username="mia")
    await mia.register()
    await mia.send("/join ak-eu")
    await coordinator.send("/approve @mia")
    await coordinator.register(name="Sabine Weber")
    for person in (mia, coordinator):
        menu = (await person.send("Guten Tag"))[-1]
        assert labels(menu) == ["📅 Sitzungen", "➕ Thema vorschlagen", "💬 Rückmeldungen", "❓ Hilfe"], person
        for label, command in (("📅 Sitzungen", "/meetings"), ("💬 Rückmeldungen", "/feedback")):
            typed = [m.text for m in await person.send(command)]
            assert [m.text for m in await person.press(label, menu)] == typed, (label, person)
    replies = await mia.press("➕ Thema vorschlagen")
    assert "Welches Thema möchten Sie für AK EU vorschlagen?" in replies[-1].text
    replies = await mia.send("Sprachkurse am Abend")
    assert "Ihr Thema ist gespeichert" in replies[-1].text


async def test_a_forged_menu_button_runs_nothing_else(bot, coordinator):
    mia = await bot.person("Mia", username="mia")
    await mia.register()
    menu = (await mia.send("Hallo"))[-1]
    for data in ("mu:pending", "mu:forget", "mu:frobnicate", "mu:start"):
        replies = await mia.press_data(data, menu)
        assert len(replies) == 1 and "Dieser Knopf" in replies[-1].text, (data, [m.text for m in replies])
    replies = await mia.press_data("mu:meetings", menu)  # not on a guest's menu, but /meetings checks itself
    assert [m.text for m in replies] == [m.text for m in await mia.send("/meetings")]


async def test_examples_in_help_are_never_in_the_past(bot, coordinator):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.core.dates import example_day

    for now in (datetime(2026, 12, 5, 21, 0, tzinfo=UTC), datetime(2031, 3, 1, 8, 0, tzinfo=UTC)):
        bot.clock.set(now)
        day = example_day(now, ZoneInfo("Europe/Berlin"))
        text = (await coordinator.send("/help"))[-1].text
        assert f"/meeting ak-eu {day:%d.%m.%Y} 14:00" in text, text
        assert "03.12.2026" not in text
        replies = await coordinator.send("/meeting ak-eu 31.02.2027 14:00 Test")
        assert f"zum Beispiel {day:%d.%m.%Y}" in replies[-1].text


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


async def test_friendlier_dates_times_and_periods_in_one_line_commands(bot, coordinator):
    from datetime import UTC, datetime

    bot.clock.set(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    replies = await coordinator.send("/meeting ak-eu 18.12. 9 Uhr Auftakt | Rathaus")
    assert "Geplant als Sitzung #" in replies[-1].text and "18.12.2026, 09:00 Uhr" in replies[-1].text, replies[-1].text
    session = int(replies[-1].text.split("Sitzung #")[1].split()[0].strip(".,:"))
    replies = await coordinator.send(f"/reschedule {session} 22.12.26 14 h")
    assert "22.12.2026, 14:00 Uhr" in replies[-1].text, replies[-1].text
    replies = await coordinator.send(f"/reschedule {session} 23.12. 9.30")
    assert "23.12.2026, 09:30 Uhr" in replies[-1].text, replies[-1].text
    for period, shown in (("30 Tage", "die letzten 30 Tage"), ("2 Wochen", "die letzten 14 Tage")):
        replies = await coordinator.send(f"/digest all {period}")
        assert shown in "\n".join(r.text for r in replies), (period, [r.text for r in replies])
    bot.clock.set(datetime(2027, 12, 20, 9, 0, tzinfo=UTC))  # a date without a year counts from the bot's today
    replies = await coordinator.send("/meeting ak-eu 5.1. 14:00 Neujahrsempfang")
    assert "05.01.2028, 14:00 Uhr" in replies[-1].text, replies[-1].text
