"""Who may use which command: generated from the command table (`bot.commands`).

Every coordinator command, with and without typical arguments, is refused for
a guest, a member of another group and a member of the group it names, with
the same answer and with the database exactly as before. The coordinator is
not refused any of them. Rights come from the numeric user id only: a guest
who takes the coordinator's username and name gains nothing.
"""

from __future__ import annotations

import pytest

from bot.commands import COMMANDS
from bot.people import Role

ARGS = {
    "pending": "",
    "approve": "@gast_g",
    "reject": "@gast_g",
    "members": "ak-eu",
    "invite": "ak-eu",
    "meeting": "ak-eu 10.12.2026 14:00 Auftakt | Rathaus",
    "reschedule": "1 11.12.2026 15:00",
    "cancel": "1",
    "recommend": "ak-eu Mehr Sprachkurse am Abend",
    "digest": "all 30d",
    "report": "2026-H2",
}
COORDINATOR_COMMANDS = [c for c in COMMANDS if c.role is Role.COORDINATOR]
REFUSED = "Das darf nur die KIM-Koordination. Es wurde nichts geändert."


def test_every_coordinator_command_has_typical_arguments_here() -> None:
    assert {c.name for c in COORDINATOR_COMMANDS} == set(ARGS), "a new command needs a line in ARGS"


@pytest.fixture
async def people(bot, coordinator):  # type: ignore[no-untyped-def]
    """A guest (registered, in no group), a member of AK Ehrenamt, a member of AK EU,
    and one AK EU session (#1), so that every command has something to act on."""
    guest = await bot.person("Gast", username="gast_g")
    await guest.register()
    await guest.send("/join ak-eu")  # a pending request the members must not decide
    other = await bot.person("Olga", username="olga_o")
    await other.register()
    await other.send("/join ak-ehrenamt")
    await coordinator.send("/approve @olga_o")
    member = await bot.person("Mira", username="mira_m")
    await member.register()
    await member.send("/join ak-eu")
    await coordinator.send("/approve @mira_m")
    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Auftakt")
    await bot.tick()
    return {"guest": guest, "member of another group": other, "member": member}


@pytest.mark.parametrize("command", COORDINATOR_COMMANDS, ids=lambda c: c.name)
async def test_coordinator_commands_are_refused_for_everyone_else(
    bot, coordinator, people, command
) -> None:  # type: ignore[no-untyped-def]
    for who, person in people.items():
        for name in (command.name, *command.aliases):
            for args in ("", ARGS[command.name]):
                before = await bot.every_row()
                text = f"/{name} {args}".strip()
                replies = await person.send(text)
                assert [r.text for r in replies] == [REFUSED], f"{who}: {text}"
                assert await bot.every_row() == before, f"{who}: {text} changed the database"
    nobody_else = [
        m
        for p in people.values()
        for m in p.messages
        if "Einladung" in m.text and "Rathaus" in m.text
    ]
    assert nobody_else == [], "no session was scheduled by a refused command"

    replies = await coordinator.send(f"/{command.name} {ARGS[command.name]}".strip())
    assert replies and all(r.text != REFUSED for r in replies), (
        f"the coordinator may /{command.name}"
    )


async def test_a_copied_name_and_username_give_no_rights(bot, coordinator) -> None:  # type: ignore[no-untyped-def]
    impostor = await bot.person("Sabine", username="sabine_kim_", last_name="Weber")
    await impostor.register(name="Sabine Weber")
    for text in ("/pending", "/approve @sabine_kim", "/members ak-eu"):
        assert [r.text for r in await impostor.send(text)] == [REFUSED]
