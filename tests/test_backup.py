"""`kimbot backup`: a consistent copy of a SQLite database that is being written."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from tests.bot_process import clean_env, kimbot


def writer(path: Path, stop: threading.Event, written: list[int]) -> None:
    """Writes pairs of rows, one pair per transaction, until stopped (as the bot writes in WAL)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS pairs (n INTEGER, half INTEGER, filler TEXT)")
    n = 0
    while not stop.is_set():
        connection.execute("BEGIN IMMEDIATE")
        for half in (0, 1):
            connection.execute("INSERT INTO pairs VALUES (?, ?, ?)", (n, half, "x" * 2000))
        connection.execute("COMMIT")
        n += 1
        written.append(n)
    connection.close()


def test_backup_of_a_live_database_is_consistent(tmp_path: Path) -> None:
    database = tmp_path / "kimbot.db"
    stop, written = threading.Event(), []
    thread = threading.Thread(target=writer, args=(database, stop, written))
    thread.start()
    try:
        while len(written) < 200:  # some thousands of pages before the copy starts
            threading.Event().wait(0.01)
        before = len(written)
        env = clean_env(DATABASE_URL=f"sqlite:///{database}")
        result = kimbot(tmp_path, "backup", "--out", str(tmp_path / "copy.db"), env=env)
        during = len(written)
    finally:
        stop.set()
        thread.join()
    assert result.returncode == 0, result.stderr
    assert "backup written to" in result.stdout
    assert during > before, "the writer kept writing while the copy was taken"

    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",), "one file, no -wal needed"
        rows, pairs = copy.execute("SELECT count(*), count(DISTINCT n) FROM pairs").fetchone()
        assert rows == 2 * pairs and pairs >= 200, "whole transactions only"
    finally:
        copy.close()
    assert not list(tmp_path.glob("copy.db.partial*"))

    again = kimbot(tmp_path, "backup", "--out", str(tmp_path / "copy.db"), env=env)
    assert again.returncode == 2 and "exists already" in again.stderr


def test_default_name_and_refusals(tmp_path: Path) -> None:
    database = tmp_path / "kimbot.db"
    sqlite3.connect(database).close()
    result = kimbot(tmp_path, "backup", env=clean_env(DATABASE_URL=f"sqlite:///{database}"))
    assert result.returncode == 0, result.stderr
    (made,) = tmp_path.glob("kimbot-backup-*.db")
    assert str(made.name) in result.stdout

    missing = kimbot(tmp_path, "backup", env=clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'none.db'}"))
    assert missing.returncode == 2 and "no database file" in missing.stderr
    postgres = kimbot(tmp_path, "backup", env=clean_env(DATABASE_URL="postgresql://kim@localhost/kimbot"))
    assert postgres.returncode == 2 and "pg_dump" in postgres.stderr
