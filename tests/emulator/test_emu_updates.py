"""Updates: getUpdates' offset semantics, long polling, webhook delivery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.dev.emulator import Emulator

if TYPE_CHECKING:
    from tests.emulator.conftest import Api


HANG_GUARD = 60.0  # seconds: turns a hang into a failure; never a performance limit


def ids(updates: list[dict[str, Any]]) -> list[int]:
    return [u["update_id"] for u in updates]


async def test_offset_confirms_and_forgets(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    first = [emu.send_text(alice, f"m{i}") for i in range(5)]
    assert ids(await api.ok("getUpdates")) == first
    assert ids(await api.ok("getUpdates")) == first  # not confirmed yet: delivered again
    assert ids(await api.ok("getUpdates", offset=first[2])) == first[2:]
    assert ids(await api.ok("getUpdates", limit=2)) == first[2:4]  # earlier ones are forgotten
    assert await api.ok("getUpdates", offset=first[-1] + 1) == []
    assert emu.delivered_update_ids == first and emu.pending_updates == 0
    later = [emu.send_text(alice, f"n{i}") for i in range(4)]
    assert ids(await api.ok("getUpdates", offset=-2)) == later[2:]  # the last two; earlier forgotten
    assert ids(await api.ok("getUpdates")) == later[2:]
    assert emu.queue.pending == 2
    update = (await api.ok("getUpdates", limit=1))[0]
    message = update["message"]
    assert message["text"] == "n2" and message["from"]["id"] == alice.id and message["chat"]["type"] == "private"


async def test_limit_is_clamped_like_telegram(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    sent = [emu.send_text(alice, str(i)) for i in range(105)]
    assert len(await api.ok("getUpdates", limit=0)) == 1  # clamped into 1..100
    assert len(await api.ok("getUpdates", limit=500)) == 100
    assert ids(await api.ok("getUpdates", offset=sent[100])) == sent[100:]


async def polling(emu: Emulator) -> None:
    """Wait until a getUpdates call is waiting at the emulator (its long poll began)."""
    await emu.wait_until(lambda: emu.poller is not None, HANG_GUARD)


async def test_long_poll_answers_as_soon_as_an_update_arrives(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    # A poll that would wait an hour: only the update can end it.
    poll = asyncio.create_task(api.ok("getUpdates", timeout=3600))
    await polling(emu)
    assert not poll.done()
    update_id = emu.send_text(alice, "/start")
    updates = await asyncio.wait_for(poll, HANG_GUARD)
    assert ids(updates) == [update_id]
    assert updates[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    # an empty poll answers [] after its timeout
    assert await api.ok("getUpdates", offset=update_id + 1, timeout=1) == []


async def test_a_second_poller_terminates_the_first(emu: Emulator, api: Api) -> None:
    first = asyncio.create_task(api.call("getUpdates", timeout=3600))
    await polling(emu)
    second = asyncio.create_task(api.call("getUpdates", timeout=1))
    response = await asyncio.wait_for(first, HANG_GUARD)
    assert response.status_code == 409
    assert "terminated by other getUpdates request" in response.json()["description"]
    assert (await second).json()["result"] == []


async def test_allowed_updates_persist_and_filter(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    await api.ok(
        "sendMessage",
        chat_id=alice.id,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]},
    )
    emu.send_text(alice, "text")
    press = emu.press_button(alice, emu.messages(alice)[0], "a")
    assert ids(await api.ok("getUpdates", allowed_updates=["callback_query"])) == [press]
    emu.send_text(alice, "noch ein Text")
    assert await api.ok("getUpdates", offset=press + 1) == []  # the setting persists
    later = emu.send_text(alice, "wieder alles")
    assert ids(await api.ok("getUpdates", allowed_updates=[])) == [later]


async def test_stop_answers_waiting_polls(clock: Any) -> None:
    emu = Emulator(clock=clock)
    await emu.start()
    import httpx

    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        poll = asyncio.create_task(client.post(f"/bot{emu.token}/getUpdates", json={"timeout": 3600}))
        await polling(emu)
        await asyncio.wait_for(emu.stop(), HANG_GUARD)
        response = await asyncio.wait_for(poll, HANG_GUARD)
        assert response.json() == {"ok": True, "result": []}


class _Receiver(tornado.web.RequestHandler):
    def initialize(self, store: dict[str, Any]) -> None:
        self.store = store

    def post(self) -> None:
        self.store["requests"].append((dict(self.request.headers), json.loads(self.request.body)))
        if self.store["fail"] > 0:
            self.store["fail"] -= 1
            self.set_status(500)
        self.finish("")


@pytest.fixture
async def receiver() -> AsyncIterator[dict[str, Any]]:
    store: dict[str, Any] = {"requests": [], "fail": 1}
    app = tornado.web.Application([(r"/hook", _Receiver, {"store": store})])
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    store["url"] = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook"
    try:
        yield store
    finally:
        server.stop()
        await server.close_all_connections()


async def test_webhook_delivery_with_secret_and_retry(emu: Emulator, api: Api, receiver: dict[str, Any]) -> None:
    alice = emu.add_user("Alice")
    dropped = emu.send_text(alice, "alt")
    assert await api.ok("setWebhook", url=receiver["url"], secret_token="s3cr3t", drop_pending_updates=True)
    conflict = await api.fail("getUpdates")
    assert conflict[0] == 409 and "webhook is active" in conflict[1]
    first = emu.send_text(alice, "eins")
    second = emu.send_text(alice, "zwei")
    await emu.wait_fetched(timeout=10)
    await emu.wait_until(lambda: emu.queue.pending == 0, timeout=10)
    requests = receiver["requests"]
    assert [body["update_id"] for _, body in requests] == [first, first, second]  # 500 -> retried
    assert all(headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cr3t" for headers, _ in requests)
    assert requests[-1][1]["message"]["text"] == "zwei"
    assert dropped not in emu.delivered_update_ids
    assert [d.via for d in emu.queue.deliveries] == ["webhook", "webhook"]
    info = await api.ok("getWebhookInfo")
    assert info["url"] == receiver["url"] and info["pending_update_count"] == 0
    assert "500" in info["last_error_message"]
    assert await api.ok("deleteWebhook")
    assert (await api.ok("getWebhookInfo"))["url"] == ""
    third = emu.send_text(alice, "drei")
    assert ids(await api.ok("getUpdates")) == [third]
    assert (await api.fail("setWebhook", url=receiver["url"], secret_token="nicht erlaubt!"))[0] == 400


class _HoldingReceiver(tornado.web.RequestHandler):
    """Answers no webhook request until the test opens the gate."""

    def initialize(self, store: dict[str, Any]) -> None:
        self.store = store

    async def post(self) -> None:
        store = self.store
        store["order"].append(json.loads(self.request.body)["update_id"])
        store["open"] += 1
        store["most_open"] = max(store["most_open"], store["open"])
        await store["gate"].wait()
        store["open"] -= 1
        self.finish("")


async def test_webhook_sends_chats_in_parallel_up_to_max_connections_each_chat_in_order(
    emu: Emulator, api: Api
) -> None:
    store: dict[str, Any] = {"order": [], "open": 0, "most_open": 0, "gate": asyncio.Event()}
    app = tornado.web.Application([(r"/hook", _HoldingReceiver, {"store": store})])
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    try:
        people = [emu.add_user(f"Person {n}") for n in range(4)]
        firsts = [emu.send_text(person, "eins") for person in people]
        second = emu.send_text(people[0], "zwei")
        url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook"
        assert await api.ok("setWebhook", url=url, max_connections=3)
        await emu.wait_until(lambda: len(store["order"]) == 3, timeout=10)
        # Three requests open at once (the limit), one per chat, in the order they came.
        assert store["order"] == firsts[:3] and store["open"] == 3
        store["gate"].set()
        await emu.wait_until(lambda: emu.queue.pending == 0, timeout=10)
        order = store["order"]
        assert sorted(order) == sorted([*firsts, second]) and store["most_open"] == 3
        assert order.index(second) > order.index(firsts[0]), "a chat's second after its first"
        assert sorted(d.update_id for d in emu.queue.deliveries) == sorted(order)
    finally:
        server.stop()
        await server.close_all_connections()


async def test_delivery_hook_and_waiting_helpers(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    seen: list[int] = []
    emu.on_update_delivered = seen.extend
    update_id = emu.send_text(alice, "hallo")
    assert emu.pending_updates == 1
    waiter = asyncio.create_task(emu.wait_fetched(timeout=10))
    await asyncio.sleep(0)  # the waiter looks once, and waits
    assert not waiter.done()
    await api.ok("getUpdates")
    await waiter
    assert seen == [update_id] and emu.delivered_count == 1
    message_waiter = asyncio.create_task(emu.wait_for_message(alice, after=0, timeout=10))
    await api.ok("sendMessage", chat_id=alice.id, text="Antwort")
    assert (await message_waiter).text == "Antwort"
    with pytest.raises(TimeoutError):
        await emu.wait_for_message(alice, after=1, timeout=0.2)
    await emu.wait_idle(quiet=0.05, timeout=10)
