"""``hotline cluster up|down|status``: every part of a local cluster, started detached, in order.

Up: PostgreSQL, the schema and the demo citizens (once), the prompts (built once, shared by the
nodes), Kamailio, the nodes (each ``hotline up --detach --no-web --no-seed`` with its own settings:
an Asterisk behind the proxy and a hotline process), then the console (``hotline web``, reading
the live calls of every node from the database). Down: the same in reverse, each part from its
pid file, whatever already died. A part that fails to start stops the start with its log named.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from ivr.cluster import detached
from ivr.cluster.postgres import LocalPostgres
from ivr.cluster.proxy import SipProxy
from ivr.cluster.topology import PG_PORT, SIP_PORT, ClusterLayout
from ivr.config import Settings, private_dir
from ivr.runtime.processes import process_runs
from ivr.telephony.layout import HostLayout

__all__ = [
    "ClusterError",
    "Running",
    "cluster_down",
    "cluster_status",
    "cluster_up",
    "layout_of",
    "run_hotline",
]

CLUSTER_FOLDER = "cluster"
NODE_UP_SECONDS = 300.0  # a first start may build the Asterisk root (about a minute)
CONSOLE_UP_SECONDS = 60.0


class ClusterError(RuntimeError):
    pass


@dataclass(frozen=True)
class Running:
    layout: ClusterLayout
    database_url: str
    seeded: str  # what `hotline db seed` printed: IDs and passwords to call with


def layout_of(settings: Settings, nodes: int = 2, network: str = "127.0.2.0") -> ClusterLayout:
    """The cluster under the data folder; the saved one (its size, its network) when it runs."""
    folder = (settings.data_dir / CLUSTER_FOLDER).resolve()  # child processes start elsewhere
    saved = _read_state(folder / "cluster.json")
    if isinstance(saved.get("nodes"), int) and isinstance(saved.get("network"), str):
        nodes, network = int(str(saved["nodes"])), str(saved["network"])
    return ClusterLayout.of(folder, nodes, network)


def _read_state(path: Path) -> dict[str, object]:
    try:
        data: dict[str, object] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data


def _hotline() -> list[str]:
    script = Path(sys.executable).parent / "hotline"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ivr.cli.main"]


async def run_hotline(args: Sequence[str], env: Mapping[str, str], within: float) -> str:
    """``hotline *args`` as a user runs it; its output (``ClusterError`` if it fails)."""
    process = await asyncio.create_subprocess_exec(
        *_hotline(), *args, env=dict(env),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        raise ClusterError(f"hotline {' '.join(args)} took over {within:.0f} s") from None
    text = out.decode(errors="replace")
    if process.returncode != 0:
        raise ClusterError(f"hotline {' '.join(args)} failed:\n{text[-3000:]}")
    return text


def _secret(path: Path) -> str:
    """A secret of the cluster, made once (the ID-hash key every node must share)."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()


def _share_prompts(source: Path, nodes: Sequence[Path]) -> None:
    """Blocking (files): the prompts built once, hard-linked into every node's data folder."""
    for node in nodes:
        target = node / "sounds"
        if target.exists():
            shutil.rmtree(target)
        private_dir(node)
        shutil.copytree(source, target, copy_function=os.link)


async def cluster_up(settings: Settings, nodes: int, network: str) -> Running:
    layout = ClusterLayout.of((settings.data_dir / CLUSTER_FOLDER).resolve(), nodes, network)
    if _read_state(layout.state_file):
        raise ClusterError("a cluster is up already (or was not stopped): `hotline cluster down`")
    await asyncio.to_thread(private_dir, layout.folder)
    postgres = LocalPostgres(layout.folder, layout.postgres_host, PG_PORT)
    url = await postgres.start()
    common = {
        **os.environ,
        "HOTLINE_DB_URL": url,
        "HOTLINE_ID_HASH_KEY": await asyncio.to_thread(_secret, layout.folder / "id-hash.key"),
        "HOTLINE_ASTERISK_ROOTFS": str(HostLayout.from_settings(settings).rootfs),
        "HOTLINE_SIP_PASSWORD": settings.sip_password,
        "HOTLINE_AMI_SECRET": settings.ami_secret,
    }
    console = layout.console_env(common)
    await run_hotline(["db", "upgrade"], console, 120)
    seeded = await run_hotline(["db", "seed"], console, 300)
    await run_hotline(["prompts", "build"], console, 600)
    sounds = layout.console_dir / "sounds"
    await asyncio.to_thread(_share_prompts, sounds, [node.data_dir for node in layout.nodes])
    proxy = SipProxy(layout.proxy_dir, layout.proxy_host, SIP_PORT)
    await asyncio.to_thread(proxy.write_config, settings, [node.sip for node in layout.nodes])
    await proxy.start()
    await asyncio.gather(
        *(
            run_hotline(
                ["up", "--detach", "--no-web", "--no-seed"],
                layout.node_env(node, common),
                NODE_UP_SECONDS,
            )
            for node in layout.nodes
        )
    )
    console_pid = await detached.spawn(
        [*_hotline(), "web"], env=console, log=layout.console_dir / "console.log", cwd=layout.folder
    )
    state = {"nodes": nodes, "network": network, "console_pid": console_pid, "at": time.time()}
    await asyncio.to_thread(layout.state_file.write_text, json.dumps(state))
    await _wait_console(layout)
    return Running(layout, url, seeded)


async def _wait_console(layout: ClusterLayout) -> None:
    deadline = time.monotonic() + CONSOLE_UP_SECONDS
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"{layout.console_url}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise ClusterError(f"the console did not answer; see {layout.console_dir / 'console.log'}")


async def cluster_down(settings: Settings) -> list[str]:
    """Stop every part that runs, in reverse order; what was stopped."""
    layout = layout_of(settings)
    state = _read_state(layout.state_file)
    stopped = []
    console_pid = state.get("console_pid")
    if isinstance(console_pid, int) and await detached.stop(console_pid):
        stopped.append("console")
    env = {**os.environ, "HOTLINE_DB_URL": "sqlite://"}  # `hotline down` reads no database
    for node in reversed(layout.nodes):
        out = await run_hotline(["down"], layout.node_env(node, env), 120)
        if "hotline stopped" in out:
            stopped.append(node.name)
    if await SipProxy(layout.proxy_dir, layout.proxy_host, SIP_PORT).stop():
        stopped.append("proxy")
    if await LocalPostgres(layout.folder, layout.postgres_host, PG_PORT).stop():
        stopped.append("postgres")
    layout.state_file.unlink(missing_ok=True)
    return stopped


def cluster_status(settings: Settings) -> dict[str, bool]:
    """Blocking (files): which parts run."""
    layout = layout_of(settings)
    state = _read_state(layout.state_file)
    parts = {
        "postgres": (LocalPostgres(layout.folder, layout.postgres_host, PG_PORT).folder
                     / "data" / "postmaster.pid").exists(),
        "proxy": SipProxy(layout.proxy_dir, layout.proxy_host, SIP_PORT).pid() is not None,
    }  # fmt: skip
    for node in layout.nodes:
        pid_file = node.data_dir / "hotline-up.pid"
        pid = int(pid_file.read_text()) if pid_file.exists() else 0
        parts[node.name] = process_runs(pid)
    console_pid = state.get("console_pid")
    parts["console"] = isinstance(console_pid, int) and process_runs(console_pid)
    return parts
