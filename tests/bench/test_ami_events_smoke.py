"""The AMI-events benchmark replays its recorded calls as the bridge lived them: each call shown
on the live board (the caller's ID-number caller ID masked) and gone at its hang-up, its record
completed with the caller's cause. Its figures are measured, not judged here."""

from __future__ import annotations

from pathlib import Path

from tests.bench.run import run_bench

ID_NUMBER = "11010519491231002X"  # the loss-report caller's number (a SIP account so named)


def test_benchmark_replays_the_recorded_calls_through_the_bridge(tmp_path: Path) -> None:
    out = tmp_path / "ami_events.json"
    command = ["--rounds", "2", "--repetitions", "3", "--label", "smoke"]
    run, written = run_bench("ami_events.py", *command, out=out)
    result = written["runs"]["smoke"]
    calls = result["calls"]
    assert set(calls) == {"balance_call.ami", "loss_report_call.ami"}
    for name, hotline, caller_id, uniqueid in [
        ("balance_call.ami", "12333", "13800000001", "1764580000.42"),
        ("loss_report_call.ami", "96102", "110105********002X", "1764580100.43"),
    ]:
        call = calls[name]
        assert call["events"] > 40 and len(call["path_us"]) == 2
        replay = call["replay"]
        assert replay["shown"][-1] == {"hotline": hotline, "caller_id": caller_id, "state": "Up"}
        assert replay["ended"] == [{"cause": 16, "cause_text": "Normal Clearing"}]
        assert replay["channels_left"] == 0 and replay["on_board_after"] == 0
        [record] = replay["records"]
        assert record["uniqueid"] == uniqueid and record["cause"] == 16
        assert 0 < record["billsec"] < record["duration_s"]
        assert call["us_per_call"] > call["baseline_us_per_call"] > 0
    assert result["ratio"] > 1
    assert ID_NUMBER not in out.read_text() + run.stdout + run.stderr
