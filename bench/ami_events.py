"""The AMI bridge's CPU per call: recorded calls' AMI events through the bridge's whole event path.

Each transcript (``tests/ami/transcripts/balance_call.ami``, ``loss_report_call.ami``: what
Asterisk 22 sends the hotline's AMI user for one call) is replayed as the client reads it off the
socket, without a socket: framing, the check that drops events nobody reads, ``parse_message``,
routing to the subscribers, the bridge's masking of what it takes from AMI, the reducer, the live
board (``LiveBoard.publish``, the node's live channels) and the hang-up recorder completing the
call's record (its store an in-memory stand-in: the database is measured elsewhere).

Reported: CPU microseconds per call (``time.process_time``; the median of ``--rounds`` rounds of
``--repetitions`` replays each), and in the same rounds a baseline, the same bytes only framed
(``Framer.feed``), so that ``ratio`` (path / baseline) holds on a busy shared machine where the
microseconds alone move with the neighbours. The first replay of each call is checked against the
call it records (the bridge ends with no channel left, the live board showed the call and saw it
end with the caller's cause, the record was completed), so a faster path that changed what the
bridge does fails here.

The result is kept under ``--label`` in ``--out`` (other labels there are kept), so a run before a
change and one after it sit in one file. The script measures the tree it sits in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.ami.bridge import AMIBridge  # noqa: E402
from ivr.ami.client import AMIClient  # noqa: E402
from ivr.ami.hangups import HangupRecorder  # noqa: E402
from ivr.ami.protocol import Framer  # noqa: E402
from ivr.live.board import LiveBoard  # noqa: E402
from ivr.live.events import ChannelChanged, ChannelEnded, LiveEvent  # noqa: E402

TRANSCRIPTS = ROOT / "tests" / "ami" / "transcripts"
CALLS = ("balance_call.ami", "loss_report_call.ami")
WALL = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class MemoryRecords:
    """The hang-up store, in memory: what the bridge asked to write."""

    hangups: list[dict[str, Any]] = field(default_factory=list)

    async def complete_hangup(self, uniqueid: str, **facts: Any) -> bool:
        self.hangups.append({"uniqueid": uniqueid, **facts})
        return True

    async def record_refused(self, **facts: Any) -> int:
        raise AssertionError("the recorded calls are not refused")


class Replay:
    """One bridge with its client (never connected), live board and records, fed recorded bytes."""

    def __init__(self, publish: Callable[[LiveEvent], None] | None = None) -> None:
        self.client = AMIClient("127.0.0.1", 0, "bench", "bench")
        self.board = LiveBoard(clock=lambda: WALL)
        self.records = MemoryRecords()
        ticks = iter(range(1 << 62))  # one second per event: calls have lengths
        self.bridge = AMIBridge(
            self.client,
            publish=publish or self.board.publish,
            hangups=HangupRecorder(self.records),  # type: ignore[arg-type]
            clock=lambda: float(next(ticks)),
            wall=lambda: WALL,
        )
        self.bridge.start()  # the client is not connected: no listing is asked for

    async def call(self, data: bytes) -> None:
        """The bytes as the client's reader takes them off the socket, then the record's update."""
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        await self.client._read(reader)  # the client's own read loop, a socket's bytes given
        await self.bridge.settle()


def events_of(data: bytes) -> bytes:
    """A transcript without its banner line: what comes after the login."""
    return data.partition(b"\r\n")[2]


async def first_replay(data: bytes) -> dict[str, Any]:
    """What one replay of the call did: what the live board was told and what was recorded."""
    told: list[LiveEvent] = []
    replay: Replay

    def publish(event: LiveEvent) -> None:
        told.append(event)
        replay.board.publish(event)

    replay = Replay(publish)
    await replay.call(data)
    shown = [e for e in told if isinstance(e, ChannelChanged)]
    ended = [e for e in told if isinstance(e, ChannelEnded)]
    return {
        "channels_left": len(replay.bridge.channels),
        "on_board_after": len(replay.board.current().calls),
        "shown": [
            {"hotline": e.hotline, "caller_id": e.caller_id, "state": e.state} for e in shown
        ],
        "ended": [{"cause": e.cause, "cause_text": e.cause_text} for e in ended],
        "records": replay.records.hangups,
    }


def verify(name: str, replay: dict[str, Any]) -> None:
    """The replay did what the recorded call did, or the numbers measure something else."""
    ended = replay["ended"]
    if replay["channels_left"] or replay["on_board_after"] or not replay["shown"]:
        raise RuntimeError(f"{name}: the call did not come and go on the live board: {replay}")
    if len(ended) != 1 or ended[0]["cause"] != 16 or len(replay["records"]) != 1:
        raise RuntimeError(f"{name}: the caller's hang-up was not recorded: {replay}")


async def cpu_per_call(data: bytes, repetitions: int) -> tuple[float, float]:
    """CPU microseconds per call: the bridge's whole path, and the bytes only framed."""
    replay = Replay()
    await replay.call(data)  # warm: the first call builds what later ones reuse
    start = time.process_time()
    for _ in range(repetitions):
        await replay.call(data)
    path = time.process_time() - start
    start = time.process_time()
    for _ in range(repetitions):
        Framer().feed(data)
    framing = time.process_time() - start
    return path / repetitions * 1e6, framing / repetitions * 1e6


async def bench(rounds: int, repetitions: int) -> dict[str, Any]:
    calls: dict[str, Any] = {}
    for name in CALLS:
        data = events_of((TRANSCRIPTS / name).read_bytes())
        calls[name] = {
            "events": len(Framer().feed(data)),
            "bytes": len(data),
            "replay": await first_replay(data),
            "path_us": [],
            "framing_us": [],
        }
        verify(name, calls[name]["replay"])
    for _ in range(rounds):
        for name in CALLS:  # the calls alternate: a neighbour's burst falls on both
            data = events_of((TRANSCRIPTS / name).read_bytes())
            path, framing = await cpu_per_call(data, repetitions)
            calls[name]["path_us"].append(round(path, 2))
            calls[name]["framing_us"].append(round(framing, 2))
    for call in calls.values():
        call["us_per_call"] = round(statistics.median(call["path_us"]), 1)
        call["baseline_us_per_call"] = round(statistics.median(call["framing_us"]), 2)
        call["ratio"] = round(call["us_per_call"] / call["baseline_us_per_call"], 2)
    mean = statistics.mean(c["us_per_call"] for c in calls.values())
    baseline = statistics.mean(c["baseline_us_per_call"] for c in calls.values())
    return {
        "rounds": rounds,
        "repetitions": repetitions,
        "python": platform.python_version(),
        "us_per_call": round(mean, 1),
        "baseline_us_per_call": round(baseline, 2),
        "ratio": round(mean / baseline, 2),
        "calls": calls,
    }


def report(label: str, result: dict[str, Any], runs: dict[str, Any]) -> None:
    print(f"{'call':<24}{'events':>7}{'us/call':>10}{'framing us':>12}{'ratio':>8}")
    for name, call in result["calls"].items():
        print(
            f"{name:<24}{call['events']:>7}{call['us_per_call']:>10.1f}"
            f"{call['baseline_us_per_call']:>12.2f}{call['ratio']:>8.2f}"
        )
    print(f"{label}: {result['us_per_call']:.1f} us per call, {result['ratio']:.2f} x framing")
    for other, run in runs.items():
        if other != label:
            us, ratio = run["us_per_call"], run["ratio"]
            print(
                f"  vs {other}: {us:.1f} us ({result['us_per_call'] / us:.2f} x), "
                f"ratio {ratio:.2f} ({result['ratio'] / ratio:.2f} x)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15, help="rounds, median taken (15)")
    parser.add_argument("--repetitions", type=int, default=200, help="replays a round (200)")
    parser.add_argument("--label", default="run", help="the run's name in --out (before, after)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ami_events.json")
    args = parser.parse_args()
    result = asyncio.run(bench(args.rounds, args.repetitions))
    runs = json.loads(args.out.read_text())["runs"] if args.out.exists() else {}
    runs[args.label] = result
    report(args.label, result, runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runs": runs}, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
