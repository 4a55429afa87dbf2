"""A throwaway PostgreSQL server for a local cluster, from the Debian server binaries.

``initdb`` once into its folder, then ``pg_ctl start``/``stop``. PostgreSQL refuses to run as root:
as root, the server runs as the ``postgres`` user (the Debian package creates it) and keeps its
folder where that user can reach it (beside the cluster's private folder, owned by it).
Connections: local socket with trust for the set-up, the loopback address with a password.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import os
import pwd
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LocalPostgres", "PostgresError", "server_binaries"]

DATABASE = "hotline"
ROLE = "hotline"


class PostgresError(RuntimeError):
    pass


def server_binaries() -> Path:
    """The folder of ``initdb``/``pg_ctl``: the newest ``/usr/lib/postgresql/*/bin``, else PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if not found and (on_path := shutil.which("pg_ctl")):
        found = [on_path]
    if not found:
        raise PostgresError("PostgreSQL server binaries not found: apt-get install postgresql")
    return Path(found[0]).parent


@dataclass(frozen=True)
class LocalPostgres:
    cluster_folder: Path  # the cluster's own (private) folder: the password is kept there
    host: str
    port: int

    @property
    def _user(self) -> str | None:
        """The account the server runs as: ``postgres`` when we are root, else ourselves."""
        return "postgres" if os.geteuid() == 0 else None

    @property
    def folder(self) -> Path:
        if self._user is None:
            return self.cluster_folder / "postgres"
        # root: a folder the server's user owns, named after the cluster's
        key = hashlib.sha256(str(self.cluster_folder.resolve()).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"hotline-cluster-{key}"

    @property
    def _data(self) -> Path:
        return self.folder / "data"

    @property
    def _password_file(self) -> Path:
        return self.cluster_folder / "postgres.password"

    def url(self) -> str:
        """Blocking (a file): the records database's URL, with its password."""
        password = self._password_file.read_text().strip()
        return f"postgresql://{ROLE}:{password}@{self.host}:{self.port}/{DATABASE}"

    async def start(self) -> str:
        """Create the server once, start it, and return the database URL."""
        await asyncio.to_thread(self._prepare)
        if not (self._data / "PG_VERSION").exists():
            await self._run("initdb", "-D", str(self._data), "-U", "postgres", "-A", "trust",
                            "--no-instructions", "-E", "UTF8", "--locale", "C.UTF-8")  # fmt: skip
        await self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self._data), "-l",
            str(self.folder / "postgres.log"), "-o",
            f"-h {self.host} -p {self.port} -k {self.folder} -c listen_addresses={self.host}",
        )  # fmt: skip
        await self._create_database()
        return await asyncio.to_thread(self.url)

    async def stop(self) -> bool:
        """Stop the server if it runs (fast: open connections are closed); True if it ran."""
        if not (self._data / "postmaster.pid").exists():
            return False
        await self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self._data))
        return True

    async def restart(self) -> None:
        """Stop and start again (a failure test): clients see their connections drop."""
        await self._run(
            "pg_ctl", "restart", "-w", "-m", "fast", "-D", str(self._data), "-l",
            str(self.folder / "postgres.log"), "-o",
            f"-h {self.host} -p {self.port} -k {self.folder} -c listen_addresses={self.host}",
        )  # fmt: skip

    def _prepare(self) -> None:
        self.cluster_folder.mkdir(parents=True, exist_ok=True)
        if not self._password_file.exists():
            fd = os.open(self._password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(16))
        self.folder.mkdir(mode=0o700, exist_ok=True)
        if self._user is not None:
            account = pwd.getpwnam(self._user)
            os.chown(self.folder, account.pw_uid, account.pw_gid)

    async def _create_database(self) -> None:
        password = (await asyncio.to_thread(self._password_file.read_text)).strip()
        script = (
            f"SELECT 'CREATE ROLE {ROLE} LOGIN' WHERE NOT EXISTS "
            f"(SELECT FROM pg_roles WHERE rolname = '{ROLE}')\\gexec\n"
            f"ALTER ROLE {ROLE} PASSWORD '{password}';\n"
            f"SELECT 'CREATE DATABASE {DATABASE} OWNER {ROLE}' WHERE NOT EXISTS "
            f"(SELECT FROM pg_database WHERE datname = '{DATABASE}')\\gexec\n"
        )
        await self._run(
            "psql", "-h", str(self.folder), "-p", str(self.port), "-U", "postgres",
            "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", stdin=script,
        )  # fmt: skip

    async def _run(self, tool: str, *args: str, stdin: str | None = None) -> str:
        binary = shutil.which(tool) if tool == "psql" else None
        command = [binary or str(server_binaries() / tool), *args]
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            user=self._user,
            cwd="/",
        )
        out, _ = await asyncio.wait_for(
            process.communicate(stdin.encode() if stdin is not None else None), 120
        )
        if process.returncode != 0:
            raise PostgresError(f"{tool} failed ({process.returncode}): {out.decode()[-2000:]}")
        return out.decode()
