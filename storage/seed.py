"""Seed: the five groups of SPEC section 1.

`seed_groups(connection)` inserts the groups whose slug is missing and touches
nothing else, so running it again (or after a coordinator renamed a group)
changes nothing. It runs inside the first migration and in the tests' reset.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Table, insert, select

from storage.models import Group

GROUPS: tuple[tuple[str, str, str], ...] = (
    ("ak-eu", "AK EU", "EU-(Neu)Zuwanderung"),
    ("ak-ehrenamt", "AK Ehrenamt", "Ehrenamt"),
    ("ak-arbeitsmarkt", "AK Arbeitsmarktintegration", "Integration in den Arbeitsmarkt"),
    ("ag-soe", "AG Süd-Ost-Europa", "Zuwanderung aus Süd-Ost-Europa"),
    ("lenkungskreis", "Lenkungskreis Integration", "Steuerungsgremium; gibt Empfehlungen"),
)


def seed_groups(connection: Connection) -> int:
    """Insert the missing seed groups; returns how many were inserted."""
    table = Group.__table__
    assert isinstance(table, Table)  # a mapped class's table (typed as any FromClause)
    existing = set(connection.execute(select(table.c.slug)).scalars())
    rows = [
        {"slug": slug, "name": name, "note": note, "created_at": datetime.now(UTC)}
        for slug, name, note in GROUPS
        if slug not in existing
    ]
    if rows:
        connection.execute(insert(table), rows)
    return len(rows)
