"""`kimbot sandbox` keeps its chats, database and clock across a restart; `--fresh` forgets."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.sandbox_process import running_sandbox


async def chat_texts(client: httpx.AsyncClient, persona: str) -> list[str]:
    info = (await client.get("/api/personas")).json()
    user_id = next(p["user_id"] for p in info["personas"] if p["key"] == persona)
    messages = (await client.get("/api/messages", params={"since": 0})).json()["messages"]
    return [m["text"] for m in messages if m["chat_id"] == user_id]


async def wait_for_answer(client: httpx.AsyncClient, persona: str, count: int) -> list[str]:
    seq = 0
    for _ in range(100):
        texts = await chat_texts(client, persona)
        if len(texts) >= count:
            return texts
        seq = (await client.get("/api/messages", params={"since": seq, "timeout": 1})).json()["seq"]
    raise AssertionError(f"no answer for {persona}: {await chat_texts(client, persona)}")


async def test_a_restart_keeps_chats_and_clock_and_fresh_forgets(tmp_path: Path) -> None:
    async with (
        running_sandbox(tmp_path, "--fresh") as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        await client.post("/api/chats/ana/send", json={"text": "/start"})
        first = await wait_for_answer(client, "ana", 3)  # /start, the welcome, the privacy notice
        jumped = (await client.post("/api/clock", json={"jump": "hour"}, timeout=60)).json()
        assert jumped["offset"] == 3600

    async with running_sandbox(tmp_path) as base, httpx.AsyncClient(base_url=base) as client:
        assert await chat_texts(client, "ana") == first, "the chat is there again"
        assert (await client.get("/api/clock")).json()["offset"] == 3600, "and the clock's time"
        # The bot remembers her too: she is in the middle of registering.
        await client.post("/api/chats/ana/send", json={"text": "/start"})
        again = await wait_for_answer(client, "ana", len(first) + 2)
        assert again[: len(first)] == first

    async with (
        running_sandbox(tmp_path, "--fresh") as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        assert await chat_texts(client, "ana") == []
        assert (await client.get("/api/clock")).json()["offset"] == 0


async def test_a_damaged_save_file_starts_with_empty_chats_and_real_time(tmp_path: Path) -> None:
    data = tmp_path / "sandbox-data"
    data.mkdir()
    (data / "sandbox.json").write_text(
        '{"format": 1, "clock_offset": -3600, "world": {"messages": [{"chat_id": "x"}], "files": []}}'
    )
    async with running_sandbox(tmp_path) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/api/clock")).json()["offset"] == 0
        await client.post("/api/chats/ana/send", json={"text": "/start"})
        await wait_for_answer(client, "ana", 3)  # the sandbox works: the welcome, the privacy notice
    (data / "sandbox.json").write_text("not json")
    async with running_sandbox(tmp_path) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/api/clock")).json()["offset"] == 0
