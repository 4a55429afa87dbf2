"""The rendered configuration in the real Asterisk 22: what loads, and the dialplan's call paths."""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import uuid
import wave
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from ivr.agi import AGIChannel, FastAGIServer
from ivr.config import Settings
from ivr.telephony import LocalAsterisk, host_path_of_recording, recordings_dir_in_asterisk
from tests.telephony.callkit import AGIListener, AMIClient, Call

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def agents_open(asterisk: LocalAsterisk) -> AsyncIterator[None]:
    """Agents take calls whatever the time of day (the queue then finds nobody registered)."""
    await asterisk.rx("dialplan set global HOTLINE_AGENTS open")
    yield
    await asterisk.rx("dialplan set global HOTLINE_AGENTS auto")


# --- the configuration loads -----------------------------------------------------------------


async def test_required_modules_run(asterisk: LocalAsterisk) -> None:
    for module in ("res_agi", "app_queue", "res_pjsip", "chan_pjsip", "res_musiconhold",
                   "codec_g722", "format_wav", "app_record", "pbx_config"):  # fmt: skip
        output = await asterisk.rx(f"module show like {module}.so")
        assert re.search(rf"^{module}\.so\s.*\bRunning\b", output, re.M), output


async def test_only_what_the_hotline_uses_is_loaded(asterisk: LocalAsterisk) -> None:
    output = await asterisk.rx("module show")
    count = int(re.search(r"(\d+) modules loaded", output).group(1))  # type: ignore[union-attr]
    assert count < 80, output
    for unused in ("chan_iax2", "app_voicemail", "res_ari", "app_system", "res_config_ldap"):
        assert f"{unused}.so" not in output


async def test_dialplan_has_both_hotlines(asterisk: LocalAsterisk) -> None:
    inbound = await asterisk.rx("dialplan show hotline-inbound")
    assert "'12333'" in inbound
    assert "'96102'" in inbound
    testers = await asterisk.rx("dialplan show 12333@hotline-testers")
    assert "Goto(hotline-flow,start,1)" in testers


async def test_phones_and_queue_exist(asterisk: LocalAsterisk, asterisk_settings: Settings) -> None:
    endpoints = await asterisk.rx("pjsip show endpoints")
    for number in ("6001", "6002", "6003", "7001", "7002"):
        assert f"Endpoint:  {number}/{number}" in endpoints
    transports = await asterisk.rx("pjsip show transports")
    assert f"127.0.0.1:{asterisk_settings.sip_port}" in transports
    queue = await asterisk.rx("queue show hotline-agents")
    assert "ringall" in queue
    assert "PJSIP/7001" in queue
    assert "PJSIP/7002" in queue


async def test_ami_user_has_only_the_bridge_rights(
    ami: AMIClient, asterisk_settings: Settings
) -> None:
    allowed = await ami.action("CoreShowChannels")
    assert allowed["Response"] == "Success", allowed
    refused = await ami.action("Command", Command="core show version")
    assert refused["Response"] == "Error"
    assert "Permission denied" in refused["Message"]


async def test_ami_refuses_a_wrong_secret(asterisk_settings: Settings) -> None:
    client = await AMIClient.connect(asterisk_settings)
    try:
        reply = await client.action("Login", Username=asterisk_settings.ami_user, Secret="wrong")
        assert reply["Response"] == "Error"
    finally:
        await client.close()


async def test_a_softphone_registers_with_the_configured_password(
    asterisk: LocalAsterisk, asterisk_settings: Settings
) -> None:
    reply = await asyncio.to_thread(sip_register, asterisk_settings, "6001")
    assert reply.startswith("SIP/2.0 200"), reply
    contacts = await asterisk.rx("pjsip show contacts")
    assert "6001/sip:6001@127.0.0.1" in contacts


def sip_register(settings: Settings, user: str) -> str:
    """REGISTER with digest authentication over UDP; returns the final status line."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = f"{settings.sip_host}:{settings.sip_port}"
        uri = f"sip:{server}"
        call_id = uuid.uuid4().hex
        authorization = ""
        for cseq in (1, 2):
            request = (
                f"REGISTER {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
                f"Max-Forwards: 70\r\n"
                f"From: <sip:{user}@{server}>;tag={call_id[:8]}\r\n"
                f"To: <sip:{user}@{server}>\r\n"
                f"Call-ID: {call_id}\r\n"
                f"CSeq: {cseq} REGISTER\r\n"
                f"Contact: <sip:{user}@127.0.0.1:{port}>\r\n"
                f"{authorization}"
                f"Expires: 60\r\nContent-Length: 0\r\n\r\n"
            )
            sock.sendto(request.encode(), (settings.sip_host, settings.sip_port))
            while True:  # skip provisional replies and Asterisk's own requests (OPTIONS)
                response = sock.recv(65535).decode()
                final = response.startswith("SIP/2.0 ") and not response.startswith("SIP/2.0 1")
                if final and call_id in response:
                    break
            if not response.startswith("SIP/2.0 401"):
                return response.splitlines()[0]
            challenge = re.search(r"WWW-Authenticate: Digest (.*)", response)
            assert challenge, response
            fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge.group(1)))
            realm, nonce = fields["realm"], fields["nonce"]

            def md5(text: str) -> str:
                return hashlib.md5(text.encode()).hexdigest()

            digest = md5(
                f"{md5(f'{user}:{realm}:{settings.sip_password}')}:{nonce}:{md5(f'REGISTER:{uri}')}"
            )
            authorization = (
                f'Authorization: Digest username="{user}", realm="{realm}", nonce="{nonce}", '
                f'uri="{uri}", response="{digest}", algorithm=MD5\r\n'
            )
        return response.splitlines()[0]


# --- calls through the dialplan ----------------------------------------------------------------


async def test_call_reaches_the_fastagi_server_and_hangs_up(
    ami: AMIClient, agi_listener: AGIListener
) -> None:
    call = Call(ami, "12333")
    await call.place()
    connection = await agi_listener.next_call()
    # The Local channel's native audio goes with the call: the joined prompts' format.
    assert connection.headers["agi_network_script"] == "12333?audio=(slin)"
    assert connection.headers["agi_language"] == "zh"
    assert connection.headers["agi_uniqueid"] == call.hotline_id
    assert await connection.command("GET VARIABLE HOTLINE") == "200 result=1 (12333)"
    assert await connection.command("SET VARIABLE HOTLINE_NEXT hangup") == "200 result=1"
    await connection.close()
    await call.ended()
    assert ("Hangup", "") in call.steps()
    assert "Queue" not in {app for app, _ in call.steps()}


async def test_call_through_the_projects_fastagi_server(
    ami: AMIClient, asterisk: LocalAsterisk, asterisk_settings: Settings
) -> None:
    seen: list[str] = []

    async def hotline(channel: AGIChannel) -> None:
        seen.append(channel.network_script)
        await channel.set_variable("HOTLINE_NEXT", "hangup")

    server = FastAGIServer(
        {"96102": hotline}, asterisk_settings.agi_host, asterisk_settings.agi_port
    )
    async with server:
        call = Call(ami, "96102")
        await call.place()
        await call.ended()
    assert seen == ["96102"]
    assert call.variable("HOTLINE_NEXT") == "hangup"
    assert ("Hangup", "") in call.steps()


async def test_without_fastagi_the_caller_hears_an_apology_then_the_agents(
    ami: AMIClient, asterisk_settings: Settings, agents_open: None
) -> None:
    call = Call(ami, "12333")  # nothing listens on the FastAGI port
    await call.place()
    await call.reached("Record")
    await call.hang_up()
    steps = call.steps()
    apps = [app for app, _ in steps]
    assert ("Playback", "hotline/fallback_apology") in steps
    assert ("Playback", "sorry") in steps  # the built prompt is missing here: a core sound instead
    assert apps.index("AGI") < apps.index("Playback") < apps.index("Queue") < apps.index("Record")
    assert call.variable("AGISTATUS") == "FAILURE"
    # No agent phone is registered: the caller does not wait for nobody.
    assert call.variable("HOTLINE_QUEUE_RESULT") == "JOINEMPTY"
    message = call.variable("HOTLINE_MESSAGE")
    assert message is not None
    assert host_path_of_recording(asterisk_settings, message).exists()


async def test_a_fastagi_server_gone_mid_call_leaves_the_caller_with_the_agents(
    ami: AMIClient, agi_listener: AGIListener, agents_open: None
) -> None:
    call = Call(ami, "12333")
    await call.place()
    connection = await agi_listener.next_call()
    assert await connection.command("ANSWER") == "200 result=0"
    await connection.close()  # as if `hotline serve` died: no HOTLINE_NEXT
    await call.reached("Record")
    await call.hang_up()
    assert call.variable("AGISTATUS") == "SUCCESS"  # a closed connection looks like success
    apps = [app for app, _ in call.steps()]
    assert ("Playback", "hotline/fallback_apology") in call.steps()
    assert apps.index("Queue") < apps.index("Record")


async def test_outside_business_hours_an_agent_request_takes_a_message(
    ami: AMIClient, asterisk: LocalAsterisk, agi_listener: AGIListener, agents_open: None
) -> None:
    await asterisk.rx("dialplan set global HOTLINE_AGENTS closed")
    call = Call(ami, "96102")
    await call.place()
    connection = await agi_listener.next_call()
    await connection.command("SET VARIABLE HOTLINE_NEXT agent")
    await connection.close()
    await call.reached("Record")
    await call.hang_up()
    apps = [app for app, _ in call.steps()]
    assert "Queue" not in apps
    assert ("Playback", "hotline/leave_message") in call.steps()


async def test_the_flow_decides_the_business_day(
    ami: AMIClient, agi_listener: AGIListener, agents_open: None
) -> None:
    # The flow knows Chinese public holidays; its HOTLINE_AGENTS_OPEN=0 beats the dialplan's clock.
    call = Call(ami, "12333")
    await call.place()
    connection = await agi_listener.next_call()
    await connection.command("SET VARIABLE HOTLINE_AGENTS_OPEN 0")
    await connection.command("SET VARIABLE HOTLINE_NEXT agent")
    await connection.close()
    await call.reached("Record")
    await call.hang_up()
    assert "Queue" not in [app for app, _ in call.steps()]


async def test_built_prompts_and_recordings_are_shared_with_the_host(
    ami: AMIClient, agi_listener: AGIListener, asterisk_settings: Settings
) -> None:
    prompt = asterisk_settings.prompts_dir / "zh" / "hotline" / "telephony_test.wav"
    prompt.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(prompt), "wb") as out:  # 0.5 s of silence, 8 kHz 16-bit mono
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 4000)
    call = Call(ami, "12333")
    await call.place()
    connection = await agi_listener.next_call()
    played = await connection.command('STREAM FILE hotline/telephony_test ""')
    assert re.fullmatch(r"200 result=0 endpos=[1-9]\d*", played), played
    missing = await connection.command('STREAM FILE hotline/no_such_prompt ""')
    assert "endpos=0" in missing, missing
    target = recordings_dir_in_asterisk(asterisk_settings) / "telephony-test"
    recorded = await connection.command(f'RECORD FILE {target} wav "#" 1000')
    assert "(timeout)" in recorded, recorded  # 1 s of nothing, then the file is closed
    await connection.command("SET VARIABLE HOTLINE_NEXT hangup")
    await connection.close()
    await call.ended()
    assert (asterisk_settings.recordings_dir / "telephony-test.wav").exists()
    # A failed command (the missing prompt) marks the AGI FAILURE; the flow's choice still counts.
    assert call.variable("AGISTATUS") == "FAILURE"
    assert "Queue" not in [app for app, _ in call.steps()]


async def test_dtmf_reaches_the_flow_through_a_local_channel(
    ami: AMIClient, agi_listener: AGIListener
) -> None:
    call = Call(ami, "12333")
    await call.place()
    connection = await agi_listener.next_call()
    waiting = asyncio.create_task(connection.command("WAIT FOR DIGIT 10000"))
    await ami.wait_event(
        lambda e: (
            e.get("Event") == "AGIExecStart"
            and e.get("Uniqueid") == call.hotline_id
            and e.get("Command", "").startswith("WAIT FOR DIGIT")
        )
    )
    caller = await ami.wait_event(
        lambda e: e.get("Event") == "Newchannel" and e.get("Uniqueid") == call.caller_id
    )
    sent = await ami.action("PlayDTMF", Channel=caller["Channel"], Digit="5")
    assert sent["Response"] == "Success", sent
    assert await waiting == f"200 result={ord('5')}"
    await connection.command("SET VARIABLE HOTLINE_NEXT hangup")
    await connection.close()
    await call.ended()
