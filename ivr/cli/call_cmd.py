"""``hotline call 12333|96102 --keys "..."``: a scripted test call through the running Asterisk.

The call is placed with AMI over a Local channel and keys each entry when the flow waits for
input (the simulator's ``--keys`` format); when the call ends its record is printed as
``hotline calls`` prints it. Exit status: 0 the flow ran, 1 the call did not connect (or AMI is
unreachable), 2 the call connected but no call record was written (is ``hotline serve`` up?).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from ivr.ami.client import AMIClient
from ivr.ami.errors import AMIError
from ivr.ami.keys import parse_keys
from ivr.ami.scripted_call import LOCAL_CONTEXT, ScriptedCall, ScriptedCallResult
from ivr.cli.calls_cmd import format_call
from ivr.config import Settings
from ivr.domain.hotlines import HOTLINES
from ivr.domain.idnumber import mask_ids_in_text
from ivr.store.database import open_database
from ivr.store.records import CallSummary, Records

RECORD_WAIT_S = 5.0  # how long the flow and the bridge may take to write the end of the record


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "call", help="place a scripted test call through Asterisk (AMI) and print its record"
    )
    parser.add_argument("hotline", choices=HOTLINES)
    parser.add_argument(
        "--keys",
        default="",
        help='one entry per input, "-" for silence, seconds of speech for a recording, '
        'e.g. "1,11010519491231002*#,231002#,1"',
    )
    parser.add_argument("--caller", default="13800000000", help="the calling number")
    parser.add_argument("--context", default=LOCAL_CONTEXT, help="dialplan context to call into")
    parser.add_argument("--timeout", type=float, default=300.0, help="longest call, seconds")
    parser.add_argument(
        "--stay", action="store_true", help="stay on the line when the keys run out"
    )
    parser.add_argument("--trace", action="store_true", help="print each AGI command as it runs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    entries = parse_keys(args.keys)
    return asyncio.run(call(settings, args, entries))


async def call(settings: Settings, args: argparse.Namespace, entries: list[str]) -> int:
    client = AMIClient.from_settings(settings)
    try:
        await client.connect()
    except AMIError as exc:
        print(f"hotline call: {exc} (is Asterisk running? `hotline up`)")
        return 1
    try:
        result = await ScriptedCall(
            client,
            args.hotline,
            entries,
            redact=mask_ids_in_text,
            context=args.context,
            caller_number=args.caller,
            timeout=args.timeout,
            hang_up_when_done=not args.stay,
            trace=print if args.trace else None,
        ).run()
    finally:
        await client.close()
    if not result.connected:
        print(f"hotline call: {result.failure or 'the call did not connect'}")
        return 1
    summary = await _record(settings, result)
    print(_result_line(result))
    if summary is None:
        print("no call record: the flow did not run (is `hotline serve` running?)")
        return 2
    print(format_call(summary))
    return 0


def _result_line(result: ScriptedCallResult) -> str:
    line = (
        f"call {result.hotline_uniqueid}: {len(result.commands)} AGI commands, "
        f"{result.inputs_taken} entries keyed"
    )
    if result.entries_left:
        line += f", {len(result.entries_left)} not used"
    if result.hangup_cause is not None:
        line += f"; hung up: cause {result.hangup_cause} ({result.hangup_cause_text})"
    if result.failure:
        line += f"; {result.failure}"
    return line


async def _record(settings: Settings, result: ScriptedCallResult) -> CallSummary | None:
    """The call's record once the flow and the bridge have written its end.

    Without a bridge running (``hotline serve`` without AMI), the hang-up facts this command saw
    itself are written, so the record is complete either way.
    """
    if not result.ran_flow:
        return None
    database = await open_database(settings.database_url)
    try:
        records = Records(database)
        deadline = time.monotonic() + RECORD_WAIT_S
        summary = await _find(records, result)
        while summary is None or summary.ended_at is None or summary.hangup_cause is None:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.25)
            summary = await _find(records, result)
        if summary is not None and summary.hangup_cause is None and result.hangup_cause:
            await records.complete_hangup(
                result.hotline_uniqueid,
                cause=result.hangup_cause,
                cause_text=result.hangup_cause_text,
                duration_s=result.duration_s,
                billsec=result.billsec,
            )
            summary = await records.call_detail(summary.id)
        return summary
    finally:
        await database.close()


async def _find(records: Records, result: ScriptedCallResult) -> CallSummary | None:
    if result.call_id is not None:
        return await records.call_detail(result.call_id)
    recent = await records.recent_calls(limit=50, hotline=result.number)
    return next((c for c in recent if c.uniqueid == result.hotline_uniqueid), None)
