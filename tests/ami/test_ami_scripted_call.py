"""ScriptedCall against a fake AMI server that plays the hotline's side from AGIExecStart events.

The real-Asterisk tests show the whole call works; these show, in milliseconds, which key goes
where and when, and what happens when the call cannot connect or AMI drops mid-call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence

import pytest

from ivr.ami.client import AMIClient, Backoff
from ivr.ami.protocol import Message
from ivr.ami.scripted_call import ScriptedCall
from ivr.domain.idnumber import mask_ids_in_text
from tests.ami.fakeami import FakeAMI, Reply

LISTENING = ("WAIT FOR DIGIT", "RECORD FILE")
KEY_WAIT = 0.3  # how long the fake flow listens for a key: no key by then is silence


class FakeFlow:
    """Answers an Originate by running ``commands`` on the ;2 half, noting the keys received."""

    def __init__(
        self,
        server: FakeAMI,
        commands: Sequence[str],
        *,
        answer: bool = True,
        refused: tuple[str, str] = ("0", "Unknown"),
        refused_first: bool = False,
    ) -> None:
        self.server = server
        self.commands = commands
        self.answer = answer
        self.refused = refused  # unanswered: the hotline half's hang-up cause and its text
        self.refused_first = refused_first  # the OriginateResponse before that hang-up
        self.keys: list[str | None] = []  # per listening command: the key, or None
        self.key_times: list[float] = []
        self.task: asyncio.Task[None] | None = None
        server.handlers["Originate"] = self.originate

    def originate(self, message: Message) -> Reply:
        self.task = asyncio.get_running_loop().create_task(self.run(message))
        return [[("Response", "Success"), ("ActionID", message["ActionID"]),
                 ("Message", "Originate successfully queued")]]  # fmt: skip

    async def run(self, originate: Message) -> None:
        push = self.server.push_event
        one_id, two_id = originate["ChannelId"], originate["OtherChannelId"]
        name = f"{originate['Channel']}-00000001"
        one = [("Channel", f"{name};1"), ("Uniqueid", one_id), ("Linkedid", one_id)]
        two = [("Channel", f"{name};2"), ("Uniqueid", two_id), ("Linkedid", one_id)]
        response = [("Event", "OriginateResponse"), ("ActionID", originate["ActionID"])]
        await push(("Event", "Newchannel"), *one, ("ChannelState", "0"))
        await push(("Event", "Newchannel"), *two, ("ChannelState", "4"))
        if not self.answer:
            # As Asterisk may order them: the hang-up before the OriginateResponse.
            cause, text = self.refused
            hang_up = [("Event", "Hangup"), *two, ("Cause", cause), ("Cause-txt", text)]
            failure = [*response, ("Response", "Failure"), ("Reason", "0")]
            for event in (failure, hang_up) if self.refused_first else (hang_up, failure):
                await push(*event)
            return
        await push(("Event", "Newstate"), *two, ("ChannelState", "6"))
        await push(*response, ("Response", "Success"), ("Reason", "4"))
        for number, command in enumerate(self.commands):
            if self.server.count("Hangup"):
                break  # the caller hung up
            keyed = self.server.count("PlayDTMF")
            step = [*two, ("Command", command), ("CommandId", str(number))]
            await push(("Event", "AGIExecStart"), *step)
            if command.startswith(LISTENING):
                await self.listen(keyed, 5.0 if command.startswith("RECORD") else KEY_WAIT)
            await push(("Event", "AGIExecEnd"), *step, ("ResultCode", "200"))
        await push(("Event", "Hangup"), *two, ("Cause", "16"), ("Cause-txt", "Normal Clearing"))
        await push(("Event", "Hangup"), *one, ("Cause", "16"))

    async def listen(self, keyed: int, within: float) -> None:
        deadline = time.monotonic() + within
        while self.server.count("PlayDTMF") == keyed and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        sent = [m for m in self.server.actions if m.get("Action") == "PlayDTMF"][keyed:]
        self.keys.append(sent[0]["Digit"] if sent else None)
        self.key_times.append(time.monotonic())


@pytest.fixture
async def client(fake_ami: FakeAMI) -> AsyncIterator[AMIClient]:
    ami = AMIClient(
        "127.0.0.1", fake_ami.port, fake_ami.username, fake_ami.secret,
        backoff=Backoff(0.05, 0.2),
    )  # fmt: skip
    await ami.connect()
    try:
        yield ami
    finally:
        await ami.close()


def scripted(client: AMIClient, number: str, keys: list[str]) -> ScriptedCall:
    return ScriptedCall(client, number, keys, redact=mask_ids_in_text, timeout=20)


async def test_each_key_goes_to_the_caller_half_when_the_flow_listens(
    fake_ami: FakeAMI, client: AMIClient
) -> None:
    flow = FakeFlow(
        fake_ami,
        [
            'STREAM FILE "hotline/greeting_12333" "0123456789*#"',
            "WAIT FOR DIGIT 3000",  # "-": silence
            'STREAM FILE "hotline/main_menu_12333" "0123456789*#"',
            "WAIT FOR DIGIT 5000",  # "1"
            'STREAM FILE "hotline/enter_password" "0123456789#"',
            "WAIT FOR DIGIT 8000",  # "4"
            "WAIT FOR DIGIT 4000",  # "2"
            'SET VARIABLE "HOTLINE_X" "1"',
            "WAIT FOR DIGIT 4000",  # "#"
            'STREAM FILE "hotline/query_menu" "0123456789*#"',
            "WAIT FOR DIGIT 5000",  # a fourth input: the script is done, the caller hangs up
            'STREAM FILE "hotline/never_played" ""',
        ],
    )
    result = await scripted(client, "12333", ["-", "1", "42#"]).run()
    assert flow.keys == [None, "1", "4", "2", "#", None]
    assert result.connected and result.failure is None and result.keys_sent == 4
    assert result.inputs_taken == 3 and result.entries_left == []
    dtmf = [m for m in fake_ami.actions if m.get("Action") == "PlayDTMF"]
    assert {m["Channel"] for m in dtmf} == {"Local/12333@hotline-local-00000001;1"}
    (hangup,) = [m for m in fake_ami.actions if m.get("Action") == "Hangup"]
    assert hangup["Channel"].endswith(";1") and hangup["Cause"] == "16"
    assert 'STREAM FILE "hotline/never_played" ""' not in result.commands
    assert result.hangup_cause == 16 and result.hangup_cause_text == "Normal Clearing"
    originate = next(m for m in fake_ami.actions if m.get("Action") == "Originate")
    assert originate["Channel"] == "Local/12333@hotline-local"
    assert originate["Application"] == "Echo" and originate["Async"] == "true"
    assert originate["ChannelId"] == result.caller_uniqueid
    assert originate["OtherChannelId"] == result.hotline_uniqueid


async def test_a_recording_entry_speaks_then_presses_hash(
    fake_ami: FakeAMI, client: AMIClient
) -> None:
    record = 'RECORD FILE "/var/spool/hotline/recordings/s" "wav" "#" 60000 BEEP s=5'
    flow = FakeFlow(fake_ami, ["WAIT FOR DIGIT 5000", record, "WAIT FOR DIGIT 5000"])
    started = time.monotonic()
    result = await scripted(client, "96102", ["1", "0.5"]).run()
    assert flow.keys == ["1", "#", None]
    assert flow.key_times[1] - started >= 0.5
    assert result.keys_sent == 2


async def test_a_call_that_is_not_answered(fake_ami: FakeAMI, client: AMIClient) -> None:
    FakeFlow(fake_ami, [], answer=False)
    result = await scripted(client, "12333", ["1"]).run()
    assert not result.connected and not result.ran_flow
    assert result.failure == "call not connected: reason 0 (failed)"


@pytest.mark.parametrize("refused_first", [False, True])  # Asterisk orders them either way
async def test_a_call_refused_as_busy_says_so(
    fake_ami: FakeAMI, client: AMIClient, refused_first: bool
) -> None:
    """The node full (or its door closed while password checks queue): the dialplan refuses the
    call as busy before answering, and the tester reads that, not the originate's bare 0."""
    FakeFlow(fake_ami, [], answer=False, refused=("17", "User busy"), refused_first=refused_first)
    result = await scripted(client, "96102", ["1"]).run()
    assert not result.connected and not result.ran_flow
    assert result.failure == "call not connected: hung up before answering (cause 17 User busy)"


async def test_a_refused_originate_is_not_retried(fake_ami: FakeAMI, client: AMIClient) -> None:
    fake_ami.handlers["Originate"] = lambda m: [
        [("Response", "Error"), ("ActionID", m["ActionID"]), ("Message", "Permission denied")]
    ]
    result = await scripted(client, "12333", ["1"]).run()
    assert result.failure == "originate failed: Originate: Permission denied"
    assert fake_ami.count("Originate") == 1


async def test_ami_dropping_mid_call_ends_the_script_without_replaying(
    fake_ami: FakeAMI, client: AMIClient
) -> None:
    FakeFlow(fake_ami, ["WAIT FOR DIGIT 5000"] * 3)
    call = asyncio.create_task(scripted(client, "12333", ["1", "2", "3"]).run())
    await fake_ami.wait_for_action("PlayDTMF")
    await fake_ami.drop_connections()
    result = await call
    assert result.failure == "AMI connection lost during the call"
    await client.wait_connected(5)
    await asyncio.sleep(0.2)
    assert fake_ami.count("Originate") == 1
