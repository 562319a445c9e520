"""What members see of sessions (SPEC 4), through the emulator.

- An answer shows on the message answered: the chosen button marked "✓", the
  others as before, and changing it moves the mark.
- Later reminders say what the member answered ("Sie haben zugesagt") and
  carry the buttons to change it, the chosen one marked; who has not answered
  is still asked.
- `/meetings` is one compact message with a line and a button per session;
  a button shows the session's card with the answer and calendar buttons, and
  answering there redraws the card. `/meetings all` lists every group the
  person may see (a coordinator: every group); a member asking for another
  group is told it is not theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage.models import Rsvp, RsvpAnswer

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
UNMARKED = ["✅ Zusage", "❌ Absage", "❔ Vielleicht"]


@pytest.fixture
async def group(bot, coordinator):  # type: ignore[no-untyped-def]
    """Ana, Ben and Dora in AK EU, Carl in AK Ehrenamt; the clock at START."""
    bot.clock.set(START)
    members = {}
    for name, slug in (("Ana", "ak-eu"), ("Ben", "ak-eu"), ("Dora", "ak-eu"), ("Carl", "ak-ehrenamt")):
        person = await bot.person(name, username=name.lower())
        await person.register()
        await person.send(f"/join {slug}")
        await coordinator.send(f"/approve @{name.lower()}")
        members[name] = person
    return members


async def schedule(bot, coordinator, command: str) -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(command)
    text = replies[-1].text
    assert "Sitzung #" in text, text
    await bot.tick()
    return int(text.split("Sitzung #")[1].split()[0].rstrip(".:"))


def answer_row(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [label for label, _ in message.buttons[0]]


async def test_the_answer_shows_on_the_invitation_and_can_be_changed(bot, coordinator, group) -> None:  # type: ignore[no-untyped-def]
    ana = group["Ana"]
    await ana.send("/agenda Kinder & Jugend <14: <b>Räume</b>")  # waits for the next session
    sid = await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt")
    invitation = ana.last
    assert "Einladung" in invitation.text and answer_row(invitation) == UNMARKED
    assert invitation.text.endswith("Kommen Sie? Bitte tippen Sie auf eine Antwort.")
    await ana.press("✅ Zusage", invitation)
    assert ana.last.message_id == invitation.message_id, "no new message: the same one, changed"
    assert answer_row(invitation) == ["✓ Zusage", "❌ Absage", "❔ Vielleicht"]
    assert [label for label, _ in invitation.buttons[1]] == ["📅 In meinen Kalender"]
    assert invitation.text.endswith(
        "Sie haben zugesagt. Wenn sich etwas ändert, tippen Sie unten auf eine andere Antwort."
    )
    assert "Kinder & Jugend <14: <b>Räume</b>" in invitation.text and "Auftakt" in invitation.text
    await ana.press("❔ Vielleicht", invitation)
    assert answer_row(invitation) == ["✅ Zusage", "❌ Absage", "✓ Vielleicht"]
    assert "„Vielleicht“ geantwortet" in invitation.text and "zugesagt" not in invitation.text
    async with bot.db.reader() as uow:
        (rsvp,) = (await uow.session.execute(select(Rsvp).where(Rsvp.occurrence_id == sid))).scalars().all()
    assert rsvp.answer is RsvpAnswer.MAYBE
    assert answer_row(group["Ben"].last) == UNMARKED, "Ben's invitation is his own"


async def test_later_reminders_say_what_each_member_answered(bot, coordinator, group) -> None:  # type: ignore[no-untyped-def]
    await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt")
    ana, ben, dora = group["Ana"], group["Ben"], group["Dora"]
    await ana.press("✅ Zusage")
    await ben.press("❔ Vielleicht")
    bot.clock.set(datetime(2026, 12, 3, 13, 0, 1, tzinfo=UTC))  # 7 days before
    assert await bot.tick() == 3
    reminder = ana.last
    assert "Erinnerung" in reminder.text and "Sie haben zugesagt." in reminder.text
    assert "Kommen Sie?" not in reminder.text
    assert answer_row(reminder) == ["✓ Zusage", "❌ Absage", "❔ Vielleicht"]
    assert "„Vielleicht“ geantwortet" in ben.last.text
    assert answer_row(ben.last) == ["✅ Zusage", "❌ Absage", "✓ Vielleicht"]
    assert "Kommen Sie?" in dora.last.text and answer_row(dora.last) == UNMARKED

    # Ana changes her answer under the reminder: marked there, and no reminder follows.
    await ana.press("❌ Absage", reminder)
    assert answer_row(reminder) == ["✅ Zusage", "✓ Absage", "❔ Vielleicht"]
    assert "Sie haben abgesagt." in reminder.text and "Erinnerung" in reminder.text
    seen = len(ana.messages)
    bot.clock.set(datetime(2026, 12, 9, 13, 0, 1, tzinfo=UTC))  # 1 day before
    assert await bot.tick() == 2
    assert len(ana.messages) == seen, "who declined gets no reminder"


async def test_a_moved_session_keeps_the_answer_in_its_notice(bot, coordinator, group) -> None:  # type: ignore[no-untyped-def]
    sid = await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt")
    await group["Ana"].press("✅ Zusage")
    await coordinator.send(f"/reschedule {sid} 17.12.2026 15:00")
    await bot.tick()
    notice = group["Ana"].last
    assert "Neuer Termin" in notice.text and "Sie haben zugesagt." in notice.text
    assert answer_row(notice)[0] == "✓ Zusage"


async def test_meetings_is_one_message_with_a_button_per_session(bot, coordinator, group) -> None:  # type: ignore[no-untyped-def]
    await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Jour fixe | Rathaus | wöchentlich 8 mal")
    ana = group["Ana"]
    replies = await ana.send("/meetings")
    assert len(replies) == 1, "one message, not one per session"
    (listing,) = replies
    assert listing.text.startswith("Ihre nächsten Sitzungen")
    labels = [row[0][0] for row in listing.buttons]
    assert len(labels) == 8 and all(len(row) == 1 for row in listing.buttons)
    assert labels[0].startswith("▫️ #") and "10.12. 14:00" in labels[0] and "Jour fixe" in labels[0]
    assert "Do., 10.12.2026, 14:00 Uhr" in listing.text and "Do., 28.01.2027, 14:00 Uhr" in listing.text
    assert "AK EU: Jour fixe" in listing.text

    # A session's button: its card, with the answer and calendar buttons.
    (card,) = await ana.press(labels[1], listing)
    assert "Jour fixe" in card.text and "Do., 17.12.2026, 14:00 Uhr" in card.text and "Rathaus" in card.text
    assert "noch nicht geantwortet" in card.text
    assert answer_row(card) == UNMARKED and card.buttons[1][0][0] == "📅 In meinen Kalender"
    await ana.press("✅ Zusage", card)
    assert "Ihre Antwort: Zusage" in card.text and answer_row(card) == ["✓ Zusage", "❌ Absage", "❔ Vielleicht"]
    await ana.press("📅 In meinen Kalender", card)
    assert ana.last.document is not None and ana.last.document.name.endswith(".ics")

    (listing,) = await ana.send("/sitzungen")
    assert [row[0][0] for row in listing.buttons][1].startswith("✅ #"), "the list shows her answer"
    assert [row[0][0] for row in listing.buttons][0].startswith("▫️ #")


async def test_the_coordinator_sees_counts_on_the_list_and_the_card(bot, coordinator, group) -> None:  # type: ignore[no-untyped-def]
    await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt")
    await schedule(bot, coordinator, "/meeting ak-ehrenamt 11.12.2026 10:00 Ehrenamtsbörse")
    await group["Ana"].press("✅ Zusage")
    await group["Ben"].press("❌ Absage")
    (listing,) = await coordinator.send("/meetings")
    assert listing.text.startswith("Die nächsten Sitzungen aller Gruppen")
    assert "AK EU: Auftakt" in listing.text and "AK Ehrenamt: Ehrenamtsbörse" in listing.text
    assert "Antworten: Zusage 1 · Absage 1 · Vielleicht 0" in listing.text
    (card,) = await coordinator.press(listing.buttons[0][0][0], listing)
    assert "Antworten: Zusage 1 · Absage 1 · Vielleicht 0" in card.text
    assert [[label for label, _ in row] for row in card.buttons] == [["📅 In meinen Kalender"]], (
        "the coordination is no member of AK EU: nothing to answer"
    )
    (card,) = await coordinator.send("/meetings ak-ehrenamt")
    assert card.text.startswith("Die nächsten Sitzungen von AK Ehrenamt") and "Auftakt" not in card.text


async def test_meetings_all_means_every_group_the_person_may_see(bot, coordinator, group) -> None:  # type: ignore[no-untyped-def]
    await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt")
    await schedule(bot, coordinator, "/meeting ak-ehrenamt 11.12.2026 10:00 Ehrenamtsbörse")
    carl = group["Carl"]
    for command in ("/meetings all", "/meetings alle", "/termine ALL"):
        (reply,) = await carl.send(command)
        assert "kenne ich nicht" not in reply.text
        assert "Ehrenamtsbörse" in reply.text and "Auftakt" not in reply.text, command
    (reply,) = await coordinator.send("/meetings all")
    assert "Ehrenamtsbörse" in reply.text and "Auftakt" in reply.text
    (reply,) = await carl.send("/meetings ak-eu")
    assert "Sie sind nicht Mitglied in AK EU" in reply.text
    stranger = await bot.person("Gast")
    await stranger.register()
    (reply,) = await stranger.send("/meetings all")
    assert "keine Sitzungen" in reply.text


async def test_a_long_list_says_there_are_more(bot, coordinator, group) -> None:  # type: ignore[no-untyped-def]
    await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Jour fixe | Online | wöchentlich 12 mal")
    (listing,) = await group["Ana"].send("/meetings")
    assert len(listing.buttons) == 10 and "/meetings all" in listing.text
    (listing,) = await group["Ana"].send("/meetings all")
    assert len(listing.buttons) == 12 and "/meetings all" not in listing.text


async def test_a_session_button_of_a_cancelled_session_says_so(bot, coordinator, group) -> None:  # type: ignore[no-untyped-def]
    sid = await schedule(bot, coordinator, "/meeting ak-eu 10.12.2026 14:00 Auftakt")
    (listing,) = await group["Ana"].send("/meetings")
    await coordinator.send(f"/cancel {sid}")  # the one-line form acts at once
    replies = await group["Ana"].press(listing.buttons[0][0][0], listing)
    assert any(f"Sitzung #{sid} ist schon abgesagt" in r.text for r in replies), [r.text for r in replies]


async def test_a_long_list_of_long_titles_still_fits_into_one_message(bot, coordinator, group) -> None:  # type: ignore[no-untyped-def]
    title = "Arbeitsmarktintegration " * 8
    await schedule(bot, coordinator, f"/meeting ak-eu 10.12.2026 14:00 {title.strip()} | Online | wöchentlich 35 mal")
    await group["Ana"].press("✅ Zusage")
    replies = await coordinator.send("/meetings all")
    assert len(replies) == 1
    (listing,) = replies
    assert len(listing.text) <= 4096 and len(listing.buttons) == 30
    assert "Hier stehen die nächsten 30; es gibt noch weitere." in listing.text
    assert "Antworten: Zusage 1 · Absage 0 · Vielleicht 0" in listing.text
