"""The remaining main paths of both flows through the real Asterisk 22 (Local channels, scripted
DTMF sent over AMI): 12333 policy information, a voice message with a call-back number and a
password change; 96102 card status, lifting a provisional report and re-issue progress.

The balance check, the loss report with a statement and the agent queue are in
``test_ami_asterisk.py``; the fixtures are shared with it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.domain.cards import CardStatus, ReportStatus
from ivr.domain.password import verify_password
from ivr.store import models
from tests.ami.test_ami_asterisk import (  # noqa: F401 - fixtures
    Running,
    hotline,
    keyed_id,
    password,
    prompts,
)

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]


async def steps_of(running: Running, call_id: int) -> list[tuple[str, str]]:
    async with running.app.database.read() as session:
        rows = await session.scalars(
            select(models.CallStep)
            .where(models.CallStep.call_id == call_id)
            .order_by(models.CallStep.seq)
        )
        return [(row.node, row.key or "") for row in rows if row.kind == "input"]


async def test_12333_policy_voice_message_and_password_change(hotline: Running) -> None:  # noqa: F811
    citizen = hotline.citizens[1]
    policy_and_message = ["3", "1", "*", "4", "3", "13912345678#"]
    result = await hotline.call("12333", policy_and_message).run()
    assert result.connected and result.failure is None and result.entries_left == []
    assert result.variables["HOTLINE_OUTCOME"] == "voice_message"
    row = await hotline.record(result)
    assert row.outcome == "voice_message" and row.hangup_cause == 16
    assert ("12333:policy", "1") in await steps_of(hotline, row.id)
    # an answer plays to its end: keys pressed meanwhile wait for the menu after it
    assert "policy_barcode" in hotline.heard(result)
    async with hotline.app.database.read() as session:
        message = await session.scalar(
            select(models.VoiceMessage).where(models.VoiceMessage.call_id == row.id)
        )
        assert message is not None
        recording = await session.get(models.Recording, message.recording_id)
    assert message.callback_number == "13912345678"
    assert recording is not None and recording.duration_s >= 2.0
    assert (hotline.settings.data_dir / recording.path).stat().st_size > 8000

    change = ["1", keyed_id(citizen), password(citizen), "4", password(citizen),
              "246813#", "246813#"]  # fmt: skip
    result = await hotline.call("12333", change).run()
    assert result.connected and result.failure is None
    row = await hotline.record(result)
    assert "password_changed" in hotline.heard(result)
    async with hotline.app.database.read() as session:
        stored = await session.scalar(
            select(models.Citizen.password_hash).where(models.Citizen.id_masked == citizen.masked)
        )
        changes = await session.scalar(
            select(models.PasswordChange).where(models.PasswordChange.call_id == row.id)
        )
    assert stored is not None and verify_password(stored, "246813")
    assert changes is not None
    assert "246813" not in " ".join(result.commands)  # typed keys never travel in commands


async def test_96102_status_lift_and_status_again(hotline: Running) -> None:  # noqa: F811
    citizen = next(c for c in hotline.citizens if c.card_status == CardStatus.PROVISIONALLY_LOST)
    keys = ["2", keyed_id(citizen), password(citizen), "3", "1", "2"]
    result = await hotline.call("96102", keys).run()
    assert result.connected and result.failure is None and result.entries_left == []
    heard = hotline.heard(result)
    for prompt in ("status_provisional_since", "lift_done", "status_normal"):
        assert prompt in heard, prompt
    row = await hotline.record(result)
    assert row.outcome == "served" and row.hangup_cause == 16
    inputs = await steps_of(hotline, row.id)
    assert ("card_services:menu", "2") in inputs and ("card_services:menu", "3") in inputs
    assert ("card_services:lift_confirm", "1") in inputs
    assert [key for node, key in inputs if node == "card_services:menu"] == ["2", "3", "2"]
    async with hotline.app.database.read() as session:
        card = await session.scalar(
            select(models.Card)
            .join(models.Citizen)
            .where(models.Citizen.id_masked == citizen.masked, models.Card.replaced_by_id.is_(None))
        )
        statuses = list(
            await session.scalars(
                select(models.LossReport.status).where(models.LossReport.card_id == card.id)
            )
            if card is not None
            else []
        )
    assert card is not None and card.status == CardStatus.NORMAL
    assert card.settlement_stopped_at is None
    assert ReportStatus.LIFTED in statuses
