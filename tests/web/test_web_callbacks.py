"""The call-back work queue: each voice message a task, due when the prompt promised, taken by one
person, called back, closed; every step audited, a count on the live page."""

from __future__ import annotations

import os
import re
import time
import wave
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from ivr.domain.callbacks import (
    CALLBACK_WORKING_DAYS,
    callback_due,
    callback_due_day,
    mask_phone,
)
from ivr.domain.clock import BEIJING
from ivr.domain.workdays import shipped_calendar
from ivr.runtime.dialplan_messages import DialplanMessages
from ivr.speech.catalog import Catalog
from ivr.store.models import AuditLogEntry
from ivr.store.types import utcnow
from tests.web.support import Client, Env, csrf_token, login

NUMBER = "13912345678"
_WORDS = {3: ("三", "three"), 5: ("五", "five")}


async def left_message(env: Env, made: datetime, number: str = NUMBER) -> tuple[int, int]:
    """A voice message left at ``made``: (its task id, its recording id)."""
    records = env.hotline.records
    call_id = (
        await records.start_call("12333", "1390", f"v-{made:%s%f}", "PJSIP/x", "zh", made)
    ).call_id
    relative = f"recordings/voice_message/{call_id}.wav"
    file = env.settings.data_dir / relative
    file.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(file), "wb") as audio:  # a second of silence, 8 kHz as Asterisk's
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 8000)
    recording_id = await records.add_recording(call_id, "voice_message", relative, 4.0, now=made)
    task_id = await records.add_voice_message(call_id, recording_id, number, now=made)
    return task_id, recording_id


async def audit_of(env: Env, prefix: str) -> list[tuple[str, str, str, str]]:
    async with env.hotline.database.read() as session:
        rows = await session.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.action.startswith(prefix))
            .order_by(AuditLogEntry.id)
        )
        return [(r.action, r.actor, r.target, r.detail) for r in rows]


def row(html: str, task_id: int) -> str:
    return html.split(f'id="task-{task_id}"')[1].split("</tr>")[0]


async def step(client: Client, task_id: int, name: str, **form: str) -> int:
    data = {"csrf_token": await csrf_token(client), **form}
    response = await client.post(f"/callbacks/{task_id}/{name}", data=data, allow_redirects=False)
    return response.status


def test_the_due_time_is_what_the_prompt_promises(catalog: Catalog) -> None:
    chinese, english = _WORDS[CALLBACK_WORKING_DAYS]
    assert f"{chinese}个工作日内" in catalog.text("zh", "message_thanks")
    assert f"within {english} working days" in catalog.text("en", "message_thanks")


def test_a_task_is_due_at_the_end_of_the_third_working_day() -> None:
    calendar = shipped_calendar()
    friday = datetime(2026, 3, 6, 17, 30, tzinfo=BEIJING)  # Mon 9, Tue 10, Wed 11
    assert callback_due_day(friday, calendar) == date(2026, 3, 11)
    assert callback_due(friday, calendar) == datetime(2026, 3, 12, tzinfo=BEIJING)
    # Left on the last evening before the National Day holiday (Oct 1-7 off): Thu 8, Fri 9 and
    # the make-up working Saturday 10.
    before = datetime(2026, 9, 30, 15, 0, tzinfo=UTC)  # 23:00 in Beijing, still the 30th
    assert callback_due(before, calendar) == datetime(2026, 10, 11, tzinfo=BEIJING)


def test_the_queue_masks_a_number() -> None:
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("02088886666") == "020****6666"
    assert mask_phone("12345") == "***45"


async def test_staff_work_a_task_to_the_end_and_every_step_is_audited(
    env: Env, client: Client
) -> None:
    left = utcnow() - timedelta(hours=1)
    task_id, recording_id = await left_message(env, left)
    assert await login(client, "clerk") == 303
    html = await (await client.get("/callbacks")).text()
    mine = row(html, task_id)
    due = callback_due_day(left, env.hotline.calendar)
    assert f'class="due" data-date="{due.isoformat()}"' in mine
    assert "139****5678" in mine and NUMBER not in html  # masked until someone takes it
    assert 'data-status="new"' in mine and "overdue" not in mine
    assert f'src="/recordings/{recording_id}"' in mine
    assert (await client.get(f"/recordings/{recording_id}")).status == 200  # staff may listen

    assert await step(client, task_id, "take") == 303
    html = await (await client.get("/callbacks")).text()
    assert NUMBER in row(html, task_id) and "taken by clerk" in row(html, task_id)

    # Someone else cannot record a call-back on it, nor take it again.
    other = await env.client()
    try:
        await login(other, "sup")
        assert NUMBER not in await (await other.get("/callbacks")).text()
        assert await step(other, task_id, "take") == 409
        assert await step(other, task_id, "called-back", result="reached") == 409
    finally:
        await other.close()

    assert await step(client, task_id, "called-back", result="bogus") == 400
    assert await step(client, task_id, "called-back", result="no_answer") == 303
    assert await step(client, task_id, "called-back", result="reached", note="asked about") == 303
    assert await step(client, task_id, "close") == 303
    html = await (await client.get("/callbacks")).text()
    closed = html.split('id="section-closed"')[1]
    assert f'id="task-{task_id}"' in closed and "reached the caller" in row(closed, task_id)
    assert "139****5678" in row(closed, task_id) and NUMBER not in html
    assert await step(client, task_id, "close") == 409  # closed is closed

    target = f"task:{task_id}"
    assert [(a, who, t) for a, who, t, _ in await audit_of(env, "callback_")] == [
        ("callback_take", "clerk", target),
        ("callback_take", "sup", target),
        ("callback_called-back", "sup", target),
        ("callback_called-back", "clerk", target),
        ("callback_called-back", "clerk", target),
        ("callback_close", "clerk", target),
        ("callback_close", "clerk", target),
    ]
    details = [d for *_, d in await audit_of(env, "callback_")]
    assert details[1].startswith("refused") and details[-1].startswith("refused")
    assert details[4] == "result reached: asked about"
    assert all(NUMBER not in d for d in details)


async def test_an_overdue_task_is_highlighted_and_counted_on_the_live_page(
    env: Env, client: Client
) -> None:
    late, _ = await left_message(env, utcnow() - timedelta(days=10))
    fresh, _ = await left_message(env, utcnow() - timedelta(minutes=5), number="02088886666")
    await login(client, "sup")
    html = await (await client.get("/callbacks")).text()
    assert row(html, late).startswith(' class="task new overdue"')
    assert "overdue" not in row(html, fresh)
    assert re.search(r'id="overdue-count">1<', html) and re.search(r'id="open-count">2<', html)
    live = await (await client.get("/live")).text()
    count = live.split('id="callback-count"')[1].split("</a>")[0]
    assert '<span class="n">2</span>' in count and "1 overdue" in count
    assert "overdue" in live.split('id="callback-count"')[0].rsplit("<a", 1)[1]


async def test_a_message_left_while_no_hotline_ran_is_a_task_and_a_call_in_the_console(
    env: Env, client: Client
) -> None:
    """The dialplan recorded a message for a call no hotline process took (none ran): the node's
    sweep, once it runs again, makes it a call of its own, found in the log and the queue."""
    folder = env.settings.recordings_dir
    folder.mkdir(parents=True, exist_ok=True)
    message = folder / "message-96102-1764600000.5.wav"
    with wave.open(str(message), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\1\0" * 8000 * 3)
    left = time.time() - 3 * 3600
    os.utime(message, (left, left))
    sweep = DialplanMessages(
        env.hotline.records, folder, env.settings.data_dir, archive=False
    )  # as the node's own, which sweeps at start and every 30 s
    assert await sweep.sweep() == 1

    assert await login(client, "sup") == 303
    found = await (await client.get("/api/calls", params={"outcome": "voice_message"})).json()
    (call,) = [c for c in found["calls"] if c["uniqueid"] == "1764600000.5"]
    assert (call["hotline"], call["caller_id"], call["language"]) == ("96102", "", "zh")
    detail = await (await client.get(f"/api/calls/{call['id']}")).json()
    (recording,) = detail["recordings"]
    assert recording["kind"] == "voice_message" and recording["duration_s"] == 3.0
    html = await (await client.get("/callbacks")).text()
    (task_id,) = re.findall(rf'id="task-(\d+)"[^>]*>(?:(?!</tr>).)*?call {call["id"]}<', html, re.S)
    mine = row(html, int(task_id))
    assert 'data-status="new"' in mine and f'src="/recordings/{recording["id"]}"' in mine
    due = callback_due_day(datetime.fromtimestamp(left, UTC), env.hotline.calendar)
    assert f'data-date="{due.isoformat()}"' in mine  # due from when it was left
    assert (await client.get(f"/recordings/{recording['id']}")).status == 200
