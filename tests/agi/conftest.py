"""AGI test fixtures: a channel on a real TCP socket driven line by line, and a server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from ivr.agi import FastAGIServer, Handler
from tests.agipeer import RawCall, raw_channel

ENV = {
    "agi_network": "yes",
    "agi_network_script": "12333?lang=zh&x=1",
    "agi_request": "agi://127.0.0.1:4573/12333?lang=zh&x=1",
    "agi_channel": "PJSIP/6001-00000001",
    "agi_language": "en",
    "agi_uniqueid": "1700000000.1",
    "agi_callerid": "13800000000",
    "agi_arg_1": "first",
    "agi_arg_2": "second, with comma",
}

STEP = 5.0  # seconds any single step of a test may take before it counts as frozen


@pytest.fixture
async def raw_call() -> AsyncIterator[RawCall]:
    async with raw_channel(ENV, command_timeout=STEP) as call:
        yield call


@pytest.fixture
def serve() -> Callable[..., AbstractAsyncContextManager[FastAGIServer]]:
    """``async with serve({"12333": handler}, header_timeout=...) as server:`` on a free port."""

    @asynccontextmanager
    async def factory(
        routes: Mapping[str, Handler],
        *,
        header_timeout: float = 1.0,
        command_timeout: float | None = None,
        stop_grace: float = 1.0,
        max_connections: int | None = None,
    ) -> AsyncIterator[FastAGIServer]:
        server = FastAGIServer(
            routes,
            port=0,
            header_timeout=header_timeout,
            command_timeout=command_timeout,
            stop_grace=stop_grace,
            max_connections=max_connections,
        )
        async with server:
            yield server

    return factory
