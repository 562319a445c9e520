"""Sandbox: the whole bot with no token and no internet (`kimbot sandbox`).

One process runs the local Bot API emulator, the real bot polling it, and
the web chat page (default http://127.0.0.1:8080/) where a person picks a
persona and chats. The emulator's users are the personas below; the first is
the coordinator (its id is the only entry of COORDINATOR_IDS here).

The sandbox starts from a fresh SQLite database under `./sandbox-data`
each time (the emulator keeps its chats in memory, so an older database
would not match them), unless `--database` names another one. `--demo`
registers the members and puts them into groups.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import build_application, running
from bot.config import Settings
from bot.emulator import Emulator
from bot.sandbox.demo import fill_demo

log = logging.getLogger(__name__)

DATA_DIR = Path("sandbox-data")


@dataclass(frozen=True)
class PersonaSpec:
    key: str
    first_name: str
    last_name: str
    username: str
    role_de: str


PERSONAS = (
    PersonaSpec("koordination", "Sabine", "Weber", "sabine_kim", "Koordination"),
    PersonaSpec("ana", "Ana", "Popescu", "ana_popescu", "Mitglied"),
    PersonaSpec("mehmet", "Mehmet", "Yılmaz", "mehmet_y", "Mitglied"),
    PersonaSpec("ioana", "Ioana", "Dumitru", "ioana_d", "Mitglied"),
    PersonaSpec("thomas", "Thomas", "Becker", "thomas_b", "neu"),
)


def run_sandbox(settings: Settings, *, host: str, port: int, demo: bool, database: str | None) -> int:
    try:
        asyncio.run(serve(settings, host=host, port=port, demo=demo, database=database))
    except KeyboardInterrupt:
        pass
    return 0


async def serve(settings: Settings, *, host: str, port: int, demo: bool, database: str | None) -> None:
    from bot.sandbox.web import make_web_app

    emulator = Emulator()
    await emulator.start(host="127.0.0.1", port=0)
    users = {spec.key: emulator.add_user(spec.first_name, last_name=spec.last_name, username=spec.username, language_code="de") for spec in PERSONAS}
    coordinator = users[PERSONAS[0].key]

    if database is None:
        DATA_DIR.mkdir(exist_ok=True)
        for leftover in DATA_DIR.glob("kimbot-sandbox.db*"):
            leftover.unlink()
        database = f"sqlite:///{DATA_DIR / 'kimbot-sandbox.db'}"
    sandbox_settings = dataclasses.replace(
        settings,
        telegram_bot_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_url=database,
        coordinator_ids=frozenset({coordinator.id}),
        webhook_url=None,
    )
    application = build_application(sandbox_settings)
    personas: list[dict[str, Any]] = [
        {"key": spec.key, "label": f"{spec.first_name} {spec.last_name} ({spec.role_de})", "user": users[spec.key]}
        for spec in PERSONAS
    ]
    web = make_web_app(emulator, personas)
    server = web.listen(port, address=host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running(application):
            if demo:
                await fill_demo(application.bot_data["runtime"].db, users, sandbox_settings)
                await application.bot_data["deliveries"].tick()
            print(f"KIM-Bot sandbox: open http://{host}:{port}/ in your browser (Ctrl+C stops it).", flush=True)
            await stop.wait()
    finally:
        server.stop()
        await emulator.stop()
