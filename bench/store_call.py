"""The database work of one call, alone: what the call's store calls cost.

One call's store work, as the runner and the flow's actions do it (``CallRunner.run`` opens and
closes the record, ``HotlineActions`` does the rest): the call's start with the caller's
remembered language (none is remembered for the bench's numbers, as for most callers), the ID
check, the password check (claim, verification, settling; the verification itself is stubbed
out: argon2id is measured elsewhere), then what the call is for, and the call's end with its
steps and rollups. ``--call balance`` (default): a 12333 call for the pension balance (its query
logged). ``--call loss``: a 96102 call reporting the card lost by phone (the card looked up, the
provisional report: the card stopped, the report and its history line written; no statement
recorded); between two calls the card is put back in use by a plain ``sqlite3`` connection of
its own, neither timed nor counted. Calls run one after another on one SQLite file (WAL, as the
node opens it), after a warm-up; no AGI, no engine, no Asterisk.

Reported per call: transactions begun (SQLAlchemy's ``begin`` event on the store's own engine,
which the SQLite worker engine's transactions reach too), hops to other threads and back: requests
to aiosqlite's connection threads (``Connection._execute``) and functions handed to a thread pool
(the loop's ``run_in_executor``: the store's SQLite threads, ``Database.run_write``), event-loop
thread CPU (``time.thread_time`` on the loop's thread), the rest of the process's CPU (the
database's threads, mostly), and wall time; each summed over the calls alone.

The script measures the tree it sits in (its parent folder comes first on ``sys.path``). To
compare with an earlier commit, run a copy of it placed in that commit's tree, its ``one_call``
opening the call as that tree's runner does (before the remembered language came with the
start, ``start_call`` returned the id and the greeting's ``recall_language`` read the language):

    git archive BASE | tar -x -C /tmp/base && cp bench/store_call.py /tmp/base/bench/
    .venv/bin/python /tmp/base/bench/store_call.py --label before --out before.json
    .venv/bin/python bench/store_call.py --label after --out after.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosqlite.core  # noqa: E402
from sqlalchemy import event  # noqa: E402

from ivr.config import Settings  # noqa: E402
from ivr.domain.callers import LanguageMemory  # noqa: E402
from ivr.domain.cards import CardStatus  # noqa: E402
from ivr.domain.retention import RetentionPolicy  # noqa: E402
from ivr.engine.context import CallContext  # noqa: E402
from ivr.flows.actions import HotlineActions, Services  # noqa: E402
from ivr.speech.catalog import LANGUAGES  # noqa: E402
from ivr.store.database import open_database, upgrade_database  # noqa: E402
from ivr.store.records import Records, StepRecord  # noqa: E402
from ivr.store.seed import DemoCitizen, seed_demo  # noqa: E402

KEY = b"bench-key"
STEPS = 30  # a call's steps (prompts, keys, actions), written with its end
Kind = Literal["balance", "loss"]
# What each call is for: its line, the node it ends on, and what the flow's actions do.
LINES = {
    "balance": ("12333", "12333:query_menu"),
    "loss": ("96102", "card_services:loss_reference"),
}


class RightPassword:
    """The password verifier without argon2id: every password is right, at once."""

    crowded = False

    async def verify(self, stored_hash: str, password: str) -> bool:
        return True


async def one_call(
    records: Records, actions: HotlineActions, citizen: DemoCitizen, n: int, kind: Kind
) -> None:
    """The store work of one call, in the order the call does it."""
    hotline, last_node = LINES[kind]
    started = datetime.now(UTC)
    ctx = CallContext(
        hotline=hotline, caller_id=f"1380000{n % 10000:04d}", uniqueid=f"1700000000.{n}"
    )
    opened = await records.start_call(  # with the remembered language, as the runner does
        hotline=ctx.hotline,
        caller_id=ctx.caller_id,
        uniqueid=ctx.uniqueid,
        channel="PJSIP/bench-00000001",
        language=ctx.language,
        started_at=started,
        recall=actions.services.languages.recall(ctx.caller_id, started),
    )
    ctx.call_id = opened.call_id
    if opened.remembered_language in LANGUAGES:
        ctx.language = opened.remembered_language
    await actions.recall_language(ctx, {})
    assert await actions.check_resident_id(ctx, citizen.id_number) is None
    assert await actions.check_password(ctx, citizen.initial_password) is None
    if kind == "balance":
        assert await actions.pension_balance(ctx, {}) == "ok"
    else:
        assert await actions.card_for_loss(ctx, {}) == "ok"
        assert await actions.report_loss(ctx, {}) == "ok"
    await records.settle()
    ended = datetime.now(UTC)
    steps = [
        StepRecord(
            seq=i, at=started + timedelta(milliseconds=i), node=f"{hotline}:main", kind="say"
        )
        for i in range(STEPS)
    ]
    await records.finish_call(
        ctx.call_id,
        ended_at=ended,
        outcome="served",
        last_node=last_node,
        next_action=None,
        language=ctx.language,
        id_hash=ctx.id_hash,
        id_masked=ctx.id_masked,
        steps=steps,
    )


def card_back_in_use(path: Path) -> None:
    """Every card in normal use again and its reports lifted, behind the store's back (a plain
    connection: no transaction counted, nothing timed), so that the next loss call can report."""
    with sqlite3.connect(path, timeout=30) as connection:
        connection.execute(
            "UPDATE cards SET status = 'normal', settlement_stopped_at = NULL"
            " WHERE status = 'provisionally_lost'"
        )
        connection.execute("UPDATE loss_reports SET status = 'lifted' WHERE status = 'provisional'")
    connection.close()


async def run(calls: int, warmup: int, folder: Path, kind: Kind) -> dict[str, Any]:
    path = folder / "hotline.db"
    url = f"sqlite:///{path}"
    await upgrade_database(url)
    db = await open_database(url)
    transactions = 0

    def begun(*_: object) -> None:
        nonlocal transactions
        transactions += 1

    event.listen(db.engine.sync_engine, "begin", begun)
    requests = 0  # requests queued to aiosqlite's connection threads (each a thread hop)
    queue = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal requests
        requests += 1
        return await queue(self, fn, *args, **kwargs)

    aiosqlite.core.Connection._execute = counted  # type: ignore[method-assign]
    handed_off = 0  # functions run on a thread pool's thread (the store's: one a transaction)
    loop = asyncio.get_running_loop()
    hand_off = loop.run_in_executor

    def counted_hand_off(executor: Any, fn: Any, *args: Any) -> Any:
        nonlocal handed_off
        handed_off += 1
        return hand_off(executor, fn, *args)

    loop.run_in_executor = counted_hand_off  # type: ignore[method-assign]
    records = Records(db)
    settings = Settings.load(env={"HOTLINE_ID_HASH_KEY": "bench"}, data_dir=folder)
    languages = LanguageMemory(KEY, RetentionPolicy.from_settings(settings))
    verifier: Any = RightPassword()
    services = Services(records, settings, KEY, verifier=verifier, languages=languages)
    actions = HotlineActions(services)
    seeded = await seed_demo(db, citizens=20, seed=3, key=KEY, today=date.today())
    citizens = [c for c in seeded if c.card_status is CardStatus.NORMAL]
    per_call_loop: list[float] = []
    wall = process_cpu = 0.0
    try:
        for n in range(warmup + calls):
            if n == warmup:
                transactions = requests = handed_off = 0
            if kind == "loss":
                card_back_in_use(path)
            wall_started, cpu_started, loop_started = (
                time.perf_counter(),
                time.process_time(),
                time.thread_time(),
            )
            await one_call(records, actions, citizens[n % len(citizens)], n, kind)
            if n >= warmup:
                per_call_loop.append(time.thread_time() - loop_started)
                process_cpu += time.process_time() - cpu_started
                wall += time.perf_counter() - wall_started
        loop_cpu = sum(per_call_loop)
    finally:
        await records.close()
    return {
        "call": kind,
        "calls": calls,
        "transactions_per_call": transactions / calls,
        "round_trips_per_call": (requests + handed_off) / calls,  # hops to a thread and back
        "aiosqlite_requests_per_call": requests / calls,
        "thread_hand_offs_per_call": handed_off / calls,
        "loop_cpu_ms_per_call": 1000 * loop_cpu / calls,
        "loop_cpu_ms_per_call_median": 1000 * statistics.median(per_call_loop),
        "other_threads_cpu_ms_per_call": 1000 * (process_cpu - loop_cpu) / calls,
        "wall_ms_per_call": 1000 * wall / calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--call", choices=("balance", "loss"), default="balance")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--label", default="", help="what tree was measured (in the output)")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = asyncio.run(run(args.calls, args.warmup, Path(folder), args.call))
    result = {"label": args.label, **result}
    print(json.dumps(result, indent=2))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
