"""The stack as the README runs it, for the acceptance tests: ``hotline up --detach`` and the
``hotline`` commands a tester types, in a data folder of their own with spare ports.

Nothing here reaches into the running stack: it is a separate process tree, driven only through
its command line, its ports (SIP, AMI, HTTP) and its database file, as a person would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, CookieJar
from prometheus_client.parser import text_string_to_metric_families

from ivr.config import Settings
from ivr.telephony.layout import HostLayout
from ivr.telephony.process import PidRecord
from tests.paths import REPO_ROOT
from tests.telephony.callkit import shared_rootfs

UP_WITHIN_S = 300.0  # a first start builds every prompt (espeak-ng) in a fresh data folder
HEARTBEAT_S = 1  # short beats: a killed stack's calls end within a second or two of its death
PASSWORD = "correct horse battery"
ACCOUNTS = {"sup": "supervisor", "clerk": "staff", "aud": "auditor"}


def _free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_is_free(port: int, kind: socket.SocketKind) -> bool:
    """Nothing listens on (TCP) or holds (UDP) the port. Connections of a stopped TCP server may
    linger in TIME_WAIT; SO_REUSEADDR lets the probe bind past them, never past a listener."""
    with socket.socket(socket.AF_INET, kind) as probe:
        if kind == socket.SOCK_STREAM:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _hotline_command() -> list[str]:
    """The README's ``.venv/bin/hotline``: the console script next to this interpreter."""
    script = Path(sys.executable).parent / "hotline"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ivr.cli.main"]


@dataclass(frozen=True)
class Tester:
    """A demo citizen as ``hotline up`` prints it: the ID as keyed (``*`` for X), the password."""

    keyed_id: str
    password: str
    card: str


@dataclass(frozen=True)
class Done:
    code: int
    out: str


class UpStack:
    def __init__(self, data_dir: Path, **settings: str) -> None:
        """``settings``: more ``HOTLINE_<NAME>`` values, by lower-case name."""
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "HOTLINE_DATA_DIR": str(data_dir),
            "HOTLINE_AGI_PORT": str(_free_port(socket.SOCK_STREAM)),
            "HOTLINE_AMI_PORT": str(_free_port(socket.SOCK_STREAM)),
            "HOTLINE_WEB_PORT": str(_free_port(socket.SOCK_STREAM)),
            "HOTLINE_OPS_PORT": str(_free_port(socket.SOCK_STREAM)),
            "HOTLINE_SIP_PORT": str(_free_port(socket.SOCK_DGRAM)),
            # The Debian root Asterisk runs in is built once per machine and shared.
            "HOTLINE_ASTERISK_ROOTFS": str(shared_rootfs()),
            "HOTLINE_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
            **{f"HOTLINE_{name.upper()}": value for name, value in settings.items()},
        }
        self.settings = Settings.load(env=self.env)
        self.welcome = ""  # what the last `hotline up` printed
        self.testers: list[Tester] = []

    @property
    def web_url(self) -> str:
        return f"http://{self.settings.web_host}:{self.settings.web_port}"

    def tcp_ports(self) -> dict[str, int]:
        s = self.settings
        return {"fastagi": s.agi_port, "ami": s.ami_port, "console": s.web_port, "ops": s.ops_port}

    # -- the command line --------------------------------------------------------------------------
    async def hotline(self, *args: str, within: float = 120.0) -> Done:
        """Run ``hotline <args>`` as a tester would, in the repository, and wait for it."""
        process = await asyncio.create_subprocess_exec(
            *_hotline_command(),
            *args,
            cwd=REPO_ROOT,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), within)
        except TimeoutError:
            process.kill()
            out, _ = await process.communicate()
            raise AssertionError(
                f"hotline {' '.join(args)} still running after {within:.0f} s:\n{out.decode()}"
            ) from None
        return Done(process.returncode or 0, out.decode(errors="replace"))

    async def start_hotline(self, *args: str) -> asyncio.subprocess.Process:
        """``hotline <args>`` in the background (a scripted call in progress)."""
        return await asyncio.create_subprocess_exec(
            *_hotline_command(),
            *args,
            cwd=REPO_ROOT,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )

    async def up(self) -> str:
        done = await self.hotline("up", "--detach", within=UP_WITHIN_S)
        assert done.code == 0, f"hotline up --detach failed:\n{done.out}\n{self.up_log()}"
        self.welcome = done.out
        self.testers = [
            Tester(keyed, password, card)
            for keyed, password, card in re.findall(
                r"^\s+([0-9*]{18})\s+(\d{6})\s+card (\w+)$", done.out, re.MULTILINE
            )
        ]
        assert self.testers, done.out
        return done.out

    async def down(self) -> str:
        done = await self.hotline("down", within=60)
        assert done.code == 0, done.out
        return done.out

    async def add_accounts(self) -> None:
        for name, role in ACCOUNTS.items():
            done = await self.hotline("users", "add", name, "--role", role, "--password", PASSWORD)
            assert done.code == 0, done.out

    # -- the node's ops server, as a load balancer and Prometheus read it -------------------------
    @property
    def ops_url(self) -> str:
        return f"http://{self.settings.ops_host}:{self.settings.ops_port}"

    async def probe(self, path: str) -> tuple[int, dict[str, Any]]:
        """Status and JSON body of the node's ``/healthz`` or ``/readyz``."""
        async with ClientSession() as client, client.get(self.ops_url + path) as response:
            return response.status, await response.json()

    async def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """Every sample of the node's ``/metrics``, parsed as Prometheus parses it."""
        async with ClientSession() as client, client.get(self.ops_url + "/metrics") as response:
            assert response.status == 200
            text = await response.text()
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    async def calls(self, last: int = 20) -> list[dict[str, Any]]:
        """``hotline calls --json``: the call log as the command line shows it."""
        done = await self.hotline("calls", "--last", str(last), "--json")
        assert done.code == 0, done.out
        calls: list[dict[str, Any]] = json.loads(done.out[done.out.index("[") :])
        return calls

    # -- what is running ---------------------------------------------------------------------------
    def up_log(self) -> str:
        path = self.settings.log_dir / "hotline-up.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no log)"

    def up_pid(self) -> int:
        return int((self.data_dir / "hotline-up.pid").read_text())

    def asterisk_pid(self) -> int | None:
        record = PidRecord.read(HostLayout.from_settings(self.settings).pid_file)
        return record.pid if record is not None else None

    def processes(self) -> list[tuple[int, str]]:
        """Every process whose environment names this data folder: the stack's, whatever they
        are called (Asterisk in its chroot inherits it too)."""
        marker = f"HOTLINE_DATA_DIR={self.data_dir}".encode()
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    found.append((int(proc.name), command.strip()))
        return found

    def listening(self) -> dict[str, int]:
        """The stack's ports that something still holds."""
        held = {
            name: port
            for name, port in self.tcp_ports().items()
            if not port_is_free(port, socket.SOCK_STREAM)
        }
        if not port_is_free(self.settings.sip_port, socket.SOCK_DGRAM):
            held["sip"] = self.settings.sip_port
        return held

    # -- the console over HTTP ---------------------------------------------------------------------
    async def console(self, user: str) -> ClientSession:
        """A logged-in HTTP session (the JSON API), for checks a browser need not make."""
        session = ClientSession(self.web_url, cookie_jar=CookieJar(unsafe=True))
        page = await session.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]*)"', await page.text())
        assert token is not None
        response = await session.post(
            "/login",
            data={"csrf_token": token.group(1), "username": user, "password": PASSWORD},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        return session


async def until(check: Any, within: float, what: str, step: float = 0.25) -> Any:
    """Poll the coroutine function ``check`` until it returns something true."""
    deadline = time.monotonic() + within
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}")
        await asyncio.sleep(step)
