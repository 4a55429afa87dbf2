"""Fixtures for the telephony tests: one real Asterisk per session, a logged-in AMI client, a
raw FastAGI listener that lets a test play the hotline's side of a call line by line, and the real
hotline behind the Asterisk (``line``) with the Mandarin prompts built (``prompts``) for the calls
of SIP phones (sipp, baresip).

The Asterisk runs from the cached root file system (built on first use, about 20-40 s) with its
own data folder and free ports, so it never collides with a `hotline up` on the same machine.
Missing tools make these tests fail with what to install; they are never skipped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import date

import pytest
import pytest_asyncio

from ivr.config import Settings
from ivr.prompts.build import PROMPT_FOLDER, build_prompts
from ivr.speech.catalog import Catalog
from ivr.stack import start_node
from ivr.store.database import upgrade_database
from ivr.store.seed import seed_demo
from ivr.telephony import LocalAsterisk, TelephonyError, recordings_dir_in_asterisk
from ivr.telephony.rootfs import require_tools
from tests.telephony.callkit import (
    AGIListener,
    AMIClient,
    Line,
    forget_dialplan_messages,
    make_settings,
    shared_rootfs,
)
from tests.telephony.sipkit import PromptClock

LANGUAGE_CODE = "zh"  # the prompts built for SIP calls: silence at the greeting keeps Mandarin


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


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def prompts(
    asterisk: LocalAsterisk, asterisk_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PromptClock]:
    """The Mandarin prompts, built once (espeak-ng) and shown to Asterisk for this module only.

    Other telephony tests check what the caller hears when prompts are missing, so the built
    files leave the session's prompt folder again when the module is done.
    """
    build = Settings(data_dir=tmp_path_factory.mktemp("prompt-build"))
    report = await build_prompts(build, Catalog.load(), languages=(LANGUAGE_CODE,), engine="espeak")
    assert report.ok, [r for r in report.results if r.status == "failed"][:5]
    source = build.prompts_dir / LANGUAGE_CODE / PROMPT_FOLDER
    target = asterisk_settings.prompts_dir / LANGUAGE_CODE / PROMPT_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    installed = []
    for sound in source.iterdir():
        shutil.copy2(sound, target / sound.name)
        installed.append(target / sound.name)
    try:
        yield PromptClock(asterisk_settings, LANGUAGE_CODE)
    finally:
        for path in installed:
            path.unlink(missing_ok=True)
        shutil.rmtree(target / "joined", ignore_errors=True)  # what the calls had joined


@pytest_asyncio.fixture(loop_scope="session")
async def line(
    asterisk: LocalAsterisk,
    asterisk_settings: Settings,
    prompts: PromptClock,
    sqlite_url: str,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Line]:
    settings = dataclasses.replace(
        asterisk_settings,
        db_url=sqlite_url,
        id_hash_key="line-test-key",
        asterisk_recordings_dir=str(recordings_dir_in_asterisk(asterisk_settings)),
        ops_port=0,
    )
    await upgrade_database(sqlite_url)
    await asyncio.to_thread(forget_dialplan_messages, settings)
    async with AsyncExitStack() as stack:  # the node as `hotline serve --ami` builds it
        node = await start_node(settings, stack, ami=True)  # the bridge: hang-up causes, lengths
        assert node.bridge is not None
        citizens = await seed_demo(
            node.core.database, citizens=2, seed=7, key=settings.hash_key(), today=date.today()
        )
        running = Line(
            node.core, node.agi, node.bridge, settings, citizens, request.node.name, time.time()
        )
        try:
            yield running
        finally:
            for phone in running.phones:  # left running by a failed test
                await phone.kill()
            await node.agi.stop(grace=1.0)
