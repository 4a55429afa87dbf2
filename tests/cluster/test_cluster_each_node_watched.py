"""Every node of ``hotline cluster up`` serves ``/healthz``, ``/readyz`` and ``/metrics`` on its own
address, as Prometheus and a load balancer reach them. (Collected before the failure tests, which
kill a node.)"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families

from tests.cluster.conftest import Cluster

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="package")]


async def test_every_node_is_healthy_ready_and_scraped(cluster: Cluster) -> None:
    async with ClientSession() as client:
        for node in cluster.layout.nodes:
            async with client.get(node.ops_url + "/healthz") as health:
                assert health.status == 200, node.name
            deadline = time.monotonic() + 60
            while True:
                async with client.get(node.ops_url + "/readyz") as ready:
                    body = await ready.json()
                if ready.status == 200 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            assert (ready.status, body) == (
                200,
                {"ready": True, "database": "up", "telephony": "up", "prompts": "up"},
            ), node.name
            async with client.get(node.ops_url + "/metrics") as metrics:
                text = await metrics.text()
            samples = {
                sample.name: sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if not sample.labels
            }
            assert samples["hotline_ami_connected"] == 1, node.name  # its own Asterisk
