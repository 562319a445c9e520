"""Loaded into a `kimbot run` under test through PYTHONPATH: kills the process
with SIGKILL at a commit boundary, to prove that an update's work is saved
whole or not at all.

`KIMBOT_TEST_KILL_FILE` names a file the test writes when it is time, with
one line `before N` or `after N`: the process kills itself just before (or
just after) the N-th commit of a transaction that wrote something, counted
from the moment it first sees the file. Before it dies it writes what it hit
into `<file>.fired`. Transactions that only read do not count (a look for
orphaned updates finding none, a timer run with nothing due).
"""

from __future__ import annotations

import os

_FILE = os.environ.get("KIMBOT_TEST_KILL_FILE")

if _FILE:
    import signal

    from sqlalchemy import event
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session, SessionTransaction

    _state = {"armed": None, "seen": 0}

    def _plan() -> tuple[str, int] | None:
        if _state["armed"] is None:
            try:
                with open(_FILE) as handle:
                    side, number = handle.read().split()
            except (OSError, ValueError):
                return None
            _state["armed"] = (side, int(number))
        return _state["armed"]  # type: ignore[return-value]

    def _wrote(session: Session) -> None:
        session.info["kimbot_wrote"] = True

    # Every write reaches the transaction's connection, through the session's flush
    # or past the ORM (the handled mark, `_Repository.insert`): noted there, read
    # at the commit.
    _WRITES = ("INSERT", "UPDATE", "DELETE")

    @event.listens_for(Engine, "begin")
    def _connection_begins(connection: Connection) -> None:
        connection.info.pop("kimbot_wrote", None)

    @event.listens_for(Engine, "before_cursor_execute")
    def _on_statement(connection: Connection, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(_WRITES):
            connection.info["kimbot_wrote"] = True

    @event.listens_for(Session, "after_begin")
    def _session_begins(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
        session.info["kimbot_connection"] = connection

    def _die(side: str, number: int) -> None:
        with open(_FILE + ".fired", "w") as handle:
            handle.write(f"{side} {number}\n")
        os.kill(os.getpid(), signal.SIGKILL)

    @event.listens_for(Session, "before_commit")
    def _before(session: Session) -> None:
        if session.new or session.dirty or session.deleted:
            _wrote(session)  # flushed by the commit itself
        connection = session.info.pop("kimbot_connection", None)
        if connection is not None and connection.info.pop("kimbot_wrote", False):
            _wrote(session)
        if not session.info.get("kimbot_wrote"):
            return
        plan = _plan()
        if plan is None:
            return
        _state["seen"] += 1
        if plan == ("before", _state["seen"]):
            _die(*plan)

    @event.listens_for(Session, "after_commit")
    def _after(session: Session) -> None:
        if not session.info.pop("kimbot_wrote", False):
            return
        plan = _plan()
        if plan is not None and plan == ("after", _state["seen"]):
            _die(*plan)

    @event.listens_for(Session, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop("kimbot_wrote", None)
        session.info.pop("kimbot_connection", None)
