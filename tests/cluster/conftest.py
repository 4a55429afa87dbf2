"""A local cluster started the way the README says (``hotline cluster up``), once for the folder's
tests, on its own loopback network so it never meets a developer's cluster (127.0.2.0)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from ivr.cluster.launch import layout_of
from ivr.cluster.postgres import LocalPostgres
from ivr.cluster.proxy import PROBE_SECONDS
from ivr.cluster.topology import PG_PORT, ClusterLayout
from ivr.config import Settings
from ivr.store.database import Database, open_database
from ivr.store.seed import DemoCitizen, seed_demo
from ivr.telephony.process import rx
from tests.telephony import sipkit
from tests.telephony.callkit import shared_rootfs
from tests.telephony.sipkit import PromptClock

NETWORK = "127.0.4.0"
UP_SECONDS = 900
CITIZENS = 150  # a first start builds the prompts and the Asterisk root


@dataclasses.dataclass
class Cluster:
    settings: Settings  # the tests' own: data folder, the cluster's database
    layout: ClusterLayout
    database: Database
    citizens: list[DemoCitizen]
    prompts: PromptClock
    env: dict[str, str]
    used: set[str] = dataclasses.field(default_factory=set)  # ID numbers a test called with

    probe_seconds: float = PROBE_SECONDS  # Kamailio's OPTIONS to each Asterisk

    @property
    def postgres(self) -> LocalPostgres:
        return LocalPostgres(self.layout.folder, self.layout.postgres_host, PG_PORT)

    async def asterisk_rx(self, command: str) -> None:
        """``asterisk -rx command`` on every node's Asterisk."""
        for node in self.layout.nodes:
            pid = int((node.data_dir / "asterisk" / "state" / "run" / "asterisk.pid").read_text())
            await rx(pid, shared_rootfs(), command, within=20)

    def caller_settings(self) -> Settings:
        """Where a softphone sends its calls: the proxy, with the testers' SIP password."""
        host, port = self.layout.proxy.split(":")
        return dataclasses.replace(self.settings, sip_host=host, sip_port=int(port))


async def hotline(env: dict[str, str], *args: str, within: float) -> str:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "hotline"), *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        pytest.fail(f"hotline {' '.join(args)} took over {within:.0f} s", pytrace=False)
    text = out.decode(errors="replace")
    if process.returncode != 0:
        pytest.fail(f"hotline {' '.join(args)} failed:\n{text[-4000:]}", pytrace=False)
    return text


@pytest.fixture(scope="package", autouse=True)
def sipp_installed() -> None:
    try:
        sipkit.require_sipp()
    except sipkit.SippError as exc:
        pytest.fail(f"the cluster tests cannot run: {exc}", pytrace=False)


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    """``hotline cluster up`` in a fresh folder, brought down after; or, while working on these
    tests, the cluster already up under ``HOTLINE_TEST_CLUSTER`` (a data folder: the tests damage
    it, they kill a node)."""
    running = os.environ.get("HOTLINE_TEST_CLUSTER")
    folder = Path(running) if running else tmp_path_factory.mktemp("cluster") / "var"
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(folder),
        "HOTLINE_ASTERISK_ROOTFS": str(shared_rootfs()),  # built once per machine
    }
    env.pop("HOTLINE_DB_URL", None)
    if not running:
        await hotline(env, "cluster", "up", "--nodes", "2", "--network", NETWORK, within=UP_SECONDS)
    try:
        settings = Settings.load(env=env)
        layout = layout_of(settings)
        key = (layout.folder / "id-hash.key").read_text().strip()
        url = LocalPostgres(layout.folder, layout.postgres_host, PG_PORT).url()
        settings = dataclasses.replace(settings, db_url=url, id_hash_key=key)
        database = await open_database(url)
        try:
            # The cluster seeded the first 50: this adds more callers and returns them all, with
            # their ID numbers and passwords (each test calls with citizens of its own).
            citizens = await seed_demo(
                database, citizens=CITIZENS, seed=1, key=settings.hash_key(), today=date.today()
            )
            console = dataclasses.replace(settings, data_dir=layout.console_dir)
            yield Cluster(settings, layout, database, citizens, PromptClock(console, "zh"), env)
        finally:
            await database.close()
    finally:
        if not running:
            await hotline(env, "cluster", "down", within=180)


@pytest_asyncio.fixture(loop_scope="package")
async def agents_open(cluster: Cluster) -> AsyncIterator[None]:
    """Agents take calls whatever the hour (the dialplan's clock would decide otherwise)."""
    await cluster.asterisk_rx("dialplan set global HOTLINE_AGENTS open")
    yield
    await cluster.asterisk_rx("dialplan set global HOTLINE_AGENTS auto")
