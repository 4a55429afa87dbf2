"""The cluster of the failure tests: started the way the README says (``hotline cluster up``),
once for the folder, on its own loopback network so it never meets a developer's (127.0.2.0)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.cluster.kit import Cluster, running_cluster
from tests.telephony import sipkit

NETWORK = "127.0.4.0"


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
    async with running_cluster(folder, nodes=2, network=NETWORK, start=not running) as up:
        yield up


@pytest_asyncio.fixture(loop_scope="package")
async def agents_open(cluster: Cluster) -> AsyncIterator[None]:
    """Agents take calls whatever the hour (the dialplan's clock would decide otherwise)."""
    await cluster.asterisk_rx("dialplan set global HOTLINE_AGENTS open")
    yield
    await cluster.asterisk_rx("dialplan set global HOTLINE_AGENTS auto")
