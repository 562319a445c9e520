"""`kimbot run` as a real process against the emulator, as an operator runs it.

Proves the bot is a proper Bot API client: it answers messages sent while it
was down, registration, /help, /join and a coordinator's approval end to end;
every call it makes is valid under the Bot API specification; and the token
appears nowhere in its output, even at DEBUG level.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys

import httpx

from bot.dev.emulator import Emulator
from tests.harness import free_port

WAIT = 20.0  # guards against a hang only


async def start_bot(emulator: Emulator, tmp_path, coordinator_id: int, **extra: str) -> asyncio.subprocess.Process:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_URL": emulator.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'kimbot.db'}",
            "COORDINATOR_IDS": str(coordinator_id),
            "LOG_LEVEL": "DEBUG",
            **extra,
        }
    )
    # The output goes to a file: a pipe nobody reads until the end fills up at DEBUG
    # level and then blocks the bot in the middle of a log line.
    with open(tmp_path / "kimbot.log", "wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    process.log_path = tmp_path / "kimbot.log"  # type: ignore[attr-defined]
    return process


async def stop_bot(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), WAIT)
    output = process.log_path.read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]
    assert process.returncode == 0, output
    return output


async def next_message(emulator: Emulator, user, count_before: int):  # type: ignore[no-untyped-def]
    return await emulator.wait_for_message(user.id, after=count_before, timeout=WAIT)


async def test_kimbot_run_end_to_end(emulator: Emulator, tmp_path) -> None:
    coordinator = emulator.add_user("Sabine", last_name="Weber", username="sabine_kim", language_code="de")
    alice = emulator.add_user("Alice", username="alice_n", language_code="de")
    emulator.send_text(alice, "/start")  # sent while the bot is still down

    process = await start_bot(emulator, tmp_path, coordinator.id)
    try:
        welcome = await next_message(emulator, alice, 0)
        assert "Willkommen beim KIM-Bot" in welcome.text
        await emulator.wait_until(lambda: any(m.buttons for m in emulator.messages(alice.id)), WAIT)
        notice = emulator.messages(alice.id)[-1]

        seen = len(emulator.messages(alice.id))
        emulator.press_button(alice, notice, "✅ Gelesen")
        assert "Wie sollen wir Sie nennen" in (await next_message(emulator, alice, seen)).text

        seen = len(emulator.messages(alice.id))
        emulator.send_text(alice, "Alice Nowak")
        question = await next_message(emulator, alice, seen)
        assert "Für welche Organisation" in question.text

        seen = len(emulator.messages(alice.id))
        emulator.press_button(alice, question, "Ohne Organisation weiter")
        groups = await next_message(emulator, alice, seen)
        assert "Sie sind registriert" in groups.text

        seen = len(emulator.messages(alice.id))
        emulator.send_text(alice, "/help")
        assert "/join" in (await next_message(emulator, alice, seen)).text

        seen = len(emulator.messages(alice.id))
        emulator.send_text(alice, "/join ak-eu")
        assert "Anfrage für AK EU" in (await next_message(emulator, alice, seen)).text
        card = await next_message(emulator, coordinator, 0)
        assert "Alice Nowak" in card.text

        seen = len(emulator.messages(alice.id))
        emulator.press_button(coordinator, card, "✅ Annehmen")
        assert "Sie sind jetzt Mitglied in AK EU" in (await next_message(emulator, alice, seen)).text
        await emulator.wait_until(lambda: "ist jetzt Mitglied" in emulator.messages(coordinator.id)[0].text, WAIT)
    finally:
        output = await stop_bot(process)

    # At shutdown the bot confirms the last updates with a short getUpdates while its
    # abandoned long poll is still open on the server: Telegram (and the emulator)
    # answer that abandoned request 409. Every other call must have been accepted.
    refused = [
        (c.method, c.status, c.description)
        for c in emulator.calls
        if c.status != 200 and not (c.method == "getUpdates" and c.status == 409)
    ]
    assert refused == [], f"calls the Bot API refused: {refused}"
    assert emulator.token not in output
    assert emulator.token.split(":")[1] not in output
    assert "starting in polling mode" in output, "the log is there, only without the token"
    at_info = "\n".join(
        record
        for record in re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} )", output)
        if not re.match(r"\S+ \S+ DEBUG ", record)
    )
    assert "starting in polling mode" in at_info
    assert "Alice Nowak" in output, "at DEBUG the texts are logged, so the check below can fail"
    for text in ("Alice Nowak", "/join ak-eu", "Willkommen beim KIM-Bot", "Wie sollen wir Sie nennen"):
        assert text not in at_info, f"message texts stay out of the log at INFO: {text!r}"


async def test_kimbot_run_survives_a_restart_mid_registration(emulator: Emulator, tmp_path) -> None:
    coordinator = emulator.add_user("Sabine", username="sabine_kim")
    bob = emulator.add_user("Bob", language_code="de")
    process = await start_bot(emulator, tmp_path, coordinator.id)
    try:
        emulator.send_text(bob, "/start")
        await emulator.wait_until(lambda: any(m.buttons for m in emulator.messages(bob.id)), WAIT)
        seen = len(emulator.messages(bob.id))
        emulator.press_button(bob, emulator.messages(bob.id)[-1], "✅ Gelesen")
        await next_message(emulator, bob, seen)
    finally:
        await stop_bot(process)

    seen = len(emulator.messages(bob.id))
    emulator.send_text(bob, "Bob Builder")  # answered by the next process
    process = await start_bot(emulator, tmp_path, coordinator.id)
    try:
        assert "Für welche Organisation" in (await next_message(emulator, bob, seen)).text
    finally:
        await stop_bot(process)


async def test_kimbot_run_in_webhook_mode(emulator: Emulator, tmp_path) -> None:
    coordinator = emulator.add_user("Sabine", username="sabine_kim")
    alice = emulator.add_user("Alice", language_code="en")
    port = free_port()
    process = await start_bot(
        emulator,
        tmp_path,
        coordinator.id,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/kimbot-hook",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET="s3cret-value",
    )
    try:
        await emulator.wait_until(lambda: emulator.calls_of("setWebhook"), WAIT)
        emulator.send_text(alice, "/help")
        reply = await next_message(emulator, alice, 0)
        assert "What you can do" in reply.text

        # Anyone who knows the address could post updates; without the secret they get 403.
        forged = {
            "update_id": 990001,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": alice.id, "type": "private", "first_name": "Alice"},
                "from": {"id": alice.id, "is_bot": False, "first_name": "Alice"},
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        hook = f"http://127.0.0.1:{port}/kimbot-hook"
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.post(hook, json=forged)).status_code == 403
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guessed"}
            assert (await client.post(hook, json=forged, headers=wrong)).status_code == 403
            # With the secret, one update posted twice (Telegram repeating it, or a
            # second process behind the same proxy receiving it): answered once.
            right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}
            repeated = {**forged, "update_id": 990002}
            for _ in range(2):
                assert (await client.post(hook, json=repeated, headers=right)).status_code == 200
        await next_message(emulator, alice, 1)
        emulator.send_text(alice, "/help")
        await next_message(emulator, alice, 2)
        assert len(emulator.messages(alice)) == 3, "forged updates not handled, the repeat once"
    finally:
        output = await stop_bot(process)
    webhook = emulator.calls_of("setWebhook")[-1]
    assert webhook.params["url"] == f"http://127.0.0.1:{port}/kimbot-hook"
    assert webhook.params["secret_token"] == "s3cret-value"
    assert not emulator.calls_of("getUpdates")
    assert "s3cret-value" not in output and emulator.token not in output
