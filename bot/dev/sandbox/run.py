"""Sandbox: the whole bot with no token and no internet (`kimbot sandbox`).

One process runs the local Bot API emulator, the real bot polling it, and
the web chat page (default http://127.0.0.1:8080/) where a person picks a
persona and chats. The emulator's users are the personas below; the first is
the coordinator (its id is the only entry of COORDINATOR_IDS here). The
members of the demo (`bot.dev.sandbox.demo_data.EXTRA_MEMBERS`) are emulator users
too, so what the bot sends them arrives somewhere; the page does not show
their chats.

What the sandbox keeps in `sandbox-data/` (under the working directory):
the SQLite database, and `sandbox.json` with the chats as the page shows them
and the clock's offset. Users get the same ids in every run (they are created
in the same order), so the database and the chats fit together after a
restart. `--fresh` starts empty; `--demo` starts from a fresh example.
`--database` names another database, which is then used as it is.

The clock (`bot.dev.sandbox.clock`) is real time plus an offset that the page
moves forward; the bot and the emulator both read it.

E-mail (SPEC 15) is on: the bot's `SMTP_URL` is the sandbox's own SMTP server
(`bot.dev.sandbox.postfach`, on a free port of 127.0.0.1), whose mails the
page shows in its "Postfach" view and keeps in `sandbox-data/postfach/`; a
`SMTP_URL` in the environment is not used, so no mail leaves the computer.
`PUBLIC_URL` is `http://<host>:<pages port>` (default: the page's port + 1),
where the bot serves the pages the links in the mails open. `MAIL_FROM` is
kept when set.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.core.config import Settings, SmtpServer
from bot.dev.emulator import Emulator, User
from bot.dev.sandbox.clock import SandboxClock, TimeControl
from bot.dev.sandbox.demo import fill_demo
from bot.dev.sandbox.demo_data import EXTRA_MEMBERS
from bot.dev.sandbox.postfach import FOLDER as POSTFACH_FOLDER
from bot.dev.sandbox.postfach import Postfach, available
from bot.dev.sandbox.web import make_web_app
from bot.telegram.app import build_application, running

log = logging.getLogger(__name__)

DATA_DIR = Path("sandbox-data")
DATABASE_FILE = "kimbot-sandbox.db"
STATE_FILE = "sandbox.json"
STATE_FORMAT = 1
UPDATE_ID_GAP = 100_000
SAVE_EVERY = 5.0  # seconds between saves of the chats, when something changed
MAIL_FROM = "KIM-Bot Sandbox <kim-bot@sandbox.example>"
MAIL_RATE = 100.0  # e-mails a second: the Postfach takes them as fast as they come


@dataclass(frozen=True)
class PersonaSpec:
    key: str
    first_name: str
    last_name: str
    username: str
    role_de: str


PERSONAS = (
    PersonaSpec("koordination", "Sabine", "Weber", "sabine_kim", "Koordination"),
    PersonaSpec("ana", "Ana", "Popescu", "ana_popescu", "AK EU"),
    PersonaSpec("mehmet", "Mehmet", "Yılmaz", "mehmet_y", "AK Arbeitsmarkt"),
    PersonaSpec("ioana", "Ioana", "Dumitru", "ioana_d", "AG Süd-Ost-Europa"),
    PersonaSpec("lena", "Lena", "Hoffmann", "lena_h", "AK Ehrenamt"),
    PersonaSpec("thomas", "Thomas", "Becker", "thomas_b", "Gast"),
)
"""Who can chat on the page. The roles are what `--demo` makes of them; in an
empty sandbox every persona starts as a stranger and registers."""


def run_sandbox(
    settings: Settings,
    *,
    host: str,
    port: int,
    demo: bool,
    database: str | None,
    fresh: bool = False,
    data_dir: Path = DATA_DIR,
    pages_port: int | None = None,
) -> int:
    try:
        asyncio.run(
            serve(
                settings,
                host=host,
                port=port,
                demo=demo,
                database=database,
                fresh=fresh,
                data_dir=data_dir,
                pages_port=pages_port,
            )
        )
    except KeyboardInterrupt:
        pass
    return 0


async def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    demo: bool,
    database: str | None,
    fresh: bool = False,
    data_dir: Path = DATA_DIR,
    pages_port: int | None = None,
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    state_path = data_dir / STATE_FILE
    if fresh or demo:
        state_path.unlink(missing_ok=True)
        Postfach.clear(data_dir / POSTFACH_FOLDER)
        if database is None:
            for leftover in data_dir.glob(DATABASE_FILE + "*"):
                leftover.unlink()
    saved = _load_state(state_path)

    offset = saved.get("clock_offset", 0)
    clock = SandboxClock(timedelta(seconds=max(0.0, offset if isinstance(offset, int | float) else 0.0)))
    emulator = Emulator(wall_clock=clock.wall)
    await emulator.start(host="127.0.0.1", port=0)
    users = _add_users(emulator)
    next_update = saved.get("next_update_id")
    if isinstance(next_update, int):
        # The bot remembers update ids (its inbox); updates after the last save must
        # not get an id again, so leave a wide gap, as Telegram's ids may jump too.
        emulator.queue.continue_from(next_update + UPDATE_ID_GAP)
    if "world" in saved:
        try:
            emulator.world.restore(saved["world"])
        except (KeyError, TypeError, ValueError):
            log.warning("sandbox: the saved chats in %s do not fit; starting with empty chats", state_path)
    coordinator = users[PERSONAS[0].key]
    postfach = Postfach(data_dir / POSTFACH_FOLDER, clock.now) if available() else None
    mail: dict[str, Any] = {"smtp": None, "mail_from": None, "public_url": None}
    if postfach is None:
        log.warning("sandbox: without aiosmtpd (pip install -e '.[dev]') the sandbox sends no e-mail")
    else:
        postfach.load()
        smtp_port = await postfach.start()
        mail = _mail_settings(settings, host, pages_port or port + 1, smtp_port)

    sandbox_settings = dataclasses.replace(
        settings,
        telegram_bot_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_url=database or f"sqlite:///{data_dir / DATABASE_FILE}",
        coordinator_ids=frozenset({coordinator.id}),
        webhook_url=None,
        **mail,
    )
    application = build_application(sandbox_settings, clock=clock.now, long_running=True)

    async def deliver_due() -> None:
        await application.bot_data["deliveries"].tick()

    control = TimeControl(clock, sandbox_settings.timezone_name, deliver_due, emulator.world.signal.fire)
    personas: list[dict[str, Any]] = [
        {
            "key": spec.key,
            "label": f"{spec.first_name} {spec.last_name} ({spec.role_de})",
            "user": users[spec.key],
        }
        for spec in PERSONAS
    ]
    server = make_web_app(emulator, personas, control, postfach).listen(port, address=host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    saver = asyncio.create_task(_save_while_running(state_path, clock, emulator))
    try:
        async with running(application):
            if demo:
                await fill_demo(application.bot_data["runtime"].db, users, sandbox_settings, clock.now())
                await deliver_due()
            print(
                f"KIM-Bot sandbox: open http://{host}:{port}/ in your browser (Ctrl+C stops it).",
                flush=True,
            )
            if sandbox_settings.public_url:
                print(f"The links in the bot's e-mails open {sandbox_settings.public_url}/.", flush=True)
            await stop.wait()
    finally:
        saver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await saver
        try:
            _write_state(state_path, _state(clock, emulator))
        except OSError:
            log.warning("sandbox: cannot save the chats to %s", state_path, exc_info=True)
        server.stop()
        if postfach is not None:
            await postfach.stop()
        await emulator.stop()


def _mail_settings(settings: Settings, host: str, pages_port: int, smtp_port: int) -> dict[str, Any]:
    """E-mail to the Postfach; the pages of the links on `host:pages_port`."""
    public_host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    if ":" in public_host:
        public_host = f"[{public_host}]"
    return {
        "smtp": SmtpServer("127.0.0.1", smtp_port, tls=False),
        "mail_from": settings.mail_from or MAIL_FROM,
        "mail_rate": MAIL_RATE,
        "public_url": f"http://{public_host}:{pages_port}",
        "web_listen": host,
        "web_port": pages_port,
    }


def _add_users(emulator: Emulator) -> dict[str, User]:
    """Personas first, then the demo's members: the same ids in every run."""
    users = {
        spec.key: emulator.add_user(
            spec.first_name, last_name=spec.last_name, username=spec.username, language_code="de"
        )
        for spec in PERSONAS
    }
    for person in EXTRA_MEMBERS:
        users[person.key] = emulator.add_user(
            person.first_name,
            last_name=person.last_name,
            username=person.username,
            language_code="de",
        )
    return users


def _load_state(path: Path) -> dict[str, Any]:
    """What an earlier run saved, or {} (none, unreadable, or of another format)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        log.warning("sandbox: cannot read %s; starting with empty chats and real time", path)
        return {}
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        return {}
    return data


def _state(clock: SandboxClock, emulator: Emulator) -> dict[str, Any]:
    return {
        "format": STATE_FORMAT,
        "clock_offset": clock.offset.total_seconds(),
        "next_update_id": emulator.queue.next_id,
        "world": emulator.world.snapshot(),
    }


def _write_state(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: a crash while saving leaves the previous file."""
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


async def _save_while_running(path: Path, clock: SandboxClock, emulator: Emulator) -> None:
    """Save every few seconds when a message or the clock changed (a crash loses little)."""
    saved: tuple[int, timedelta] | None = None
    while True:
        await asyncio.sleep(SAVE_EVERY)
        current = (emulator.world.seq, clock.offset)
        if current != saved:
            data = _state(clock, emulator)  # taken on the loop, written in a thread
            try:
                await asyncio.to_thread(_write_state, path, data)
            except OSError:
                log.warning("sandbox: cannot save the chats to %s", path, exc_info=True)
            saved = current
