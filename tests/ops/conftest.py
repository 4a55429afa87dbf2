"""A hotline node as ``hotline serve`` builds it (``ivr.stack.start_node``), its ops server on a
free port, and what a monitoring system reads from it: the Prometheus exposition, parsed by
``prometheus_client``'s own parser, and the probes' answers."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import pytest
from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families

from ivr.config import Settings
from ivr.flows import required_sounds
from ivr.prompts.audio import FORMATS
from ivr.prompts.build import built_sound_path
from ivr.speech.catalog import LANGUAGES
from ivr.stack import Node, start_node
from ivr.store.database import upgrade_database
from ivr.store.seed import DemoCitizen, seed_demo

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def node_settings(tmp_path: Path, database_url: str, **changes: Any) -> Settings:
    settings = Settings.load(
        env={"HOTLINE_ID_HASH_KEY": "test-key"}, data_dir=tmp_path / "var", db_url=database_url
    )
    return dataclasses.replace(settings, agi_port=0, ops_port=0, **changes)


def build_placeholder_prompts(settings: Settings) -> None:
    """Every sound the flows can play, as an (empty) built file in every format: what
    ``hotline prompts build`` leaves, as far as readiness looks."""
    for language in LANGUAGES:
        for key in required_sounds(language):
            for ext in FORMATS:
                path = built_sound_path(settings, language, key, ext)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()


@dataclass(frozen=True)
class Endpoints:
    """What a monitoring system reads from a node's ops server."""

    url: str

    async def get(self, path: str, **headers: str) -> tuple[int, str, str]:
        """Status, content type and body of ``GET path``."""
        async with (
            ClientSession() as client,
            client.get(self.url + path, headers=headers) as response,
        ):
            return response.status, response.headers["Content-Type"], await response.text()

    async def probe(self, path: str) -> tuple[int, dict[str, Any]]:
        async with ClientSession() as client, client.get(self.url + path) as response:
            return response.status, await response.json()

    async def scrape(self) -> Samples:
        """Every sample of ``/metrics``, parsed as Prometheus parses the text format."""
        status, _, text = await self.get("/metrics")
        assert status == 200
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


def endpoints(node: Node) -> Endpoints:
    assert node.ops is not None
    return Endpoints(node.ops.url)


@dataclass
class RunningNode:
    node: Node
    settings: Settings
    citizens: list[DemoCitizen]

    @property
    def agi_port(self) -> int:
        return self.node.agi.port

    @property
    def ops(self) -> Endpoints:
        return endpoints(self.node)

    async def settled(self) -> None:
        """Until every call the server took has ended (and was counted)."""
        async with asyncio.timeout(10):
            while self.node.agi.active_calls:  # noqa: ASYNC110 - the server's own count, polled
                await asyncio.sleep(0.02)


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 for a series not exposed (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def until(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Until ``check()`` holds (state another task of the node changes)."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polled as a monitoring system would
            await asyncio.sleep(0.05)


class StartNode(Protocol):
    async def __call__(self, settings: Settings, *, ami: bool = False) -> RunningNode: ...


@pytest.fixture
async def start() -> AsyncIterator[StartNode]:
    """Start a node on ``settings`` (schema up to date, a few demo citizens); stopped after."""
    async with AsyncExitStack() as stack:

        async def start_one(settings: Settings, *, ami: bool = False) -> RunningNode:
            await upgrade_database(settings.database_url)
            node = await start_node(settings, stack, ami=ami)
            citizens = await seed_demo(
                node.core.database, citizens=4, seed=7, key=settings.hash_key(), today=date.today()
            )
            return RunningNode(node, settings, citizens)

        yield start_one


@pytest.fixture
async def node(database_url: str, tmp_path: Path, start: StartNode) -> RunningNode:
    return await start(node_settings(tmp_path, database_url))
