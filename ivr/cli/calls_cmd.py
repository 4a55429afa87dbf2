"""``hotline calls``: the call log for supervisors, each call with its outcome and path.

``--json`` prints each call in the shape the console's API gives it (``ivr.store.serialize``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from ivr.config import Settings
from ivr.domain.hotlines import HOTLINES
from ivr.store.database import open_database
from ivr.store.records import CallSummary, Records
from ivr.store.serialize import call_json


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("calls", help="show the latest calls with outcome and path")
    parser.add_argument("--last", type=int, default=10, help="how many calls (default 10)")
    parser.add_argument("--hotline", choices=HOTLINES)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    calls = asyncio.run(_recent(settings, args.last, args.hotline))
    if args.json:
        print(json.dumps([call_json(call) for call in calls], ensure_ascii=False, indent=2))
        return 0
    if not calls:
        print("no calls yet")
    for call in calls:
        print(format_call(call))
    return 0


async def _recent(settings: Settings, last: int, hotline: str | None) -> list[CallSummary]:
    database = await open_database(settings.database_url)
    try:
        return await Records(database).recent_calls(limit=last, hotline=hotline)
    finally:
        await database.close()


def format_call(call: CallSummary) -> str:
    ended = call.ended_at.strftime("%H:%M:%S") if call.ended_at else "in progress"
    head = (
        f"#{call.id} {call.hotline} {call.started_at:%Y-%m-%d %H:%M:%S}-{ended} "
        f"from {call.caller_id or '-'} [{call.language}] outcome={call.outcome or '-'}"
        f" next={call.next_action or '-'} id={call.id_masked or '-'}"
    )
    if call.hangup_cause:
        head += f" cause={call.hangup_cause}"
    path = " > ".join(
        f"{step.node.split(':', 1)[-1]}" + (f"[{step.key}]" if step.key else "")
        for step in call.path
        if step.kind in ("input", "no_input", "no_match", "hangup", "end")
    )
    return f"{head}\n    {path or '(no steps)'}"
