"""A day's work in the browser, in Chinese (the default) and in English: counter staff work the
call-back queue to the end, record a formal report and print its certificate, unlock a citizen's
phone queries; a supervisor adds a colleague; the auditor finds every step. Screenshots under
``test-output/web`` (``*-zh_Hans_CN.png``, ``*-en.png``), each a real picture."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select, update

from ivr.domain.cards import ReportStatus, pickup_date
from ivr.domain.clock import local_today
from ivr.domain.idnumber import id_hash
from ivr.store.models import Citizen, LossReport
from ivr.store.types import utcnow
from ivr.web import WebServer
from tests.web.support import Env
from tests.web.test_web_browser import log_in, shot
from tests.web.test_web_callbacks import left_message

# What each language calls what the test looks for.
WORDS: Mapping[str, Mapping[str, str]] = {
    "zh_Hans_CN": {
        "taken": "已领取",
        "closed": "已办结",
        "reached": "已联系到来电人",
        "overdue": "已超期",
        "voucher": "就医临时凭证",
        "weekday": "星期",
        "unlocked": "已解除",
        "added": "已添加账号",
        "audit_callback": "办结回访工单",
        "audit_print": "打印领卡凭证",
        "audit_unlock": "解除参保人电话查询锁定",
        "audit_add": "添加账号",
    },
    "en": {
        "taken": "taken",
        "closed": "closed",
        "reached": "reached the caller",
        "overdue": "overdue",
        "voucher": "temporary voucher for medical treatment",
        "weekday": "day, ",
        "unlocked": "unlocked",
        "added": "Account",
        "audit_callback": "closed a call-back task",
        "audit_print": "printed a pick-up certificate",
        "audit_unlock": "unlocked a citizen's phone queries",
        "audit_add": "added an account",
    },
}
LANGUAGES = pytest.mark.parametrize("code", list(WORDS))


async def in_language(env: Env, code: str, *usernames: str) -> None:
    accounts = env.accounts()
    for name in usernames:
        user = await accounts.find_user(name)
        assert user is not None
        await accounts.set_locale(user.id, code)


async def open_as(browser: Browser, server: WebServer, username: str, code: str) -> Page:
    page = await log_in(browser, server, username)
    tag = "zh-Hans-CN" if code == "zh_Hans_CN" else "en"
    await expect(page.locator("html")).to_have_attribute("lang", tag)
    return page


@LANGUAGES
async def test_staff_work_the_call_back_queue_to_the_end(
    served: tuple[Env, WebServer],
    browser: Browser,
    code: str,
) -> None:
    env, server = served
    words = WORDS[code]
    await in_language(env, code, "clerk", "aud", "sup")
    late, _ = await left_message(env, utcnow() - timedelta(days=9))
    fresh, _ = await left_message(env, utcnow() - timedelta(minutes=20), number="02088886666")
    page = await open_as(browser, server, "clerk", code)
    await page.click('header nav a[href="/callbacks"]')
    late_row, fresh_row = page.locator(f"#task-{late}"), page.locator(f"#task-{fresh}")
    await expect(late_row).to_have_class("task new overdue")
    await expect(late_row.locator(".badge")).to_have_text(words["overdue"])
    await expect(fresh_row).to_have_class("task new")
    await expect(late_row.locator(".number")).to_have_text("139****5678")
    await expect(page.locator("#overdue-count")).to_have_text("1")
    await shot(page, f"callbacks-queue-{code}")
    supervisor = await open_as(browser, server, "sup", code)
    await expect(supervisor).to_have_url(f"{server.url}/live")
    waiting = supervisor.locator("#callback-count")
    await expect(waiting).to_have_class("count callbacks overdue")
    await expect(waiting.locator(".n")).to_have_text("2")
    await expect(waiting.locator(".badge")).to_contain_text("1")
    await shot(supervisor, f"live-callbacks-{code}")

    for task, row in ((late, late_row), (fresh, fresh_row)):
        await row.locator("button.action-take").click()
        row = page.locator(f"#task-{task}")
        await expect(row.locator(".status")).to_have_text(words["taken"])
        await expect(row.locator(".number")).not_to_contain_text("*")  # whole, to dial it
        await row.locator('select[name="result"]').select_option("reached")
        await row.locator('input[name="note"]').fill("已电话答复 / answered")
        await row.locator("button.action-called-back").click()
        row = page.locator(f"#task-{task}")
        await expect(row.locator(".result")).to_contain_text(words["reached"])
        if task == late:
            await shot(page, f"callbacks-working-{code}")
        await row.locator("button.action-close").click()
        await expect(page.locator(f"#section-closed #task-{task}")).to_be_visible()
    await expect(page.locator("#open-count")).to_have_text("0")
    await expect(page.locator(f"#section-closed #task-{late} .status")).to_have_text(
        words["closed"]
    )
    await shot(page, f"callbacks-done-{code}")

    auditor = await open_as(browser, server, "aud", code)
    await expect(auditor.locator("#audit")).to_contain_text(words["audit_callback"])
    await expect(auditor.locator("#audit tr.callback_close")).to_have_count(2)
    await expect(auditor.locator("#audit tr.callback_take")).to_have_count(2)


@LANGUAGES
async def test_staff_record_a_formal_report_and_print_the_certificate(
    served: tuple[Env, WebServer],
    browser: Browser,
    code: str,
) -> None:
    env, server = served
    words = WORDS[code]
    await in_language(env, code, "clerk", "aud")
    async with env.hotline.database.read() as session:
        seeded = await session.scalar(
            select(LossReport.reference)
            .where(LossReport.status == ReportStatus.PROVISIONAL, LossReport.call_id.is_(None))
            .limit(1)
        )
    assert seeded is not None
    page = await open_as(browser, server, "clerk", code)
    await page.locator(f"#case-{seeded} button.action-formal").click()
    await page.locator("#print-new-certificate").click()
    await expect(page).to_have_url(f"{server.url}/cases/{seeded}/certificate")
    expected = pickup_date(local_today(), env.hotline.calendar, env.settings.reissue_working_days)
    await expect(page.locator("#cert-reference")).to_have_text(seeded)
    await expect(page.locator("#cert-pickup")).to_have_attribute("data-date", expected.isoformat())
    await expect(page.locator("#cert-pickup")).to_contain_text(words["weekday"])
    await expect(page.locator("#cert-id")).to_contain_text("*")
    await expect(page.locator("#cert-voucher")).to_contain_text(words["voucher"])
    await expect(page.locator("#cert-service-point")).to_have_text(env.settings.service_point)
    await shot(page, f"certificate-screen-{code}")
    await page.emulate_media(media="print")  # as printed: the sheet alone
    await expect(page.locator("header.top")).to_be_hidden()
    await expect(page.locator("#print")).to_be_hidden()
    await shot(page, f"certificate-print-{code}")
    await page.emulate_media(media="screen")

    # Reprinted later from the case's row.
    await page.goto(f"{server.url}/cases")
    await page.locator(f"#case-{seeded} a.print-certificate").click()
    await expect(page.locator("#cert-reference")).to_have_text(seeded)
    auditor = await open_as(browser, server, "aud", code)
    await expect(auditor.locator("#audit tr.print_certificate")).to_have_count(2)
    await expect(auditor.locator("#audit")).to_contain_text(words["audit_print"])


@LANGUAGES
async def test_a_supervisor_adds_a_colleague_and_staff_unlock_a_citizen(
    served: tuple[Env, WebServer],
    browser: Browser,
    code: str,
) -> None:
    env, server = served
    words = WORDS[code]
    await in_language(env, code, "sup", "clerk", "aud")
    page = await open_as(browser, server, "sup", code)
    await page.click('header nav a[href="/accounts"]')
    form = page.locator("#add-account")
    await form.locator('input[name="username"]').fill("xiaozhou")
    await form.locator('select[name="role"]').select_option("staff")
    await form.locator('input[name="password"]').fill("counter-three-pass")
    await form.locator('input[name="again"]').fill("counter-three-pass")
    await form.locator('button[type="submit"]').click()
    await expect(page.locator(".notice")).to_contain_text(words["added"])
    await expect(page.locator("#user-xiaozhou")).to_be_visible()
    await shot(page, f"accounts-{code}")

    citizen = env.citizen(3)
    hashed = id_hash(env.settings.hash_key(), citizen.id_number)
    async with env.hotline.database.write() as session:
        await session.execute(
            update(Citizen)
            .where(Citizen.id_hash == hashed)
            .values(password_failures=3, locked_until=utcnow() + timedelta(hours=23))
        )
    clerk = await open_as(browser, server, "clerk", code)
    await clerk.click('header nav a[href="/citizens/unlock"]')
    await clerk.fill('#unlock input[name="id_number"]', citizen.id_number)
    await clerk.check('#unlock input[name="identity_checked"]')
    await clerk.fill('#unlock input[name="reason"]', "本人持身份证到窗口 / at the counter")
    await clerk.click('#unlock button[type="submit"]')
    await expect(clerk.locator(".notice")).to_contain_text(citizen.masked)
    await expect(clerk.locator(".notice")).to_contain_text(words["unlocked"])
    assert citizen.id_number not in await clerk.content()
    await shot(clerk, f"unlock-{code}")
    found = await env.hotline.records.find_citizen(hashed)
    assert found is not None and found.locked_until is None

    auditor = await open_as(browser, server, "aud", code)
    await expect(auditor.locator("#audit")).to_contain_text(words["audit_unlock"])
    await expect(auditor.locator("#audit")).to_contain_text(words["audit_add"])
    await expect(auditor.locator("#audit tr.citizen_unlock")).to_contain_text(citizen.masked)
    await shot(auditor, f"audit-day-{code}")
