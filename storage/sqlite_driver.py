"""SQLite through aiosqlite with one trip to its thread per statement.

aiosqlite runs SQLite in a thread of its own; every call of it is a trip there
and back (a queue, a thread switch, a wake-up of the event loop). SQLAlchemy's
adapter makes four trips per statement: create a cursor, execute, fetch the
rows, close the cursor; and each trip resumes the awaiting coroutines, the
update's handler all the way down. Here a statement is one trip: the thread
creates the cursor, executes, fetches every row, notes the description, the
row count and the last row id, and closes the cursor. A transaction's `BEGIN`
makes no trip of its own: `Connection.begin` keeps it, and it goes with the
transaction's first statement (a transaction without a statement has nothing
to commit or roll back, so it never goes at all).

Everything else is aiosqlite and SQLAlchemy's adapter as they are: the
connection, its thread, transactions, commit and rollback, errors (raised as
before, through the adapter's `_handle_exception`), server-side cursors (not
used by KIM-Bot). It relies on two names aiosqlite does not document,
`Connection._execute` (queue a function for the thread) and `Connection._conn`
(the sqlite3 connection); pyproject.toml pins aiosqlite below 0.23, and
`tests/test_storage_driver.py` checks what KIM-Bot needs of a cursor.

`create_engine` in `storage.database` passes `dbapi()` as the engine's module.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

_Outcome = tuple[Any, list[Any] | None, int, int | None]
"""What one statement left: description, rows (None without a result), row count, last row id."""


def _run(connection: sqlite3.Connection, begin: str | None, many: bool, operation: str, parameters: Any) -> _Outcome:
    """In aiosqlite's thread: the transaction's `begin` if it is still to go, then
    the whole statement, cursor to close."""
    if begin is not None:
        connection.execute(begin)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement is one trip to aiosqlite's thread; its rows are
    fetched there and served from memory, as SQLAlchemy's adapter serves them."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No cursor in the thread yet: `_run` makes one per statement.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]  # None before a statement, as sqlite3's

    async def _async_soft_close(self) -> None:
        return  # nothing is open in the thread after a statement

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._statement(False, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._statement(True, operation, seq_of_parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _statement(self, many: bool, operation: str, parameters: Any) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]  # the adapter's is aiosqlite's
        adapted: Connection = self._adapt_connection  # type: ignore[assignment]  # `_Dbapi` makes only these
        async with adapted._execute_mutex:
            begin, adapted.pending_begin = adapted.pending_begin, None
            outcome: _Outcome = await connection._execute(_run, connection._conn, begin, many, operation, parameters)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows) if rows else collections.deque()


class Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("pending_begin",)
    _cursor_cls: type[AsyncAdapt_aiosqlite_cursor] = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.pending_begin: str | None = None
        """The transaction's BEGIN while no statement has taken it along yet."""

    def begin(self, statement: str) -> None:
        """Start a transaction with `statement` (`BEGIN` or `BEGIN IMMEDIATE`),
        in the same trip as its first statement."""
        self.pending_begin = statement

    def _begun(self) -> bool:
        """Whether SQLite began the transaction; a BEGIN still pending is dropped
        (no statement went: there is nothing to commit or roll back)."""
        begun, self.pending_begin = self.pending_begin is None, None
        return begun

    def commit(self) -> None:
        if self._begun():
            super().commit()

    def rollback(self) -> None:
        if self._begun():
            super().rollback()


class _Dbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> Connection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter: the thread never holds up the exit
        return Connection(self, await_(connection))


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The module for `create_async_engine(..., module=dbapi())` on SQLite."""
    return _Dbapi(aiosqlite, sqlite3)
