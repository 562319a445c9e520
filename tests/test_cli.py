"""The `kimbot` command line as an operator meets it: a real process, a
working directory with or without `.env`, and a clean environment.
`kimbot track` runs on SQLite and PostgreSQL, on a database prepared through
the core functions the chat uses.

Connections are detected with a listening socket that the tests own: the
kernel completes a TCP handshake into its backlog even before anyone calls
`accept`, so after the process has ended, a non-blocking `accept` tells
whether it ever tried to reach the Bot API.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core import recommendation_closing, recommendations, steps, tracking_changes
from bot.core.config import load_settings
from bot.core.tracking_changes import Field
from storage.database import Database
from storage.tracking_models import RecommendationResult, TrackStatus
from tests.bot_process import clean_env, kimbot
from tests.factories import coordinator_and_members

TOKEN = "123456789:AAEcliTestTokenValue_xyz-987"
BERLIN = ZoneInfo("Europe/Berlin")

# The five groups of SPEC 1.
SEEDED = {
    ("ak-eu", "AK EU"),
    ("ak-ehrenamt", "AK Ehrenamt"),
    ("ak-arbeitsmarkt", "AK Arbeitsmarktintegration"),
    ("ag-soe", "AG Süd-Ost-Europa"),
    ("lenkungskreis", "Lenkungskreis Integration"),
}


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local port that nothing answers on; it only records connection attempts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    try:
        yield sock
    finally:
        sock.close()


def api_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()
    return f"http://{host}:{port}"


def connection_attempts(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def sqlite_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.suffix in (".db", ".sqlite") or ".db-" in p.name)


def assert_config_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert "configuration error" in result.stderr
    for word in words:
        assert word in result.stderr, f"{word!r} missing from {result.stderr!r}"


# --- invalid values stop everything ------------------------------------------

INVALID = [
    ("TIMEZONE", "Mars/Olympus", "Europe/Berlin"),
    ("DEFAULT_LANGUAGE", "fr", "de, en"),
    ("REMINDER_OFFSETS", "7x", "7d,1d,2h"),
    ("DIGEST_SCHEDULE", "monday 25:00", "mon 08:00"),
    ("JOIN_POLICY", "maybe", "approval, open"),
    ("COORDINATOR_IDS", "12,abc", "numeric"),
    ("DATABASE_URL", "mysql://x", "postgresql://"),
    ("WEBHOOK_URL", "bot.example.org/hook", "https://"),
    ("WEBHOOK_PORT", "70000", "65535"),
    ("SMTP_URL", "http://mail.stadt.example.de", "smtp://"),
    ("MAIL_RATE", "fast", "e-mails per second"),
    ("PUBLIC_URL", "bot.stadt.example.de", "https://"),
    ("WEB_PORT", "70000", "65535"),
]


@pytest.mark.parametrize("command", [["run"], ["db", "upgrade"]], ids=["run", "db-upgrade"])
@pytest.mark.parametrize(("variable", "value", "allowed"), INVALID, ids=[v for v, _, _ in INVALID])
def test_invalid_value_exits_2_naming_it_before_connecting(
    tmp_path: Path, listener: socket.socket, command: list[str], variable: str, value: str, allowed: str
) -> None:
    env = clean_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url(listener), **{variable: value})
    result = kimbot(tmp_path, *command, env=env, timeout=60)
    assert_config_error(result, variable, value, allowed)
    assert connection_attempts(listener) == 0
    assert sqlite_files(tmp_path) == []  # no database was opened either
    assert TOKEN not in result.stderr + result.stdout


def test_an_invalid_smtp_url_exits_2_without_printing_its_password(tmp_path: Path, listener: socket.socket) -> None:
    url = "smtp://kim:geheim@mail.stadt.example.de:port"
    env = clean_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url(listener), SMTP_URL=url, MAIL_FROM="kim@x.de")
    result = kimbot(tmp_path, "run", env=env, timeout=60)
    assert_config_error(result, "SMTP_URL", "kim:***@mail.stadt.example.de")
    assert "geheim" not in result.stderr + result.stdout
    assert connection_attempts(listener) == 0 and sqlite_files(tmp_path) == []


def test_invalid_api_url_exits_2(tmp_path: Path) -> None:
    result = kimbot(tmp_path, "run", env=clean_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL="ftp://x"))
    assert_config_error(result, "TELEGRAM_API_URL", "ftp://x", "http://")


def test_invalid_value_stops_the_sandbox_too(tmp_path: Path) -> None:
    result = kimbot(tmp_path, "sandbox", env=clean_env(JOIN_POLICY="maybe"), timeout=60)
    assert_config_error(result, "JOIN_POLICY", "maybe")
    assert sqlite_files(tmp_path) == []


def test_malformed_token_exits_2_without_printing_it(tmp_path: Path, listener: socket.socket) -> None:
    token = "12345:secret part/with-slash"
    env = clean_env(TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=api_url(listener))
    result = kimbot(tmp_path, "run", env=env, timeout=60)
    assert_config_error(result, "TELEGRAM_BOT_TOKEN")
    assert "secret part" not in result.stderr + result.stdout
    assert connection_attempts(listener) == 0


def test_run_without_token_exits_2_with_a_clear_message(tmp_path: Path, listener: socket.socket) -> None:
    result = kimbot(tmp_path, "run", env=clean_env(TELEGRAM_API_URL=api_url(listener)), timeout=60)
    assert_config_error(result, "TELEGRAM_BOT_TOKEN", "kimbot run")
    assert "not set" in result.stderr
    assert connection_attempts(listener) == 0
    assert sqlite_files(tmp_path) == []


def test_run_with_valid_settings_does_connect(tmp_path: Path, listener: socket.socket) -> None:
    """The control for the tests above: the listener does see a running bot."""
    env = clean_env(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api_url(listener),
        DATABASE_URL=f"sqlite:///{tmp_path / 'control.db'}",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Wait for the event: a connection in the listener's backlog (or the process
        # ending). About a minute of one-second looks guards against a hang only.
        for _ in range(60):
            if process.poll() is not None or select.select([listener], [], [], 1.0)[0]:
                break
        attempts = connection_attempts(listener)
    finally:
        process.kill()
        _, stderr = process.communicate(timeout=30)
    assert attempts > 0, f"kimbot run never reached the Bot API; stderr: {stderr}"
    assert TOKEN not in stderr


def test_no_command_prints_help_and_exits_2(tmp_path: Path) -> None:
    result = kimbot(tmp_path, env=clean_env(), timeout=60)
    assert result.returncode == 2
    assert "run" in result.stdout and "sandbox" in result.stdout and "db" in result.stdout


def test_bench_passes_its_options_to_the_benchmark_suite(tmp_path: Path) -> None:
    """`kimbot bench --help` is the help of `python -m bench`, from any directory."""
    result = kimbot(tmp_path, "bench", "--help", env=clean_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "python -m bench" in result.stdout and "--quick" in result.stdout


# --- .env ---------------------------------------------------------------------


def test_dotenv_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# operator settings\nTIMEZONE=Mars/Olympus\n", encoding="utf-8")
    result = kimbot(tmp_path, "db", "upgrade", env=clean_env(), timeout=60)
    assert_config_error(result, "TIMEZONE", "Mars/Olympus")


def test_the_real_environment_wins_over_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=Mars/Olympus\nJOIN_POLICY=maybe\n", encoding="utf-8")
    result = kimbot(tmp_path, "db", "upgrade", env=clean_env(TIMEZONE="Europe/Berlin", JOIN_POLICY="open"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "kimbot.db").exists()  # the default DATABASE_URL, relative to the working directory


def test_dotenv_database_url_is_used_unless_the_environment_sets_one(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:///from-dotenv.db\n", encoding="utf-8")

    result = kimbot(tmp_path, "db", "upgrade", env=clean_env())
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-dotenv.db").exists()
    assert not (tmp_path / "kimbot.db").exists()

    (tmp_path / "from-dotenv.db").unlink()
    result = kimbot(tmp_path, "db", "upgrade", env=clean_env(DATABASE_URL="sqlite:///from-env.db"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.db").exists()
    assert not (tmp_path / "from-dotenv.db").exists()


def test_dotenv_elsewhere_is_not_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=Mars/Olympus\n", encoding="utf-8")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    result = kimbot(workdir, "db", "upgrade", env=clean_env())
    assert result.returncode == 0, result.stderr


# --- db upgrade -----------------------------------------------------------------


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def execute(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            for statement in statements:
                conn.execute(statement)
    finally:
        conn.close()


def snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Everything a second upgrade could change: schema, migration version, groups."""
    return {
        "schema": query(
            path, "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ),
        "version": query(path, "SELECT version_num FROM alembic_version"),
        "groups": query(path, "SELECT id, slug, name, note, archived_at, created_at FROM groups ORDER BY id"),
    }


def test_db_upgrade_creates_tables_and_the_five_groups(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    result = kimbot(tmp_path, "db", "upgrade", env=clean_env(DATABASE_URL=f"sqlite:///{db}"))
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    tables = {name for (name,) in query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"people", "groups", "memberships", "invites", "alembic_version"} <= tables
    assert len(query(db, "SELECT version_num FROM alembic_version")) == 1
    groups = query(db, "SELECT slug, name, archived_at FROM groups")
    assert len(groups) == 5
    assert {(slug, name) for slug, name, _ in groups} == SEEDED
    assert all(archived is None for _, _, archived in groups)
    assert query(db, "SELECT count(*) FROM people") == [(0,)]
    assert query(db, "SELECT count(*) FROM memberships") == [(0,)]


def test_db_upgrade_twice_changes_nothing_and_keeps_a_renamed_group(tmp_path: Path) -> None:
    db = tmp_path / "kimbot.db"
    env = clean_env(DATABASE_URL=f"sqlite:///{db}")
    first = kimbot(tmp_path, "db", "upgrade", env=env)
    assert first.returncode == 0, first.stderr

    execute(
        db,
        "UPDATE groups SET name = 'AK EU-Zuwanderung' WHERE slug = 'ak-eu'",
        "UPDATE groups SET archived_at = '2026-01-01 00:00:00.000000' WHERE slug = 'ag-soe'",
    )
    before = snapshot(db)

    second = kimbot(tmp_path, "db", "upgrade", env=env)
    assert second.returncode == 0, second.stderr
    after = snapshot(db)

    assert after == before
    names = {slug: name for _, slug, name, *_ in after["groups"]}
    assert len(names) == 5
    assert names["ak-eu"] == "AK EU-Zuwanderung"
    assert "AK EU" not in names.values()


def test_db_upgrade_uses_the_default_database_in_the_working_directory(tmp_path: Path) -> None:
    result = kimbot(tmp_path, "db", "upgrade", env=clean_env())
    assert result.returncode == 0, result.stderr
    slugs = {slug for (slug,) in query(tmp_path / "kimbot.db", "SELECT slug FROM groups")}
    assert slugs == {slug for slug, _ in SEEDED}


# --- kimbot track (SPEC 14) -------------------------------------------------------------------

COORDINATOR = 7001
TRACK_KEYS = {
    "id",
    "text",
    "groups",
    "result",
    "responsible",
    "due_on",
    "status",
    "delay_reason",
    "review_on",
    "light",
    "overdue",
    "closed_at",
    "done_at",
}


async def track(tmp_path: Path, database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`kimbot track …` as a process, on the real clock, with German labels."""
    variables = {"DATABASE_URL": database_url, "DEFAULT_LANGUAGE": "de", "COORDINATOR_IDS": str(COORDINATOR), **env}
    return await asyncio.to_thread(kimbot, tmp_path, "track", *args, env=clean_env(**variables))


@pytest.fixture
async def tracked(database_url: str) -> dict[str, int]:
    """Recommendations closed and tracked through the core functions the chat uses, on the
    real clock (the command reads the real time): published in this order, they are

    - `done`: adopted, erledigt a week ago;
    - `green`: adopted, responsible with characters Markdown would take, due in 100
      days, review date in 20 days;
    - `red`: adopted a month ago, due 5 days ago, in Arbeit;
    - `rejected`: nicht angenommen (not tracked);
    - `yellow`: adopted, verzögert with a reason, due in 60 days;
    - `open`: still open (not tracked)."""
    settings = load_settings({"DATABASE_URL": database_url, "COORDINATOR_IDS": str(COORDINATOR)})
    now = datetime.now(UTC)
    today = now.astimezone(settings.timezone).date()
    month_ago = now - timedelta(days=30)
    texts = {
        "done": "Ehrenamtskarte für Dolmetschende",
        "green": "Sprachkurse am Abend | auch *samstags*",
        "red": "Anerkennungsberatung im Jobcenter",
        "rejected": "Fahrtkosten für alle Kurse",
        "yellow": "Mehrsprachige Infoblätter im Bürgerbüro",
        "open": "Ein Sprachcafé in jedem Quartier",
    }
    ids: dict[str, int] = {}
    db = Database(database_url)
    try:
        async with db.uow() as uow:
            coordinator = await coordinator_and_members(uow, COORDINATOR, [7002], month_ago - timedelta(days=1))
            await uow.flush()
            for name, text in texts.items():
                published = await recommendations.recommend(uow, coordinator, f"ak-eu {text}", settings, month_ago)
                assert isinstance(published, recommendations.Published)
                ids[name] = rid = published.recommendation.id
                if name == "open":
                    continue
                result = RecommendationResult.REJECTED if name == "rejected" else RecommendationResult.ADOPTED
                await recommendation_closing.choose_result(uow, coordinator, rid, result, settings)
                await recommendation_closing.close(uow, coordinator, f"Ergebnis zu {text}", settings, month_ago)
                if result is RecommendationResult.REJECTED:
                    continue
                responsible = {"green": "VHS <Abendkurse> & mehr", "red": "Jobcenter Wuppertal"}.get(name)
                if responsible:
                    await tracking_changes.answer(uow, coordinator, responsible, settings, month_ago)
                steps.end(coordinator)
                due = {"green": 100, "red": -5, "yellow": 60}.get(name)
                if due is not None:
                    day = today + timedelta(days=due)
                    await tracking_changes.choose_date(uow, coordinator, rid, Field.DUE, day, settings, month_ago)
                if name == "green":
                    day = today + timedelta(days=20)
                    await tracking_changes.choose_date(uow, coordinator, rid, Field.REVIEW, day, settings, month_ago)
                status = {"done": TrackStatus.DONE, "red": TrackStatus.IN_PROGRESS, "yellow": TrackStatus.DELAYED}
                if name in status:
                    at = now - timedelta(days=7)
                    await tracking_changes.set_status(uow, coordinator, rid, status[name], settings, at)
                if name == "yellow":
                    await tracking_changes.answer(uow, coordinator, "Der Raum ist erst ab April frei.", settings, now)
            await uow.commit()
    finally:
        await db.dispose()
    return ids


async def test_kimbot_track_prints_the_list_as_json(tmp_path: Path, database_url: str, tracked: dict[str, int]) -> None:
    result = await track(tmp_path, database_url, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [item["id"] for item in data] == [tracked[n] for n in ("red", "yellow", "green", "done")]
    assert all(set(item) == TRACK_KEYS for item in data)
    red, yellow, green, done = data
    today = datetime.now(BERLIN).date()
    assert red["light"] == "red" and red["overdue"] is True and red["status"] == "in_progress"
    assert date.fromisoformat(red["due_on"]) == today - timedelta(days=5)
    assert red["responsible"] == "Jobcenter Wuppertal" and red["groups"] == ["ak-eu"] and red["result"] == "adopted"
    assert yellow["light"] == "yellow" and yellow["overdue"] is False
    assert (yellow["status"], yellow["delay_reason"]) == ("delayed", "Der Raum ist erst ab April frei.")
    assert green["light"] == "green" and green["text"] == "Sprachkurse am Abend | auch *samstags*"
    assert green["responsible"] == "VHS <Abendkurse> & mehr"
    assert date.fromisoformat(green["review_on"]) == today + timedelta(days=20)
    assert green["status"] == "open" and green["done_at"] is None and green["delay_reason"] is None
    assert done["light"] == "done" and done["status"] == "done" and done["responsible"] is None
    assert done["due_on"] is None and done["review_on"] is None
    closed, finished = datetime.fromisoformat(done["closed_at"]), datetime.fromisoformat(done["done_at"])
    assert closed.tzinfo is not None and closed < finished < datetime.now(UTC)


async def test_kimbot_track_prints_text_for_a_mail_and_markdown(
    tmp_path: Path, database_url: str, tracked: dict[str, int]
) -> None:
    today = datetime.now(BERLIN).date()
    text = await track(tmp_path, database_url)  # text is the default
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert out.startswith("Stand der Empfehlungen des Lenkungskreises\n=====")
    assert f"Stand vom {today:%d.%m.%Y}" in out
    blocks = [f"#{tracked[n]} · " for n in ("red", "yellow", "green", "done")]
    assert all(block in out for block in blocks)
    assert [out.index(block) for block in blocks] == sorted(out.index(block) for block in blocks)
    assert (
        f"#{tracked['red']} · überfällig\nAnerkennungsberatung im Jobcenter\n"
        "  Zuständig: Jobcenter Wuppertal\n"
        f"  Fällig bis: {today - timedelta(days=5):%d.%m.%Y}\n"
        "  Stand: in Arbeit\n"
        "  Wiedervorlage: noch offen\n"
    ) in out
    assert "  Stand: verzögert – Der Raum ist erst ab April frei.\n" in out
    assert "  Zuständig: VHS <Abendkurse> & mehr\n" in out and "&lt;" not in out
    assert f"#{tracked['done']} · erledigt\n" in out and f"  Erledigt am: {today - timedelta(days=7):%d.%m.%Y}" in out
    assert "4 verfolgte Empfehlungen: 1 überfällig, 1 bald fällig oder verzögert, 1 im Plan, 1 erledigt." in out
    assert "Fahrtkosten" not in out and "Sprachcafé" not in out  # not adopted, still open

    markdown = await track(tmp_path, database_url, "--format", "md")
    assert markdown.returncode == 0, markdown.stderr
    md = markdown.stdout
    assert md.startswith("# Stand der Empfehlungen des Lenkungskreises\n")
    assert "| Ampel | # | Empfehlung | Zuständig | Fällig bis | Stand | Wiedervorlage |" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "\\#" in line]
    assert [row.split(" | ")[1] for row in rows] == [f"\\#{tracked[n]}" for n in ("red", "yellow", "green", "done")]
    assert rows[0].startswith("| 🔴 überfällig |") and rows[-1].startswith("| ✅ erledigt |")
    assert "Sprachkurse am Abend \\| auch \\*samstags\\*" in rows[2] and "VHS \\<Abendkurse\\> & mehr" in rows[2]
    assert all(row.count(" | ") == 6 for row in rows), "an escaped | does not split a cell"


async def test_kimbot_track_with_nothing_tracked(tmp_path: Path, database_url: str) -> None:
    text = await track(tmp_path, database_url)
    assert text.returncode == 0, text.stderr
    assert "Zurzeit wird keine Empfehlung verfolgt." in text.stdout and "„angenommen“" in text.stdout
    data = await track(tmp_path, database_url, "--format", "json")
    assert data.returncode == 0 and json.loads(data.stdout) == []


def test_kimbot_track_stops_on_invalid_settings(tmp_path: Path) -> None:
    result = kimbot(tmp_path, "track", env=clean_env(TIMEZONE="Mars/Olympus"), timeout=60)
    assert_config_error(result, "TIMEZONE", "Mars/Olympus")
    assert sqlite_files(tmp_path) == []
    wrong = kimbot(tmp_path, "track", "--format", "pdf", env=clean_env(), timeout=60)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr and sqlite_files(tmp_path) == []
