"""The sandbox chat page is served, and the JSON endpoints it uses work."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from bot.dev.emulator import Emulator, User
from bot.dev.sandbox.web import make_web_app


@pytest.fixture
async def sandbox(emu: Emulator) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, User]]]:
    users = {
        "koordination": emu.add_user("Sabine", "Weber", "sabine_kim", "de"),
        "ana": emu.add_user("Ana", "Popescu", "ana_p", "de"),
    }
    personas = [
        {
            "key": "koordination",
            "label": "Sabine Weber (Koordination)",
            "user": users["koordination"],
        },
        {"key": "ana", "label": "Ana Popescu (Mitglied)", "user": users["ana"]},
    ]
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(make_web_app(emu, personas))
    server.add_sockets(sockets)
    base = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=15.0) as client:
            yield client, users
    finally:
        server.stop()
        await server.close_all_connections()


@pytest.fixture
async def ptb(emu: Emulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.api_url, base_file_url=emu.file_url) as bot:
        yield bot


async def test_page_and_assets_are_served_offline(sandbox: Any) -> None:
    client, _ = sandbox
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<html lang="de">' in page.text and "Nachricht schreiben" in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for asset in ("/static/app.js", "/static/style.css"):
        response = await client.get(asset)
        assert response.status_code == 200 and response.text
        assert "http://" not in response.text and "https://cdn" not in response.text
    script = (await client.get("/static/app.js")).text
    for sink in (".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in script  # messages are built from text nodes only


async def test_chat_round_trip_through_the_page_api(emu: Emulator, ptb: Bot, sandbox: Any) -> None:
    client, users = sandbox
    ana = users["ana"]
    info = (await client.get("/api/personas")).json()
    assert [p["key"] for p in info["personas"]] == ["koordination", "ana"]
    assert info["bot"]["username"] == "kim_test_bot"
    assert (await client.get("/api/messages", params={"since": 0})).json() == {
        "seq": 0,
        "messages": [],
    }

    poll = asyncio.create_task(client.get("/api/messages", params={"since": 0, "timeout": 20}))
    await asyncio.sleep(0.1)
    sent = await client.post("/api/chats/ana/send", json={"text": "/start"})
    assert sent.status_code == 200
    first = (await asyncio.wait_for(poll, 10)).json()
    assert [(m["text"], m["from_bot"]) for m in first["messages"]] == [("/start", False)]

    update = (await ptb.get_updates(timeout=1))[0]
    assert update.update_id == sent.json()["update_id"] and update.message.text == "/start"
    await ptb.send_message(
        ana.id,
        "<b>Willkommen</b> &lt;Ana&gt;",
        parse_mode="HTML",
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("✅ Gelesen", callback_data="ack")],
                [InlineKeyboardButton("Mehr", url="https://example.org")],
            ]
        ),
    )
    await ptb.send_document(ana.id, io.BytesIO(b"BEGIN:VCALENDAR\r\n"), filename="sitzung.ics")
    await ptb.send_message(users["koordination"].id, "Nur für Sabine")
    changed = (await client.get("/api/messages", params={"since": first["seq"]})).json()
    welcome, document, for_sabine = changed["messages"]
    assert welcome["text"] == "Willkommen <Ana>" and welcome["entities"][0]["type"] == "bold"
    assert welcome["buttons"] == [
        [{"text": "✅ Gelesen", "callback_data": "ack"}],
        [{"text": "Mehr", "url": "https://example.org"}],
    ]
    assert for_sabine["chat_id"] == users["koordination"].id
    download = await client.get(document["document"]["url"])
    assert download.content == b"BEGIN:VCALENDAR\r\n"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="sitzung.ics"')

    press = await client.post("/api/chats/ana/press", json={"message_id": welcome["id"], "row": 0, "column": 0})
    assert press.status_code == 200
    answer = asyncio.create_task(client.get(f"/api/answers/{press.json()['update_id']}", params={"timeout": 10}))
    updates = await ptb.get_updates(offset=update.update_id + 1, timeout=1)
    query = updates[0].callback_query
    assert query is not None and query.data == "ack" and query.from_user.id == ana.id
    await query.answer("Danke!")
    assert (await answer).json() == {"answered": True, "text": "Danke!", "show_alert": False}

    link_press = await client.post("/api/chats/ana/press", json={"message_id": welcome["id"], "row": 1, "column": 0})
    assert link_press.status_code == 400
    missing = await client.post("/api/chats/ana/press", json={"message_id": welcome["id"], "row": 5, "column": 0})
    assert missing.status_code == 409
    assert (await client.post("/api/chats/nobody/send", json={"text": "x"})).status_code == 404
    assert (await client.post("/api/chats/ana/send", json={"text": "  "})).status_code == 400
    form = await client.post("/api/chats/ana/send", data={"text": "cross-site"})
    assert form.status_code == 415  # only JSON: another web page cannot post into the sandbox


async def test_command_menu_follows_telegram_scopes(emu: Emulator, ptb: Bot, sandbox: Any) -> None:
    client, users = sandbox
    assert (await client.get("/api/chats/ana/commands")).json() == []
    await ptb.set_my_commands([BotCommand("start", "Start")])
    await ptb.set_my_commands([BotCommand("hilfe", "Hilfe")], language_code="de")
    assert (await client.get("/api/chats/ana/commands")).json() == [{"command": "hilfe", "description": "Hilfe"}]
