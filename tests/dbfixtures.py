"""pytest plugin: a ``database_url`` fixture run once on SQLite and once on PostgreSQL.

Load it from the top ``tests/conftest.py`` with ``pytest_plugins = ["tests.dbfixtures"]``.

- ``database_url``: parametrised ``sqlite`` / ``postgresql`` (the latter marked ``postgres``);
  an empty database each test: a fresh SQLite file under ``tmp_path``, or a fresh database in a
  throwaway PostgreSQL cluster started once per session (pytest-postgresql's ``postgresql_proc``).
  The URL is async-driver ready (``sqlite+aiosqlite://`` / ``postgresql+asyncpg://``); no schema.
- ``sqlite_url`` / ``postgresql_url``: the same for one back-end only.
- ``db``: the ``database_url`` database upgraded to the latest schema and open;
  ``other_node``: a second handle on it, as another node sharing the database has.

The server binaries are found with ``pg_config --bindir``, else ``/usr/lib/postgresql/*/bin``, else
``PATH``; without them the PostgreSQL tests fail saying so. PostgreSQL refuses to run as root, so
when the tests run as root (CI here does) ``pg_ctl`` is called through a small generated wrapper
that drops to the ``postgres`` user (or ``nobody``) and keeps the cluster in a private folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pytest_postgresql import factories
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor

from ivr.store.database import Database, open_database, upgrade_database

__all__ = [
    "database_url",
    "find_pg_ctl",
    "hotline_pg_ctl",
    "hotline_postgresql_proc",
    "postgresql_url",
    "sqlite_url",
]

_RUN_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
# Created only when a PostgreSQL test runs as root (see ``hotline_pg_ctl``).
_SESSION = uuid.uuid4().hex
_WRAPPER = Path(tempfile.gettempdir()) / f"hotline-pg-ctl-{_SESSION}" / "pg_ctl"
_PRIVATE_DATA = Path(tempfile.gettempdir()) / f"hotline-pg-data-{_SESSION}"

# The server user cannot enter pytest's temporary folders (pytest keeps them 0700 and resets them
# whenever another pytest starts), so the wrapper keeps the cluster in a folder of its own and
# leaves an empty placeholder where pytest-postgresql expects the data directory.
_WRAPPER_SOURCE = """#!{python}
# pg_ctl as the unprivileged user {user!r}: PostgreSQL will not run as root.
import hashlib, os, pwd, sys

def private(path, suffix=""):
    key = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:16]
    return os.path.join({data!r}, key + suffix)

args = sys.argv[1:]
for i in range(1, len(args)):
    if args[i - 1] in ("-D", "--pgdata"):
        os.makedirs(args[i], exist_ok=True)
        args[i] = private(args[i])
    elif args[i - 1] == "-l":
        args[i] = private(args[i], ".log")
user = pwd.getpwnam({user!r})
os.setgroups([])
os.setgid(user.pw_gid)
os.setuid(user.pw_uid)
os.environ["HOME"] = user.pw_dir
os.chdir("/")
os.execv({real!r}, [{real!r}, *args])
"""


def find_pg_ctl() -> str | None:
    """The server's ``pg_ctl``: from ``pg_config --bindir``, the Debian layout, or ``PATH``."""
    candidates: list[str] = []
    try:
        bindir = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
        candidates.append(os.path.join(bindir, "pg_ctl"))
    except (OSError, subprocess.SubprocessError):
        pass

    def version(path: str) -> float:
        try:
            return float(Path(path).parents[1].name)
        except ValueError:
            return 0.0

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=version, reverse=True)
    candidates += [found] if (found := shutil.which("pg_ctl")) else []
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _server_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root, and no 'postgres' or 'nobody' user to run PostgreSQL as")


@pytest.fixture(scope="session")
def hotline_pg_ctl() -> Iterator[str]:
    """The ``pg_ctl`` the cluster is run with (a privilege-dropping wrapper when root)."""
    real = find_pg_ctl()
    if real is None:
        pytest.fail(
            "PostgreSQL server binaries not found (no pg_ctl from `pg_config --bindir`, in "
            "/usr/lib/postgresql/*/bin or on PATH): install the postgresql server package",
            pytrace=False,
        )
    if not _RUN_AS_ROOT:
        yield real
        return
    user = _server_user()
    _WRAPPER.parent.mkdir(mode=0o700)
    _PRIVATE_DATA.mkdir(mode=0o700)
    account = pwd.getpwnam(user)
    os.chown(_PRIVATE_DATA, account.pw_uid, account.pw_gid)
    _WRAPPER.write_text(
        _WRAPPER_SOURCE.format(python=sys.executable, user=user, real=real, data=str(_PRIVATE_DATA))
    )
    _WRAPPER.chmod(stat.S_IRWXU)
    try:
        yield str(_WRAPPER)
    finally:
        shutil.rmtree(_WRAPPER.parent, ignore_errors=True)
        shutil.rmtree(_PRIVATE_DATA, ignore_errors=True)


_postgresql_proc = factories.postgresql_proc(
    executable=str(_WRAPPER) if _RUN_AS_ROOT else (find_pg_ctl() or "pg_ctl"),
    port=None,  # any free port
)


@pytest.fixture(scope="session")
def hotline_postgresql_proc(
    hotline_pg_ctl: str, request: pytest.FixtureRequest
) -> PostgreSQLExecutor:
    """The session's throwaway PostgreSQL server (started on first use)."""
    proc: PostgreSQLExecutor = request.getfixturevalue("_postgresql_proc")
    return proc


@pytest.fixture
def postgresql_url(hotline_postgresql_proc: PostgreSQLExecutor) -> Iterator[str]:
    """A fresh, empty database in the session's cluster, dropped after the test."""
    proc = hotline_postgresql_proc
    dbname = f"hotline_{uuid.uuid4().hex[:12]}"
    with DatabaseJanitor(
        user=proc.user,
        host=proc.host,
        port=proc.port,
        dbname=dbname,
        password=proc.password,
    ):
        yield f"postgresql+asyncpg://{proc.user}@{proc.host}:{proc.port}/{dbname}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file (not created yet) under the test's temporary folder."""
    return f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """That database upgraded to the latest schema, open."""
    await upgrade_database(database_url)
    database = await open_database(database_url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def other_node(database_url: str, db: Database) -> AsyncIterator[Database]:
    """A second node's handle on the same (upgraded) database."""
    second = await open_database(database_url)
    try:
        yield second
    finally:
        await second.close()
