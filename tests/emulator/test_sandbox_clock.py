"""The sandbox's clock and saved chats: jumps in steps, the clock API, restore."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.dev.emulator import Emulator
from bot.dev.sandbox.clock import STEP, SandboxClock, TimeControl
from bot.dev.sandbox.web import make_web_app


async def test_a_jump_moves_forward_in_steps_and_runs_the_bot_after_each() -> None:
    clock = SandboxClock()
    seen: list[timedelta] = []

    async def after_step() -> None:
        seen.append(clock.offset)

    before = clock.now()
    await clock.jump(timedelta(days=1), after_step)
    assert seen == [STEP * n for n in range(1, 25)], "hour by hour, so nothing due in between is skipped"
    assert clock.now() - before >= timedelta(days=1)
    assert abs(clock.wall() - (datetime.now(UTC) + timedelta(days=1)).timestamp()) < 60
    with pytest.raises(ValueError):
        await clock.jump(timedelta(0), after_step)
    with pytest.raises(ValueError):
        SandboxClock(timedelta(hours=-1))


async def test_two_jumps_at_once_are_taken_one_after_the_other() -> None:
    clock = SandboxClock()
    offsets: list[timedelta] = []

    async def after_step() -> None:
        offsets.append(clock.offset)
        await asyncio.sleep(0)

    await asyncio.gather(clock.jump(STEP * 3, after_step), clock.jump(STEP * 3, after_step))
    assert offsets == [STEP * n for n in range(1, 7)]


@pytest.fixture
async def page(emu: Emulator) -> AsyncIterator[tuple[httpx.AsyncClient, SandboxClock, list[int]]]:
    clock = SandboxClock()
    emu.world.wall_clock = clock.wall
    steps: list[int] = []

    async def after_step() -> None:
        steps.append(1)

    control = TimeControl(clock, "Europe/Berlin", after_step, emu.world.signal.fire)
    ana = emu.add_user("Ana", "Popescu", "ana_p", "de")
    app = make_web_app(emu, [{"key": "ana", "label": "Ana", "user": ana}], control)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    base = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=15.0) as client:
            yield client, clock, steps
    finally:
        server.stop()
        await server.close_all_connections()


async def test_the_page_reads_and_jumps_the_clock(emu: Emulator, page: Any) -> None:
    client, clock, steps = page
    state = (await client.get("/api/clock")).json()
    assert state["offset"] == 0 and state["timezone"] == "Europe/Berlin"
    assert state["jumps"] == ["hour", "day"]
    assert abs(state["now"] / 1000 - datetime.now(UTC).timestamp()) < 60

    # A tab waiting for messages hears of the jump at once.
    poll = asyncio.create_task(client.get("/api/messages", params={"since": 0, "timeout": 20}))
    await asyncio.sleep(0.1)
    jumped = await client.post("/api/clock", json={"jump": "hour"})
    assert jumped.status_code == 200 and jumped.json()["offset"] == 3600
    assert steps == [1]
    woke = (await asyncio.wait_for(poll, 10)).json()
    assert woke["clock"]["offset"] == 3600 and woke["messages"] == []

    assert (await client.post("/api/clock", json={"jump": "day"})).json()["offset"] == 25 * 3600
    assert len(steps) == 25
    assert (await client.post("/api/clock", json={"jump": "year"})).status_code == 400
    assert (await client.post("/api/clock", json={})).status_code == 400
    assert (await client.post("/api/clock", data={"jump": "day"})).status_code == 415
    assert clock.offset == timedelta(hours=25)

    # Messages are dated by the sandbox's clock.
    await client.post("/api/chats/ana/send", json={"text": "Hallo"})
    sent = (await client.get("/api/messages", params={"since": 0})).json()["messages"][0]
    assert abs(sent["date"] - (datetime.now(UTC) + timedelta(hours=25)).timestamp()) < 60


async def test_a_page_without_clock_control_says_so(emu: Emulator) -> None:
    ana = emu.add_user("Ana")
    app = make_web_app(emu, [{"key": "ana", "label": "Ana", "user": ana}])
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sockets[0].getsockname()[1]}") as client:
            assert (await client.get("/api/clock")).status_code == 404
            assert "clock" not in (await client.get("/api/messages")).json()
    finally:
        server.stop()
        await server.close_all_connections()


async def test_saved_chats_come_back_after_a_restart(emu: Emulator) -> None:
    ana = emu.add_user("Ana", "Popescu", "ana_p", "de")
    async with Bot(emu.token, base_url=emu.api_url, base_file_url=emu.file_url) as bot:
        emu.send_text(ana, "/start")
        card = await bot.send_message(
            ana.id,
            "<b>Sitzung</b> &lt;AK EU&gt;",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("✅ Zusage", callback_data="r:1")]]),
        )
        await bot.edit_message_text("<b>Sitzung</b> verschoben", ana.id, card.message_id, parse_mode="HTML")
        await bot.send_document(ana.id, io.BytesIO(b"PK\x03\x04docx"), filename="Bericht 2026-H2.docx")
    saved = emu.world.snapshot()

    restarted = Emulator()
    await restarted.start()
    try:
        again = restarted.add_user("Ana", "Popescu", "ana_p", "de")
        assert again.id == ana.id, "the same users in the same order get the same ids"
        assert restarted.world.restore(saved) == 3
        before = [(m.message_id, m.text, m.entities, m.reply_markup, m.edited) for m in emu.history(ana)]
        after = [(m.message_id, m.text, m.entities, m.reply_markup, m.edited) for m in restarted.history(again)]
        assert after == before
        document = restarted.messages(again)[-1].document
        assert document is not None and document.data == b"PK\x03\x04docx"
        assert restarted.world.files[document.file_id].file_name == "Bericht 2026-H2.docx"
        async with Bot(restarted.token, base_url=restarted.api_url, base_file_url=restarted.file_url) as bot:
            new = await bot.send_message(again.id, "Weiter geht's")
            other = await bot.send_document(again.id, io.BytesIO(b"x"), filename="b.txt")
        assert new.message_id == before[-1][0] + 1, "message ids go on after the restored ones"
        assert other.document is not None and other.document.file_id != document.file_id
    finally:
        await restarted.stop()
