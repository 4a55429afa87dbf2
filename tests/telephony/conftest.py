"""Fixtures for the telephony tests: one real Asterisk per session, a logged-in AMI client, and a
raw FastAGI listener that lets a test play the hotline's side of a call line by line.

The Asterisk runs from the cached root file system (built on first use, about 20-40 s) with its
own data folder and free ports, so it never collides with a `hotline up` on the same machine.
Missing tools make these tests fail with what to install; they are never skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from ivr.config import Settings
from ivr.telephony import LocalAsterisk, TelephonyError
from ivr.telephony.rootfs import require_tools
from tests.telephony.callkit import AGIListener, AMIClient, make_settings, shared_rootfs


@pytest.fixture(scope="session")
def asterisk_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("asterisk-data"))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def asterisk(asterisk_settings: Settings) -> AsyncIterator[LocalAsterisk]:
    try:
        require_tools("mmdebstrap", "chroot", "unshare", "nsenter", "mount")
    except TelephonyError as exc:
        pytest.fail(f"the real-Asterisk tests cannot run: {exc}", pytrace=False)
    instance = LocalAsterisk(asterisk_settings, rootfs=shared_rootfs())
    await instance.start()
    try:
        yield instance
    finally:
        await instance.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def ami(asterisk: LocalAsterisk, asterisk_settings: Settings) -> AsyncIterator[AMIClient]:
    client = await AMIClient.connect(asterisk_settings)
    login = await client.action(
        "Login", Username=asterisk_settings.ami_user, Secret=asterisk_settings.ami_secret
    )
    assert login["Response"] == "Success", login
    yield client
    await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def agi_listener(
    asterisk: LocalAsterisk, asterisk_settings: Settings
) -> AsyncIterator[AGIListener]:
    listener = AGIListener()
    server = await asyncio.start_server(
        listener.on_connect, asterisk_settings.agi_host, asterisk_settings.agi_port
    )
    try:
        yield listener
    finally:
        server.close()
        await server.wait_closed()
