"""AMIClient against a fake AMI server over a real socket."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections.abc import AsyncIterator

import pytest

from ivr.ami import client as client_module
from ivr.ami.client import AMIClient, Backoff
from ivr.ami.errors import (
    AMIActionError,
    AMIConnectError,
    AMIDisconnected,
    AMILoginError,
    AMITimeout,
)
from ivr.ami.protocol import Message
from tests.ami.conftest import transcript_bytes, until
from tests.ami.fakeami import FakeAMI

FAST = Backoff(initial=0.05, maximum=0.2)


def make_client(
    server: FakeAMI, *, secret: str | None = None, ping_interval: float = 20.0
) -> AMIClient:
    return AMIClient(
        "127.0.0.1",
        server.port,
        server.username,
        secret or server.secret,
        action_timeout=2.0,
        ping_interval=ping_interval,
        backoff=FAST,
        action_ids=(f"t{n}" for n in itertools.count(1)),
    )


@pytest.fixture
async def client(fake_ami: FakeAMI) -> AsyncIterator[AMIClient]:
    ami = make_client(fake_ami)
    await ami.connect()
    try:
        yield ami
    finally:
        await ami.close()


async def test_login_and_events_reach_subscribers(fake_ami: FakeAMI, client: AMIClient) -> None:
    assert client.connected and fake_ami.logins == 1
    login = fake_ami.actions[0]
    assert login["Action"] == "Login" and login["Username"] == "hotline"
    seen: list[Message] = []
    hangups: list[Message] = []
    client.subscribe(seen.append)
    client.subscribe(hangups.append, ["hangup"])
    await fake_ami.push_event(("Event", "Newchannel"), ("Uniqueid", "1.1"))
    await fake_ami.push_event(("Event", "Hangup"), ("Uniqueid", "1.1"), ("Cause", "16"))
    await until(lambda: len(seen) == 2)
    assert [e.event for e in seen] == ["Newchannel", "Hangup"]
    assert [e["Cause"] for e in hangups] == ["16"]


async def test_events_nobody_reads_are_dropped_before_parsing(
    fake_ami: FakeAMI, client: AMIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real = client_module.parse_message

    def parse(text: str) -> Message:
        message = real(text)
        parsed.append(message.event or message.response or "")
        return message

    monkeypatch.setattr(client_module, "parse_message", parse)
    hangups: list[Message] = []
    client.subscribe(hangups.append, ["Hangup"])
    await fake_ami.push_event(("Event", "VarSet"), ("Variable", "DIALSTATUS"), ("Value", "x"))
    await fake_ami.push_event(("Event", "Hangup"), ("Uniqueid", "1.1"), ("Cause", "16"))
    await until(lambda: len(hangups) == 1)
    assert parsed == ["Hangup"]
    # The events of a list answering an action are that action's, read or not.
    listing = asyncio.create_task(client.action_list("CoreShowChannels"))
    await until(lambda: listing.done(), within=5)
    assert "CoreShowChannelsComplete" in parsed


async def test_a_wrong_secret_is_refused_and_nothing_stays_open(fake_ami: FakeAMI) -> None:
    ami = make_client(fake_ami, secret="wrong")
    with pytest.raises(AMILoginError, match="refused user 'hotline'"):
        await ami.connect()
    assert not ami.connected
    assert ami._reader_task is None and ami._writer is None
    with pytest.raises(AMIDisconnected):
        await ami.action("Ping")


async def test_unreachable_and_not_ami_are_connect_errors(fake_ami: FakeAMI) -> None:
    port = fake_ami.port
    await fake_ami.stop()
    ami = AMIClient("127.0.0.1", port, "hotline", "secret")
    with pytest.raises(AMIConnectError, match="cannot reach AMI"):
        await ami.connect()
    liar = FakeAMI(banner="SSH-2.0-OpenSSH_9.2")
    await liar.start()
    try:
        with pytest.raises(AMIConnectError, match="is not AMI"):
            await make_client(liar).connect()
    finally:
        await liar.stop()


async def test_error_replies_are_raised_not_returned(fake_ami: FakeAMI, client: AMIClient) -> None:
    fake_ami.handlers["Hangup"] = lambda m: [
        [("Response", "Error"), ("ActionID", m["ActionID"]), ("Message", "No such channel")]
    ]
    with pytest.raises(AMIActionError, match="Hangup: No such channel") as caught:
        await client.action("Hangup", Channel="PJSIP/none")
    assert caught.value.response["Message"] == "No such channel"
    assert (await client.action("Ping"))["Ping"] == "Pong"


async def test_an_action_times_out_alone(fake_ami: FakeAMI, client: AMIClient) -> None:
    held: list[Message] = []
    fake_ami.handlers["Slow"] = lambda m: held.append(m)
    started = time.monotonic()
    with pytest.raises(AMITimeout, match=r"Slow: no reply within 0\.2 s"):
        await client.action("Slow", timeout=0.2)
    assert time.monotonic() - started < 1.0
    assert client.connected and not client._pending
    # A reply arriving after the time-out is dropped; the link goes on working.
    await fake_ami.push_event()  # nothing but a blank line
    await fake_ami.push_raw(
        f"Response: Success\r\nActionID: {held[0]['ActionID']}\r\n\r\n".encode()
    )
    assert (await client.action("Ping"))["Ping"] == "Pong"


async def test_concurrent_actions_get_their_own_replies(
    fake_ami: FakeAMI, client: AMIClient
) -> None:
    fake_ami.handlers["Getvar"] = lambda m: [
        [("Response", "Success"), ("ActionID", m["ActionID"]), ("Value", m["Variable"])]
    ]
    names = [f"V{n}" for n in range(30)]
    replies = await asyncio.gather(*(client.action("Getvar", Variable=n) for n in names))
    assert [r["Value"] for r in replies] == names


async def test_a_drop_fails_pending_actions_and_nothing_is_replayed(
    fake_ami: FakeAMI, client: AMIClient
) -> None:
    fake_ami.handlers["Originate"] = lambda m: None  # Asterisk dies before answering
    states: list[bool] = []
    client.on_state(states.append)
    originate = asyncio.create_task(client.action("Originate", Channel="Local/12333@x"))
    await fake_ami.wait_for_action("Originate")
    await fake_ami.drop_connections()
    with pytest.raises(AMIDisconnected, match="before the reply to Originate"):
        await originate
    # Sent while disconnected: refused at once, not queued for later.
    started = time.monotonic()
    with pytest.raises(AMIDisconnected, match="not connected"):
        await client.action("Originate", Channel="Local/96102@x")
    assert time.monotonic() - started < 0.1
    await client.wait_connected(5)
    await client.action("Ping")
    await asyncio.sleep(0.2)
    assert fake_ami.count("Originate") == 1
    assert states == [False, True] and fake_ami.logins == 2


async def test_reconnects_after_asterisk_restarts(
    fake_ami: FakeAMI, client: AMIClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "ivr.ami.client")
    states: list[bool] = []
    client.on_state(states.append)
    await fake_ami.stop()
    await until(lambda: not client.connected)
    await asyncio.sleep(0.5)  # a few refused attempts while it is down
    await fake_ami.start()  # same port
    await client.wait_connected(5)
    assert (await client.action("Ping"))["Ping"] == "Pong"
    assert states == [False, True] and client.connections == 2
    assert "AMI connection to 127.0.0.1" in caplog.text and "lost" in caplog.text


async def test_start_waits_for_an_asterisk_that_is_not_up_yet() -> None:
    server = FakeAMI()
    await server.start()
    port = server.port
    await server.stop()
    ami = AMIClient("127.0.0.1", port, "hotline", "secret", backoff=FAST)
    await ami.start()
    try:
        with pytest.raises(TimeoutError):
            await ami.wait_connected(0.3)
        later = FakeAMI(port=port)
        await later.start()
        try:
            await ami.wait_connected(5)
            assert ami.connected
        finally:
            await ami.close()
            await later.stop()
    finally:
        await ami.close()


async def test_a_silent_link_is_dropped_by_the_keepalive(fake_ami: FakeAMI) -> None:
    ami = make_client(fake_ami, ping_interval=0.1)
    await ami.connect()
    try:
        await fake_ami.wait_for_action("Ping", 2)  # pings flow while the link is quiet
        fake_ami.answer_pings = False  # the link is up but nothing answers any more
        await until(lambda: fake_ami.logins == 2, within=5)
        fake_ami.answer_pings = True
        await ami.wait_connected(5)
    finally:
        await ami.close()


async def test_event_lists_are_collected_until_complete(
    fake_ami: FakeAMI, client: AMIClient
) -> None:
    fake_ami.channels = [
        [("Channel", "PJSIP/6001-1"), ("Uniqueid", "1.1")],
        [("Channel", "PJSIP/6002-2"), ("Uniqueid", "1.2")],
    ]
    seen: list[Message] = []
    client.subscribe(seen.append)
    listing = await client.action_list("CoreShowChannels")
    assert listing.response["EventList"] == "start"
    assert [e["Uniqueid"] for e in listing.events] == ["1.1", "1.2"]
    assert listing.complete["ListItems"] == "2"
    assert seen == []  # list items are the list's, not events for subscribers
    fake_ami.handlers["QueueStatus"] = lambda m: [
        [("Response", "Error"), ("ActionID", m["ActionID"]), ("Message", "Permission denied")]
    ]
    with pytest.raises(AMIActionError):
        await client.action_list("QueueStatus")


async def test_a_recorded_transcript_streamed_in_small_pieces(
    fake_ami: FakeAMI, client: AMIClient
) -> None:
    seen: list[Message] = []
    client.subscribe(seen.append)
    data = transcript_bytes("queue_call.ami").partition(b"\r\n")[2]
    await fake_ami.push_raw(data, chunk=97)
    await until(
        lambda: any(e.event == "Hangup" and e["Uniqueid"] == "1700000000.101" for e in seen)
    )
    names = [e.event for e in seen]
    # Replies to actions this client never sent are dropped; every event is dispatched.
    assert "AGIExecStart" in names and "QueueCallerJoin" in names and names.count("Hangup") == 3
    assert client.connected


async def test_a_failing_subscriber_does_not_stop_the_reader(
    fake_ami: FakeAMI, client: AMIClient, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: Message) -> None:
        raise RuntimeError("bug in a subscriber")

    seen: list[Message] = []
    client.subscribe(broken)
    client.subscribe(seen.append)
    await fake_ami.push_event(("Event", "Newchannel"))
    await until(lambda: len(seen) == 1)
    assert "bug in a subscriber" in caplog.text
    assert (await client.action("Ping"))["Ping"] == "Pong"


async def test_handlers_must_be_plain_functions(client: AMIClient) -> None:
    async def handler(event: Message) -> None: ...

    with pytest.raises(TypeError, match="coroutine function"):
        client.subscribe(handler)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="coroutine function"):
        client.on_state(handler)  # type: ignore[arg-type]


async def test_close_logs_off_and_fails_what_is_pending(
    fake_ami: FakeAMI, client: AMIClient
) -> None:
    fake_ami.handlers["Slow"] = lambda m: None
    slow = asyncio.create_task(client.action("Slow", timeout=5))
    await fake_ami.wait_for_action("Slow")
    await client.close()
    with pytest.raises(AMIDisconnected):
        await slow
    assert fake_ami.count("Logoff") == 1
    await asyncio.sleep(0.3)
    assert fake_ami.logins == 1  # closed for good: no reconnection


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    backoff = Backoff(initial=0.5, maximum=30.0, jitter=0.5)
    rng = random.Random(1)
    delays = [backoff.delay(n, rng) for n in range(12)]
    for n, delay in enumerate(delays):
        full = min(30.0, 0.5 * 2**n)
        assert full / 2 <= delay <= full
    assert max(delays) <= 30.0 and delays[-1] >= 15.0
    assert len({round(backoff.delay(3), 6) for _ in range(20)}) > 1  # jittered
