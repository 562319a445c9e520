"""Fan-out benchmark: one message to every member, within Telegram's limits.

    .venv/bin/python bench/fanout.py [--members 600]

The local emulator enforces Telegram's limits (30 messages per second overall,
1 per second per chat, 20 per minute per group chat) and answers 429 beyond
them. A real python-telegram-bot `ExtBot` with `RetryAfterLimiter` sends
through a `Pacer`. Printed: messages delivered, lost and duplicated, the 429s
the emulator answered, the time taken, and how it compares with the floor
members / 30 s that Telegram's global limit allows (target: at most 1.1 x).

As a baseline the same messages go out through a plain sequential loop
without pacing, against the emulator with its limits switched off: how fast
the sending itself is, without any limit.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram.ext import ExtBot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.dev.emulator import Emulator  # noqa: E402
from bot.telegram.delivery import HTML, Pacer  # noqa: E402
from bot.telegram.ratelimit import RetryAfterLimiter  # noqa: E402

TELEGRAM_PER_SECOND = 30
TARGET_RATIO = 1.1
TEXT = "<b>Einladung</b>: AK EU, Do., 03.12.2026, 14:00 Uhr, Rathaus"


def make_bot(emu: Emulator) -> ExtBot[int]:
    return ExtBot(
        emu.token,
        base_url=emu.api_url,
        base_file_url=emu.file_url,
        request=HTTPXRequest(connection_pool_size=64),
        rate_limiter=RetryAfterLimiter(),
    )


def tally(emu: Emulator, chat_ids: list[int]) -> tuple[int, int, int]:
    """(delivered, lost, duplicates) over the chats."""
    counts = [len(emu.messages(chat_id)) for chat_id in chat_ids]
    delivered = sum(1 for n in counts if n >= 1)
    lost = sum(1 for n in counts if n == 0)
    duplicates = sum(n - 1 for n in counts if n > 1)
    return delivered, lost, duplicates


async def paced(members: int) -> dict[str, float]:
    async with Emulator() as emu:
        emu.set_rate_limits(True, global_per_second=30, per_chat_per_second=1, group_per_minute=20)
        chat_ids = [emu.add_user(f"Mitglied {n}").id for n in range(members)]
        async with make_bot(emu) as bot:
            pacer = Pacer(bot)
            started = time.monotonic()
            results = await pacer.fan_out((chat_id, TEXT) for chat_id in chat_ids)
            elapsed = time.monotonic() - started
        delivered, lost, duplicates = tally(emu, chat_ids)
        outcomes = Counter(r.outcome.name for r in results)
        floor = members / TELEGRAM_PER_SECOND
        ratio = elapsed / floor
        print(f"Pacer, emulator with Telegram's limits ({members} members)")
        print(f"  outcomes       {dict(outcomes)}")
        print(f"  delivered      {delivered}")
        print(f"  lost           {lost}")
        print(f"  duplicates     {duplicates}")
        print(f"  429 answered   {len(emu.too_many_requests)}")
        print(f"  elapsed        {elapsed:.2f} s")
        print(f"  floor          {floor:.2f} s ({members} / {TELEGRAM_PER_SECOND} per second)")
        verdict = "ok" if ratio <= TARGET_RATIO else "over target"
        print(f"  elapsed/floor  {ratio:.3f} (target <= {TARGET_RATIO}: {verdict})")
        return {
            "elapsed": elapsed,
            "too_many": len(emu.too_many_requests),
            "lost": lost,
            "duplicates": duplicates,
        }


async def naive(members: int) -> None:
    async with Emulator() as emu:
        emu.set_rate_limits(False)
        chat_ids = [emu.add_user(f"Mitglied {n}").id for n in range(members)]
        async with make_bot(emu) as bot:
            started = time.monotonic()
            for chat_id in chat_ids:
                await bot.send_message(chat_id, TEXT, **HTML)
            elapsed = time.monotonic() - started
        delivered, lost, duplicates = tally(emu, chat_ids)
        print(f"Baseline: sequential loop, no pacing, emulator without limits ({members} members)")
        print(f"  delivered      {delivered}")
        print(f"  lost           {lost}")
        print(f"  duplicates     {duplicates}")
        print(f"  elapsed        {elapsed:.2f} s ({members / elapsed:.0f} messages per second)")


async def suite(quick: bool, postgres: str | None) -> list:
    """The Pacer alone (no database): the part of the fan-out the bot cannot do faster."""
    from bench.common import Row

    if postgres:
        return []
    members = 150 if quick else 600
    outcome = await paced(members)
    floor = members / TELEGRAM_PER_SECOND
    ratio = outcome["elapsed"] / floor
    clean = outcome["too_many"] == 0 and outcome["lost"] == 0 and outcome["duplicates"] == 0
    return [
        Row(
            f"fan-out: Pacer alone, {members} chats",
            f"{outcome['elapsed']:.2f} s, {outcome['too_many']:.0f} x 429",
            f"floor {floor:.2f} s (30/s)",
            ratio,
            "<= 1.1 x, 0 x 429",
            ratio <= TARGET_RATIO and clean,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=600, help="people to send to (600)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(paced(args.members))
    print()
    asyncio.run(naive(args.members))


if __name__ == "__main__":
    main()
