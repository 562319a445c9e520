"""The HTTP control API under /_emulator/ (for the sandbox and out-of-process bots)."""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING

import httpx

from bot.dev.emulator import Emulator

if TYPE_CHECKING:
    from tests.emulator.conftest import Api


async def test_people_act_and_read_through_http(emu: Emulator, api: Api, http: httpx.AsyncClient) -> None:
    info = (await http.get("/_emulator/")).json()
    assert info["bot"]["username"] == "kim_test_bot" and info["spec_version"].startswith("Bot API")
    alice = (await http.post("/_emulator/users", json={"first_name": "Alice", "language_code": "de"})).json()
    bob = (await http.post("/_emulator/users", json={"first_name": "Bob", "last_name": "Baum"})).json()
    assert [u["name"] for u in (await http.get("/_emulator/users")).json()] == ["Alice", "Bob Baum"]
    group = (
        await http.post("/_emulator/groups", json={"title": "AK EU", "member_ids": [alice["id"], bob["id"]]})
    ).json()
    assert group["id"] < 0 and group["member_ids"] == [alice["id"], bob["id"]]

    sent = (await http.post("/_emulator/send", json={"user_id": alice["id"], "text": "/join ak-eu"})).json()
    in_group = (
        await http.post("/_emulator/send", json={"user_id": bob["id"], "text": "Hallo", "chat_id": group["id"]})
    ).json()
    updates = await api.ok("getUpdates")
    assert [u["update_id"] for u in updates] == [sent["update_id"], in_group["update_id"]]
    assert updates[1]["message"]["chat"]["type"] == "group"

    markup = {
        "inline_keyboard": [
            [{"text": "Annehmen", "callback_data": "ok:1"}],
            [{"text": "Web", "url": "https://example.org"}],
        ]
    }
    bot_message = await api.ok(
        "sendMessage",
        chat_id=alice["id"],
        text="<b>Anfrage</b> &lt;1&gt;",
        parse_mode="HTML",
        reply_markup=markup,
    )
    messages = (await http.get(f"/_emulator/chats/{alice['id']}/messages")).json()
    assert len(messages) == 1
    shown = messages[0]
    assert shown["text"] == "Anfrage <1>" and shown["html"] == "<b>Anfrage</b> &lt;1&gt;"
    assert shown["buttons"] == [
        [{"text": "Annehmen", "callback_data": "ok:1"}],
        [{"text": "Web", "url": "https://example.org"}],
    ]
    everything = (await http.get(f"/_emulator/chats/{alice['id']}/messages", params={"all": 1})).json()
    assert [m["from_bot"] for m in everything] == [False, True]

    press = await http.post(
        "/_emulator/press",
        json={"user_id": alice["id"], "message_id": bot_message["message_id"], "text": "Annehmen"},
    )
    assert press.status_code == 200
    wrong = await http.post(
        "/_emulator/press",
        json={"user_id": alice["id"], "message_id": bot_message["message_id"], "text": "Nein"},
    )
    assert wrong.status_code == 400 and "no button" in wrong.json()["error"]
    forged = await http.post(
        "/_emulator/press",
        json={
            "user_id": alice["id"],
            "message_id": bot_message["message_id"],
            "callback_data": "x:y",
        },
    )
    assert forged.status_code == 200
    queries = (await http.get("/_emulator/callback-queries")).json()
    assert [q["data"] for q in queries] == ["ok:1", "x:y"]

    upload = await http.post(
        "/_emulator/document",
        json={
            "user_id": alice["id"],
            "file_name": "a.txt",
            "content_base64": base64.b64encode(b"AB").decode(),
        },
    )
    assert upload.status_code == 200
    blocked = (await http.post("/_emulator/block", json={"user_id": alice["id"]})).json()
    assert blocked["update_id"] and emu.world.users[alice["id"]].blocked
    await http.post("/_emulator/unblock", json={"user_id": alice["id"]})
    state = (await http.get("/_emulator/updates")).json()
    assert (
        state["pending"] == 7
        and state["undelivered"] == 5
        and state["delivered_update_ids"] == [sent["update_id"], in_group["update_id"]]
    )
    assert (await http.post("/_emulator/send", json={"user_id": 1, "text": "x"})).status_code == 404


async def test_long_poll_for_new_and_changed_messages(emu: Emulator, api: Api, http: httpx.AsyncClient) -> None:
    alice = emu.add_user("Alice")
    start = (await http.get("/_emulator/messages", params={"since": 0})).json()
    assert start == {"seq": 0, "messages": []}
    poll = asyncio.create_task(http.get("/_emulator/messages", params={"since": 0, "timeout": 20, "chat_id": alice.id}))
    await asyncio.sleep(0.2)
    assert not poll.done()
    sent = await api.ok("sendMessage", chat_id=alice.id, text="eins")
    answer = (await asyncio.wait_for(poll, 10)).json()
    assert [m["text"] for m in answer["messages"]] == ["eins"]
    await api.ok("editMessageText", chat_id=alice.id, message_id=sent["message_id"], text="eins (geändert)")
    changed = (await http.get("/_emulator/messages", params={"since": answer["seq"]})).json()
    assert [(m["text"], m["edited"]) for m in changed["messages"]] == [("eins (geändert)", True)]


async def test_calls_faults_limits_files_and_reset(emu: Emulator, api: Api, http: httpx.AsyncClient) -> None:
    alice = emu.add_user("Alice")
    assert (
        await http.post("/_emulator/faults", json={"method": "sendMessage", "status": 503, "times": 1})
    ).status_code == 200
    assert len((await http.get("/_emulator/faults")).json()) == 1
    assert (await api.fail("sendMessage", chat_id=alice.id, text="x"))[0] == 503
    await http.post("/_emulator/faults", json={"method": "getMe", "delay": 5})
    assert (await http.delete("/_emulator/faults")).json() == {"ok": True}
    assert (await http.post("/_emulator/faults", json={"method": "noSuchMethod", "status": 500})).status_code == 400
    calls = (await http.get("/_emulator/calls", params={"method": "sendMessage"})).json()
    assert [(c["status"], c["fault"]) for c in calls] == [(503, "status")]

    limits = (await http.post("/_emulator/rate-limits", json={"enabled": True, "per_chat_per_second": 1})).json()
    assert limits["enabled"] is True and limits["global_per_second"] == 30
    await api.ok("sendMessage", chat_id=alice.id, text="1")
    assert (await api.fail("sendMessage", chat_id=alice.id, text="2"))[0] == 429
    assert [t["limit"] for t in (await http.get("/_emulator/too-many-requests")).json()] == ["chat"]
    assert (await http.post("/_emulator/rate-limits", json={"bogus": 1})).status_code == 400

    emu.set_rate_limits(enabled=False)
    sent = (
        await http.post(
            f"/bot{emu.token}/sendDocument",
            data={"chat_id": str(alice.id)},
            files={"document": ("Bericht Ü.md", b"# Bericht", "text/markdown")},
        )
    ).json()["result"]
    message = (await http.get(f"/_emulator/chats/{alice.id}/messages")).json()[-1]
    assert message["document"]["name"] == "Bericht Ü.md"
    download = await http.get(message["document"]["url"])
    assert download.content == b"# Bericht" and "attachment" in download.headers["Content-Disposition"]
    assert sent["document"]["file_id"] == message["document"]["file_id"]

    assert (await http.post("/_emulator/reset")).json() == {"ok": True}
    assert (await http.get("/_emulator/users")).json() == []
    assert emu.calls == [] and emu.faults.rules == [] and not emu.limiter.limits.enabled
