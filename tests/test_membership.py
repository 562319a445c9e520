"""Joining, approval, leaving, members and invites, through the emulator."""

from __future__ import annotations

import pytest

from storage.models import MembershipStatus


async def status_of(bot, telegram_id: int, slug: str) -> MembershipStatus | None:  # type: ignore[no-untyped-def]
    async with bot.db.uow() as uow:
        person = await uow.people.by_telegram_id(telegram_id)
        group = await uow.groups.by_slug(slug)
        membership = await uow.memberships.of(person.id, group.id) if person and group else None
        return membership.status if membership else None


@pytest.fixture
async def alice(bot):  # type: ignore[no-untyped-def]
    person = await bot.person("Alice", username="alice_n")
    await person.register(name="Alice Nowak", organisation="Caritas")
    return person


async def test_join_request_round_trip_with_buttons(bot, coordinator, alice):
    replies = await alice.send("/join ak-eu")
    assert "Anfrage für AK EU ist bei der Koordination" in replies[-1].text
    card = coordinator.last
    assert "Beitrittsanfrage" in card.text and "Alice Nowak" in card.text and "Caritas" in card.text
    assert "@alice_n" in card.text and "AK EU" in card.text
    assert await status_of(bot, alice.id, "ak-eu") is MembershipStatus.PENDING

    await coordinator.press("✅ Annehmen", card)
    edited = next(m for m in coordinator.messages if m.message_id == card.message_id)
    assert "ist jetzt Mitglied in AK EU" in edited.text
    assert edited.buttons == [], "the decided card has no buttons any more"
    assert "Sie sind jetzt Mitglied in AK EU" in alice.last.text
    assert await status_of(bot, alice.id, "ak-eu") is MembershipStatus.APPROVED

    replies = await alice.send("/groups")
    assert "AK EU (ak-eu): Mitglied" in replies[-1].text
    assert "AK Ehrenamt (ak-ehrenamt): nicht Mitglied" in replies[-1].text


async def test_reject_by_command_with_username(bot, coordinator, alice):
    await alice.send("/join ehrenamt")
    replies = await coordinator.send("/reject @alice_n")
    assert "Die Anfrage von Alice Nowak für AK Ehrenamt ist abgelehnt" in replies[-1].text
    assert "leider abgelehnt" in alice.last.text
    assert await status_of(bot, alice.id, "ak-ehrenamt") is MembershipStatus.REJECTED


async def test_approve_by_user_id_and_pending_list(bot, coordinator, alice):
    await alice.send("/join AK EU")
    replies = await coordinator.send("/pending")
    assert "Offene Beitrittsanfragen: 1" in replies[0].text
    assert "Alice Nowak" in replies[1].text and replies[1].buttons
    replies = await coordinator.send(f"/approve {alice.id}")
    assert "ist jetzt Mitglied in AK EU" in replies[-1].text
    replies = await coordinator.send("/pending")
    assert "keine offenen Beitrittsanfragen" in replies[-1].text


async def test_second_decision_is_refused_and_names_the_first(bot, coordinator, alice):
    await coordinator.register(name="Sabine Weber")
    await alice.send("/join ak-eu")
    card = coordinator.last
    membership_id = _membership_id(card)
    await coordinator.press("✅ Annehmen", card)
    replies = await coordinator.press_data(f"dr:{membership_id}:0", card)
    assert "schon entschieden: Mitglied (von Sabine Weber)" in replies[-1].text
    assert await status_of(bot, alice.id, "ak-eu") is MembershipStatus.APPROVED


def _membership_id(card) -> int:  # type: ignore[no-untyped-def]
    for value in (data for row in card.buttons for _, data in row):
        if value and value.startswith("dr:"):
            return int(value.split(":")[1])
    raise AssertionError("no decision button data on the card")


async def test_members_cannot_decide_even_with_forged_callback_data(bot, coordinator, alice):
    mallory = await bot.person("Mallory")
    await mallory.register()
    await alice.send("/join ak-eu")
    membership_id = _membership_id(coordinator.last)
    replies = await mallory.press_data(f"dr:{membership_id}:1", mallory.last)
    assert "Das darf nur die KIM-Koordination" in replies[-1].text
    assert await status_of(bot, alice.id, "ak-eu") is MembershipStatus.PENDING
    for forged in ("dr:abc:1", "dr:1", "zz:1", "jn:99999", "dr:" + "9" * 60):
        await mallory.press_data(forged, mallory.last)
    assert await status_of(bot, alice.id, "ak-eu") is MembershipStatus.PENDING


async def test_coordinator_commands_refused_for_members_and_guests(bot, alice):
    guest = await bot.person("Gus")
    for person in (alice, guest):
        for command in ("/pending", "/approve @alice_n", "/reject 1", "/members", "/invite ak-eu"):
            replies = await person.send(command)
            assert "Das darf nur die KIM-Koordination" in replies[-1].text, command


async def test_join_twice_and_unknown_group(bot, alice):
    await alice.send("/join ak-eu")
    replies = await alice.send("/join ak-eu")
    assert "liegt schon vor" in replies[-1].text
    replies = await alice.send("/join mars")
    assert "Die Gruppe „mars“ kenne ich nicht" in replies[-1].text
    assert "/join ak-eu" in replies[-1].text
    replies = await alice.send("/join ak")
    assert "passt zu mehreren Gruppen" in replies[-1].text


async def test_join_without_argument_offers_buttons(bot, alice):
    replies = await alice.send("/join")
    assert "Welcher Gruppe" in replies[-1].text
    await alice.press("AG Süd-Ost-Europa")
    assert await status_of(bot, alice.id, "ag-soe") is MembershipStatus.PENDING


async def test_guest_must_register_before_joining(bot):
    guest = await bot.person("Gus")
    replies = await guest.send("/join ak-eu")
    assert "Bitte melden Sie sich zuerst an" in replies[-1].text


async def test_approve_someone_who_never_asked(bot, coordinator, alice):
    replies = await coordinator.send("/approve @alice_n")
    assert "hat keine offene Anfrage" in replies[-1].text
    replies = await coordinator.send("/approve @nobody_here")
    assert "Ich kenne niemanden" in replies[-1].text
    replies = await coordinator.send("/approve <b>")
    assert "keine Telegram-ID" in replies[-1].text


async def test_leave_and_members_list(bot, coordinator, alice):
    await alice.send("/join ak-eu")
    await coordinator.send("/approve @alice_n")
    replies = await coordinator.send("/members ak-eu")
    assert "AK EU" in replies[-1].text and "Alice Nowak, Caritas: Mitglied" in replies[-1].text
    replies = await alice.send("/leave ak-eu")
    assert "Sie haben AK EU verlassen" in replies[-1].text
    assert await status_of(bot, alice.id, "ak-eu") is MembershipStatus.LEFT
    replies = await coordinator.send("/members ak-eu")
    assert "Alice Nowak" not in replies[-1].text
    replies = await alice.send("/leave ak-eu")
    assert "nicht Mitglied" in replies[-1].text


async def test_blocked_member_is_shown_unreachable(bot, coordinator, alice):
    await alice.send("/join ak-eu")
    await coordinator.send("/approve @alice_n")
    await alice.block()
    replies = await coordinator.send("/members")
    assert "Alice Nowak, Caritas: nicht erreichbar" in replies[-1].text


async def test_invite_link_joins_without_approval_once(bot, coordinator):
    replies = await coordinator.send("/invite ehrenamt")
    text = replies[-1].text
    assert "Einladungslink für AK Ehrenamt" in text
    token = text.split("?start=")[1].split()[0]
    newcomer = await bot.person("Nina")
    await newcomer.send(f"/start {token}")
    await newcomer.press("✅ Gelesen")
    await newcomer.press("Nina")
    replies = await newcomer.press("Ohne Organisation weiter")
    assert "Willkommen in der Gruppe AK Ehrenamt" in replies[-1].text
    assert await status_of(bot, newcomer.id, "ak-ehrenamt") is MembershipStatus.APPROVED

    other = await bot.person("Otto")
    await other.register()
    replies = await other.send(f"/start {token}")
    assert "schon benutzt" in replies[-1].text
    assert await status_of(bot, other.id, "ak-ehrenamt") is None
    replies = await other.send("/start not-a-real-token")
    assert "ungültig" in replies[-1].text


class TestOpenPolicy:
    @pytest.fixture
    def bot_env(self) -> dict[str, str]:
        return {"JOIN_POLICY": "open"}

    async def test_open_policy_joins_at_once(self, bot, coordinator, alice):
        seen = len(coordinator.messages)
        replies = await alice.send("/join ak-eu")
        assert "Sie sind jetzt Mitglied in AK EU" in replies[-1].text
        assert len(coordinator.messages) == seen, "no request for the coordinators"
        assert await status_of(bot, alice.id, "ak-eu") is MembershipStatus.APPROVED


async def test_approve_a_person_with_several_requests_asks_per_group(bot, coordinator, alice):
    await alice.send("/join ak-eu")
    await alice.send("/join ag-soe")
    replies = await coordinator.send("/approve @alice_n")
    assert "mehrere offene Anfragen" in replies[0].text
    assert len(replies) == 3 and all(r.buttons for r in replies[1:])
    assert await status_of(bot, alice.id, "ak-eu") is MembershipStatus.PENDING
    replies = await coordinator.send("/approve @alice_n soe")
    assert "ist jetzt Mitglied in AG Süd-Ost-Europa" in replies[-1].text
    assert await status_of(bot, alice.id, "ag-soe") is MembershipStatus.APPROVED
    assert await status_of(bot, alice.id, "ak-eu") is MembershipStatus.PENDING
