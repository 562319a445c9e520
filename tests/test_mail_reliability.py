"""E-mail with the guarantees of Telegram (SPEC 15), against a real SMTP server:
"only when Telegram cannot reach me" (the message Telegram refused with 403
goes by mail exactly once, later ones only by mail, Telegram again once the
person writes); a mail server away for a while, a passing refusal (451) and a
refused address (550); the mails leave in order; and a `kill -9` of
`kimbot run` in the middle of a mail fan-out loses no mail and doubles at
most those in flight."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.mail_routing import BY_MAIL
from bot.dev.emulator import Emulator
from bot.mail.outbox import RETRY_AFTER
from storage.database import Database
from storage.mail_models import EmailAddress, Mail, MailMode
from storage.models import Delivery, DeliveryKind, DeliveryStatus, Person
from tests import test_mail_delivery as delivery
from tests.bot_process import WAIT, launch, logs
from tests.factories import session_owed_to_members
from tests.mailbox import Mailbox, confirmed, mail_env, text_of
from tests.test_digest import kimbot
from tests.test_mail_delivery import member, send_mails

# The fixtures of the mail tests: a real SMTP server, and the bot configured to use it.
pages, mail_extra, bot_env = delivery.pages, delivery.mail_extra, delivery.bot_env

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
HEADING = "Mitteilung der KIM-Koordination"


async def announce(bot, coordinator, text: str) -> None:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(f"/announce ak-eu {text}")
    assert "wird verschickt" in replies[-1].text, replies[-1].text


def by_telegram(person, text: str) -> int:  # type: ignore[no-untyped-def]
    return sum(HEADING in m.text and text in m.text for m in person.messages)


def by_mail(box: Mailbox, address: str, text: str) -> int:
    return sum(text in text_of(m) for m in box.to(address))


async def mail_rows(bot) -> list[Mail]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return list((await uow.session.execute(select(Mail).order_by(Mail.id))).scalars().all())


async def test_only_when_telegram_cannot_reach_them(bot, coordinator, mailbox, tmp_path, database_url, monkeypatch):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    ana = await member(bot, coordinator, "Ana")
    await confirmed(bot, ana, "ana@example.org", MailMode.FALLBACK)
    mailer = bot.application.bot_data["mailer"]

    await announce(bot, coordinator, "Erste Nachricht.")
    await send_mails(bot)
    assert by_telegram(ana, "Erste Nachricht.") == 1
    assert await mail_rows(bot) == [] and mailbox.mails == [], "nothing by mail while Telegram reaches her"

    # She blocks the bot; Telegram's notice of it has not come yet: the next message gets a 403.
    ana.user.blocked = True
    await announce(bot, coordinator, "Zweite Nachricht.")
    await send_mails(bot)
    await mailbox.wait_to("ana@example.org")
    await send_mails(bot)
    assert await mailer.tick() == 0
    assert by_mail(mailbox, "ana@example.org", "Zweite Nachricht.") == 1, "the refused message, by mail, once"
    async with bot.db.reader() as uow:
        person = await uow.people.by_telegram_id(ana.id)
        assert person is not None and person.unreachable_since is not None

    sent_before = len([c for c in bot.emulator.calls if c.chat_id == ana.id])
    await announce(bot, coordinator, "Dritte Nachricht.")
    await send_mails(bot)
    await mailbox.wait_to("ana@example.org", 2)
    assert by_mail(mailbox, "ana@example.org", "Dritte Nachricht.") == 1
    assert len([c for c in bot.emulator.calls if c.chat_id == ana.id]) == sent_before, "Telegram is not tried"
    async with bot.db.reader() as uow:
        rows = (
            await uow.session.execute(
                select(Delivery.status, Delivery.error)
                .join(Person, Person.id == Delivery.person_id)
                .where(Person.telegram_id == ana.id, Delivery.kind == DeliveryKind.ANNOUNCEMENT)
                .order_by(Delivery.id)
            )
        ).all()
    (_, _), (refused, why), (skipped, reason) = rows
    assert refused is DeliveryStatus.FAILED and "blocked" in (why or ""), "Telegram's 403 is kept"
    assert (skipped, reason) == (DeliveryStatus.SKIPPED, BY_MAIL)
    replies = await coordinator.send("/digest ak-eu")
    digest = "\n".join(r.text for r in replies)
    assert "📵 1 nicht erreichbar: Ana" in digest and "davon per E-Mail erreicht: 1" in digest, digest
    for name, value in mail_env(mailbox).items():
        monkeypatch.setenv(name, value)
    printed = await kimbot(tmp_path, database_url, "ak-eu", "--format", "json")
    assert printed.returncode == 0, printed.stderr
    (eu,) = json.loads(printed.stdout)["groups"]
    assert eu["unreachable"]["total"] == 1 and eu["unreachable_by_mail"] == 1

    # She unblocks the bot and writes to it: Telegram again, and nothing by mail.
    bot.emulator.unblock(ana.user)
    await bot.settle()
    await ana.send("/help")
    await announce(bot, coordinator, "Vierte Nachricht.")
    await send_mails(bot)
    assert by_telegram(ana, "Vierte Nachricht.") == 1
    assert await mailer.tick() == 0
    assert len(mailbox.to("ana@example.org")) == 2
    assert [m.status for m in await mail_rows(bot)] == [DeliveryStatus.SENT] * 2


async def test_the_mail_server_away_for_a_while_nothing_lost_nothing_doubled(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    names = ("Ana", "Ben", "Carl")
    for name in names:
        await confirmed(bot, await member(bot, coordinator, name), f"{name.lower()}@example.org")
    mailer = bot.application.bot_data["mailer"]
    await mailbox.away()
    await announce(bot, coordinator, "Raum 210.")
    await announce(bot, coordinator, "Raum 211.")
    await send_mails(bot)
    assert await mailer.tick() == 0
    rows = await mail_rows(bot)
    assert len(rows) == 6 and all(r.status is DeliveryStatus.PENDING and r.due_at > START for r in rows)
    assert all(r.error for r in rows), "the reason is kept"

    bot.clock.advance(seconds=RETRY_AFTER[0].total_seconds())  # the server is still away
    assert await mailer.tick() == 0
    await mailbox.back()
    assert await mailer.tick() == 0, "not before the pause is over"
    bot.clock.advance(seconds=RETRY_AFTER[1].total_seconds())
    assert await mailer.tick() == 6
    assert await mailer.tick() == 0
    for name in names:
        address = f"{name.lower()}@example.org"
        assert len(mailbox.to(address)) == 2, name
        assert by_mail(mailbox, address, "Raum 210.") == by_mail(mailbox, address, "Raum 211.") == 1
    assert {r.status for r in await mail_rows(bot)} == {DeliveryStatus.SENT}


async def test_a_passing_refusal_is_retried_and_a_refused_address_is_marked(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    for name in ("Ana", "Ben", "Carl"):
        await confirmed(bot, await member(bot, coordinator, name), f"{name.lower()}@example.org")
    mailer = bot.application.bot_data["mailer"]
    mailbox.defer("ana@example.org")
    mailbox.refuse("ben@example.org")
    await announce(bot, coordinator, "Raum 210.")
    await send_mails(bot)
    await mailbox.wait_to("carl@example.org")
    assert mailbox.to("ana@example.org") == mailbox.to("ben@example.org") == []
    by_address = {r.address: r for r in await mail_rows(bot)}
    assert by_address["ana@example.org"].status is DeliveryStatus.PENDING
    assert (by_address["ana@example.org"].error or "").startswith("451")
    assert by_address["ben@example.org"].status is DeliveryStatus.FAILED
    assert (by_address["ben@example.org"].error or "").startswith("550")
    async with bot.db.reader() as uow:
        ben = await uow.people.by_telegram_id(bot.people["Ben"].id)
        assert ben is not None
        entry = await uow.mail.address_of(ben.id)
    assert entry is not None and entry.bounced_at is not None and entry.usable is None
    assert "User unknown" in (entry.bounce or "")

    mailbox.deferred.clear()
    bot.clock.advance(seconds=RETRY_AFTER[0].total_seconds())
    assert await mailer.tick() == 1
    assert len(mailbox.to("ana@example.org")) == 1

    await announce(bot, coordinator, "Raum 211.")
    await send_mails(bot)
    await mailbox.wait_to("ana@example.org", 2)
    assert [r.address for r in await mail_rows(bot)].count("ben@example.org") == 1, "no more mails to Ben"
    assert by_telegram(bot.people["Ben"], "Raum 211.") == 1, "Telegram still reaches Ben"


@pytest.mark.parametrize("mail_extra", [{"MAIL_RATE": "50"}])
async def test_the_mails_leave_in_the_order_they_were_owed(bot, coordinator, mailbox):  # type: ignore[no-untyped-def]
    bot.clock.set(START)
    names = ("Ana", "Ben", "Carl", "Dora", "Emil")
    for name in names:
        await confirmed(bot, await member(bot, coordinator, name), f"{name.lower()}@example.org")
    mailer = bot.application.bot_data["mailer"]
    await announce(bot, coordinator, "Raum 210.")
    await announce(bot, coordinator, "Raum 211.")
    await send_mails(bot)
    await mailer.tick()
    await mailbox.wait_for(lambda m: True, 10)
    rows = await mail_rows(bot)
    assert [r.status for r in rows] == [DeliveryStatus.SENT] * 10
    in_order = sorted(rows, key=lambda r: (r.due_at, r.id))
    assert [str(m["Message-ID"]) for m in mailbox.mails] == [f"<kimbot-mail-{r.id}@stadt.example.de>" for r in in_order]
    assert bot.settings.mail_rate == 50


# --- a hard crash in the middle of a mail fan-out --------------------------------

MEMBERS = 60
MAIL_RATE = "20"  # 60 mails take three seconds: the kill lands in the middle
MAX_IN_FLIGHT = 2
"""The mailer hands one mail at a time to the server and records it at once: one
mail is in flight (accepted, not yet recorded); a second allows for a stall."""
TITLE = "Krisensitzung AK EU"


async def with_addresses(database_url: str, telegram_ids: list[int], now: datetime) -> None:
    """A confirmed address for each, "everything also by e-mail"."""
    db = Database(database_url)
    try:
        async with db.uow() as uow:
            for telegram_id in telegram_ids:
                person = await uow.people.by_telegram_id(telegram_id)
                assert person is not None
                uow.mail.add(
                    EmailAddress(
                        person_id=person.id,
                        address=f"m{telegram_id}@example.org",
                        confirmed_at=now,
                        mode=MailMode.ALL,
                        pending_tries=0,
                    )
                )
            await uow.commit()
    finally:
        await db.dispose()


async def mails_in(database_url: str) -> list[Mail]:
    db = Database(database_url)
    try:
        async with db.reader() as uow:
            return list((await uow.session.execute(select(Mail))).scalars().all())
    finally:
        await db.dispose()


async def test_kill_9_mid_mail_fan_out_loses_nothing_and_doubles_only_what_was_in_flight(
    emulator: Emulator, database_url: str, tmp_path: Path, mailbox: Mailbox, figures: dict[str, int]
) -> None:
    coordinator = emulator.add_user("Sabine", last_name="Weber", username="sabine_kim", language_code="de")
    users = [emulator.add_user(f"Mitglied{n}", language_code="de") for n in range(1, MEMBERS + 1)]
    await session_owed_to_members(emulator, database_url, coordinator.id, users, TITLE)
    await with_addresses(database_url, [u.id for u in users], datetime.now(UTC))
    addresses = {f"m{u.id}@example.org" for u in users}
    env = {**mail_env(mailbox), "MAIL_RATE": MAIL_RATE}

    def received() -> dict[str, int]:
        found = dict.fromkeys(addresses, 0)
        for mail in mailbox.mails:
            found[str(mail["To"])] += 1
        return found

    first = await launch(emulator, tmp_path, database_url, coordinator.id, "first", **env)
    second = None
    try:
        try:
            await mailbox.wait_for(lambda m: True, MEMBERS // 3)
        except AssertionError:
            raise AssertionError(f"the mail fan-out did not get a third of the way\n{logs(tmp_path)}") from None
        first.send_signal(signal.SIGKILL)
        await asyncio.wait_for(first.wait(), WAIT)
        assert first.returncode == -signal.SIGKILL
        await mailbox.idle()  # a mail on its way when the process died is in, or not

        before = received()
        had_it = {a for a, n in before.items() if n > 0}
        assert all(n <= 1 for n in before.values())
        assert 0 < len(had_it) < MEMBERS, "the process must die in the middle of the fan-out"
        marked = {m.address for m in await mails_in(database_url) if m.status is DeliveryStatus.SENT}
        assert marked <= had_it, "a mail is marked sent only after the server accepted it"
        in_flight = had_it - marked
        assert len(in_flight) <= MAX_IN_FLIGHT, f"{len(in_flight)} mails in flight at the crash"

        second = await launch(emulator, tmp_path, database_url, coordinator.id, "second", **env)

        async def all_sent() -> list[Mail]:
            while True:
                rows = await mails_in(database_url)
                if len(rows) == MEMBERS and all(r.status is DeliveryStatus.SENT for r in rows):
                    return rows
                await asyncio.sleep(0.2)

        try:
            rows = await asyncio.wait_for(all_sent(), WAIT)
        except TimeoutError:
            missing = sum(n == 0 for n in received().values())
            raise AssertionError(f"{missing} members never got the mail\n{logs(tmp_path)}") from None
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), WAIT)
    assert second is not None and second.returncode == 0, logs(tmp_path)

    after = received()
    twice = {a for a, n in after.items() if n == 2}
    figures["crashes survived (kill -9)"] += 1
    figures["mails sent twice (in flight at a kill)"] += len(twice)
    assert all(n >= 1 for n in after.values()), "no mail is lost"
    assert all(n <= 2 for n in after.values()), "no mail is sent more than twice"
    assert twice == in_flight, "exactly the mails in flight at the crash are sent again"
    assert len(mailbox.mails) == MEMBERS + len(twice)
    assert all(TITLE in text_of(m) for m in mailbox.mails)
    assert sorted(r.address for r in rows) == sorted(addresses), "one mail per member"
