"""The call log: filters, search by ID number (hashed, never stored), CSV export (masked), the call
detail and its recordings, all audited."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import sys
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from ivr.store.models import AuditLogEntry, Call, LossReport, Recording
from ivr.store.types import utcnow
from tests.web.support import Client, Env, all_stored_text, csrf_token, login


async def audit_rows(env: Env, action: str) -> list[AuditLogEntry]:
    async with env.hotline.database.read() as session:
        rows = await session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == action))
        return list(rows)


async def test_filters_by_hotline_outcome_caller_and_date(client: Client) -> None:
    assert await login(client, "sup") == 303
    everything = await (await client.get("/api/calls")).json()
    assert everything["total"] == 5
    hotline = await (await client.get("/api/calls", params={"hotline": "96102"})).json()
    assert hotline["total"] == 2 and {c["hotline"] for c in hotline["calls"]} == {"96102"}
    agent = await (await client.get("/api/calls", params={"outcome": "agent"})).json()
    assert [c["caller_id"] for c in agent["calls"]] == ["02088886666"]
    caller = await (await client.get("/api/calls", params={"caller": "020"})).json()
    assert [c["caller_id"] for c in caller["calls"]] == ["02088886666"] and caller["total"] == 1
    inside = await (await client.get("/api/calls", params={"caller": "8888"})).json()
    assert inside["total"] == 0  # the first digits of a number, not any part of it
    before = await (await client.get("/api/calls", params={"to": "2000-01-01"})).json()
    assert before["total"] == 0
    paged = await (await client.get("/api/calls", params={"per_page": 2, "page": 3})).json()
    assert paged["pages"] == 3 and len(paged["calls"]) == 1
    bad = await client.get("/api/calls", params={"hotline": "110"})
    assert bad.status == 400
    page = await client.get("/calls", params={"hotline": "96102"})
    html = await page.text()
    assert page.status == 200 and html.count('<tr data-call="') == 2


async def test_search_by_full_id_number_finds_the_call_and_forgets_the_number(
    client: Client, env: Env
) -> None:
    citizen = env.citizen(0)
    assert await login(client, "sup") == 303
    token = await csrf_token(client)
    response = await client.post(
        "/calls",
        data={"csrf_token": token, "id_number": citizen.id_number, "hotline": "12333"},
        allow_redirects=False,
    )
    assert response.status == 303
    location = response.headers["Location"]
    assert citizen.id_number not in location  # the URL carries a keyed hash, never the number
    query = parse_qs(urlsplit(location).query)
    assert query["idm"] == [citizen.masked] and len(query["idh"][0]) == 64
    page = await client.get(location)
    html = await page.text()
    assert html.count('<tr data-call="') == 1 and citizen.masked in html
    assert citizen.id_number not in html
    # The same by the API: the number only in a POST body.
    found = await client.post(
        "/api/calls/search",
        json={"id_number": citizen.id_number.lower()},
        headers={"X-CSRF-Token": token},
    )
    body = await found.json()
    assert body["total"] == 1 and body["calls"][0]["id_masked"] == citizen.masked
    again = await (await client.get("/api/calls", params={"idh": body["idh"]})).json()
    assert again["total"] == 1
    # A wrong check character is explained, and not echoed back.
    wrong = citizen.id_number[:-1] + ("1" if citizen.id_number[-1] != "1" else "2")
    refused = await client.post("/calls", data={"csrf_token": token, "id_number": wrong})
    assert refused.status == 400
    text = await refused.text()
    assert "the check character does not match" in text and wrong not in text
    # Nowhere in the database, audit log included, is the clear number; the audit has it masked.
    stored = await all_stored_text(env)
    assert citizen.id_number not in stored and wrong not in stored
    searches = await audit_rows(env, "search_id")
    assert len(searches) == 2 and all(citizen.masked in row.detail for row in searches)


async def test_csv_export_is_masked_and_audited(client: Client, env: Env) -> None:
    assert await login(client, "sup") == 303
    response = await client.get("/calls.csv", params={"hotline": "12333"})
    assert response.status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = (await response.read()).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 and {r["hotline"] for r in rows} == {"12333"}
    assert env.citizen(0).masked in {r["id_masked"] for r in rows}
    for citizen in env.citizens:
        assert citizen.id_number not in text
    assert not re.search(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])", text)  # no unmasked ID at all
    exports = await audit_rows(env, "export_calls")
    assert len(exports) == 1 and exports[0].detail.startswith("3 calls; hotline=12333")
    assert exports[0].actor == "sup"


async def test_call_detail_shows_the_path_and_is_audited(client: Client, env: Env) -> None:
    async with env.hotline.database.read() as session:
        call = await session.scalar(select(Call).where(Call.hotline == "96102").limit(1))
    assert call is not None
    assert await login(client, "sup") == 303
    page = await client.get(f"/calls/{call.id}")
    html = await page.text()
    assert page.status == 200
    assert "card_services › loss_confirm" in html and "***" in html  # the password masked
    assert "statement" in html and 'src="/recordings/' in html
    detail = await (await client.get(f"/api/calls/{call.id}")).json()
    kinds = [step["kind"] for step in detail["path"]]
    assert "record" in kinds and detail["recordings"][0]["url"].startswith("/recordings/")
    assert (await client.get("/api/calls/999999")).status == 404
    views = await audit_rows(env, "view_call")
    assert [v.target for v in views] == [f"call:{call.id}"] * 2


async def test_recordings_stream_to_supervisors_and_statements_to_staff(
    client: Client, env: Env
) -> None:
    async with env.hotline.database.read() as session:
        statement = await session.scalar(
            select(Recording).join(LossReport, LossReport.statement_recording_id == Recording.id)
        )
        assert statement is not None
    assert await login(client, "sup") == 303
    response = await client.get(f"/recordings/{statement.id}")
    assert response.status == 200 and response.headers["Content-Type"] == "audio/wav"
    assert (await response.read())[:4] == b"RIFF"
    ranged = await client.get(f"/recordings/{statement.id}", headers={"Range": "bytes=100-"})
    assert ranged.status == 206  # seeking works; only the first request counts as a play
    plays = await audit_rows(env, "play_recording")
    assert len(plays) == 1 and plays[0].target == f"recording:{statement.id}"
    assert (await client.get("/recordings/999999")).status == 404
    await client.post("/logout", data={"csrf_token": await csrf_token(client)})
    assert await login(client, "clerk") == 303
    assert (await client.get(f"/recordings/{statement.id}")).status == 200


async def test_recording_paths_cannot_leave_the_data_folder(client: Client, env: Env) -> None:
    outside = env.settings.data_dir.parent / "secret.wav"
    outside.write_bytes(b"RIFF0000WAVE")
    async with env.hotline.database.write() as session:
        call = await session.scalar(select(Call).limit(1))
        assert call is not None
        row = Recording(call_id=call.id, kind="statement", path="../secret.wav", duration_s=1.0)
        session.add(row)
        await session.flush()
        recording_id = row.id
    assert await login(client, "sup") == 303
    assert (await client.get(f"/recordings/{recording_id}")).status == 404


async def cli_calls_json(env: Env) -> list[dict[str, Any]]:
    """``hotline calls --json`` against the console's database, as a tester runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ivr.cli.main",
        "calls",
        "--json",
        "--last",
        "20",
        env={
            **os.environ,
            "HOTLINE_DATA_DIR": str(env.settings.data_dir),
            "HOTLINE_DB_URL": env.settings.database_url,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, errors = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, errors.decode()
    calls: list[dict[str, Any]] = json.loads(out)
    return calls


async def test_the_cli_and_the_api_give_a_call_in_the_same_shape(client: Client, env: Env) -> None:
    printed = await cli_calls_json(env)
    assert len(printed) == 5
    assert await login(client, "sup") == 303
    page = await (await client.get("/api/calls")).json()
    listed = {call["id"]: call for call in page["calls"]}
    for call in printed:
        detail = await (await client.get(f"/api/calls/{call['id']}")).json()
        around = {"recordings", "voice_messages", "loss_reports", "path_retention"}
        assert set(detail) - set(call) == around
        assert {k: v for k, v in detail.items() if k not in around} == call
        assert call["path"] and listed[call["id"]] == {k: v for k, v in call.items() if k != "path"}


async def test_openapi_describes_the_calls_as_they_are_sent(client: Client) -> None:
    assert await login(client, "sup") == 303
    schemas = (await (await client.get("/api/openapi.json")).json())["components"]["schemas"]
    listed = (await (await client.get("/api/calls")).json())["calls"][0]
    detail = await (await client.get(f"/api/calls/{listed['id']}")).json()
    call = schemas["Call"]
    assert set(listed) == set(call["required"]) == set(call["properties"]) - {"path"}
    extra = schemas["CallDetail"]["allOf"][1]
    assert set(detail) == set(call["properties"]) | set(extra["properties"])
    assert set(detail["path"][0]) == set(schemas["Step"]["properties"])


async def test_a_call_refused_at_the_cap_is_in_the_call_log_and_the_statistics(
    client: Client, env: Env
) -> None:
    now = utcnow()
    await env.hotline.records.record_refused(
        hotline="12333",
        caller_id="13700000001",
        uniqueid="1700000001.7",
        linkedid="1700000001.7",
        channel="PJSIP/6001-00000007",
        language="zh",
        started_at=now - timedelta(seconds=5),
        ended_at=now,
        cause=17,
        cause_text="User busy",
        duration_s=5,
    )
    assert await login(client, "sup") == 303
    refused = await (await client.get("/api/calls", params={"outcome": "refused"})).json()
    assert [c["caller_id"] for c in refused["calls"]] == ["13700000001"]
    page = await (await client.get("/calls", params={"outcome": "refused"})).text()
    assert page.count('<tr data-call="') == 1 and "refused: lines busy" in page
    stats = await (await client.get("/api/stats")).json()
    assert stats["outcomes"]["12333"]["refused"] == 1
    assert "refused: lines busy" in await (await client.get("/stats")).text()
