"""The FastAGI replay benchmark works end to end (a small run; its figures are not judged here,
only that every call completed on each of the three servers and every figure was produced)."""

from __future__ import annotations

from pathlib import Path

from tests.bench.run import run_bench


def test_the_recorded_call_is_replayed_whole_against_all_three_servers(tmp_path: Path) -> None:
    command = ["--calls", "30", "--runs", "2"]
    _, result = run_bench("agi_replay.py", *command, out=tmp_path / "agi_replay.json")
    assert len(result["rounds"]) == 2
    for runs in result["rounds"]:
        assert [r["server"] for r in runs] == ["bare", "ivr.agi", "panoramisk"]
        for r in runs:
            assert r["completed"] == 30 and not r["errors"], r
            assert r["commands"] == 30 * (result["commands_per_call"] - 1)
            assert r["p99_ms"] >= r["p50_ms"] > 0 and r["calls_per_s"] > 0
            assert r["cpu_ms_per_call"] > 0 and r["ratio"]["cpu_per_call"] > 0
    assert set(result["medians"]) == {"bare", "ivr.agi", "panoramisk"}
    assert result["medians"]["bare"]["x_p50"] == 1.0
    assert set(result["python_us_per_command"]) == {"bare", "ivr.agi", "panoramisk"}
    assert all(us > 0 for us in result["python_us_per_command"].values())
