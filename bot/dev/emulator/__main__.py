"""Run the emulator on its own: ``python -m bot.dev.emulator [--host H] [--port P]``.

For a bot started as a separate process: point its Telegram API root at the
printed base URL and drive people through the control API (``/_emulator/``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .emulator import Emulator


async def _serve(args: argparse.Namespace) -> None:
    emulator = Emulator(token=args.token, bot_username=args.bot_username)
    if args.rate_limits:
        emulator.set_rate_limits(enabled=True)
    base_url = await emulator.start(host=args.host, port=args.port)
    print(
        f"Bot API emulator at {base_url} (token {args.token}); control API at {base_url}/_emulator/",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.dev.emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--bot-username", default="kim_test_bot")
    parser.add_argument("--rate-limits", action="store_true", help="enforce Telegram's rate limits")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
