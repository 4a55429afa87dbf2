"""Real SIP calls into the local Asterisk with sipp: a tester's phone (6001) keying RFC 2833 DTMF,
an agent's phone (7001) answering the queue, and the FastAGI server stopped under a live call.

Each test runs the real hotline (FastAGI server, flows, a fresh seeded SQLite database) behind the
session's Asterisk, with the Mandarin prompts built by espeak-ng, and asserts what lands in the
records database. How keys are timed: see ``tests/telephony/sipkit.py``. sipp's logs of every call
are kept under ``test-output/sipp/<test>/``.
"""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

import pytest
import pytest_asyncio
from sqlalchemy import select

from ivr.domain.cards import CardStatus, ReportStatus
from ivr.engine.model import End, Flow, Node, Record, Say
from ivr.flows.card_services import CARD_SERVICES
from ivr.flows.common import GREETING
from ivr.flows.hotline12333 import HOTLINE_12333
from ivr.store import models
from ivr.store.seed import DemoCitizen
from ivr.telephony import LocalAsterisk
from tests.telephony import sipkit
from tests.telephony.callkit import AMIClient, Line
from tests.telephony.sipkit import (
    LEAD,
    AgentPhone,
    AwaitHangup,
    HangUp,
    Key,
    PromptClock,
    SippProcess,
    Speak,
    Step,
)

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

TESTER = "6001"
SPEECH_S = 4.0  # the recorded statement: sipp's voice capture
TALK_S = 5.0  # how long the caller stays on with the agent
ANSWER_S = 1.0  # from the 200 OK to the greeting: Answer() waits 0.5 s, then the AGI connection


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def sipp_installed() -> None:
    try:
        sipkit.require_sipp()
    except sipkit.SippError as exc:
        pytest.fail(f"the SIP end-to-end tests cannot run: {exc}", pytrace=False)


@pytest_asyncio.fixture(loop_scope="session")
async def agents_open(asterisk: LocalAsterisk) -> AsyncIterator[None]:
    """Agents take calls whatever the time of day (the dialplan's clock would decide otherwise)."""
    await asterisk.rx("dialplan set global HOTLINE_AGENTS open")
    yield
    await asterisk.rx("dialplan set global HOTLINE_AGENTS auto")


# --- helpers --------------------------------------------------------------------------------------


def keyed_id(citizen: DemoCitizen) -> str:
    return citizen.id_number.replace("X", "*") + "#"


N = TypeVar("N", bound=Node)


def node(flow: Flow, name: str, kind: type[N]) -> N:
    found = flow.nodes[name]
    assert isinstance(found, kind), f"{flow.name}:{name} is a {type(found).__name__}"
    return found


def greeting(prompts: PromptClock, hotline: str) -> float:
    """The Mandarin greeting and the other languages' offers: the flow's first menu starts after.

    A key in the greeting would stop it and go to the menu (type-ahead); the first key waits for
    the menu all the same, so that it also waits for the call's start-up.
    """
    return ANSWER_S + prompts.says(node(GREETING, "zh", Say).prompts, hotline=hotline)


async def run_caller(
    line: Line,
    number: str,
    steps: list[Step],
    end: HangUp | AwaitHangup,
    *,
    name: str = "caller",
) -> SippProcess:
    files = sipkit.write_caller(sipkit.OUTPUT / line.name / name, user=TESTER, steps=steps, end=end)
    sipp = sipkit.caller_sipp(files, line.settings, number=number, user=TESTER, name=name)
    line.phones.append(sipp)
    await sipp.start()
    return sipp


async def finish(line: Line, sipp: SippProcess, timeout: float) -> None:  # noqa: ASYNC109
    """sipp ended its call as scripted (exit 0), or fail with its logs and the call records."""
    try:
        code = await sipp.finish(timeout)
    except sipkit.SippError as exc:
        pytest.fail(f"{exc}\n--- call records:\n{await line.describe()}", pytrace=False)
    if code != 0:
        await line.settled()
        pytest.fail(
            f"sipp {sipp.name} failed (exit {code})\n{sipp.report()}\n"
            f"--- call records:\n{await line.describe()}",
            pytrace=False,
        )


async def node_reached(line: Line, where: str, within: float) -> None:
    """Wait until the live call is at ``where`` (``flow:node``)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if any(call.node == where for call in line.app.board.current().calls):
            return
        await asyncio.sleep(0.05)
    nodes = [call.node for call in line.app.board.current().calls]
    pytest.fail(f"no live call reached {where} within {within:.0f} s (now at {nodes})\n"
                f"{await line.describe()}", pytrace=False)  # fmt: skip


async def registered(asterisk: LocalAsterisk, agent: AgentPhone, within: float = 15) -> None:
    """The agent's phone is registered and reachable (Asterisk qualifies it with OPTIONS)."""
    contact = f"{agent.user}/sip:{agent.user}@127.0.0.1:{agent.sipp.sip_port}"
    deadline = time.monotonic() + within
    contacts = ""
    while time.monotonic() < deadline and agent.sipp.running:
        contacts = await asterisk.rx("pjsip show contacts")
        if any(contact in row and "Avail" in row for row in contacts.splitlines()):
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"agent {agent.user} did not register:\n{contacts}\n{agent.sipp.report()}",
                pytrace=False)  # fmt: skip


def sum_after(steps: list[Step]) -> float:
    """When the last step starts, counted from the answer."""
    return sum(step.after for step in steps)


# --- 1. a balance check on 12333 ------------------------------------------------------------------


async def test_sip_call_12333_pension_balance(line: Line, prompts: PromptClock) -> None:
    citizen = line.citizens[0]
    assert citizen.id_number == "11010519491231002X"
    async with line.app.database.read() as session:
        balance = await session.scalar(
            select(models.PensionAccount.balance)
            .join(models.Citizen)
            .where(models.Citizen.id_masked == citizen.masked)
        )
    assert isinstance(balance, Decimal)
    read_back = prompts.says(
        node(HOTLINE_12333, "pension_say", Say).prompts, pension_balance=balance
    )
    steps: list[Step] = [
        Key("1", greeting(prompts, "12333") + LEAD, "main menu: personal query"),
        Key(keyed_id(citizen), LEAD, "during enter_id"),
        Key(citizen.initial_password + "#", LEAD, "during enter_password"),
        Key("1", LEAD, "query menu: pension account"),
    ]
    # Hang up once the balance has been read back (the flow is then in the query menu again).
    sipp = await run_caller(line, "12333", steps, HangUp(read_back + LEAD))
    await finish(line, sipp, timeout=120)

    row = await line.only_call("12333")
    described = await line.describe()
    assert row.outcome == "served", described
    assert row.language == "zh" and row.ended_at is not None, described
    assert row.id_masked == "110105********002X", described
    assert row.channel.startswith(f"PJSIP/{TESTER}-"), row.channel
    async with line.app.database.read() as session:
        kinds = list(await session.scalars(select(models.BalanceQuery.kind)))
    assert kinds == ["pension"], described
    steps_done = await line.steps(row.id)
    inputs = [(s.node, s.key) for s in steps_done if s.kind == "input"]
    assert ("12333:query_menu", "1") in inputs, described
    assert ("12333:main", "1") in inputs, described
    logged = " ".join(f"{s.key} {s.detail}" for s in steps_done)
    assert citizen.initial_password not in logged and citizen.id_number not in logged
    # The AMI bridge adds Asterisk's side. A caller's BYE is a normal clearing, but Asterisk 22's
    # Hangup event says cause 0 (Unknown) for it here; the SoftHangupRequest before it says 16.
    row = await line.hung_up(row.id)
    assert row.hangup_cause in (0, 16), (row.hangup_cause, row.hangup_cause_text)
    assert row.duration_s is not None and row.duration_s >= int(sum_after(steps)), row.duration_s


# --- 2. a lost card on 96102, with a recorded statement -------------------------------------------


async def test_sip_call_96102_loss_report_with_statement(line: Line, prompts: PromptClock) -> None:
    citizen = line.citizens[1]
    assert citizen.card_status is CardStatus.NORMAL
    instructions = prompts.says(node(CARD_SERVICES, "statement_record", Record).prompts)
    # What the flow tells once the statement is saved; the longest it can be (the reference has
    # six random digits; the lapse date depends on the day), so the key after it is never early.
    # The reference and what to do next, read back as soon as the report is made; the longest
    # it can be (the reference has six random digits; the lapse date depends on the day), so the
    # key after it is never early. A key during the read-back would wait for the menu after it.
    today = date.today()
    told = prompts.says_at_most(
        node(CARD_SERVICES, "loss_reference", Say).prompts,
        reference=[today.strftime("%y%m%d") + d * 6 for d in "0123456789"],
        lapses_on=[today + timedelta(days=n) for n in range(60)],
    )
    saved = prompts.says(node(CARD_SERVICES, "statement_thanks", Say).prompts)
    steps: list[Step] = [
        Key("1", greeting(prompts, "96102") + LEAD, "card menu: report a loss"),
        Key(keyed_id(citizen), LEAD, "during enter_id"),
        Key(citizen.initial_password + "#", LEAD, "during enter_password_or_statement"),
        Key("1", LEAD, "confirm the card"),
        Key("1", told + LEAD, "after-report menu: record a statement"),
        # The instructions cannot be interrupted; then a beep, then the recording.
        Speak(SPEECH_S, instructions + LEAD, "the statement"),
        Key("#", 0.3, "end of the statement"),
    ]
    # The statement is saved and the card menu plays again: the caller, served, hangs up.
    sipp = await run_caller(line, "96102", steps, HangUp(saved + LEAD))
    await finish(line, sipp, timeout=200)

    row = await line.only_call("96102")
    described = await line.describe()
    assert row.outcome == "served", described
    row = await line.hung_up(row.id)  # the caller's BYE (cause 0 or 16: see the first test)
    assert row.hangup_cause in (0, 16) and row.duration_s, (row.hangup_cause, row.duration_s)
    async with line.app.database.read() as session:
        report = await session.scalar(select(models.LossReport))
        assert report is not None, described
        card = await session.get(models.Card, report.card_id)
        recording = await session.get(models.Recording, report.statement_recording_id)
    assert report.status is ReportStatus.PROVISIONAL and report.call_id == row.id
    assert card is not None and card.number == citizen.card_number
    assert card.status is CardStatus.PROVISIONALLY_LOST
    assert card.settlement_stopped_at is not None
    assert recording is not None and recording.kind == "statement", described
    # The recording holds the speech: Asterisk writes what arrives, the caller's silence before
    # talking sends no RTP. The file is where the hotline looks, as long as the row says.
    assert SPEECH_S - 1 < recording.duration_s < SPEECH_S + LEAD + 1, recording.duration_s
    path = line.settings.data_dir / recording.path  # stored relative to the data folder
    assert path.is_file(), f"{recording.path}: no such file under {line.settings.data_dir}"
    assert path.stat().st_mtime >= line.started - 1
    with wave.open(str(path)) as sound:
        seconds = sound.getnframes() / sound.getframerate()
    assert abs(seconds - recording.duration_s) < 0.1, (seconds, recording.duration_s)


# --- 3. a transfer to the agents, answered by an agent's phone ------------------------------------


async def test_sip_call_transferred_to_a_registered_agent(
    line: Line, prompts: PromptClock, asterisk: LocalAsterisk, ami: AMIClient, agents_open: None
) -> None:
    agent = AgentPhone(line.settings, sipkit.OUTPUT / line.name / "agent")
    line.phones.append(agent.sipp)
    await agent.start()
    try:
        await registered(asterisk, agent)
        steps: list[Step] = [Key("0", greeting(prompts, "12333") + LEAD, "main menu: an agent")]
        # transfer_agent cannot be interrupted; then the queue rings 7001, which answers at once.
        talk = prompts.says(node(HOTLINE_12333, "agent", End).prompts) + TALK_S
        sipp = await run_caller(line, "12333", steps, HangUp(talk))
        await finish(line, sipp, timeout=90)
    finally:
        await agent.calls_ended(within=10)
        agent_code = await agent.end_shift(within=30)

    row = await line.only_call("12333")
    described = await line.describe()
    assert row.outcome == "agent" and row.next_action == "agent", described
    row = await line.hung_up(row.id)  # the caller's channel, after the talk with the agent
    assert row.hangup_cause == 16 and row.billsec, (row.hangup_cause, row.billsec)
    assert agent.answered() == 1 and agent.hung_up() == 1, agent.sipp.report()
    assert agent_code == 0, agent.sipp.report()  # registered, answered, unregistered
    connected = [
        e
        for e in ami.events
        if e.get("Event") == "AgentConnect" and e.get("Uniqueid") == row.uniqueid
    ]
    assert connected and connected[0].get("Queue") == "hotline-agents", connected
    assert connected[0].get("Interface") == "PJSIP/7001", connected


# --- 4. the FastAGI server stopped under a live call ----------------------------------------------


async def test_fastagi_stopped_mid_call_falls_back_and_loses_nothing(
    line: Line, prompts: PromptClock, ami: AMIClient, agents_open: None
) -> None:
    """The caller is identified and asked to confirm the card to report lost when the FastAGI
    server stops: 1 s of grace (the server's default is 5 s), then the flow is cancelled.

    The caller hears the fallback: Asterisk plays the apology and tries the agents. Nothing is
    lost: the call record, opened when the call came in, is completed with an outcome, the last
    node and the steps taken; the loss report, which the caller had not confirmed, does not
    exist even in part, and the card is untouched.
    """
    citizen = line.citizens[0]
    steps: list[Step] = [
        Key("1", greeting(prompts, "96102") + LEAD, "card menu: report a loss"),
        Key(keyed_id(citizen), LEAD, "during enter_id"),
        Key(citizen.initial_password + "#", LEAD, "during enter_password_or_statement"),
        # ... and the caller is asked to confirm the card when the server goes away.
    ]
    sipp = await run_caller(line, "96102", steps, AwaitHangup(within=90))
    await node_reached(line, "card_services:loss_confirm", within=60)
    await line.server.stop(grace=1.0)  # the running call gets 1 s to end, then it is cancelled

    # Asterisk goes on without the flow: the apology, then the agent queue. The test hangs the
    # caller up once the queue has been tried (the voice message after it is tested elsewhere).
    row = await line.only_call("96102")
    queue = await ami.wait_event(
        lambda e: (
            e.get("Event") == "Newexten"
            and e.get("Uniqueid") == row.uniqueid
            and e.get("Application") == "Queue"
        ),
        within=60,
    )
    await ami.action("Hangup", Channel=queue["Channel"])
    await finish(line, sipp, timeout=30)

    steps_run = ami.app_calls({row.uniqueid})
    apps = [app for app, _ in steps_run]
    assert ("Playback", "hotline/fallback_apology") in steps_run, steps_run
    assert ("Playback", "sorry") not in steps_run  # the built apology played, not the stand-in
    assert apps.index("AGI") < apps.index("Playback") < apps.index("Queue"), apps
    fallback = [
        e
        for e in ami.events
        if e.get("Event") == "VarSet"
        and e.get("Uniqueid") == row.uniqueid
        and e.get("Variable") == "HOTLINE_FALLBACK"
    ]
    assert fallback and fallback[-1].get("Value") == "1"

    # Nothing lost: the call record was completed when the flow was cancelled, with the steps
    # the caller had gone through; no loss report was half made; the card is untouched.
    row = await line.only_call("96102")
    described = await line.describe()
    # A cancelled flow is no hang-up: the call is closed as "interrupted", with no next action
    # (the dialplan's fallback takes the caller on).
    assert row.ended_at is not None and row.outcome == "interrupted", described
    assert row.next_action is None, described
    assert row.last_node == "card_services:loss_confirm", described
    assert row.id_masked == citizen.masked, described
    inputs = [s.node for s in await line.steps(row.id) if s.kind == "input"]
    assert "identity_loss:enter_password" in inputs, described
    assert await line.count(models.LossReport) == 0
    # The bridge completes the record when the caller's channel finally hangs up, after the
    # fallback: the length counts the whole call, not only the part the flow saw.
    row = await line.hung_up(row.id)
    assert row.hangup_cause is not None and row.duration_s, (row.hangup_cause, row.duration_s)
    assert row.ended_at is not None and row.started_at is not None
    assert row.duration_s > (row.ended_at - row.started_at).total_seconds(), row.duration_s
    async with line.app.database.read() as session:
        status = await session.scalar(
            select(models.Card.status).where(models.Card.number == citizen.card_number)
        )
    assert status is CardStatus.NORMAL
