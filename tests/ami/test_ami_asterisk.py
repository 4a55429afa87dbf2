"""End to end against the real Asterisk 22: scripted calls (``hotline call``'s engine) into the
hotline's own FastAGI server over Local channels, with the AMI bridge completing the records.

The prompts are built for Mandarin with espeak-ng at a brisk rate (real speech through the real
build pipeline, so the scripts prove they do not depend on prompt lengths, without minutes of
listening per call). The ;1 half of each call runs Echo, so a recorded statement hears audio.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from ivr.ami.bridge import AMIBridge
from ivr.ami.channels import reads_variable
from ivr.ami.client import AMIClient
from ivr.ami.protocol import Message
from ivr.ami.scripted_call import LOCAL_CONTEXT, ScriptedCall, ScriptedCallResult
from ivr.ami.subscription import EVENTS
from ivr.cli import call_cmd
from ivr.config import Settings
from ivr.domain.cards import CardStatus, ReportStatus
from ivr.domain.idnumber import mask_ids_in_text
from ivr.live.board import LiveCall, Stage
from ivr.prompts.build import build_prompts
from ivr.prompts.espeak import DEFAULT_VOICES, EspeakEngine, EspeakVoice
from ivr.speech.catalog import Catalog
from ivr.stack import Core, start_node
from ivr.store import models
from ivr.store.database import upgrade_database
from ivr.store.records import CallSummary
from ivr.store.seed import DemoCitizen, seed_demo
from ivr.telephony import LocalAsterisk, recordings_dir_in_asterisk
from tests.ami.conftest import until
from tests.ami.sipagent import RingingAgent
from tests.telephony.callkit import forget_dialplan_messages

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

CALL_TIMEOUT = 240.0


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def prompts(asterisk_settings: Settings) -> None:
    """Mandarin prompts, as `hotline prompts build --engine espeak --lang zh` makes them, faster."""
    engine = EspeakEngine(
        voices={**DEFAULT_VOICES, "zh": EspeakVoice("cmn-latn-pinyin", words_per_minute=380)}
    )
    report = await build_prompts(asterisk_settings, Catalog.load(), languages=["zh"], engine=engine)
    assert report.ok, report.summary()


@dataclasses.dataclass
class Running:
    settings: Settings
    app: Core
    bridge: AMIBridge
    client: AMIClient
    citizens: list[DemoCitizen]

    def call(self, number: str, keys: list[str], context: str = LOCAL_CONTEXT) -> ScriptedCall:
        return ScriptedCall(
            self.client, number, keys, redact=mask_ids_in_text, context=context,
            timeout=CALL_TIMEOUT,
        )  # fmt: skip

    def heard(self, result: ScriptedCallResult) -> list[str]:
        """The prompts streamed to the caller, a joined sound as the prompts it joins."""
        heard = []
        for command in result.commands:
            if command.startswith("STREAM FILE"):
                sound = command.split('"')[1].removeprefix("hotline/")
                heard += self.app.joined.keys_of(sound) or [sound]
        return heard

    async def record(self, result: ScriptedCallResult) -> CallSummary:
        """The call's row once the flow and the bridge have both written theirs."""
        async with asyncio.timeout(10):
            while True:
                calls = await self.app.records.recent_calls(limit=20)
                row = next((c for c in calls if c.uniqueid == result.hotline_uniqueid), None)
                if row is not None and row.ended_at is not None and row.hangup_cause is not None:
                    return row
                await asyncio.sleep(0.1)


@pytest_asyncio.fixture(loop_scope="session")
async def hotline(
    asterisk: LocalAsterisk, asterisk_settings: Settings, prompts: None, tmp_path: Path
) -> AsyncIterator[Running]:
    settings = dataclasses.replace(
        asterisk_settings,
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}",
        id_hash_key="test-key",
        # RECORD FILE paths are given as Asterisk sees them inside its root.
        asterisk_recordings_dir=str(recordings_dir_in_asterisk(asterisk_settings)),
        ops_port=0,
    )
    await upgrade_database(settings.database_url)
    await asyncio.to_thread(forget_dialplan_messages, settings)
    async with AsyncExitStack() as stack:  # the node as `hotline serve --ami` builds it
        node = await start_node(settings, stack, ami=True)
        assert node.bridge is not None and node.bridge.client.connected
        citizens = await seed_demo(
            node.core.database, citizens=6, seed=7, key=settings.hash_key(), today=date.today()
        )
        client = AMIClient.from_settings(settings)
        await client.connect()
        stack.push_async_callback(client.close)
        yield Running(settings, node.core, node.bridge, client, citizens)


def keyed_id(citizen: DemoCitizen) -> str:
    return citizen.id_number.replace("X", "*") + "#"


def password(citizen: DemoCitizen) -> str:
    return citizen.initial_password + "#"


async def until_live(
    running: Running, uniqueid: str, check: Callable[[LiveCall], bool], within: float = 60
) -> LiveCall:
    """The call as the live board shows it, once ``check`` holds."""
    board = running.app.board
    with board.subscribe() as changes:
        async with asyncio.timeout(within):
            while True:
                for call in board.current().calls:
                    if call.key == uniqueid and check(call):
                        return call
                await changes.wait(1.0)
                changes.drain()


async def count_rows(running: Running, model: type[models.Base], call_id: int) -> int:
    async with running.app.database.read() as session:
        query = select(func.count()).select_from(model).where(model.call_id == call_id)  # type: ignore[attr-defined]
        return int(await session.scalar(query) or 0)


async def test_12333_balance_check(hotline: Running) -> None:
    citizen = hotline.citizens[0]
    keys = ["1", keyed_id(citizen), password(citizen), "1"]
    call = hotline.call("12333", keys)
    running = asyncio.create_task(call.run())
    # While the caller keys their ID the console sees the call at its flow node, and the bridge
    # sees the same channel running the AGI.
    live = await until_live(
        hotline, call.result.hotline_uniqueid, lambda c: c.node == "identity:enter_id"
    )
    assert live.hotline == "12333" and live.stage is Stage.MENUS and live.call_id is not None
    channel = hotline.bridge.channels[call.result.hotline_uniqueid]
    assert channel.application == "AGI" and channel.state == "Up" and channel.is_call
    assert channel.name.startswith("Local/12333@hotline-local-") and channel.name.endswith(";2")
    result = await running

    assert result.connected and result.failure is None
    assert result.inputs_taken == 4 and result.entries_left == []
    # Keys one at a time: "1" + 18 ID characters + "#" + 6 password digits + "#" + "1".
    assert result.keys_sent == 1 + 19 + 7 + 1
    row = await hotline.record(result)
    assert row.hotline == "12333" and row.outcome == "served" and row.language == "zh"
    assert row.id_masked == "110105********002X"
    # The script ran out at the next menu: the caller hung up (16), the bridge recorded it.
    assert row.hangup_cause == 16 and row.hangup_cause_text == "Normal Clearing"
    assert row.duration_s is not None and row.duration_s >= 10
    assert row.billsec is not None and 0 < row.billsec <= row.duration_s
    assert await count_rows(hotline, models.BalanceQuery, row.id) == 1

    # What AMI showed of the call.
    names = {event.event for event in result.events}
    assert {"Newchannel", "Newstate", "VarSet", "AGIExecStart", "AGIExecEnd", "Hangup"} <= names
    # The balance was read back between two query menus, its prompts joined into one sound.
    heard = hotline.heard(result)
    menus = [i for i, sound in enumerate(heard) if sound == "query_menu"]
    assert "pension_balance_is" in heard[menus[0] : menus[1]], heard
    assert not [c for c in result.commands if '"hotline/pension_balance_is"' in c]
    assert result.variables["HOTLINE"] == "12333"
    hangups = {e["Uniqueid"]: e["Cause"] for e in result.events if e.event == "Hangup"}
    assert hangups == {result.caller_uniqueid: "16", result.hotline_uniqueid: "16"}
    seen = " ".join(value for event in result.events for _, value in event.pairs)
    assert citizen.id_number not in seen and citizen.initial_password not in " ".join(
        result.commands
    )
    assert result.hotline_uniqueid not in hotline.bridge.channels
    assert all(c.key != result.hotline_uniqueid for c in hotline.app.board.current().calls)


async def test_96102_lost_card_report_with_a_statement(hotline: Running) -> None:
    citizen = next(c for c in hotline.citizens if c.card_status == CardStatus.NORMAL)
    keys = ["1", keyed_id(citizen), password(citizen), "1", "1", "4"]
    result = await hotline.call("96102", keys).run()

    assert result.connected and result.failure is None and result.entries_left == []
    row = await hotline.record(result)
    assert row.outcome == "served" and row.hotline == "96102"  # hung up: no HOTLINE_CALL_ID
    assert row.hangup_cause == 16  # the caller hangs up in the menu after the statement
    async with hotline.app.database.read() as session:
        report = await session.scalar(
            select(models.LossReport).where(models.LossReport.call_id == row.id)
        )
        assert report is not None
        card = await session.get(models.Card, report.card_id)
        recording = await session.get(models.Recording, report.statement_recording_id)
    assert report.status == ReportStatus.PROVISIONAL and report.verified
    assert card is not None and card.status == CardStatus.PROVISIONALLY_LOST
    assert card.settlement_stopped_at is not None
    # Four seconds "spoken", then #: Asterisk wrote the file where the hotline reads it.
    assert recording is not None and 3.0 <= recording.duration_s <= 6.0
    assert (hotline.settings.data_dir / recording.path).stat().st_size > 8000
    record_commands = [c for c in result.commands if c.startswith("RECORD FILE")]
    assert len(record_commands) == 1 and "/var/spool/hotline/recordings/" in record_commands[0]


async def test_a_caller_waiting_for_an_agent(hotline: Running, asterisk: LocalAsterisk) -> None:
    await asterisk.rx("dialplan set global HOTLINE_AGENTS open")
    try:
        async with RingingAgent(hotline.settings, "7001") as agent:
            call = hotline.call("12333", ["0"])
            running = asyncio.create_task(call.run())
            waiting = await until_live(
                hotline, call.result.hotline_uniqueid, lambda c: c.stage is Stage.WAITING
            )
            assert waiting.queue == "hotline-agents" and waiting.waiting_seconds is not None
            assert waiting.node == "12333:agent"  # where the caller left the menus
            await asyncio.sleep(1.5)
            (still,) = [c for c in hotline.app.board.current().calls if c.key == waiting.key]
            assert still.waiting_seconds is not None and still.waiting_seconds >= 1
            assert agent.invites  # the queue rang agent 7001, who never answers
            await call.hang_up()
            result = await running
    finally:
        await asterisk.rx("dialplan set global HOTLINE_AGENTS auto")
    row = await hotline.record(result)
    assert row.next_action == "agent" and row.hangup_cause == 16
    names = [e.event for e in result.events]
    assert "QueueCallerJoin" in names and "QueueCallerAbandon" in names


async def test_asterisk_sends_the_hotline_only_the_events_it_reads(
    hotline: Running, asterisk: LocalAsterisk
) -> None:
    """manager.conf's event filter: a caller waits for an agent who rings and never answers (the
    queue and the agent's leg make many events the hotline does not read), and two variables are
    set on the call, one of the hotline's and one it does not read."""
    seen: list[Message] = []
    unsubscribe = hotline.client.subscribe(seen.append)
    await asterisk.rx("dialplan set global HOTLINE_AGENTS open")
    try:
        async with RingingAgent(hotline.settings, "7001") as agent:
            call = hotline.call("12333", ["0"])
            running = asyncio.create_task(call.run())
            uniqueid = call.result.hotline_uniqueid
            await until_live(hotline, uniqueid, lambda c: c.stage is Stage.WAITING)
            await until(lambda: bool(agent.invites), within=30)
            channel = hotline.bridge.channels[uniqueid].name
            for variable in ("HOTLINE_PROBE", "PROBE_NOT_READ"):
                await hotline.client.action("Setvar", Channel=channel, Variable=variable, Value="1")
            await call.hang_up()
            await running
    finally:
        await asterisk.rx("dialplan set global HOTLINE_AGENTS auto")
        unsubscribe()
    names = {event.event for event in seen}
    assert names <= EVENTS, f"events the hotline does not read: {sorted(names - EVENTS)}"
    assert {
        "Newchannel", "Newstate", "Newexten", "AGIExecStart", "AGIExecEnd", "VarSet",
        "QueueCallerJoin", "QueueCallerAbandon", "Hangup",
    } <= names  # fmt: skip
    variables = {event.get("Variable", "") for event in seen if event.event == "VarSet"}
    assert "HOTLINE_PROBE" in variables and "PROBE_NOT_READ" not in variables
    assert all(reads_variable(name) for name in variables), sorted(variables)


async def test_a_call_that_cannot_connect_is_reported(hotline: Running) -> None:
    result = await hotline.call("12333", [], context="no-such-context").run()
    assert not result.connected and not result.ran_flow
    assert result.failure is not None and result.failure.startswith("call not connected")


async def test_bridge_and_hotline_call_survive_an_asterisk_restart(
    hotline: Running, asterisk: LocalAsterisk, capsys: pytest.CaptureFixture[str]
) -> None:
    client = hotline.bridge.client
    before = client.connections
    await asterisk.stop()
    await until(lambda: not client.connected, within=10)
    await asterisk.start()
    await client.wait_connected(60)
    assert client.connections == before + 1
    await hotline.client.wait_connected(60)
    # `hotline call` itself: a silent caller who hangs up at the main menu.
    args = argparse.Namespace(
        hotline="12333", context="hotline-local", caller="13900000000", timeout=CALL_TIMEOUT,
        stay=False, trace=False,
    )  # fmt: skip
    status = await call_cmd.call(hotline.settings, args, ["-"])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "from 13900000000 [zh] outcome=abandoned" in printed
    assert "cause=16" in printed
    calls = await hotline.app.records.recent_calls(limit=1)
    assert calls[0].hangup_cause == 16 and calls[0].duration_s is not None
