"""The pages of e-mail links (SPEC 15), served by the bot on PUBLIC_URL: the
links are taken from real mails (a real SMTP server), opened and pressed with
a real HTTP client; the effects are seen in the chat and in the rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage

import httpx
import pytest
from sqlalchemy import select

from storage.mail_models import EmailAddress
from tests.harness import free_port
from tests.mailbox import Mailbox, confirmed, mail_env, text_of

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin


@pytest.fixture
def web_port() -> int:
    return free_port()


@pytest.fixture
def bot_env(mailbox: Mailbox, web_port: int) -> dict[str, str]:
    return mail_env(mailbox, web_port)


@pytest.fixture
async def web():  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(follow_redirects=False) as client:
        yield client


async def member(bot, coordinator, name: str, address: str):  # type: ignore[no-untyped-def]
    """A member of AK EU with a confirmed address."""
    person = await bot.person(name, username=name.lower())
    await person.register(organisation=f"Verein {name}")
    await person.send("/join ak-eu")
    await coordinator.send(f"/approve @{name.lower()}")
    await confirmed(bot, person, address)
    return person


async def mails_sent(bot) -> None:  # type: ignore[no-untyped-def]
    await bot.tick()
    await bot.application.bot_data["mailer"].tick()


def link(mail: EmailMessage, label: str) -> str:
    """The address of the link labelled `label` in a mail's plain text."""
    found = re.search(rf"^.*{re.escape(label)}: (\S+)", text_of(mail), re.M)
    assert found, text_of(mail)
    return found.group(1)


def tampered(url: str) -> str:
    """The same link with one character of its token changed."""
    head, _, token = url.rpartition("/")
    index = 5
    swapped = "B" if token[index] != "B" else "C"
    return f"{head}/{token[:index]}{swapped}{token[index + 1 :]}"


async def invited(bot, coordinator, mailbox, address: str = "ana@example.org"):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    await coordinator.register("Sabine Weber")
    ana = await member(bot, coordinator, "Ana", address)
    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Sitzung im Rathaus")
    await mails_sent(bot)
    return ana, await mailbox.wait_to(address)


async def test_an_answer_link_saves_only_on_the_button_and_shows_in_the_chat(bot, coordinator, mailbox, web):  # type: ignore[no-untyped-def]
    ana, mail = await invited(bot, coordinator, mailbox)
    url = link(mail, "Zusage")
    rows = await bot.every_row()

    opened = await web.get(url)
    assert opened.status_code == 200
    assert "Zusage</b> für AK EU, Do., 10.12.2026, 14:00 Uhr" in opened.text
    assert '<html lang="de">' in opened.text
    assert '<form method="post" action=""><button type="submit">Zusage speichern</button></form>' in opened.text
    assert opened.headers["Cache-Control"] == "no-store"
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    assert opened.headers["X-Robots-Tag"].startswith("noindex")
    assert "set-cookie" not in opened.headers
    assert "http" not in opened.text.split("<body>")[0], "nothing loaded from elsewhere"
    assert (await web.head(url)).status_code == 200
    assert await bot.every_row() == rows, "opening a link changes nothing"

    saved = await web.post(url)
    assert saved.status_code == 200
    assert "Gespeichert: <b>Zusage</b> für AK EU, Do., 10.12.2026, 14:00 Uhr" in saved.text
    assert "Stattdessen: Absage" in saved.text and "Stattdessen: Vielleicht" in saved.text
    replies = await ana.send("/meetings")
    assert "✅ #1" in replies[-1].text

    # the offered change: another link of the same person, pressed in turn
    instead = re.search(r'<a href="([^"]+)">Stattdessen: Absage</a>', saved.text)
    assert instead is not None
    changed = await web.post(instead.group(1).replace("&amp;", "&"))
    assert changed.status_code == 200 and "Gespeichert: <b>Absage</b>" in changed.text
    replies = await ana.send("/meetings")
    assert "❌ #1" in replies[-1].text
    assert (await web.post(url)).status_code == 200, "the first link still holds until the session starts"
    replies = await ana.send("/meetings")
    assert "✅ #1" in replies[-1].text


async def test_a_stance_link_saves_the_stance_the_coordination_sees(bot, coordinator, mailbox, web):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    await coordinator.register("Sabine Weber")
    await member(bot, coordinator, "Ana", "ana@example.org")
    replies = await coordinator.send("/recommend ak-eu Mehr Sprachkurse am Abend anbieten | 15.12.2026")
    rid = int(re.search(r"Empfehlung #(\d+)", replies[-1].text).group(1))  # type: ignore[union-attr]
    await mails_sent(bot)
    mail = await mailbox.wait_to("ana@example.org")
    url = link(mail, "Bedenken")
    rows = await bot.every_row()

    opened = await web.get(url)
    assert opened.status_code == 200
    assert f"<b>Bedenken</b> zu Empfehlung #{rid}" in opened.text
    assert "<blockquote>Mehr Sprachkurse am Abend anbieten</blockquote>" in opened.text
    assert await bot.every_row() == rows

    saved = await web.post(url)
    assert saved.status_code == 200
    assert f"Gespeichert: <b>Bedenken</b> zu Empfehlung #{rid}" in saved.text
    assert "Sie können das bis Di., 15.12.2026" in saved.text
    overview = await coordinator.send(f"/feedback {rid}")
    assert "Bedenken 1" in "\n".join(m.text for m in overview)


async def test_a_tampered_link_is_refused_and_changes_nothing(bot, coordinator, mailbox, web):  # type: ignore[no-untyped-def]
    _, mail = await invited(bot, coordinator, mailbox)
    url = tampered(link(mail, "Zusage"))
    rows = await bot.every_row()

    for response in (await web.get(url), await web.post(url)):
        assert response.status_code == 400
        assert "Dieser Link ist ungültig" in response.text
        assert response.headers["Cache-Control"] == "no-store"
    base = link(mail, "Zusage").rpartition("/m/")[0]
    assert (await web.post(f"{base}/m/nonsense")).status_code == 400
    assert (await web.get(f"{base}/elsewhere")).status_code == 404
    assert await bot.every_row() == rows


async def test_a_link_after_the_session_started_has_expired(bot, coordinator, mailbox, web):  # type: ignore[no-untyped-def]
    _, mail = await invited(bot, coordinator, mailbox)
    url = link(mail, "Zusage")
    bot.clock.set(datetime(2026, 12, 10, 13, 0, tzinfo=UTC))  # 14:00 in Berlin: it starts
    rows = await bot.every_row()

    for response in (await web.get(url), await web.post(url)):
        assert response.status_code == 410
        assert "Dieser Link gilt nicht mehr" in response.text
    assert await bot.every_row() == rows


async def test_a_refusal_of_the_core_is_a_page_and_saves_nothing(bot, coordinator, mailbox, web):  # type: ignore[no-untyped-def]
    ana, mail = await invited(bot, coordinator, mailbox)
    url = link(mail, "Zusage")
    await ana.send("/leave ak-eu")
    rows = await bot.every_row()

    response = await web.post(url)
    assert response.status_code == 409
    assert "Sie sind nicht Mitglied in AK EU" in response.text
    assert await bot.every_row() == rows


async def test_the_confirmation_link_confirms_and_the_chat_offers_the_choice(bot, coordinator, mailbox, web):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await bot.person("Ana", username="ana")
    await ana.register(organisation="Caritas")
    await ana.send("/email ana@example.org")
    await mails_sent(bot)
    mail = await mailbox.wait_to("ana@example.org")
    found = re.search(r"http://\S+/m/\S+", text_of(mail))
    assert found, text_of(mail)
    url = found.group(0).rstrip(").")
    rows = await bot.every_row()

    opened = await web.get(url)
    assert opened.status_code == 200
    assert "<b>ana@example.org</b>" in opened.text and "Bestätigen</button>" in opened.text
    assert await bot.every_row() == rows

    ana.new()
    saved = await web.post(url)
    assert saved.status_code == 200
    assert "Bestätigt: <b>ana@example.org</b>" in saved.text
    async with bot.db.reader() as uow:
        (entry,) = (await uow.session.execute(select(EmailAddress))).scalars().all()
    assert (entry.address, entry.confirmed_at, entry.pending_address) == ("ana@example.org", START, None)
    told = ana.new()
    assert len(told) == 1 and "Bestätigt: ana@example.org" in told[0].text
    labels = [button[0] for row in told[0].buttons for button in row]
    assert len(labels) >= 2 and any("✓" in label for label in labels), labels

    again = await web.post(url)
    assert again.status_code == 200 and "Bestätigt" in again.text
    assert ana.new() == [], "a second press tells the chat nothing new"


async def test_the_page_speaks_the_persons_language(bot, coordinator, mailbox, web):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    await coordinator.register("Sabine Weber")
    ben = await member(bot, coordinator, "Ben", "ben@example.org")
    async with bot.db.uow() as uow:  # Ben reads English (as chosen with /language)
        row = await uow.people.by_telegram_id(ben.id)
        assert row is not None
        row.language = "en"
        await uow.commit()
    await coordinator.send("/meeting ak-eu 10.12.2026 14:00 Sitzung im Rathaus")
    await mails_sent(bot)
    mail = await mailbox.wait_to("ben@example.org")
    url = link(mail, "Maybe")

    opened = await web.get(url)
    assert opened.status_code == 200
    assert '<html lang="en">' in opened.text
    assert "<b>Maybe</b> for AK EU, Thu, 10 Dec 2026, 14:00" in opened.text
    saved = await web.post(url)
    assert "Saved: <b>Maybe</b>" in saved.text and "Instead: Yes" in saved.text
