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
