"""A local cluster for the failure tests and the cluster benchmark: started with ``hotline cluster
up`` (the README's command) in a data folder of its own, and what a test needs of it."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

from ivr.cluster.launch import CLUSTER_FOLDER, layout_of, run_hotline
from ivr.cluster.postgres import LocalPostgres
from ivr.cluster.proxy import PROBE_SECONDS
from ivr.cluster.topology import PG_PORT, ClusterLayout
from ivr.config import Settings
from ivr.store.database import Database, open_database
from ivr.store.seed import DemoCitizen, seed_demo
from ivr.telephony.process import rx
from tests.telephony.callkit import shared_rootfs
from tests.telephony.sipkit import PromptClock

UP_SECONDS = 900  # a first start builds the prompts and the Asterisk root
CITIZENS = 150  # the cluster seeds 50; the tests call with more, each with its own


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
    challenge: int = 407  # Kamailio asks callers to authenticate with 407

    @property
    def postgres(self) -> LocalPostgres:
        return LocalPostgres(self.layout.folder, self.layout.postgres_host, PG_PORT)

    async def asterisk_rx(self, command: str, *, only: int | None = None) -> None:
        """``asterisk -rx command`` on every node's Asterisk (``only``: that node's, by index)."""
        for index, node in enumerate(self.layout.nodes):
            if only is not None and index != only:
                continue
            pid = int((node.data_dir / "asterisk" / "state" / "run" / "asterisk.pid").read_text())
            await rx(pid, shared_rootfs(), command, within=20)

    def caller_settings(self) -> Settings:
        """Where a softphone sends its calls: the proxy, with the testers' SIP password."""
        host, port = self.layout.proxy.split(":")
        return dataclasses.replace(self.settings, sip_host=host, sip_port=int(port))


async def hotline(env: dict[str, str], *args: str, within: float) -> str:
    """``hotline *args`` as a user runs it (the launcher's own runner): its output."""
    return await run_hotline(args, env, within)


def cluster_env(folder: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(folder),
        "HOTLINE_ASTERISK_ROOTFS": str(shared_rootfs()),  # built once per machine
    }
    env.pop("HOTLINE_DB_URL", None)
    return env


@asynccontextmanager
async def running_cluster(
    folder: Path, *, nodes: int, network: str, start: bool = True
) -> AsyncIterator[Cluster]:
    """The cluster in ``folder`` (a data folder): started and stopped here, or (``start``
    False) one already up."""
    env = cluster_env(folder)
    try:
        if start:  # brought down below even if it fails half-way
            await hotline(
                env, "cluster", "up", "--nodes", str(nodes), "--network", network, within=UP_SECONDS
            )
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
        if start:
            await hotline(env, "cluster", "down", within=180)
            # The server's files live outside the data folder when run as root (see
            # ivr.cluster.postgres): a throwaway cluster leaves nothing behind.
            server = LocalPostgres(folder / CLUSTER_FOLDER, "127.0.0.1", PG_PORT).folder
            await asyncio.to_thread(shutil.rmtree, server, True)
