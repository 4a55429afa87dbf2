"""The database handle: an async engine, read and write sessions, transactions as plain
functions, and schema upgrades.

SQLite (aiosqlite) and PostgreSQL (asyncpg) are both supported. On SQLite, concurrent async
read-modify-write transactions lose updates or fail with "database is locked" (measured at 200
concurrent calls), so there:

- the file is in WAL mode (readers never wait for the writer), with foreign keys on and a busy
  timeout for other processes (the CLI seeding while the server runs);
- pysqlite's own transaction handling is switched off and every transaction is begun by
  SQLAlchemy's ``begin`` event: ``BEGIN IMMEDIATE`` for writes (the write lock is taken at the
  start, so a transaction never fails half-way on an upgrade to writer), plain ``BEGIN`` for reads;
- writers of this process queue on an ``asyncio.Lock`` instead of spinning on the busy timeout.

PostgreSQL needs none of that: its row locks serialise single-statement updates.

A call's transactions are plain synchronous functions of a SQLAlchemy ``Connection`` (Core
statements, no session): ``run_write(fn)`` / ``run_read(fn)``. Through aiosqlite every statement
is a hop to its connection's thread and back, several a statement (``bench/store_call.py``); so on
a SQLite file the whole function runs in one hop, on a thread of the database's own, over a
synchronous pysqlite engine for the same file (``sqlite_worker``: the same PRAGMAs, the same
BEGIN, its events heard by whoever listens to the async engine). On PostgreSQL (asyncpg) the same
function runs on the event loop through SQLAlchemy's greenlet bridge (``run_sync``).

The database file is its owner's alone (0600) whatever the umask: it is created so before SQLite
opens it, because SQLite gives its WAL and shared-memory files the database file's mode; a file
left more open by an older version is tightened, with its WAL and shared-memory files.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import URL, create_engine, event, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from ivr.config import PRIVATE_FILE_MODE, private_dir
from ivr.store.observe import ErrorObserver, StatementObserver, observe_dialect, observe_engine

__all__ = [
    "SQLITE_ANALYZE",
    "Database",
    "Transaction",
    "async_url",
    "configure_sqlite",
    "open_database",
    "private_sqlite_file",
    "sqlite_worker",
    "upgrade_database",
]

T = TypeVar("T")
# One transaction: a plain function of the connection it runs on (``Database.run_write``).
Transaction = Callable[[Connection], T]

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_ANALYSIS_LIMIT = 2000  # rows sampled per index by ANALYZE
# SQLite's ANALYZE, sampled: a moment even for millions of calls. It leaves no statistics for an
# empty index, and the planner then takes a partial index (``ix_calls_open``: calls in progress,
# a handful) for as big as its table and scans a month of calls instead; so an empty partial
# index is given its true, small size.
SQLITE_ANALYZE = (
    f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}",
    "ANALYZE",
    "INSERT INTO sqlite_stat1 (tbl, idx, stat) SELECT tbl_name, name, '10 1' FROM sqlite_master"
    " WHERE type = 'index' AND sql LIKE '% WHERE %'"
    " AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL)",
    "ANALYZE sqlite_schema",  # the planner reads the statistics again
)
_WRITE_OPTION = "hotline_write"
# Threads (and connections) for SQLite's transactions: writers take turns on the write lock, so
# one at a time, with readers beside it (WAL).
SQLITE_WORKERS = 4


def async_url(url: str | URL) -> URL:
    """The URL with an async driver: ``postgresql://`` -> asyncpg, ``sqlite://`` -> aiosqlite."""
    parsed = make_url(url)
    backend = parsed.drivername.split("+", 1)[0]
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for an in-memory database)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def private_sqlite_file(path: Path) -> None:
    """Create the database file 0600 if missing (its folder 0700), or take group and others'
    rights away from it and its WAL and shared-memory files. Blocking: call it in a thread."""
    if not path.parent.exists():
        private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = file.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode & ~PRIVATE_FILE_MODE:
            file.chmod(mode & PRIVATE_FILE_MODE)


def configure_sqlite(engine: Engine, *, immediate_always: bool = False) -> None:
    """Install the connection and transaction hooks described in the module docstring."""
    _configure_sqlite_connections(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = immediate_always or conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _configure_sqlite_connections(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()


def sqlite_worker(engine: AsyncEngine) -> Engine:
    """A synchronous (pysqlite) engine on the SQLite file of ``engine``, for its transactions run
    on threads (``Database.run_write``): its connections are set up as the async engine's, and
    every listener of the async engine's connection events hears this one's too, as it would an
    ``execution_options()`` copy's (the BEGIN of ``configure_sqlite``, the statements' timing of
    ``observe_engine``, a test's spy): whoever watches the store watches one engine. The hooks
    SQLAlchemy keeps on the dialect instead (connecting, errors) are installed on it apart
    (``observe_dialect``)."""
    worker = create_engine(
        engine.url.set(drivername="sqlite+pysqlite"),
        echo=engine.echo,
        pool_size=SQLITE_WORKERS,
        max_overflow=0,
    )
    _configure_sqlite_connections(worker)
    # SQLAlchemy's own join (``OptionEngineMixin``); a listener added to the async engine later
    # is heard too, and its flag says the engine has listeners whatever this one's own say.
    worker.dispatch = worker.dispatch._join(engine.sync_engine.dispatch)
    worker._has_events = True
    return worker


class Database:
    """An engine with two session factories and the transactions' two ways to run; build it with
    ``open_database``.

    ``worker``: a synchronous engine on the same SQLite file (``sqlite_worker``), on whose threads
    ``run_write`` and ``run_read`` run their functions. Without it (PostgreSQL; SQLite in memory),
    they run on the async engine's connection through SQLAlchemy's greenlet bridge.
    """

    def __init__(self, engine: AsyncEngine, worker: Engine | None = None) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        write_engine = engine.execution_options(**{_WRITE_OPTION: True})
        self._read_sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(write_engine, expire_on_commit=False)
        self._write_engine = write_engine
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._worker = worker
        self._worker_writes = worker.execution_options(**{_WRITE_OPTION: True}) if worker else None
        self._threads = (
            ThreadPoolExecutor(SQLITE_WORKERS, thread_name_prefix="hotline-sqlite")
            if worker is not None
            else None
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction: committed on normal exit, rolled back on an error."""
        if self._write_lock is None:
            async with self._write_sessions() as session, session.begin():
                yield session
            return
        async with self._write_lock, self._write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self, *, snapshot: bool = False) -> AsyncIterator[AsyncSession]:
        """A session for reading; whatever it did is rolled back when it closes.

        ``snapshot``: every statement sees the database as the first did (figures read in
        several queries add up). SQLite's read transactions always do; PostgreSQL's need
        ``REPEATABLE READ``.
        """
        async with self._read_sessions() as session:
            if snapshot and not self.is_sqlite:
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            yield session

    async def run_write(self, fn: Transaction[T]) -> T:
        """``fn``'s result, run in a write transaction: committed when it returns, rolled back
        (all it wrote) when it raises, its error raised here."""
        if self._worker_writes is None:
            queue = self._write_lock or nullcontext()
            async with queue, self._write_engine.begin() as connection:
                return await connection.run_sync(fn)
        assert self._write_lock is not None
        async with self._write_lock:
            written = self._in_thread(_write, self._worker_writes, fn)
            try:
                return await asyncio.shield(written)
            except asyncio.CancelledError:
                # The thread's transaction runs on to its end: the next writer must wait for it
                # here, not on the busy timeout.
                await asyncio.wait([written])
                raise

    async def run_read(self, fn: Transaction[T]) -> T:
        """``fn``'s result, run in a read transaction (rolled back: whatever it did is undone)."""
        if self._worker is None:
            async with self.engine.connect() as connection:
                return await connection.run_sync(fn)
        return await self._in_thread(_read, self._worker, fn)

    def _in_thread(
        self, run: Callable[[Engine, Transaction[T]], T], engine: Engine, fn: Transaction[T]
    ) -> asyncio.Future[T]:
        assert self._threads is not None
        return asyncio.get_running_loop().run_in_executor(self._threads, run, engine, fn)

    async def analyze(self) -> None:
        """Refresh the statistics the query planner chooses indexes by (after a bulk load, and
        daily: SQLite has no automatic ANALYZE; ``SQLITE_ANALYZE``)."""
        async with self.write() as session:
            connection = await session.connection()
            for statement in SQLITE_ANALYZE if self.is_sqlite else ("ANALYZE",):
                await connection.exec_driver_sql(statement)

    async def ping(self) -> bool:
        """Whether the database answers now (a readiness check; never raises)."""
        try:
            async with self.read() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        if self._threads is not None and self._worker is not None:
            await asyncio.to_thread(_close_worker, self._threads, self._worker)
        await self.engine.dispose()


def _write(engine: Engine, fn: Transaction[T]) -> T:
    """On a worker thread: ``fn`` in a transaction, committed unless it raises."""
    with engine.begin() as connection:
        return fn(connection)


def _read(engine: Engine, fn: Transaction[T]) -> T:
    """On a worker thread: ``fn`` in a transaction rolled back as the connection closes."""
    with engine.connect() as connection:
        return fn(connection)


def _close_worker(threads: ThreadPoolExecutor, worker: Engine) -> None:
    threads.shutdown(wait=True)
    worker.dispose()


async def open_database(
    url: str | URL,
    *,
    echo: bool = False,
    on_statement: StatementObserver | None = None,
    on_error: ErrorObserver | None = None,
) -> Database:
    """Connect (lazily) to the database at ``url``; the schema is not touched (see ``upgrade``).
    ``on_statement`` and ``on_error`` are told each statement's time and each error
    (``ivr.store.observe``)."""
    target = async_url(url)
    options: dict[str, Any] = {"echo": echo}
    if target.get_backend_name() == "postgresql":
        options.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
    path = sqlite_file(target)
    if path is not None:
        await asyncio.to_thread(private_sqlite_file, path)
        options.update(pool_size=8, max_overflow=8)
    engine = create_async_engine(target, **options)
    if target.get_backend_name() == "sqlite":
        configure_sqlite(engine.sync_engine)
    observe_engine(engine.sync_engine, on_statement=on_statement, on_error=on_error)
    worker = None
    if path is not None:
        worker = sqlite_worker(engine)
        observe_dialect(worker, on_statement=on_statement, on_error=on_error)
    return Database(engine, worker)


async def upgrade_database(url: str | URL) -> None:
    """Run the Alembic migrations to head (in a worker thread: Alembic is synchronous)."""
    from ivr.store.migrate import upgrade_sync

    path = sqlite_file(async_url(url))
    if path is not None:
        await asyncio.to_thread(private_sqlite_file, path)
    await asyncio.to_thread(upgrade_sync, url)
