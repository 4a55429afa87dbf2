"""The console in Chinese first, English second: every message translated, the language chosen
per account and switchable on every page, times in China Standard Time in the language's own
format, numbers and money by the language's rules."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from babel.messages.catalog import Catalog
from sqlalchemy import select

from ivr.domain.account_password import hash_password_async
from ivr.store.models import User
from ivr.store.types import utcnow
from ivr.store.users import Role
from ivr.web.locale import extract, problems
from ivr.web.plumbing.i18n import Languages, _l, _nl, load_languages
from tests.web.support import PASSWORD, Client, Env, csrf_token, login

HTML_LANG = re.compile(r'<html lang="([^"]+)">')


@pytest.fixture(scope="module")
def languages() -> Languages:
    return load_languages()


# -- the catalogues -------------------------------------------------------------------------------


def test_every_message_of_the_console_is_translated_and_the_catalogue_is_up_to_date() -> None:
    found = problems()
    assert found == [], "\n".join(str(p) for p in found) + (
        "\n(run `.venv/bin/python -m ivr.web.locale update`, then translate)"
    )


def test_the_messages_come_from_the_code_and_the_templates() -> None:
    ids = {m.id for m in extract() if m.id}
    assert "Wrong name or password." in ids  # a Text in the Python code
    assert "Call log" in ids  # a menu label on a route
    assert "Path through the menus" in ids  # a template's _()
    assert ("%(num)s entry", "%(num)s entries") in ids  # a {% trans %} block with a plural


def test_the_check_finds_a_catalogue_out_of_step_with_the_code() -> None:
    template = Catalog()
    for message in ("Call log", "Log in", "There is no call %(id)s.", "Gone", "Fuzzy"):
        template.add(message)
    catalogue = Catalog(locale="zh_Hans_CN")
    catalogue.add("Call log", "通话记录")  # fine
    catalogue.add("Log in", "")  # not translated
    catalogue.add("There is no call %(id)s.", "没有通话 %(number)s。")  # wrong placeholder
    catalogue.add("Fuzzy", "模糊", flags=["fuzzy"])
    catalogue.add("Removed from the code", "已删除")
    found = {(p.message, p.what.split(":")[0]) for p in problems(template, {"zh": catalogue})}
    assert found == {
        ("Log in", "not translated"),
        ("There is no call %(id)s.", "wrong"),
        ("Fuzzy", "fuzzy"),
        ("Gone", "not in the catalogue"),
        ("Removed from the code", "no longer in the code"),
    }


# -- formats ---------------------------------------------------------------------------------------


def test_times_are_china_standard_time_in_each_languages_format(languages: Languages) -> None:
    moment = datetime(2026, 3, 3, 1, 5, 7, tzinfo=UTC)  # 09:05:07 in Beijing
    zh, en = languages.get("zh_Hans_CN"), languages.get("en")
    assert zh.datetime(moment) == "2026年3月3日 09:05:07"
    assert en.datetime(moment) == "Mar 3, 2026, 9:05:07\u202fAM"
    assert zh.time(moment) == "09:05:07"
    late = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)  # already the 4th in Beijing
    assert zh.date(late) == "2026年3月4日"
    assert en.weekday_date(date(2026, 3, 24)) == "Tuesday, March 24, 2026"
    assert zh.weekday_date(date(2026, 3, 24)) == "2026年3月24日星期二"


def test_numbers_and_money_by_the_languages_rules(languages: Languages) -> None:
    zh, en = languages.get("zh_Hans_CN"), languages.get("en")
    assert zh.number(12345) == en.number(12345) == "12,345"
    assert zh.money(Decimal("20")) == "¥20.00"
    assert en.money(Decimal("20")) == "CN¥20.00"
    assert zh.percent(0.873) == en.percent(0.873) == "87%"


def test_a_message_is_translated_with_its_parameters(languages: Languages) -> None:
    zh, en = languages.get("zh_Hans_CN"), languages.get("en")
    refusal = _l(
        "The report is %(status)s: cannot %(doing)s.", status=_l("lifted"), doing=_l("lift it")
    )
    assert en.text(refusal) == "The report is lifted: cannot lift it."
    assert zh.text(refusal) == "该挂失状态为“已解挂”，无法解除挂失。"
    entries = _nl("%(num)s entry", "%(num)s entries", 1234)
    assert en.text(entries) == "1,234 entries" and zh.text(entries) == "共 1,234 条"
    assert str(refusal) == "The report is lifted: cannot lift it."  # logs and audit: English


def test_an_unknown_language_code_falls_back_to_chinese(languages: Languages) -> None:
    assert languages.get("fr").code == languages.get(None).code == "zh_Hans_CN"


# -- per account, switchable on every page --------------------------------------------------------


async def _add(env: Env, name: str, role: Role) -> None:
    await env.accounts().add_user(name, role, await hash_password_async(PASSWORD), now=utcnow())


async def test_a_new_account_reads_the_console_in_chinese(env: Env, client: Client) -> None:
    await _add(env, "xiaowang", Role.SUPERVISOR)
    assert await login(client, "xiaowang") == 303
    page = await client.get("/calls")
    html = await page.text()
    assert HTML_LANG.search(html).group(1) == "zh-Hans-CN"  # type: ignore[union-attr]
    assert "<h1>通话记录</h1>" in html and "退出登录" in html
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d", html)  # call times, Beijing
    assert "Call log" not in html


async def test_the_language_is_switched_on_any_page_and_kept_for_the_account(
    env: Env, client: Client
) -> None:
    await _add(env, "xiaoli", Role.STAFF)
    await login(client, "xiaoli")
    token = await csrf_token(client)
    switched = await client.post(
        "/language",
        data={"csrf_token": token, "lang": "en", "next": "/cases?done=x"},
        allow_redirects=False,
    )
    assert switched.status == 303 and switched.headers["Location"] == "/cases?done=x"
    assert "<h1>Card cases</h1>" in await (await client.get("/cases")).text()
    async with env.hotline.database.read() as session:
        stored = await session.scalar(select(User.locale).where(User.username == "xiaoli"))
    assert stored == "en"
    # The choice follows the person, not the browser: a fresh client logs in to English.
    fresh = await env.client()
    try:
        await login(fresh, "xiaoli")
        assert "<h1>Card cases</h1>" in await (await fresh.get("/cases")).text()
    finally:
        await fresh.close()
    # A page offers the switch back, and a forged language changes nothing.
    page = await (await client.get("/cases")).text()
    assert 'name="lang" value="zh_Hans_CN"' in page
    await client.post("/language", data={"csrf_token": token, "lang": "xx", "next": "/cases"})
    assert "<h1>Card cases</h1>" in await (await client.get("/cases")).text()


async def test_before_log_in_the_language_is_chosen_on_the_log_in_page(client: Client) -> None:
    page = await (await client.get("/login")).text()
    assert "<h1>登录</h1>" in page
    token = re.search(r'name="csrf_token" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    await client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/login"})
    assert "<h1>Log in</h1>" in await (await client.get("/login")).text()
    refused = await client.post(
        "/login", data={"csrf_token": token, "username": "nobody", "password": "x" * 12}
    )
    assert "Wrong name or password." in await refused.text()


async def test_refusals_speak_the_language_of_who_asks(env: Env, client: Client) -> None:
    await _add(env, "xiaozhang", Role.SUPERVISOR)
    await login(client, "xiaozhang")
    missing = await client.get("/calls/999999")
    assert missing.status == 404 and "没有编号为 999999 的通话。" in await missing.text()
    api = await client.get("/api/calls", params={"hotline": "110"})
    assert api.status == 400 and (await api.json())["error"] == "未知热线 '110'。"
    nowhere = await client.get("/no-such-page")
    assert nowhere.status == 404 and "页面不存在。" in await nowhere.text()
