"""What the database does, told to whoever watches it: each statement's time and each error.

The observers are plain callables given to ``open_database`` by its builder (the composition root
gives the node's metrics); SQLAlchemy engine events carry them, installed once, on the engine the
``Database`` is built on. They run for every statement, on the event loop or on the thread of a
SQLite transaction (``Database.run_write``): O(1), never blocking, thread-safe.
Statements are named by their first SQL word only (``select``, ``update``...): never their text
or parameters, which may hold personal data.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine, ExceptionContext

__all__ = [
    "CONNECT",
    "OPERATIONS",
    "ErrorObserver",
    "StatementObserver",
    "observe_dialect",
    "observe_engine",
    "operation",
]

# Told an operation (a statement's, or ``CONNECT``) and how long it took (seconds).
StatementObserver = Callable[[str, float], None]
# Told the operation that failed: a statement's, or ``CONNECT`` when no connection could be had.
ErrorObserver = Callable[[str], None]

CONNECT = "connect"
OTHER = "other"
_STATEMENTS = frozenset({"select", "insert", "update", "delete", "begin", "with"})
OPERATIONS = _STATEMENTS | {CONNECT, OTHER}  # every name an observer is told
_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)")
_STARTED = "hotline_statement_started"


def operation(statement: str) -> str:
    """The statement's operation: its first SQL word when a common one, else ``other`` (a small,
    fixed set of names)."""
    match = _FIRST_WORD.match(statement)
    word = match.group(1).lower() if match else ""
    return word if word in _STATEMENTS else OTHER


def observe_engine(
    engine: Engine,
    *,
    on_statement: StatementObserver | None = None,
    on_error: ErrorObserver | None = None,
) -> None:
    """Install the engine events that time each connection and statement and report each
    error (the connection's own, which SQLAlchemy's ``handle_error`` does not see, included)."""
    if on_statement is None and on_error is None:
        return
    observe_dialect(engine, on_statement=on_statement, on_error=on_error)
    _time_statements(engine, on_statement or _untimed)


def observe_dialect(
    engine: Engine,
    *,
    on_statement: StatementObserver | None = None,
    on_error: ErrorObserver | None = None,
) -> None:
    """The part of ``observe_engine`` SQLAlchemy keeps on the engine's dialect (connecting, and
    errors): for an engine that hears another's connection events (``sqlite_worker``)."""
    if on_statement is None and on_error is None:
        return
    failed = on_error or _unreported
    _watch_connections(engine, on_statement or _untimed, failed)
    _report_errors(engine, failed)


def _untimed(operation: str, seconds: float) -> None:
    """No one times the operations."""


def _unreported(operation: str) -> None:
    """No one counts the errors."""


def _watch_connections(
    engine: Engine, on_statement: StatementObserver, on_error: ErrorObserver
) -> None:
    # The dialect's own connect, as SQLAlchemy makes it without this hook, timed and watched:
    # a refused connection (the database down) raises the driver's error, not a DBAPI one.
    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        started = time.perf_counter()
        try:
            connection = dialect.connect(*cargs, **cparams)
        except BaseException:
            on_error(CONNECT)
            raise
        on_statement(CONNECT, time.perf_counter() - started)
        return connection


def _time_statements(engine: Engine, on_statement: StatementObserver) -> None:
    # A connection runs one statement at a time: its start can wait in the connection's info.
    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Connection, *_: Any) -> None:
        conn.info[_STARTED] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        started = conn.info.pop(_STARTED, None)
        if started is not None:
            on_statement(operation(statement), time.perf_counter() - started)


def _report_errors(engine: Engine, on_error: ErrorObserver) -> None:
    @event.listens_for(engine, "handle_error")
    def _error(context: ExceptionContext) -> None:
        if context.is_pre_ping:
            return  # a stale pooled connection, replaced at once: the reconnection tells if not
        if context.statement is not None:  # a failed connection was told by ``_connect``
            on_error(operation(context.statement))
