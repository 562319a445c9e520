"""Command line: `kimbot run`, `kimbot sandbox`, `kimbot db upgrade`,
`kimbot digest [group|all] [period]`, `kimbot report` (SPEC 10), `kimbot track`
(SPEC 14), `kimbot backup`, and
`kimbot bench` (the benchmarks of a source checkout).

The entry point loads `.env` once (real environment variables win), builds
the settings, and stops with exit status 2 and a message naming the
variable, the value and what is allowed when any value is invalid, before
anything connects anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

from bot.core.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging

log = logging.getLogger("kimbot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    load_dotenv(os.environ.get("KIMBOT_ENV_FILE", ".env"), override=False)
    try:
        settings = load_settings(os.environ)
        return int(args.handler(settings, args) or 0)
    except ConfigError as error:
        print(f"kimbot: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def bench(settings: Settings, args: argparse.Namespace) -> int:
    """`python -m bench` with the given options (docs/performance.md)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "bench" / "__main__.py").is_file():
        print(
            "kimbot: the benchmarks are part of the source checkout (bench/); run this command from a clone of KIM-Bot",
            file=sys.stderr,
        )
        return 2
    return subprocess.call([sys.executable, "-m", "bench", *args.options], cwd=root)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """The bot: polling, or webhook when WEBHOOK_URL is set."""
    from bot.telegram.app import ALLOWED_UPDATES, build_application

    settings.require_token()
    configure_logging(settings)
    lock = _single_process_lock(settings.database_url)
    if isinstance(lock, str):
        print(lock, file=sys.stderr)
        return 2
    application = build_application(settings, long_running=True)
    if settings.webhook_url:
        log.info("starting in webhook mode on %s:%s", settings.webhook_listen, settings.webhook_port)
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
    else:
        log.info("starting in polling mode against %s", settings.telegram_api_url)
        application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
    return 0


def _single_process_lock(url: str) -> object:
    """On SQLite, the lock that keeps a second `kimbot run` off the same database
    (held until the process ends); the refusal's text when another one runs."""
    from sqlalchemy.engine import make_url

    from storage.cluster import AnotherProcess, SingleProcessLock

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database).resolve()
    lock = SingleProcessLock(path)
    try:
        lock.acquire()
    except AnotherProcess as holder:
        return (
            f"kimbot: another 'kimbot run' already uses the SQLite database {path} ({holder}).\n"
            "SQLite serves one process only. Stop the other one first, or, to run several "
            "processes, use PostgreSQL (DATABASE_URL=postgresql://...) behind a reverse proxy "
            "(see the README)."
        )
    except OSError as error:
        return f"kimbot: cannot lock the SQLite database {path}: {error}"
    return lock


def db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    """Apply the database migrations and seed the groups."""
    from storage.database import Database

    configure_logging(settings)

    async def upgrade() -> None:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    asyncio.run(upgrade())
    print("kimbot: database is up to date")
    return 0


def sandbox(settings: Settings, args: argparse.Namespace) -> int:
    """The whole bot on the local emulator with a web chat page."""
    from bot.dev.sandbox.run import run_sandbox

    configure_logging(settings)
    return run_sandbox(
        settings,
        host=args.host,
        port=args.port,
        demo=args.demo,
        fresh=args.fresh,
        database=args.database,
        pages_port=args.pages_port,
    )


def digest(settings: Settings, args: argparse.Namespace) -> int:
    """The digest on the terminal (for cron and e-mail): `kimbot digest [group|all] [period]`,
    the arguments of `/digest`, or the options `--group` and `--since`."""
    from bot.render import digest as digests

    if args.words:
        if args.group is not None or args.since is not None:
            print("kimbot digest: give the group and period either as words or as --group/--since", file=sys.stderr)
            return 2
        args.group, args.since = split_digest_words(args.words, settings)
    return digests.command_line(settings, args)


def split_digest_words(words: Sequence[str], settings: Settings) -> tuple[str, str | None]:
    """`[group|all] [period]` as typed after `kimbot digest`: the period is the
    longest run of last words that reads as one (`30d`, `30 Tage`, `since
    2026-01-01`, a date), or else the last words from the first one that begins
    like a period (a digit, `since`, `seit`, `ab`), so that a wrong period is
    named as such; the words before it name the group (none: every group)."""
    from bot.core.digest_arguments import parse_period
    from bot.core.errors import Refusal

    now = datetime.now(UTC)
    for start in range(len(words)):
        try:
            parse_period(" ".join(words[start:]), now, settings.timezone)
        except Refusal as refusal:
            if refusal.key != "digest.since_future":
                continue
        return " ".join(words[:start]) or "all", " ".join(words[start:])
    for start, word in enumerate(words):
        if word[:1].isdigit() or word.casefold() in ("since", "seit", "ab"):
            return " ".join(words[:start]) or "all", " ".join(words[start:])
    return " ".join(words), None


def report(settings: Settings, args: argparse.Namespace) -> int:
    """The half-yearly report as files."""
    from bot.render import report as reports

    return reports.command_line(settings, args)


def track(settings: Settings, args: argparse.Namespace) -> int:
    """Where the steering circle's recommendations stand, as /track lists them."""
    from bot.render import tracking_export

    return tracking_export.command_line(settings, args)


def backup(settings: Settings, args: argparse.Namespace) -> int:
    """A consistent copy of the live SQLite database."""
    from storage.backup import BackupError, backup_sqlite, default_target, sqlite_path

    try:
        source = sqlite_path(settings.database_url)
        target = Path(args.out) if args.out else default_target(source, datetime.now())
        written = backup_sqlite(source, target)
    except (BackupError, OSError, sqlite3.Error) as error:
        print(f"kimbot backup: {error}", file=sys.stderr)
        return 2
    print(f"kimbot: backup written to {written}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kimbot", description="KIM-Bot: Telegram bot for the KIM working groups.")
    commands = parser.add_subparsers(title="commands")

    run_parser = commands.add_parser("run", help="run the bot (polling, or webhook when WEBHOOK_URL is set)")
    run_parser.set_defaults(handler=run)

    sandbox_parser = commands.add_parser("sandbox", help="try the bot in a browser: no token, no internet")
    sandbox_parser.add_argument("--host", default="127.0.0.1", help="address of the chat page (default 127.0.0.1)")
    sandbox_parser.add_argument("--port", type=int, default=8080, help="port of the chat page (default 8080)")
    sandbox_parser.add_argument(
        "--pages-port",
        type=int,
        default=None,
        help="port of the pages the links in e-mails open (default: the chat page's port + 1)",
    )
    sandbox_parser.add_argument(
        "--demo",
        action="store_true",
        help="start from a realistic example (replaces what ./sandbox-data holds)",
    )
    sandbox_parser.add_argument(
        "--fresh",
        action="store_true",
        help="start empty (forget the chats and database in ./sandbox-data)",
    )
    sandbox_parser.add_argument(
        "--database",
        default=None,
        help="database URL for the sandbox (default: the SQLite file in ./sandbox-data)",
    )
    sandbox_parser.set_defaults(handler=sandbox)

    db_parser = commands.add_parser("db", help="database maintenance")
    db_commands = db_parser.add_subparsers(title="db commands")
    upgrade_parser = db_commands.add_parser("upgrade", help="apply migrations (also done by 'kimbot run')")
    upgrade_parser.set_defaults(handler=db_upgrade)

    digest_parser = commands.add_parser(
        "digest",
        help="print the digest (as /digest does) for cron and e-mail: kimbot digest [group|all] [period]",
    )
    digest_parser.add_argument(
        "words",
        nargs="*",
        metavar="group|all period",
        help="as /digest: e.g. 'all 30d', 'ak-eu', 'eu since 2026-01-01'",
    )
    digest_parser.add_argument("--group", default=None, help="a group (slug, name or prefix) or 'all' (default)")
    digest_parser.add_argument(
        "--since", default=None, help="the period: 7d (default), 30d, or a date such as 2026-01-01"
    )
    digest_parser.add_argument("--format", choices=("text", "md", "json"), default="text", help="output format")
    digest_parser.set_defaults(handler=digest)

    report_parser = commands.add_parser("report", help="write the half-yearly report (Word and Markdown)")
    report_parser.add_argument("half_year", metavar="YYYY-H1|YYYY-H2", help="the half-year, e.g. 2026-H1")
    report_parser.add_argument("--out", default=".", help="directory for the files (default: the current one)")
    report_parser.set_defaults(handler=report)

    track_parser = commands.add_parser(
        "track", help="print where the steering circle's recommendations stand (as /track), for cron and e-mail"
    )
    track_parser.add_argument("--format", choices=("text", "md", "json"), default="text", help="output format")
    track_parser.set_defaults(handler=track)

    backup_parser = commands.add_parser(
        "backup", help="copy the live SQLite database consistently (PostgreSQL: pg_dump)"
    )
    backup_parser.add_argument(
        "--out", default=None, help="the copy's file (default: next to the database, with the time)"
    )
    backup_parser.set_defaults(handler=backup)

    # Every option goes through to `python -m bench` ("kimbot bench --help" shows them).
    bench_parser = commands.add_parser(
        "bench",
        help="run the benchmarks of the source checkout (python -m bench)",
        prefix_chars="+",
        add_help=False,
    )
    bench_parser.add_argument("options", nargs=argparse.REMAINDER)
    bench_parser.set_defaults(handler=bench)
    return parser


if __name__ == "__main__":
    sys.exit(main())
