"""No update lost, none handled twice (issue "reliability"; SPEC 12, last sentence).

python-telegram-bot confirms an update to Telegram before its handler has
run. The inbox records it first, so:

- an update that arrives a second time has one effect;
- `kimbot run` killed with SIGKILL right when it confirms a batch of updates,
  before it could handle them, handles every one of them after the restart,
  and none twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update
from telegram import Update

from bot.dev.emulator import Emulator
from storage.database import Database
from storage.inbox_models import InboxUpdate
from storage.models import AgendaItem, Person
from tests.bot_process import WAIT, launch, logs, stop
from tests.factories import coordinator_and_members

TOPICS_EACH = 4
MEMBERS = 8


async def test_an_update_that_arrives_twice_has_one_effect(bot, coordinator) -> None:  # type: ignore[no-untyped-def]
    ana = await bot.person("Ana", username="ana")
    await ana.register()
    await ana.send("/join ak-eu")
    await coordinator.send("/approve @ana")
    replies = await ana.send("/agenda ak-eu Sprachkurse am Abend")
    assert "Ihr Thema ist gespeichert" in replies[0].text

    # The same update again, as Telegram sends it when the confirmation got lost,
    # or as a second process behind the same webhook receives it.
    update_id = bot.emulator.delivered_update_ids[-1]
    raw = next(
        u for call in bot.emulator.calls_of("getUpdates") if call.ok for u in call.result if u["update_id"] == update_id
    )
    await bot.application.update_queue.put(Update.de_json(raw, bot.application.bot))
    replies = await ana.send("/help")  # handled after the repeat, if it had been queued

    assert len(replies) == 1 and "Was Sie tun können" in replies[0].text
    async with bot.db.reader() as uow:
        items = (await uow.session.execute(select(AgendaItem.text))).scalars().all()
        row = await uow.session.get(InboxUpdate, update_id)
    assert items == ["Sprachkurse am Abend"]
    assert row is not None and row.handled_at is not None
    assert row.payload is None and row.user_id is None, "a handled update keeps only its id"


async def test_a_batch_the_inbox_cannot_record_is_fetched_again_not_lost(bot, coordinator, caplog) -> None:  # type: ignore[no-untyped-def]
    """The database refuses to record a batch (here its table is away for a while):
    getUpdates counts as failed, so the update is not confirmed and comes again;
    once the database records again it is handled, once. Logged once."""
    ana = await bot.person("Ana", username="ana")
    await ana.register()
    await ana.send("/join ak-eu")
    await coordinator.send("/approve @ana")
    confirmed: list[int] = []
    bot.emulator.on_update_confirmed = confirmed.extend
    async with bot.db.engine.begin() as connection:
        await connection.exec_driver_sql("ALTER TABLE inbox RENAME TO inbox_away")
    update_id = bot.emulator.send_text(ana.user, "/agenda ak-eu Sprachkurse am Abend")
    await bot.emulator.wait_until(lambda: [d.update_id for d in bot.emulator.deliveries].count(update_id) >= 3, WAIT)
    assert update_id not in confirmed
    async with bot.db.engine.begin() as connection:
        await connection.exec_driver_sql("ALTER TABLE inbox_away RENAME TO inbox")
    await bot.settle()

    assert "Ihr Thema ist gespeichert" in ana.last.text
    async with bot.db.reader() as uow:
        items = (await uow.session.execute(select(AgendaItem.text))).scalars().all()
    assert items == ["Sprachkurse am Abend"]
    warnings = [r.getMessage() for r in caplog.records if "inbox" in r.getMessage()]
    assert len([w for w in warnings if "cannot record" in w]) == 1, warnings


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # several processes: PostgreSQL (SPEC 12)
async def test_an_update_another_process_handled_meanwhile_is_dropped(bot, coordinator, database_url) -> None:  # type: ignore[no-untyped-def]
    """Two processes got the same update (SPEC 12: a takeover, or a webhook delivered
    twice). The other one holds Ana's row; this one records the update (and confirms
    it to Telegram), then its handler waits for that row. The other marks the update
    handled and commits. This one then keeps nothing of its run and answers nothing:
    the other's mark stays as it was."""
    ana = await bot.person("Ana", username="ana")
    await ana.register()
    await ana.send("/join ak-eu")
    await coordinator.send("/approve @ana")
    ana.new()
    other = Database(database_url)
    marked_at = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    try:
        async with other.engine.connect() as connection:
            transaction = await connection.begin()
            await connection.execute(select(Person.id).where(Person.telegram_id == ana.user.id).with_for_update())
            confirmed: list[int] = []
            bot.emulator.on_update_confirmed = confirmed.extend
            update_id = bot.emulator.send_text(ana.user, "/agenda ak-eu Zweimal behandelt?")
            await bot.emulator.wait_until(lambda: update_id in confirmed, WAIT)  # in the inbox: confirmed after
            await connection.execute(
                update(InboxUpdate)
                .where(InboxUpdate.update_id == update_id)
                .values(handled_at=marked_at, payload=None, user_id=None)
            )
            await transaction.commit()
        await bot.settle()
    finally:
        await other.dispose()

    assert ana.new() == []
    async with bot.db.reader() as uow:
        items = (await uow.session.execute(select(AgendaItem.text))).scalars().all()
        row = await uow.session.get(InboxUpdate, update_id)
    assert items == []
    assert row is not None and row.handled_at == marked_at
    replies = await ana.send("/help")
    assert len(replies) == 1 and "Was Sie tun können" in replies[0].text


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_transaction_that_only_refers_to_a_person_does_not_hold_up_their_update(  # type: ignore[no-untyped-def]
    bot, coordinator, database_url
) -> None:
    """A fan-out inserts a record for every member in one transaction, and
    PostgreSQL holds a key-share lock on each member's row until it commits (the
    foreign key's check). A member's update meanwhile is handled at once: it
    locks the caller's row against the person's other updates only (`FOR NO KEY
    UPDATE`); with `FOR UPDATE` it waited for the fan-out's commit."""
    ana = await bot.person("Ana", username="ana")
    await ana.register()
    await ana.send("/join ak-eu")
    await coordinator.send("/approve @ana")
    other = Database(database_url)
    try:
        async with other.engine.connect() as connection:
            transaction = await connection.begin()
            referred = select(Person.id).where(Person.telegram_id == ana.user.id)
            await connection.execute(referred.with_for_update(read=True, key_share=True))  # as a foreign key's check
            replies = await ana.send("/agenda ak-eu Während einer Verteilung")
            assert "gespeichert als #" in replies[-1].text, replies[-1].text
            await transaction.rollback()
    finally:
        await other.dispose()
    async with bot.db.reader() as uow:
        assert (await uow.session.execute(select(AgendaItem.text))).scalars().all() == ["Während einer Verteilung"]


async def _prepare(database_url: str, coordinator_id: int, member_ids: list[int]) -> None:
    now = datetime.now(UTC)
    db = Database(database_url)
    try:
        await db.upgrade()
        async with db.uow() as uow:
            await coordinator_and_members(uow, coordinator_id, member_ids, now)
            await uow.commit()
    finally:
        await db.dispose()


async def _stored(database_url: str) -> tuple[list[str], int]:
    """The saved topics, and how many received updates wait to be handled."""
    db = Database(database_url)
    try:
        async with db.reader() as uow:
            texts = (await uow.session.execute(select(AgendaItem.text))).scalars().all()
            waiting = len(
                (
                    await uow.session.execute(
                        select(InboxUpdate.update_id).where(
                            InboxUpdate.handled_at.is_(None), InboxUpdate.payload.is_not(None)
                        )
                    )
                ).all()
            )
        return list(texts), waiting
    finally:
        await db.dispose()


async def test_kill_9_after_confirming_loses_no_update_and_repeats_no_change(
    emulator: Emulator, database_url: str, tmp_path: Path, figures: dict[str, int]
) -> None:
    coordinator = emulator.add_user("Sabine", last_name="Weber", language_code="de")
    members = [emulator.add_user(f"Mitglied{n}", language_code="de") for n in range(1, MEMBERS + 1)]
    await _prepare(database_url, coordinator.id, [m.id for m in members])

    first = await launch(emulator, tmp_path, database_url, coordinator.id, "first")
    second = None
    try:
        emulator.send_text(coordinator, "/help")
        await emulator.wait_until(lambda: emulator.messages(coordinator), WAIT)

        topics = {
            f"Thema {n} von Mitglied {i}": member
            for i, member in enumerate(members, 1)
            for n in range(1, TOPICS_EACH + 1)
        }
        sent_ids: set[int] = set()
        killed: list[int] = []

        def kill_when_confirmed(update_ids: list[int]) -> None:
            # Telegram forgets these updates now; the process dies before handling them.
            if not killed and sent_ids & set(update_ids):
                os.kill(first.pid, signal.SIGKILL)
                killed.extend(update_ids)

        emulator.on_update_confirmed = kill_when_confirmed
        for text, member in topics.items():
            sent_ids.add(emulator.send_text(member, f"/agenda ak-eu {text}"))
        await asyncio.wait_for(first.wait(), WAIT)
        assert first.returncode == -signal.SIGKILL and killed
        await emulator.wait_idle(quiet=0.3, timeout=WAIT)
        assert emulator.pending_updates == 0 and emulator.queue.pending == 0, "Telegram forgot them"

        saved_before, waiting = await _stored(database_url)
        answered_before = {text for text in topics if any(text in m.text for m in emulator.messages(topics[text]))}
        assert waiting > 0, "the process must die with updates not handled yet"
        assert len(saved_before) < len(topics)

        emulator.on_update_confirmed = None
        second = await launch(emulator, tmp_path, database_url, coordinator.id, "second")

        async def all_saved() -> list[str]:
            while True:
                saved, waiting = await _stored(database_url)
                if len(saved) >= len(topics) and waiting == 0:
                    return saved
                await asyncio.sleep(0.1)

        try:
            saved = await asyncio.wait_for(all_saved(), WAIT)
        except TimeoutError:
            raise AssertionError(f"not every topic was saved\n{logs(tmp_path)}") from None
        await emulator.wait_idle(quiet=0.5, timeout=WAIT)
    finally:
        await stop(first, second)

    figures["crashes survived (kill -9)"] += 1
    figures["updates lost"] += len(set(topics) - set(saved))
    assert sorted(saved) == sorted(topics), "every topic saved exactly once"
    answers = {text: sum(text in m.text for m in emulator.messages(topics[text])) for text in topics}
    assert all(n <= 1 for n in answers.values()), "no answer twice"
    unanswered = {text for text, n in answers.items() if n == 0}
    # Only a topic saved in the instant before the kill may lack its answer (in flight).
    assert unanswered <= set(saved_before) - answered_before
    assert len(unanswered) <= 2, unanswered
    assert f"{waiting} update(s) left by a process that stopped are handled now" in logs(tmp_path)
