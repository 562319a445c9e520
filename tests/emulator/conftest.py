"""Fixtures for the emulator's own tests: a started emulator, raw HTTP, a clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.dev.emulator import Emulator


class FakeClock:
    """A clock the test moves by hand (rate-limit windows)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emu(clock: FakeClock) -> AsyncIterator[Emulator]:
    emulator = Emulator(clock=clock)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def http(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=emu.base_url, timeout=15.0) as client:
        yield client


class Api:
    """Raw Bot API calls over HTTP, with a JSON body unless ``_form=True``.

    ``_form=True`` sends form-urlencoded like python-telegram-bot (every
    non-string JSON-encoded); ``_token`` overrides the token.
    """

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.token = token

    async def call(self, method: str, _form: bool = False, _token: str | None = None, **params: Any) -> httpx.Response:
        url = f"/bot{_token or self.token}/{method}"
        if _form:
            data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            return await self.http.post(url, data=data)
        return await self.http.post(url, json=params)

    async def ok(self, method: str, **params: Any) -> Any:
        response = await self.call(method, **params)
        body = response.json()
        assert response.status_code == 200 and body["ok"] is True, body
        return body["result"]

    async def fail(self, method: str, **params: Any) -> tuple[int, str]:
        response = await self.call(method, **params)
        body = response.json()
        assert body["ok"] is False, body
        assert body["error_code"] == response.status_code, body
        return response.status_code, body["description"]


@pytest.fixture
def api(http: httpx.AsyncClient, emu: Emulator) -> Api:
    return Api(http, emu.token)
