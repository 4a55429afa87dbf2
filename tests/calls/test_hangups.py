"""A hang-up at every step of both flows: the call record ends with the right outcome, and no
half-written loss report remains."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from ivr.domain.cards import CardStatus, ReportStatus
from ivr.store import models
from tests.agipeer import run_call
from tests.calls.conftest import RunningHotline
from tests.calls.test_full_calls import keyed_id, password, with_card


async def reset_cards(hotline: RunningHotline) -> None:
    async with hotline.app.database.write() as session:
        await session.execute(update(models.LossReport).values(statement_recording_id=None))
        await session.execute(delete(models.ReportEvent))
        await session.execute(delete(models.LossReport))
        await session.execute(
            update(models.Card)
            .where(models.Card.status == CardStatus.PROVISIONALLY_LOST)
            .values(status=CardStatus.NORMAL, settlement_stopped_at=None)
        )


async def check_invariants(hotline: RunningHotline, hang_up_at: int) -> models.Call:
    async with hotline.app.database.read() as session:
        call = await session.scalar(select(models.Call).order_by(models.Call.id.desc()).limit(1))
        reports = (await session.scalars(select(models.LossReport))).all()
        for report in reports:
            card = await session.get(models.Card, report.card_id)
            events = (
                await session.scalars(
                    select(models.ReportEvent).where(models.ReportEvent.report_id == report.id)
                )
            ).all()
            # A report exists only whole: reference, stopped card and its first event together.
            assert report.status == ReportStatus.PROVISIONAL, hang_up_at
            assert len(report.reference) == 12 and events, hang_up_at
            assert card is not None and card.status == CardStatus.PROVISIONALLY_LOST, hang_up_at
            assert card.settlement_stopped_at is not None, hang_up_at
    assert call is not None and call.ended_at is not None, hang_up_at
    assert call.outcome in ("abandoned", "served"), (hang_up_at, call.outcome)
    assert call.last_node, hang_up_at
    return call


async def hang_up_everywhere(hotline: RunningHotline, script: str, entries: list[str]) -> set[str]:
    full = await run_call(
        "127.0.0.1", hotline.port, script, entries, recordings_dir=hotline.settings.recordings_dir
    )
    total = len(full.commands)
    assert total > 10
    left_at: set[str] = set()
    for hang_up_at in range(1, total):
        await reset_cards(hotline)
        result = await run_call(
            "127.0.0.1",
            hotline.port,
            script,
            entries,
            recordings_dir=hotline.settings.recordings_dir,
            hangup_after=hang_up_at,
        )
        assert result.hung_up_by_peer
        call = await check_invariants(hotline, hang_up_at)
        left_at.add(call.last_node or "")
    return left_at


async def test_hang_up_at_every_step_of_a_96102_loss_report(hotline: RunningHotline) -> None:
    citizen = with_card(hotline, CardStatus.NORMAL)
    entries = ["1", keyed_id(citizen), password(citizen), "1", "1", "3", "-"]
    left_at = await hang_up_everywhere(hotline, "96102", entries)
    # The step where each caller left is recorded, across the whole path.
    assert {
        "greeting:zh",
        "identity_loss:enter_id",
        "identity_loss:enter_password",
        "card_services:loss_confirm",
        "card_services:statement_record",
        "card_services:loss_reference",
    } <= left_at


async def test_hang_up_at_every_step_of_a_12333_balance_check(hotline: RunningHotline) -> None:
    citizen = hotline.citizens[0]
    entries = ["1", keyed_id(citizen), password(citizen), "1", "3", "*", "0"]
    left_at = await hang_up_everywhere(hotline, "12333", entries)
    assert {
        "greeting:zh",
        "12333:main",
        "identity:enter_id",
        "identity:enter_password",
        "12333:query_menu",
        "12333:pension_say",
        "12333:contributions_say",
    } <= left_at


async def test_a_line_that_goes_dead_without_a_hang_up_is_interrupted(
    hotline: RunningHotline,
) -> None:
    """Asterisk dying under a call closes the connection with no HANGUP: the caller did not give
    up, so the record says interrupted (and why), not abandoned; a real hang-up stays abandoned."""
    citizen = hotline.citizens[0]
    entries = ["1", keyed_id(citizen), password(citizen), "1"]
    outcomes = {}
    for mode in ("eof", "before_reply"):
        await run_call(
            "127.0.0.1", hotline.port, "12333", entries, hangup_after=6, hangup_mode=mode
        )
        await hotline.settled()  # the peer is gone; the server writes the end a moment later
        async with hotline.app.database.read() as session:
            call = await session.scalar(
                select(models.Call).order_by(models.Call.id.desc()).limit(1)
            )
            assert call is not None and call.ended_at is not None
            last = await session.scalar(
                select(models.CallStep)
                .where(models.CallStep.call_id == call.id)
                .order_by(models.CallStep.seq.desc())
                .limit(1)
            )
        assert last is not None
        outcomes[mode] = (call.outcome, last.kind, last.detail)
    assert outcomes["eof"][:2] == ("interrupted", "interrupted")
    assert "connection closed by Asterisk" in outcomes["eof"][2]
    assert outcomes["before_reply"][:2] == ("abandoned", "hangup")
