"""Whole calls through the real FastAGI socket, with a peer that speaks AGI as Asterisk does.

Each test asserts what the caller heard and what landed in the records database; the database
fixture runs every test on SQLite and on a throwaway PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from contextlib import AsyncExitStack
from decimal import Decimal
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from ivr.config import Settings
from ivr.domain.account_password import hash_password_async
from ivr.domain.cards import CardStatus, ReportStatus
from ivr.speech import readback
from ivr.speech.catalog import Catalog
from ivr.stack import start_console
from ivr.store import models
from ivr.store.seed import DemoCitizen
from ivr.store.types import utcnow
from ivr.store.users import Accounts, Role
from tests.agipeer import PeerResult, run_call
from tests.calls.conftest import RunningHotline


def keyed_id(citizen: DemoCitizen) -> str:
    return citizen.id_number.replace("X", "*") + "#"


def password(citizen: DemoCitizen) -> str:
    return citizen.initial_password + "#"


def with_card(hotline: RunningHotline, status: CardStatus) -> DemoCitizen:
    return next(c for c in hotline.citizens if c.card_status == status)


def sounds_after(result: PeerResult, sound: str, count: int) -> list[str]:
    heard = [name.removeprefix("hotline/") for name in result.heard]
    start = heard.index(sound) + 1
    return heard[start : start + count]


async def call(
    hotline: RunningHotline, script: str, entries: list[str], **kw: object
) -> PeerResult:
    return await run_call(
        "127.0.0.1",
        hotline.port,
        script,
        entries,
        recordings_dir=hotline.settings.recordings_dir,
        **kw,
    )  # type: ignore[arg-type]


async def last_call(hotline: RunningHotline) -> models.Call:
    async with hotline.app.database.read() as session:
        row = await session.scalar(select(models.Call).order_by(models.Call.id.desc()).limit(1))
        assert row is not None
        return row


async def count(hotline: RunningHotline, model: type[models.Base]) -> int:
    async with hotline.app.database.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_12333_pension_balance_read_back_in_mandarin(
    hotline: RunningHotline, catalog: Catalog
) -> None:
    citizen = hotline.citizens[0]
    assert citizen.id_number == "11010519491231002X"
    result = await call(hotline, "12333", ["1", keyed_id(citizen), password(citizen), "1"])
    async with hotline.app.database.read() as session:
        balance = await session.scalar(
            select(models.PensionAccount.balance)
            .join(models.Citizen)
            .where(models.Citizen.id_masked == citizen.masked)
        )
    assert isinstance(balance, Decimal) and balance > 0
    expected = readback.amount("zh", balance)
    assert sounds_after(result, "pension_balance_is", len(expected)) == expected
    spoken = catalog.render("zh", expected)
    assert spoken.endswith(("分", "角", "元"))
    row = await last_call(hotline)
    assert row.hotline == "12333" and row.outcome == "served" and row.language == "zh"
    assert row.id_masked == "110105********002X" and row.ended_at is not None
    assert await count(hotline, models.BalanceQuery) == 1
    async with hotline.app.database.read() as session:
        steps = (
            await session.scalars(
                select(models.CallStep)
                .where(models.CallStep.call_id == row.id)
                .order_by(models.CallStep.seq)
            )
        ).all()
    keys = [s.key for s in steps if s.kind == "input"]
    assert "231002" not in " ".join(k or "" for k in keys)  # the password never lands
    assert "11010519491231002X" not in " ".join(f"{s.key} {s.detail}" for s in steps)


async def test_12333_language_choice_and_wrong_id_explained(hotline: RunningHotline) -> None:
    citizen = hotline.citizens[1]
    wrong_check = citizen.id_number[:-1] + ("1" if citizen.id_number[-1] != "1" else "2")
    result = await call(
        hotline,
        "12333",
        ["7", "1", "12345#", wrong_check + "#", keyed_id(citizen), password(citizen), "2"],
    )
    assert result.variables.get("CHANNEL(language)") == "en"
    heard = [name.removeprefix("hotline/") for name in result.heard]
    assert "id_error_length" in heard and "id_error_check" in heard
    assert "medical_balance_is" in heard
    row = await last_call(hotline)
    assert row.language == "en" and row.outcome == "served"


async def test_wrong_passwords_lock_phone_queries(hotline: RunningHotline) -> None:
    citizen = hotline.citizens[1]
    entries = ["1", keyed_id(citizen), "000000#", "111111#", "222222#", "0"]
    result = await call(hotline, "12333", entries)
    heard = [name.removeprefix("hotline/") for name in result.heard]
    assert heard.count("password_wrong") == 1 and "account_locked" in heard
    # the second wrong password warns that the next one locks the phone query
    assert heard.index("password_wrong") < heard.index("password_wrong_last_try")
    assert result.variables.get("HOTLINE_NEXT") == "agent"
    async with hotline.app.database.read() as session:
        kinds = list(await session.scalars(select(models.SecurityEvent.kind)))
        locked = await session.scalar(
            select(models.Citizen.locked_until).where(models.Citizen.id_masked == citizen.masked)
        )
    assert kinds.count("password_failure") == 3 and "locked" in kinds
    assert locked is not None
    # A later call with the right password is refused while the lock lasts.
    again = await call(hotline, "12333", ["1", keyed_id(citizen), "-", "0"])
    assert "hotline/account_locked" in again.heard


async def test_96102_loss_report_with_statement(hotline: RunningHotline, catalog: Catalog) -> None:
    citizen = with_card(hotline, CardStatus.NORMAL)
    entries = ["1", keyed_id(citizen), password(citizen), "1", "1", "4", "-"]
    result = await call(hotline, "96102", entries)
    heard = [name.removeprefix("hotline/") for name in result.heard]
    assert "loss_reported" in heard and "statement_saved" in heard
    row = await last_call(hotline)
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
    # The reference is read back digit by digit as soon as the report is made.
    digits = readback.digits("zh", report.reference)
    assert sounds_after(result, "your_reference", len(digits)) == digits
    assert recording is not None and recording.duration_s >= 3.5
    assert (hotline.settings.data_dir / recording.path).stat().st_size > 8000
    assert row.hotline == "96102" and row.outcome == "served"


async def test_96102_report_without_password_needs_verification(hotline: RunningHotline) -> None:
    citizen = with_card(hotline, CardStatus.NORMAL)
    result = await call(hotline, "96102", ["1", keyed_id(citizen), "*", "6", "-"])
    assert "hotline/unverified_recorded" in result.heard
    row = await last_call(hotline)
    async with hotline.app.database.read() as session:
        report = await session.scalar(
            select(models.LossReport).where(models.LossReport.call_id == row.id)
        )
        card_status = await session.scalar(
            select(models.Card.status)
            .join(models.Citizen)
            .where(models.Citizen.id_masked == citizen.masked)
        )
    assert report is not None and report.status == ReportStatus.NEEDS_VERIFICATION
    assert report.statement_recording_id is not None and report.id_masked == citizen.masked
    assert card_status == CardStatus.NORMAL  # staff verify before the card is stopped


async def test_card_status_and_lift_after_report(hotline: RunningHotline) -> None:
    citizen = with_card(hotline, CardStatus.NORMAL)
    await call(hotline, "96102", ["1", keyed_id(citizen), password(citizen), "1", "2"])
    reporting_call = await last_call(hotline)
    status = await call(hotline, "96102", ["2", keyed_id(citizen), password(citizen)])
    assert "hotline/status_provisional_since" in status.heard
    lift = await call(hotline, "96102", ["3", keyed_id(citizen), password(citizen), "1"])
    assert "hotline/lift_done" in lift.heard
    async with hotline.app.database.read() as session:
        card = await session.scalar(
            select(models.Card)
            .join(models.Citizen)
            .where(models.Citizen.id_masked == citizen.masked, models.Card.replaced_by_id.is_(None))
        )
        report = await session.scalar(
            select(models.LossReport).where(models.LossReport.call_id == reporting_call.id)
        )
    assert card is not None and card.status == CardStatus.NORMAL
    assert card.settlement_stopped_at is None
    assert report is not None and report.status == ReportStatus.LIFTED


async def test_voice_message_with_callback_number(hotline: RunningHotline) -> None:
    result = await call(hotline, "12333", ["4", "5", "13912345678#"], caller_id="02088886666")
    assert "hotline/message_thanks" in result.heard
    assert result.variables.get("HOTLINE_NEXT") == "hangup"
    async with hotline.app.database.read() as session:
        message = await session.scalar(select(models.VoiceMessage))
    assert message is not None and message.callback_number == "13912345678"
    assert (await last_call(hotline)).outcome == "voice_message"


async def test_agent_transfer_leaves_dialplan_variables(hotline: RunningHotline) -> None:
    result = await call(hotline, "12333", ["0"])
    assert result.variables["HOTLINE_NEXT"] == "agent"
    assert result.variables["HOTLINE_OUTCOME"] == "agent"
    row = await last_call(hotline)
    assert row.outcome == "agent" and row.next_action == "agent"
    assert result.variables["HOTLINE_CALL_ID"] == str(row.id)


async def test_silence_everywhere_ends_with_an_agent(hotline: RunningHotline) -> None:
    result = await call(hotline, "12333", [])
    heard = [name.removeprefix("hotline/") for name in result.heard]
    # three reprompts, the reason once more, then the offer of an agent, and the transfer
    assert heard.count("no_input") == 4 and heard[-2:] == ["offer_agent", "transfer_agent"]
    assert result.variables["HOTLINE_NEXT"] == "agent"
    row = await last_call(hotline)
    assert row.outcome == "failed" and row.next_action == "agent"


async def test_recordings_live_under_the_data_folder(hotline: RunningHotline) -> None:
    await call(hotline, "12333", ["4", "3", "#"])
    files = await asyncio.to_thread(lambda: list(hotline.settings.recordings_dir.rglob("*.wav")))
    assert files and all(f.is_relative_to(hotline.settings.data_dir) for f in files)


async def test_a_statement_recorded_on_one_node_plays_on_a_console_on_another(
    hotline: RunningHotline, tmp_path: Path
) -> None:
    """Nodes sharing PostgreSQL keep each recording's sound in it: a console with its own data
    folder (another machine) plays what this node recorded. On SQLite (one machine) the file is
    the only copy."""
    citizen = with_card(hotline, CardStatus.NORMAL)
    entries = ["1", keyed_id(citizen), password(citizen), "1", "1", "4", "-"]
    assert "hotline/statement_saved" in (await call(hotline, "96102", entries)).heard
    row = await last_call(hotline)
    async with hotline.app.database.read() as session:
        recording = await session.scalar(
            select(models.Recording).where(models.Recording.call_id == row.id)
        )
        assert recording is not None
        archived = await session.get(models.RecordingAudio, recording.id)
    recorded = (hotline.settings.data_dir / recording.path).read_bytes()
    shared = hotline.app.database.dialect == "postgresql"
    assert (archived.audio if archived else None) == (recorded if shared else None)

    elsewhere = dataclasses.replace(
        Settings.load(
            env={"HOTLINE_ID_HASH_KEY": "test-key"},
            data_dir=tmp_path / "console-machine",
            db_url=hotline.settings.database_url,
        ),
        web_port=0,
    )
    await Accounts(hotline.app.database).add_user(
        "sup", Role.SUPERVISOR, await hash_password_async("a long passphrase"), now=utcnow()
    )
    async with AsyncExitStack() as stack:
        console = await start_console(elsewhere, stack)
        jar = aiohttp.CookieJar(unsafe=True)  # cookies from an IP address (127.0.0.1)
        async with aiohttp.ClientSession(base_url=console.url, cookie_jar=jar) as browser:
            form = await (await browser.get("/login")).text()
            token = re.search(r'name="csrf_token" value="([^"]*)"', form)
            assert token is not None
            await browser.post(
                "/login",
                data={"csrf_token": token[1], "username": "sup", "password": "a long passphrase"},
            )
            played = await browser.get(f"/recordings/{recording.id}")
            assert played.status == (200 if shared else 404)
            if shared:
                assert await played.read() == recorded


async def test_the_language_keys_work_in_the_main_menu_and_are_remembered(
    hotline: RunningHotline,
) -> None:
    # 7 in the main menu: English, then 1 (keyed at once) starts the query in English.
    first = await call(hotline, "12333", ["7", "1"], caller_id="+8613911112222")
    assert (await last_call(hotline)).language == "en"
    assert "hotline/enter_id" in first.heard
    # The next call from that phone (sent in the domestic form) is greeted in English, offering
    # the other two; another phone still hears Mandarin.
    # The channel starts in the dialplan's Mandarin; the flow switches it to English before
    # the greeting, so Asterisk plays the English sounds.
    again = await call(hotline, "12333", ["0"], caller_id="13911112222", language="zh")
    assert (await last_call(hotline)).language == "en"
    assert again.variables["CHANNEL(language)"] == "en"
    switched = again.commands.index('SET VARIABLE CHANNEL(language) "en"')
    assert switched < min(i for i, c in enumerate(again.commands) if c.startswith("STREAM FILE"))
    assert {"hotline/offer_mandarin", "hotline/offer_spanish"} <= set(again.heard)
    other = await call(hotline, "12333", ["0"], caller_id="13800000000")
    assert (await last_call(hotline)).language == "zh" and "hotline/offer_english" in other.heard
    # Only a keyed hash of the number is kept.
    async with hotline.app.database.read() as session:
        kept = list(await session.scalars(select(models.CallerLanguage.number_hash)))
    assert len(kept) == 1 and "13911112222" not in kept[0]
    # 6 goes back to Mandarin, and the choice is forgotten.
    await call(hotline, "12333", ["6", "0"], caller_id="13911112222")
    await call(hotline, "12333", ["0"], caller_id="13911112222")
    assert (await last_call(hotline)).language == "zh"
    async with hotline.app.database.read() as session:
        assert await session.scalar(select(func.count()).select_from(models.CallerLanguage)) == 0
