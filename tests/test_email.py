"""/email in the chat (SPEC 15), against a real SMTP server: giving an address
and confirming it with the code from the mail, the choice buttons, erasing it,
bad input (not an address, a wrong code three times, e-mail not set up), a
person who writes again after blocking the bot, each member's channels in
/members, the address in /mydata, and /forget erasing it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage.mail_models import EmailAddress, Mail, MailMode, MailPurpose
from storage.models import DeliveryStatus
from tests.mailbox import Mailbox, mail_env, text_of

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
ALL = "Alles auch per E-Mail"
FALLBACK = "Nur wenn Telegram mich nicht erreicht"


@pytest.fixture
def bot_env(mailbox: Mailbox) -> dict[str, str]:
    return mail_env(mailbox)


async def member(bot, coordinator, name: str):  # type: ignore[no-untyped-def]
    """A registered member of AK EU."""
    person = await bot.person(name, username=name.lower())
    await person.register()
    await person.send("/join ak-eu")
    await coordinator.send(f"/approve @{name.lower()}")
    return person


async def send_mails(bot) -> int:  # type: ignore[no-untyped-def]
    await bot.tick()
    return await bot.application.bot_data["mailer"].tick()


async def code_from_mail(bot, mailbox: Mailbox, address: str, count: int = 1) -> str:  # type: ignore[no-untyped-def]
    await send_mails(bot)
    mail = await mailbox.wait_to(address, count)
    found = re.search(r"\b(\d{6})\b", text_of(mail))
    assert found is not None, text_of(mail)
    return found.group(1)


async def opt_in(bot, mailbox: Mailbox, person, address: str) -> None:  # type: ignore[no-untyped-def]
    await person.send(f"/email {address}")
    code = await code_from_mail(bot, mailbox, address)
    (reply,) = await person.send(code)
    assert reply.text.startswith(f"Bestätigt: {address}"), reply.text


async def entry_of(bot, person) -> EmailAddress | None:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        row = await uow.people.by_telegram_id(person.id)
        return None if row is None else await uow.mail.address_of(row.id)


def labels(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [label for row in message.buttons for label, *_ in row]


async def test_opt_in_by_the_code_from_the_real_mail(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    (reply,) = await ana.send("/email  Ana.Berg@Stadt.Example.DE ")
    assert "Wir haben eine E-Mail an Ana.Berg@stadt.example.de geschickt" in reply.text
    assert "Code aus der E-Mail (6 Ziffern)" in reply.text
    entry = await entry_of(bot, ana)
    assert entry is not None and entry.pending_address == "Ana.Berg@stadt.example.de" and entry.address is None

    (state,) = await ana.send("/email")
    assert "Wir warten auf die Bestätigung von Ana.Berg@stadt.example.de" in state.text
    code = await code_from_mail(bot, mailbox, "Ana.Berg@stadt.example.de")
    (reply,) = await ana.send(f"{code[:3]} {code[3:]}")  # typed with a space: still the code
    assert reply.text.startswith("Bestätigt: Ana.Berg@stadt.example.de")
    assert labels(reply) == [f"✓ {ALL}", FALLBACK]
    entry = await entry_of(bot, ana)
    assert entry is not None
    assert (entry.address, entry.confirmed_at, entry.mode, entry.pending_address) == (
        "Ana.Berg@stadt.example.de",
        START,
        MailMode.ALL,
        None,
    )
    (state,) = await ana.send("/email")
    assert "Ihre E-Mail-Adresse: Ana.Berg@stadt.example.de" in state.text
    assert labels(state) == [f"✓ {ALL}", FALLBACK, "Adresse löschen"]
    assert len(mailbox.mails) == 1, "only the confirmation mail"
    (again,) = await ana.send("/email ana.berg@stadt.example.de")
    assert "schon bestätigt" in again.text


async def test_the_choice_buttons_save_and_show_the_choice(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    await opt_in(bot, mailbox, ana, "ana@example.org")
    await ana.press(FALLBACK)
    assert (await entry_of(bot, ana)).mode is MailMode.FALLBACK  # type: ignore[union-attr]
    shown = ana.messages[-1]
    assert "nur, wenn Telegram Sie nicht erreicht" in shown.text
    assert labels(shown) == [ALL, f"✓ {FALLBACK}", "Adresse löschen"]
    await ana.press(ALL)
    assert (await entry_of(bot, ana)).mode is MailMode.ALL  # type: ignore[union-attr]
    assert labels(ana.messages[-1]) == [f"✓ {ALL}", FALLBACK, "Adresse löschen"]


async def test_opt_out_erases_the_address_and_the_unsent_mails(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    await opt_in(bot, mailbox, ana, "ana@example.org")
    await mailbox.away()  # an announcement is owed by mail, not sent yet
    await coordinator.send("/announce ak-eu Die Sitzung ist im Raum 210.")
    await send_mails(bot)
    async with bot.db.reader() as uow:
        owed = (await uow.session.execute(select(Mail.status).where(Mail.purpose == MailPurpose.DELIVERY))).all()
    assert [r[0] for r in owed] == [DeliveryStatus.PENDING]

    (reply,) = await ana.send("/email off")
    assert reply.text == "Ihre E-Mail-Adresse ist gelöscht. Sie bekommen keine E-Mails mehr vom Bot."
    assert await entry_of(bot, ana) is None
    async with bot.db.reader() as uow:
        left = (await uow.session.execute(select(Mail.status))).all()
    assert [r[0] for r in left] == [DeliveryStatus.SENT], "only the confirmation mail, already sent"
    (reply,) = await ana.send("/email off")
    assert reply.text == "Es ist keine E-Mail-Adresse gespeichert. Es gibt nichts zu löschen."

    # With the button: it asks first.
    await opt_in(bot, mailbox, ana, "ana@example.org")
    await ana.send("/email")
    await ana.press("Adresse löschen")
    assert "Möchten Sie die Adresse ana@example.org löschen?" in ana.messages[-1].text
    await ana.press("Nein, behalten")
    assert (await entry_of(bot, ana)) is not None
    await ana.press("Adresse löschen")
    await ana.press("Ja, löschen")
    assert ana.messages[-1].text.startswith("Ihre E-Mail-Adresse ist gelöscht.")
    assert await entry_of(bot, ana) is None


async def test_not_an_address_gets_an_example_and_nothing_is_stored(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    await bot.tick()  # what the timer plans by itself (the digest) is planned before
    before = await bot.every_row()
    for typed in ("ana.example.org", "ana@", "<b>x</b>@"):
        (reply,) = await ana.send(f"/email {typed}")
        assert f"„{typed}“ ist keine E-Mail-Adresse. Es wurde nichts gespeichert." in reply.text
        assert "/email vorname.name@stadt.example.de" in reply.text
    assert await bot.every_row() == before
    assert mailbox.mails == []
    (reply,) = await ana.send("/email")
    assert "Sie bekommen keine E-Mails vom Bot." in reply.text and "Beispiel:" in reply.text


async def test_a_code_typed_wrong_three_times_ends_the_request(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    await ana.send("/email ana@example.org")
    code = await code_from_mail(bot, mailbox, "ana@example.org")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    (reply,) = await ana.send("hallo")
    assert "6 Ziffern, zum Beispiel 123456" in reply.text, "no code: not counted"
    assert [r.text for r in await ana.send(wrong)] == ["Der Code stimmt nicht. Sie haben noch 2 Versuche."]
    assert [r.text for r in await ana.send(wrong)] == ["Der Code stimmt nicht. Sie haben noch 1 Versuch."]
    (reply,) = await ana.send(wrong)
    assert reply.text.startswith("Der Code stimmt wieder nicht. Die Adresse wurde nicht bestätigt.")
    assert "/email vorname.name@stadt.example.de" in reply.text
    entry = await entry_of(bot, ana)
    assert entry is not None and entry.pending_address is None and entry.address is None
    replies = await ana.send(code)  # the right code now: the request is over
    assert all("Bestätigt" not in r.text for r in replies)
    assert (await entry_of(bot, ana)).address is None  # type: ignore[union-attr]

    await ana.send("/email ana@example.org")  # asked again: a new code, which confirms
    code = await code_from_mail(bot, mailbox, "ana@example.org", 2)
    (reply,) = await ana.send(code)
    assert reply.text.startswith("Bestätigt: ana@example.org")


@pytest.mark.parametrize("bot_env", [{}])
async def test_without_mail_set_up_it_says_so_politely(bot, coordinator):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    await bot.tick()  # what the timer plans by itself (the digest) is planned before
    before = await bot.every_row()
    for text in ("/email ana@example.org", "/email"):
        (reply,) = await ana.send(text)
        assert "E-Mail ist bei diesem Bot nicht eingerichtet." in reply.text
    assert await bot.every_row() == before
    replies = await coordinator.send("/members ak-eu")
    assert "E-Mail" not in replies[0].text and "Telegram" not in replies[0].text


async def test_fallback_mode_and_writing_again_after_blocking(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    ben = await member(bot, coordinator, "Ben")
    await opt_in(bot, mailbox, ana, "ana@example.org")
    await ana.press(FALLBACK)
    await opt_in(bot, mailbox, ben, "ben@example.org")

    (listing,) = await coordinator.send("/members ak-eu")
    assert "Ana, ohne Organisation: Mitglied, Telegram, E-Mail als Ersatz" in listing.text
    assert "Ben, ohne Organisation: Mitglied, Telegram + E-Mail" in listing.text

    ana.user.blocked = True  # Telegram's notice of it has not come: the next message gets a 403
    await coordinator.send("/announce ak-eu Raum 210.")
    await send_mails(bot)
    mail = await mailbox.wait_for(lambda m: "Raum 210." in text_of(m) and m["To"] == "ana@example.org")
    assert mail is not None
    (listing,) = await coordinator.send("/members ak-eu")
    assert "Ana, ohne Organisation: nicht erreichbar, E-Mail (Telegram blockiert)" in listing.text

    ana.user.blocked = False  # she opens the chat again and writes
    await ana.send("/email")
    assert (await entry_of(bot, ana)) is not None
    async with bot.db.reader() as uow:
        row = await uow.people.by_telegram_id(ana.id)
        assert row is not None and row.unreachable_since is None, "writing makes her reachable"
    await coordinator.send("/announce ak-eu Raum 211.")
    await send_mails(bot)
    assert any("Raum 211." in m.text for m in ana.messages), "Telegram again"
    await mailbox.wait_for(lambda m: "Raum 211." in text_of(m) and m["To"] == "ben@example.org")
    assert not any("Raum 211." in text_of(m) for m in mailbox.to("ana@example.org")), "no mail in fallback mode"
    (listing,) = await coordinator.send("/members ak-eu")
    assert "Ana, ohne Organisation: Mitglied, Telegram, E-Mail als Ersatz" in listing.text


async def test_members_shows_nur_telegram_and_a_bounced_address(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    await member(bot, coordinator, "Cem")
    dana = await member(bot, coordinator, "Dana")
    await opt_in(bot, mailbox, dana, "dana@example.org")
    mailbox.refuse("dana@example.org")
    await coordinator.send("/announce ak-eu Raum 212.")
    await send_mails(bot)
    entry = await entry_of(bot, dana)
    assert entry is not None and entry.bounced_at is not None
    (listing,) = await coordinator.send("/members ak-eu")
    assert "Cem, ohne Organisation: Mitglied, nur Telegram" in listing.text
    assert "Dana, ohne Organisation: Mitglied, E-Mail unzustellbar" in listing.text
    (state,) = await dana.send("/email")
    assert "dana@example.org ist nicht erreichbar" in state.text


async def test_mydata_shows_the_address_and_forget_erases_it(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    await opt_in(bot, mailbox, ana, "ana@example.org")
    await ana.press(FALLBACK)
    await ana.send("/email neu@example.org")  # a second address waits for its confirmation
    await send_mails(bot)
    await mailbox.wait_to("neu@example.org")

    replies = await ana.send("/mydata")
    documents = [r for r in replies if r.document is not None]
    assert len(documents) == 2
    readable = documents[0].document.data.decode("utf-8")
    data = json.loads(documents[1].document.data)
    assert "Bestätigte Adresse: ana@example.org" in readable
    assert "Per E-Mail kommt: nur, wenn Telegram Sie nicht erreicht" in readable
    assert "Wartet auf Bestätigung: neu@example.org" in readable
    assert data["email"]["address"] == "ana@example.org"
    assert data["email"]["mode"] == "fallback" and data["email"]["pending_address"] == "neu@example.org"
    assert [m["address"] for m in data["mails_from_the_bot"]] == ["ana@example.org", "neu@example.org"]

    await ana.send("/forget")
    await ana.press(bot.label("privacy.forget_yes_button"))
    async with bot.db.reader() as uow:
        addresses = (await uow.session.execute(select(EmailAddress))).scalars().all()
        mails = (await uow.session.execute(select(Mail))).scalars().all()
    assert addresses == [] and mails == []
    assert "example.org" not in await bot.every_row(inbox=True)


async def test_a_code_after_24_hours_is_refused_and_the_request_ends(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    await ana.send("/email ana@example.org")
    code = await code_from_mail(bot, mailbox, "ana@example.org")
    bot.clock.advance(hours=24, seconds=1)
    (reply,) = await ana.send(code)
    assert reply.text.startswith("Die Bestätigung gilt nicht mehr")
    entry = await entry_of(bot, ana)
    assert entry is not None and entry.pending_address is None and entry.address is None


async def test_at_most_five_confirmations_a_day_so_nobody_floods_a_mailbox(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    for number in range(5):
        await ana.send(f"/email opfer{number}@example.org")
    await bot.application.bot_data["mailer"].tick()
    await mailbox.wait_to("opfer4@example.org")  # a request replaced before its mail left is not sent
    (reply,) = await ana.send("/email opfer@example.org")
    assert "schon 5 Bestätigungen angefordert" in reply.text and "morgen" in reply.text
    entry = await entry_of(bot, ana)
    assert entry is not None and entry.pending_address == "opfer4@example.org"
    bot.clock.advance(days=1, seconds=1)
    await ana.send("/email ana@example.org")
    await bot.application.bot_data["mailer"].tick()
    await mailbox.wait_to("ana@example.org")
    assert mailbox.to("opfer@example.org") == []
    assert all(len(mailbox.to(f"opfer{n}@example.org")) <= 1 for n in range(5))
