"""The whole stack as the README starts it, used as its people use it.

``hotline up --detach`` in a data folder of its own (spare ports), then, in order:

1. it comes up, says how to call in, its node answers ``/healthz``, says it is ready
   (``/readyz``) and serves ``/metrics`` with no call counted yet, and a supervisor who logs in
   lands on the live calls;
2. calls in progress — a sipp caller with RFC 2833 keys who asks for an agent, a softphone
   (baresip) that records what it hears, a ``hotline call`` through AMI — while a supervisor, a
   staff member and an auditor walk every console page in Chromium: the live view shows each
   call where it is and moves with it (server-sent events), the caller waiting for an agent shows
   as waiting, every page answers or gives its role's 403, nothing answers 500; the softphone
   heard the greeting; after the hang-ups each call is in the call log with its hang-up cause and
   length, and the node's ``/metrics`` counts the same calls by hotline and outcome;
3. ``kill -9`` of Asterisk mid-call: the stack starts it again on its own, ``/readyz`` (the
   console's and the node's) and ``hotline_ami_connected`` say telephony is down meanwhile, a
   new call is answered, the cut call is ``interrupted``;
4. ``kill -9`` of the stack mid-call: the next ``hotline up`` closes that call as interrupted at
   the time the stack went away, and never lists it as live;
5. ``hotline down`` leaves no process of the stack and no port held.

The modules' tests run once, in this order, on one stack (a few minutes in all).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
import wave
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientSession
from playwright.async_api import Browser, BrowserContext, Page, expect

from ivr.ami.client import AMIClient
from ivr.engine.model import End, Say
from ivr.flows.common import GREETING
from ivr.flows.hotline12333 import HOTLINE_12333
from ivr.prompts.build import built_sound_path
from ivr.telephony.layout import HostLayout
from ivr.telephony.process import PidRecord
from ivr.telephony.rootfs import require_tools
from ivr.web.app import ROUTES
from tests.acceptance.upstack import HEARTBEAT_S, PASSWORD, UpStack, until
from tests.ami.sipagent import RingingAgent
from tests.browser import chromium
from tests.softphone import Account, Softphone, contains_prompt, read_wav, require_baresip
from tests.telephony import sipkit
from tests.telephony.sipkit import LEAD, HangUp, Key, PromptClock

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "acceptance"
ANSWER_S = 1.0  # from the 200 OK to the greeting: Answer() waits, then the AGI connection
WAIT_FOR_AGENT_S = 25.0  # how long the sipp caller waits in the agents' queue
SIPP_CALLER, SOFTPHONE, AMI_CALLER = "6001", "6002", "13900000001"
KILLED_CALLER, CUT_CALLER, AFTER_CALLER = "13900000002", "13900000003", "13900000004"
STREAM = "/api/live/stream"


@pytest.fixture(scope="module")
def stack_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hotline-up") / "var"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(stack_folder: Path) -> AsyncIterator[UpStack]:
    try:
        require_tools("mmdebstrap", "chroot", "unshare", "nsenter", "mount")
        sipkit.require_sipp()
        require_baresip()
    except Exception as exc:
        pytest.fail(f"the acceptance tests cannot run: {exc}", pytrace=False)
    running = UpStack(stack_folder)
    await running.up()
    try:
        await running.add_accounts()
        yield running
    finally:
        if running.processes():  # a test failed before `hotline down`
            await running.hotline("down", within=60)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def log_in(browser: Browser, stack: UpStack, user: str) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{stack.web_url}/login")
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("main button[type=submit]")  # not the header's language switch
    await page.wait_for_load_state()
    # A new account reads the console in Chinese; this walk reads it in English, as chosen on
    # any page (the Chinese pages are tests/web/test_web_browser_work.py's). The choice is the
    # user's, remembered: from the second log-in on the page is English already.
    if await page.locator("html").get_attribute("lang") != "en":
        await page.click('#language-switch button[value="en"]')
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    return context, page


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def greeting_s(prompts: PromptClock, hotline: str) -> float:
    """The Mandarin greeting and the other languages' offers: the main menu starts after."""
    greeting = GREETING.nodes["zh"]
    assert isinstance(greeting, Say)
    return ANSWER_S + prompts.says(greeting.prompts, hotline=hotline)


def sound_seconds(path: Path) -> float:
    with wave.open(str(path)) as sound:
        return sound.getnframes() / sound.getframerate()


# --- 1. up ----------------------------------------------------------------------------------------


async def test_up_starts_every_part_and_says_how_to_call(stack: UpStack, browser: Browser) -> None:
    welcome = stack.welcome
    assert "hotline is up: database, prompts, asterisk, fastagi, ami bridge, web console" in welcome
    assert f"server 127.0.0.1:{stack.settings.sip_port} (UDP)" in welcome
    assert f"Supervisor console: {stack.web_url}" in welcome
    assert stack.listening() == {**stack.tcp_ports(), "sip": stack.settings.sip_port}
    # the node's own probes and metrics, as a load balancer and Prometheus read them
    assert f"Metrics and health: {stack.ops_url}/metrics, /healthz, /readyz" in welcome
    # the test callers' ID numbers and passwords are shown, never written to the log
    log = (stack.settings.log_dir / "hotline-up.log").read_text()
    assert "hotline is up" in log
    for tester in stack.testers:
        assert tester.keyed_id not in log and tester.keyed_id.replace("*", "X") not in log
        assert not re.search(rf"\b{tester.password}\b", log)
    assert await stack.probe("/healthz") == (200, {"status": "ok"})

    async def node_ready() -> bool:
        status, body = await stack.probe("/readyz")
        return status == 200 and body["telephony"] == body["prompts"] == body["database"] == "up"

    await until(node_ready, 30, "the node's /readyz saying it takes calls")
    samples = await stack.metrics()
    assert samples[("hotline_ami_connected", frozenset())] == 1
    assert not any(n for (name, _), n in samples.items() if name == "hotline_calls_total")
    assert stack.testers[0].keyed_id == "11010519491231002*"  # the README's example caller
    context, page = await log_in(browser, stack, "sup")
    try:
        # The landing page after log-in is the live calls; with none, it says so (no error page).
        assert page.url == f"{stack.web_url}/live"
        await expect(page.locator("#live-status")).to_contain_text("connected")
        await expect(page.locator("#live-empty")).to_be_visible()
        await shot(page, "1-landing")
    finally:
        await context.close()


# --- 2. calls in progress, every page -------------------------------------------------------------


async def open_agents(stack: UpStack) -> None:
    """Agents take calls whatever the hour (a tester's switch, a global of the dialplan)."""
    async with AMIClient.from_settings(stack.settings) as ami:
        await ami.action("Setvar", Variable="HOTLINE_AGENTS", Value="open")


async def sipp_caller_asking_for_an_agent(stack: UpStack, prompts: PromptClock) -> Any:
    agent_end = HOTLINE_12333.nodes["agent"]
    assert isinstance(agent_end, End)
    steps = [Key("0", greeting_s(prompts, "12333") + LEAD, "main menu: an agent")]
    end = HangUp(prompts.says(agent_end.prompts) + WAIT_FOR_AGENT_S)
    folder = sipkit.OUTPUT / "acceptance" / "caller"
    files = sipkit.write_caller(folder, user=SIPP_CALLER, steps=steps, end=end)
    sipp = sipkit.caller_sipp(files, stack.settings, number="12333", user=SIPP_CALLER)
    await sipp.start()
    return sipp


async def in_the_menus(api: ClientSession, caller: str) -> dict[str, Any] | None:
    """The caller's live call once the flow has opened its record (from ``/api/live``)."""
    snap = await (await api.get("/api/live")).json()
    return next((c for c in snap["calls"] if c["caller_id"] == caller and c["call_id"]), None)


def row_of(page: Page, caller: str) -> Any:
    return page.locator("#live-calls tbody tr", has=page.locator("td.caller", has_text=caller))


def fill(path: str, values: dict[str, str]) -> str:
    """A route's path with its parameters filled in (``{call_id:\\d+}`` -> ``42``)."""
    for name, value in values.items():
        start = path.find("{" + name)
        if start >= 0:
            path = path[:start] + value + path[_closing(path, start) + 1 :]
    return path


def _closing(path: str, start: int) -> int:
    """Where the parameter opened at ``start`` ends: its pattern may hold braces (``\\d{1,12}``)."""
    depth = 0
    for index in range(start, len(path)):
        depth += {"{": 1, "}": -1}.get(path[index], 0)
        if depth == 0:
            return index
    raise ValueError(f"unclosed parameter in {path}")


async def walk_every_page(
    browser: Browser, stack: UpStack, user: str, role: str, values: dict[str, str]
) -> dict[str, int]:
    """Every GET route of the console, as ``user``: HTML pages in the browser, the rest fetched
    with the same session. Returns the status of each."""
    context, page = await log_in(browser, stack, user)
    statuses: dict[str, int] = {}
    try:
        for table in ROUTES:
            for route in table:
                if route.method != "GET" or route.path == STREAM:
                    continue  # the stream never ends: below
                url = fill(route.path, values)
                html = not url.startswith(("/api/", "/recordings/", "/prompts/audio/")) and not (
                    url.endswith(".csv")
                )
                if html:
                    response = await page.goto(stack.web_url + url)
                    assert response is not None
                    statuses[url] = response.status
                    if response.status == 200:
                        await shot(page, f"2-{user}{url.replace('/', '_') or '_home'}")
                else:
                    fetched = await context.request.get(stack.web_url + url)
                    statuses[url] = fetched.status
        # A supervisor's stream opens (the live page shows it connected); the others get 403.
        if role != "supervisor":
            statuses[STREAM] = (await context.request.get(stack.web_url + STREAM)).status
    finally:
        await context.close()
    return statuses


def expected_status(route_roles: frozenset[Any], public: bool, role: str, url: str) -> set[int]:
    if public or any(r.value == role for r in route_roles):
        # A recording id that does not exist is a 404, not an error.
        return {200, 404} if url.startswith("/recordings/") else {200}
    return {403}


async def test_calls_in_progress_as_every_role_sees_them(stack: UpStack, browser: Browser) -> None:
    prompts = PromptClock(stack.settings, "zh")
    cleanup = AsyncExitStack()
    # An agent's phone registered (it rings, nobody answers): the queue keeps a caller waiting.
    agent = await cleanup.enter_async_context(RingingAgent(stack.settings, "7001"))
    await open_agents(stack)
    sup_context, live = await log_in(browser, stack, "sup")
    phone = Softphone.for_test(
        Account(SOFTPHONE, stack.settings.sip_password, port=stack.settings.sip_port),
        "acceptance",
        limit_s=90,
    )
    greeting = built_sound_path(stack.settings, "zh", "greeting_12333")
    sipp = None
    scripted = None
    try:
        # Three callers at once, each the way a tester places one.
        await phone.start()
        heard = asyncio.create_task(phone.call("12333", seconds=sound_seconds(greeting) + 4))
        sipp = await sipp_caller_asking_for_an_agent(stack, prompts)
        keyed = stack.testers[0]
        scripted = await stack.start_hotline(
            "call", "96102", "--caller", AMI_CALLER, "--keys", f"1,{keyed.keyed_id}#"
        )

        # The supervisor's live page shows them as they come, and moves with them (no reload).
        sipp_row = row_of(live, SIPP_CALLER)
        await expect(sipp_row).to_have_count(1, timeout=20_000)
        await expect(row_of(live, SOFTPHONE)).to_have_count(1, timeout=20_000)
        await expect(row_of(live, AMI_CALLER)).to_have_count(1, timeout=20_000)
        await expect(sipp_row.locator("td.node")).to_have_text("12333 › main", timeout=30_000)
        await shot(live, "2-live-three-calls")
        await expect(sipp_row).to_have_attribute("data-stage", "waiting", timeout=30_000)
        await expect(sipp_row.locator("td.node")).to_have_text(
            "waiting for an agent (hotline-agents)"
        )
        assert agent.invites  # the queue rang agent 7001 for the waiting caller
        await shot(live, "2-live-waiting")

        # Meanwhile every role walks every page: nothing answers 500, each role gets its pages.
        async with await stack.console("sup") as api:
            listed = await (await api.get("/api/calls")).json()
            cases = (await (await api.get("/api/cases")).json())["cases"]
        # A demo citizen's formal report (seeded): its pick-up certificate prints.
        formal = next(c for c in cases if c["status"] == "formal")
        values = {
            "reference": formal["reference"],
            "call_id": str(listed["calls"][0]["id"]),
            "recording_id": "999999",
            "lang": "zh",
            "key": "greeting_12333",
        }
        for user, role in (("sup", "supervisor"), ("clerk", "staff"), ("aud", "auditor")):
            statuses = await walk_every_page(browser, stack, user, role, values)
            assert 500 not in statuses.values(), statuses
            for table in ROUTES:
                for route in table:
                    url = fill(route.path, values)
                    if route.method == "GET" and url in statuses:
                        allowed = expected_status(route.roles, route.public, role, url)
                        assert statuses[url] in allowed, (user, url, statuses[url])
        await expect(live.locator("#live-status")).to_contain_text("connected")

        # The softphone heard the greeting, not silence.
        recording = await asyncio.wait_for(heard, 60)
        assert contains_prompt(read_wav(recording), read_wav(greeting))
        assert await sipp.finish(timeout=120) == 0, sipp.report()
        out, _ = await asyncio.wait_for(scripted.communicate(), 120)
        assert scripted.returncode == 0, out.decode()
        await expect(live.locator("#live-empty")).to_be_visible(timeout=20_000)
    finally:
        await phone.kill()
        if sipp is not None:
            await sipp.kill()
        if scripted is not None and scripted.returncode is None:
            scripted.kill()
        await cleanup.aclose()
        await sup_context.close()

    # After the hang-ups: each call in the call log with its hang-up cause and its length.
    calls = {c["caller_id"]: c for c in await stack.calls()}
    assert set(calls) >= {SIPP_CALLER, SOFTPHONE, AMI_CALLER}
    for caller in (SIPP_CALLER, SOFTPHONE, AMI_CALLER):
        call = calls[caller]
        assert call["ended_at"] is not None and call["hangup_cause"] == 16, call
        assert call["duration_s"] is not None and call["duration_s"] > 0, call
    assert calls[SIPP_CALLER]["next_action"] == "agent"
    # The node's metrics count the same calls, by hotline and outcome, and none in progress.
    samples = await stack.metrics()
    logged = Counter((c["hotline"], c["outcome"]) for c in await stack.calls())
    counted = {
        (dict(labels)["hotline"], dict(labels)["outcome"]): n
        for (name, labels), n in samples.items()
        if name == "hotline_calls_total" and n
    }
    assert counted == logged, (counted, logged)
    in_progress = [n for (name, _), n in samples.items() if name == "hotline_calls_in_progress"]
    assert in_progress and not any(in_progress)
    stream_file = ("hotline_agi_command_seconds_count", frozenset({("command", "STREAM FILE")}))
    assert samples[stream_file] > 0
    context, page = await log_in(browser, stack, "sup")
    try:
        await page.goto(f"{stack.web_url}/calls")
        for caller in (SIPP_CALLER, SOFTPHONE, AMI_CALLER):
            await expect(page.get_by_text(caller).first).to_be_visible()
        await page.goto(f"{stack.web_url}/calls/{calls[SIPP_CALLER]['id']}")
        await expect(page.get_by_text("16 Normal Clearing")).to_be_visible()
        await shot(page, "2-call-detail")
    finally:
        await context.close()


# --- 3. Asterisk killed mid-call ------------------------------------------------------------------


async def test_an_asterisk_killed_mid_call_comes_back_on_its_own(stack: UpStack) -> None:
    keyed = stack.testers[0]
    up_pid, asterisk_pid = stack.up_pid(), stack.asterisk_pid()
    cut = await stack.start_hotline(
        "call", "12333", "--caller", CUT_CALLER, "--keys", f"1,{keyed.keyed_id}#,-,-,-"
    )
    try:
        async with await stack.console("sup") as api:
            live = await until(lambda: in_the_menus(api, CUT_CALLER), 60, "the call in the menus")
            assert asterisk_pid is not None
            os.kill(asterisk_pid, signal.SIGKILL)  # as an OOM kill or a crash would
            killed_at = datetime.now().astimezone()

            async def telephony(up: bool) -> bool:
                """As the console's /readyz, the node's /readyz and its metrics tell it."""
                ready = await api.get("/readyz")
                body = await ready.json()
                node_status, node_body = await stack.probe("/readyz")
                ami = (await stack.metrics())[("hotline_ami_connected", frozenset())]
                seen = (ready.status, body["telephony"], node_status, node_body["telephony"], ami)
                return seen == ((200, "up", 200, "up", 1) if up else (503, "down", 503, "down", 0))

            await until(lambda: telephony(False), 10, "/readyz saying telephony is down")
            # A tester calls again, and again, until the line answers: no command in between.
            attempts: list[str] = []

            async def answered() -> bool:
                done = await stack.hotline(
                    "call", "12333", "--caller", AFTER_CALLER, "--keys", "-", within=120
                )
                attempts.append(done.out)
                return done.code == 0

            await until(answered, 60, "a call answered after the kill", step=1.0)
            await until(lambda: telephony(True), 30, "/readyz saying telephony is up again")
    finally:
        if cut.returncode is None:
            cut.kill()
        await cut.wait()
    assert stack.up_pid() == up_pid  # the hotline process itself was never restarted
    assert stack.asterisk_pid() not in (None, asterisk_pid)
    calls = {c["caller_id"]: c for c in await stack.calls()}
    assert calls[AFTER_CALLER]["hangup_cause"] == 16  # the AMI bridge is back and recording
    # The cut call is not a caller who gave up: the line went away under them.
    assert calls[CUT_CALLER]["id"] == live["call_id"]
    assert calls[CUT_CALLER]["outcome"] == "interrupted", calls[CUT_CALLER]
    # Answered within 15 s of the kill (the flow opens the record when the call is answered).
    answered_at = datetime.fromisoformat(calls[AFTER_CALLER]["started_at"])
    assert answered_at - killed_at < timedelta(seconds=15), (killed_at, answered_at, attempts)


# --- 4. kill -9 mid-call --------------------------------------------------------------------------


async def test_a_stack_killed_mid_call_leaves_no_call_in_progress(stack: UpStack) -> None:
    keyed = stack.testers[0]
    # Long enough to be killed in the middle: the caller keys the ID, then stays silent.
    scripted = await stack.start_hotline(
        "call", "12333", "--caller", KILLED_CALLER, "--keys", f"1,{keyed.keyed_id}#,-,-,-"
    )
    try:
        async with await stack.console("sup") as api:
            live = await until(
                lambda: in_the_menus(api, KILLED_CALLER), 60, "the call in the menus"
            )
        killed_at = datetime.now().astimezone()
        os.kill(stack.up_pid(), signal.SIGKILL)  # as an OOM kill or a crash would

        again = await stack.up()
        assert "died without stopping" in again and "hotline is up" in again
    finally:
        if scripted.returncode is None:
            scripted.kill()
        await scripted.wait()

    (call,) = [c for c in await stack.calls() if c["id"] == live["call_id"]]
    assert call["outcome"] == "interrupted" and call["next_action"] is None
    ended = datetime.fromisoformat(call["ended_at"])
    # Ended when the stack went away: its last heartbeat, at most a beat or two before the kill.
    slack = timedelta(seconds=1)
    assert killed_at - timedelta(seconds=2 * HEARTBEAT_S) - slack <= ended <= killed_at + slack, (
        ended,
        killed_at,
    )
    async with await stack.console("sup") as api:
        snap = await (await api.get("/api/live")).json()
    assert all(c["call_id"] != call["id"] for c in snap["calls"])


# --- 5. down --------------------------------------------------------------------------------------


async def test_down_leaves_no_process_and_no_port(stack: UpStack) -> None:
    up_pid = stack.up_pid()
    asterisk = PidRecord.read(HostLayout.from_settings(stack.settings).pid_file)
    assert asterisk is not None and asterisk.alive()
    assert up_pid in {pid for pid, _ in stack.processes()}
    began = time.monotonic()
    assert "hotline stopped" in await stack.down()
    assert stack.processes() == []  # not the stack, not Asterisk, nothing of this data folder
    assert not asterisk.alive()
    assert stack.listening() == {}  # SIP, AMI, FastAGI, the console: all free
    assert time.monotonic() - began < 40
