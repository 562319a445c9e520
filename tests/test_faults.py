"""Telegram's faults survived: 429 honoured, 5xx and 403 do not stop the bot."""

from __future__ import annotations


async def test_429_is_honoured_and_the_answer_still_arrives(bot):
    ana = await bot.person("Ana")
    bot.emulator.inject_fault("sendMessage", status=429, retry_after=1, times=1)
    replies = await ana.send("/help")
    assert replies and "Was Sie tun können" in replies[-1].text
    statuses = [c.status for c in bot.emulator.calls_of("sendMessage")]
    assert statuses[:2] == [429, 200]


async def test_a_5xx_loses_one_answer_but_the_bot_goes_on(bot):
    ana = await bot.person("Ana")
    bot.emulator.inject_fault("sendMessage", status=502, times=2)
    await ana.send("/help")
    replies = await ana.send("/groups")
    assert "Die Gruppen" in replies[-1].text


async def test_a_coordinator_who_blocked_the_bot_does_not_stop_a_join_request(bot, coordinator):
    await coordinator.send("/help")
    await coordinator.block()
    ana = await bot.person("Ana", username="ana")
    await ana.register()
    replies = await ana.send("/join ak-eu")
    assert "Anfrage für AK EU ist bei der Koordination" in replies[-1].text
    async with bot.db.uow() as uow:
        person = await uow.people.by_telegram_id(coordinator.id)
    assert person is not None and person.unreachable_since is not None
