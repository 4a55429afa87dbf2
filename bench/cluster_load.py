"""The cluster against one node, in the same run: concurrent SIP balance checks through Kamailio.

For 1 node, then 2 (``hotline cluster up --nodes N`` in one data folder, so the prompts are built
once), sipp callers (RFC 2833 DTMF, one per call, through the proxy) place ``--calls`` balance
checks ``--spacing`` seconds apart. Reported per run: calls placed, completed (the record says
served), failed, the most calls held at once (from the records), and calls completed per second
over the run (first answer to last end); then the 2-node figures as ratios of the 1-node ones.

On one 2-core machine both nodes share the same CPUs: the ratio shows what the proxy and a
second node cost or gain here, not what two machines would. Results: ``bench/results/
cluster_load.json``.

    .venv/bin/python bench/cluster_load.py --calls 30 --spacing 0.3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.store import models  # noqa: E402
from tests.cluster.kit import running_cluster  # noqa: E402
from tests.cluster.load import Wave, citizens  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "cluster_load.json"
NETWORK = "127.0.5.0"


def held_at_once(rows: list[models.Call]) -> int:
    """The most calls open at the same moment."""
    edges: list[tuple[datetime, int]] = []
    for row in rows:
        if row.ended_at is not None:
            edges += [(row.started_at, 1), (row.ended_at, -1)]
    held = most = 0
    for _, change in sorted(edges):
        held += change
        most = max(most, held)
    return most


async def run(folder: Path, nodes: int, calls: int, spacing: float) -> dict[str, float]:
    async with running_cluster(folder, nodes=nodes, network=NETWORK) as cluster:
        wave = Wave(cluster, f"bench-{nodes}-node")
        for citizen in await citizens(cluster, calls):
            await wave.balance_check(citizen)
            await asyncio.sleep(spacing)
        sipp = await wave.finish(600)
        rows = await wave.settled(120)
    ended = [r for r in rows if r.ended_at is not None]
    span = (
        (max(r.ended_at for r in ended) - min(r.started_at for r in ended)).total_seconds()  # type: ignore[type-var]
        if ended
        else 0.0
    )
    completed = sum(1 for r in rows if r.outcome == "served")
    return {
        "nodes": nodes,
        "placed": len(wave.placed),
        "completed": completed,
        "failed": len(wave.placed) - sipp.get("ok", 0) + (len(wave.placed) - len(rows)),
        "held_at_once": held_at_once(rows),
        "seconds": round(span, 1),
        "calls_per_second": round(completed / span, 3) if span else 0.0,
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=0.3, help="seconds between two calls")
    parser.add_argument("--data", type=Path, default=ROOT / "test-output" / "bench-cluster")
    args = parser.parse_args()
    folder = args.data.resolve() / "var"
    runs = []
    for nodes in (1, 2):  # each run brings its cluster down, whatever happens
        runs.append(await run(folder, nodes, args.calls, args.spacing))
        print(json.dumps(runs[-1]))
    one, two = runs
    ratios = {
        key: round(two[key] / one[key], 2) if one[key] else None
        for key in ("completed", "held_at_once", "calls_per_second")
    }
    report = {"calls": args.calls, "spacing": args.spacing, "runs": runs, "two_over_one": ratios}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'nodes':>5} {'placed':>6} {'completed':>9} {'failed':>6} {'held':>5} {'calls/s':>8}")
    for r in runs:
        print(
            f"{r['nodes']:>5} {r['placed']:>6} {r['completed']:>9} {r['failed']:>6} "
            f"{r['held_at_once']:>5} {r['calls_per_second']:>8}"
        )
    print(f"2 nodes / 1 node: {ratios}")
    return 0 if all(r["failed"] == 0 for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
