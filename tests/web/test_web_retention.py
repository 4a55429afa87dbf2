"""What the console tells of the retention policy: when each recording and a call's path will be
deleted, what keeps a recording longer, and what the daily prune deleted (and when)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from sqlalchemy import select, update

from ivr.domain.cards import ReportStatus
from ivr.domain.clock import BEIJING, local_today
from ivr.store.models import LossReport, Recording, VoiceMessage
from ivr.store.retention import Retention
from ivr.store.types import utcnow
from ivr.web.plumbing.i18n import load_languages
from tests.web.support import Client, Env, login


def noon(days_ago: int) -> datetime:
    """Noon in Beijing ``days_ago`` days back: due at noon, deleted at 03:00 the next night."""
    return datetime.combine(local_today() - timedelta(days=days_ago), time(12), BEIJING)


ENGLISH = load_languages().get("en")  # the test accounts' language


def deleted_on(made: datetime, days: int) -> str:
    """How the page writes the prune that deletes what was made at noon, ``days`` later (03:00
    the next night, Beijing time)."""
    prune = datetime.combine(made.date() + timedelta(days=days + 1), time(3), BEIJING)
    return f"to be deleted on {ENGLISH.datetime(prune, 'short')}"


async def old_call(env: Env, started: datetime) -> int:
    records = env.hotline.records
    call_id = (
        await records.start_call("12333", "1380", f"r-{started:%s}", "PJSIP/x", "zh", started)
    ).call_id
    await records.finish_call(
        call_id,
        ended_at=started + timedelta(minutes=2),
        outcome="voice_message",
        last_node="main",
        next_action="hangup",
        language="zh",
        id_hash=None,
        id_masked=None,
        steps=[],
    )
    return call_id


async def voice_message(env: Env, call_id: int, made: datetime, *, handled: bool) -> int:
    records = env.hotline.records
    # One file per message (a path is one voice message: migration 0010).
    relative = (
        f"recordings/voice_message/{call_id}-{made:%s}-{'handled' if handled else 'open'}.wav"
    )
    file = env.settings.data_dir / relative
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(b"RIFF")
    recording_id = await records.add_recording(call_id, "voice_message", relative, 4.0, now=made)
    message_id = await records.add_voice_message(call_id, recording_id, "13900000000", now=made)
    if handled:
        async with env.hotline.database.write() as session:
            await session.execute(
                update(VoiceMessage).where(VoiceMessage.id == message_id).values(handled_at=made)
            )
    return recording_id


def item(html: str, recording_id: int) -> str:
    return html.split(f'id="recording-{recording_id}"')[1].split("</li>")[0]


async def test_the_call_page_tells_when_recordings_and_the_path_are_deleted(
    client: Client, env: Env
) -> None:
    started = noon(10)
    call_id = await old_call(env, started)
    handled = await voice_message(env, call_id, started, handled=True)
    waiting = await voice_message(env, call_id, started, handled=False)
    assert await login(client, "sup") == 303

    html = await (await client.get(f"/calls/{call_id}")).text()

    assert deleted_on(started, 180) in item(html, handled)
    assert f'src="/recordings/{handled}"' in item(html, handled)
    assert "kept while the message waits for a call-back" in item(html, waiting)
    path = html.split('id="path-retention">')[1].split("</dd>")[0]
    assert deleted_on(started, 730) in path
    body = await (await client.get(f"/api/calls/{call_id}")).json()
    by_id = {r["id"]: r for r in body["recordings"]}
    assert by_id[handled]["retention"]["deletion"] == (
        datetime.combine(started.date() + timedelta(days=181), time(3), BEIJING).isoformat()
    )
    assert by_id[waiting]["retention"]["held"] == "awaiting_callback"
    assert by_id[waiting]["retention"]["deletion"] is None
    assert body["path_retention"]["deleted_at"] is None and body["path_deleted_at"] is None


async def test_what_the_prune_deleted_shows_as_deleted_and_is_gone(
    client: Client, env: Env
) -> None:
    started = noon(800)
    call_id = await old_call(env, started)
    recording = await voice_message(env, call_id, started, handled=True)
    kept = await voice_message(env, call_id, noon(1), handled=True)
    pruned_at = utcnow()
    report = await Retention(env.hotline.database, env.settings).prune(pruned_at)
    assert report.recordings == (recording,) and call_id in report.call_paths
    assert await login(client, "sup") == 303

    html = await (await client.get(f"/calls/{call_id}")).text()

    assert f"deleted on {ENGLISH.datetime(pruned_at, 'short')}" in item(html, recording)
    assert "<audio" not in item(html, recording)
    assert "<audio" in item(html, kept)
    day = ENGLISH.date(pruned_at)
    assert f"The path was deleted on {day} under the retention policy." in html
    gone = await client.get(f"/recordings/{recording}")
    assert gone.status == 410 and "deleted under the retention policy" in await gone.text()
    body = await (await client.get(f"/api/calls/{call_id}")).json()
    by_id = {r["id"]: r for r in body["recordings"]}
    assert by_id[recording]["url"] is None
    assert by_id[recording]["retention"]["deleted_at"] == pruned_at.isoformat()
    assert body["path_deleted_at"] == pruned_at.isoformat()


async def test_the_cases_page_tells_when_a_statement_is_deleted(client: Client, env: Env) -> None:
    async with env.hotline.database.read() as session:
        unverified = await session.scalar(
            select(LossReport).where(LossReport.status == ReportStatus.NEEDS_VERIFICATION)
        )
        provisional = await session.scalar(
            select(LossReport).where(LossReport.status == ReportStatus.PROVISIONAL)
        )
    assert unverified is not None and unverified.statement_recording_id is not None
    assert provisional is not None and provisional.card_id is not None
    # A provisional report with a statement, lifted (closed) today: its statement's clock runs.
    made = noon(20)
    call_id = await old_call(env, made)
    statement = await env.hotline.records.add_recording(
        call_id, "statement", "recordings/statement/s.wav", 5.0, now=made
    )
    await env.hotline.records.attach_statement(provisional.id, statement)
    await env.hotline.records.lift_provisional_report(
        provisional.card_id, call_id=None, now=utcnow(), actor="staff:clerk"
    )
    assert await login(client, "clerk") == 303

    html = await (await client.get("/cases")).text()

    def row(reference: str) -> str:
        return html.split(f'id="case-{reference}"')[1].split("</tr>")[0]

    assert "kept while the loss report is open" in row(unverified.reference)
    closed = html.split('id="section-closed"')[1]
    assert provisional.reference in closed
    assert deleted_on(made, 180) in row(provisional.reference)
    cases = (await (await client.get("/api/cases")).json())["cases"]
    by_reference = {c["reference"]: c for c in cases}
    assert by_reference[unverified.reference]["statement_retention"]["held"] == "open_case"
    lifted = by_reference[provisional.reference]["statement_retention"]
    assert lifted["held"] is None and re.match(
        r"\d{4}-\d\d-\d\dT03:00:00\+08:00", lifted["deletion"]
    )


async def test_a_deleted_statement_is_no_longer_offered(client: Client, env: Env) -> None:
    async with env.hotline.database.read() as session:
        unverified = await session.scalar(
            select(LossReport).where(LossReport.status == ReportStatus.NEEDS_VERIFICATION)
        )
    assert unverified is not None and unverified.statement_recording_id is not None
    # The case closed today; its statement was recorded long ago.
    async with env.hotline.database.write() as session:
        await session.execute(
            update(LossReport)
            .where(LossReport.id == unverified.id)
            .values(status=ReportStatus.LIFTED, updated_at=utcnow())
        )
        await session.execute(
            update(Recording)
            .where(Recording.id == unverified.statement_recording_id)
            .values(created_at=noon(400))
        )
    await Retention(env.hotline.database, env.settings).prune(utcnow())
    assert await login(client, "clerk") == 303

    html = await (await client.get("/cases")).text()

    row = html.split(f'id="case-{unverified.reference}"')[1].split("</tr>")[0]
    assert "deleted on" in row and "<audio" not in row
    cases = (await (await client.get("/api/cases")).json())["cases"]
    (case,) = [c for c in cases if c["reference"] == unverified.reference]
    assert case["statement_url"] is None and case["statement_retention"]["deleted_at"]
