"""The console in a real browser (Debian's chromium, driven by Playwright) against a real server.

A supervisor watches a simulated call appear and move on the live page, filters the call log,
searches it by ID number, opens a call and plays a recording; counter staff move a card case
forward; an auditor reads what they all did. Every page is screenshotted under
``test-output/web`` and each screenshot must be a real picture, not an empty page.
"""

from __future__ import annotations

import asyncio
import queue
import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from ivr.domain.cards import ReportStatus, pickup_date
from ivr.domain.clock import local_today
from ivr.sim.console import ConsolePort
from ivr.store.models import Call, LossReport
from ivr.web import WebServer
from tests.ami.conftest import transcript_events
from tests.paths import REPO_ROOT
from tests.web.support import PASSWORD, Env, ami_bridge, keyed

SHOTS = REPO_ROOT / "test-output" / "web"
MIN_SHOT_BYTES = 5_000


async def log_in(browser: Browser, server: WebServer, username: str) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{server.url}/")
    await expect(page).to_have_url(f"{server.url}/login?next=%2F")
    await page.fill('input[name="username"]', username)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('main button[type="submit"]')  # not the header's language switch
    await expect(page.locator("header .who")).to_contain_text(username)
    return page


async def shot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > MIN_SHOT_BYTES, f"{path} looks like an empty page"
    return path


class WaitingCaller:
    """A caller who keys the next entry only when the test says so (so the call stays live)."""

    def __init__(self) -> None:
        self.entries: queue.Queue[str | None] = queue.Queue()

    def ask(self, prompt: str) -> str:  # runs in a worker thread (ConsolePort calls to_thread)
        try:
            entry = self.entries.get(timeout=60)
        except queue.Empty:
            entry = None
        if entry is None:
            raise EOFError  # the caller hangs up
        return entry

    def key(self, *entries: str) -> None:
        for entry in entries:
            self.entries.put(entry)

    def hang_up(self) -> None:
        self.entries.put(None)


async def test_supervisor_watches_a_live_call_then_reviews_it(
    served: tuple[Env, WebServer], browser: Browser
) -> None:
    env, server = served
    page = await log_in(browser, server, "sup")
    await expect(page).to_have_url(f"{server.url}/live")
    await expect(page.locator("#live-status")).to_contain_text("connected")

    caller = WaitingCaller()
    citizen = env.citizen(0)
    port = ConsolePort(env.catalog, env.settings.recordings_dir, ask=caller.ask, say=lambda _: None)
    runner = env.hotline.runner
    ctx = runner.context(
        "12333", caller_id="13700000000", channel="Console/browser", uniqueid="browser-live-1"
    )
    call = asyncio.create_task(runner.run(port, ctx))
    try:
        row = page.locator('#live-calls tbody tr[data-key="browser-live-1"]')
        await expect(row).to_be_visible(timeout=10_000)
        # the greeting is no menu: the call waits in the main menu
        await expect(row.locator("td.node")).to_have_text("12333 › main", timeout=10_000)
        await expect(page.locator('.n[data-hotline="12333"]')).to_have_text("1")
        await shot(page, "live")
        caller.key("1", keyed(citizen), citizen.initial_password + "#", "1")
        caller.hang_up()
        finished = await asyncio.wait_for(call, 30)
        await expect(row).to_have_count(0, timeout=10_000)
    finally:
        caller.hang_up()
        if not call.done():
            call.cancel()
    assert finished.outcome == "served"

    # The call log, filtered by hotline and outcome.
    await page.click('header nav a[href="/calls"]')
    await page.select_option('select[name="hotline"]', "12333")
    await page.select_option('select[name="outcome"]', "served")
    await page.click('#call-filter button[type="submit"]')
    await expect(page).to_have_url(f"{server.url}/calls?hotline=12333&outcome=served")
    await expect(page.locator("#calls tbody tr[data-call]")).to_have_count(1)
    # Searched by the full ID number: the URL gets a keyed hash, the page the masked number.
    await page.goto(f"{server.url}/calls")
    await page.fill('input[name="id_number"]', citizen.id_number)
    await page.click('#call-filter button[type="submit"]')
    await expect(page.locator(".chip")).to_contain_text(citizen.masked)
    assert citizen.id_number not in page.url
    rows = page.locator("#calls tbody tr[data-call]")
    await expect(rows).to_have_count(1)
    await shot(page, "calls")

    # The call itself: its path through the menus, with the password masked.
    await rows.first.locator("a").click()
    await expect(page.locator("h1")).to_contain_text(f"Call #{finished.call_id}")
    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text("12333 › query_menu")
    await expect(timeline).to_contain_text("***")
    await expect(page.locator("#call-outcome")).to_have_text("served")
    await shot(page, "call")

    # A call with a recorded statement: the recording loads and plays in the page.
    async with env.hotline.database.read() as session:
        with_statement = await session.scalar(
            select(Call.id).join(LossReport, LossReport.call_id == Call.id)
        )
    await page.goto(f"{server.url}/calls/{with_statement}")
    audio = page.locator("audio").first
    await audio.evaluate("a => { a.preload = 'auto'; a.load(); }")
    await page.wait_for_function(
        "() => { const a = document.querySelector('audio');"
        " return a.readyState >= 1 && a.duration > 0; }",
        timeout=10_000,
    )
    duration = await audio.evaluate("a => a.duration")
    assert 3.5 <= duration <= 4.5  # the caller spoke four seconds
    await audio.evaluate("a => { a.muted = true; return a.play(); }")
    await shot(page, "recording")

    await page.click('header nav a[href="/stats"]')
    await expect(page.locator("#figures")).to_contain_text("12333")
    await expect(page.locator("#dropoff-12333 svg rect")).to_have_count(1)
    await expect(page.locator("#dropoff-identity_loss svg")).to_contain_text("enter_id")
    await shot(page, "stats")


async def test_staff_move_a_card_case_forward_and_the_auditor_sees_it(
    served: tuple[Env, WebServer], browser: Browser
) -> None:
    env, server = served
    async with env.hotline.database.read() as session:
        seeded = await session.scalar(
            select(LossReport.reference)
            .where(LossReport.status == ReportStatus.PROVISIONAL, LossReport.call_id.is_(None))
            .limit(1)
        )
    assert seeded is not None
    page = await log_in(browser, server, "clerk")
    await expect(page).to_have_url(f"{server.url}/cases")
    # Staff see the cases, the call-back queue and the phone-query unlock only.
    nav = page.locator("header nav a")
    await expect(nav).to_have_count(3)
    await expect(nav.nth(0)).to_have_attribute("href", "/cases")
    row = page.locator(f"#case-{seeded}")
    await expect(row).to_contain_text("lapses on")

    await row.locator("button.action-formal").click()
    await expect(page.locator(".notice")).to_contain_text(f"Formal report recorded: {seeded}")
    expected = pickup_date(local_today(), env.hotline.calendar, env.settings.reissue_working_days)
    row = page.locator(f"#case-{seeded}")
    await expect(row.locator(".pickup")).to_have_attribute("data-date", expected.isoformat())
    await expect(row.locator("button.action-made")).to_be_visible()
    await shot(page, "cases")
    await row.locator("button.action-made").click()
    await expect(page.locator(f"#section-card_made #case-{seeded}")).to_be_visible()

    # The statement recorded on the reporting call plays for staff too.
    statement = page.locator("#section-provisional audio").first
    await statement.evaluate("a => { a.preload = 'auto'; a.load(); }")
    await expect(statement).to_have_js_property("readyState", 4, timeout=10_000)

    auditor = await log_in(browser, server, "aud")
    await expect(auditor).to_have_url(f"{server.url}/audit")
    table = auditor.locator("#audit")
    await expect(table).to_contain_text("case_formal")
    await expect(table).to_contain_text("case_made")
    await expect(table).to_contain_text("play_recording")
    await expect(table).to_contain_text(f"report:{seeded}")
    await shot(auditor, "audit")
    denied = await auditor.goto(f"{server.url}/cases")
    assert denied is not None and denied.status == 403


async def test_supervisor_sees_a_call_refused_past_the_cap_and_the_count_of_refusals(
    served: tuple[Env, WebServer], browser: Browser
) -> None:
    """The node is full: a call it refuses (the AMI events Asterisk 22 sent for one) is shown
    refused while its caller hears that the lines are busy, and counted apart."""
    env, server = served
    page = await log_in(browser, server, "sup")
    await expect(page.locator("#live-status")).to_contain_text("connected")
    events = transcript_events("refused_call.ami")
    busy = next(i for i, e in enumerate(events) if e.get("Application") == "Playback")
    bridge = ami_bridge(env)
    for event in events[: busy + 1]:
        bridge.feed(event)

    row = page.locator('#live-calls tbody tr[data-key="1700000000.202"]')
    await expect(row.locator("td.node")).to_have_text("refused: lines busy", timeout=10_000)
    await expect(row).to_have_attribute("data-stage", "refused")
    await expect(page.locator("#live-total")).to_have_text("0")  # no call in progress
    await expect(page.locator('.n[data-hotline="96102"]')).to_have_text("0")
    await expect(page.locator("#refused-total")).to_have_text("1")
    await expect(page.locator('#refused-count [data-refused="96102"]')).to_have_text("1")
    await expect(page.locator("#refused-count")).to_have_class(re.compile(r"\bsome\b"))
    await shot(page, "live-refused")

    for event in events[busy + 1 :]:  # the prompt ends; the call is refused (486)
        bridge.feed(event)
    await bridge.settle()
    await expect(row).to_have_count(0, timeout=10_000)
    await expect(page.locator("#refused-total")).to_have_text("1")
