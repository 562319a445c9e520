"""`kimbot backup`: a consistent copy of a live SQLite database.

SQLite's online backup API copies the database while the bot keeps running.
It copies in one step: a step-wise copy starts over whenever another
connection writes, so it may never finish under a busy bot. One step reads a
single snapshot, which in WAL mode (the bot's) does not hold writers up; the
copy is that moment, never half a transaction.
The copy goes to a temporary file next to the target and is renamed into
place only after `PRAGMA integrity_check` says "ok", so a failed backup never
leaves a broken file under the target's name. PostgreSQL has its own tool
(`pg_dump`); the README says how.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """Why no backup was made (said to the operator)."""


def sqlite_path(url: str) -> Path:
    """The file of a `sqlite:///…` URL; BackupError for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(
            f"{parsed.get_backend_name()} databases are backed up with their own tools; "
            'for PostgreSQL: pg_dump --format=custom --file kimbot.dump "$DATABASE_URL"'
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(parsed.database)


def default_target(source: Path, now: datetime) -> Path:
    return source.with_name(f"{source.stem}-backup-{now:%Y%m%d-%H%M%S}{source.suffix or '.db'}")


def backup_sqlite(source: Path, target: Path) -> Path:
    """Copy `source` (possibly in use) to `target`; returns the target."""
    if not source.is_file():
        raise BackupError(f"there is no database file {source}")
    if target.exists():
        raise BackupError(f"{target} exists already; choose another name")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # closing() and not the connections' own `with`, which commits but never closes
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(partial)) as dst,
    ):
        src.backup(dst)  # pages=-1: everything in one step
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        result = dst.execute("PRAGMA integrity_check").fetchone()
    if result is None or result[0] != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {result}")
    os.replace(partial, target)
    return target
