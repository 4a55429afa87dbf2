"""The load benchmark itself works end to end (a small run of two loads; its figures are not
judged here, only that each is measured and written)."""

from __future__ import annotations

from pathlib import Path

from tests.bench.run import run_bench


def test_benchmark_runs_both_servers_at_each_load_and_completes_every_call(
    tmp_path: Path,
) -> None:
    command = ["--calls", "8", "12", "--audio", "0", "--rate", "40"]
    run, result = run_bench("agi_load.py", *command, out=tmp_path / "agi_load.json")
    assert "bare asyncio responder" in run.stdout and "hotline serve" in run.stdout
    assert [load["calls"] for load in result["loads"]] == [8, 12]
    for load in result["loads"]:
        bare, hotline = load["runs"]
        assert (bare["server"], hotline["server"]) == ("bare asyncio responder", "hotline serve")
        assert bare["completed"] == hotline["completed"] == load["calls"]
        # every command after the first measured, the prompts in a row joined as in production
        assert hotline["commands"] >= load["calls"] * (load["commands_per_call"] - 1)
        assert load["commands_per_call"] < 20
        # every call's password was verified, as the node's own histogram counts them
        assert hotline["verifications"] == load["calls"]
        assert hotline["verify_p99_le_ms"] >= hotline["verify_p50_le_ms"] > 0
        assert hotline["during_verify_commands"] + hotline["outside_verify_commands"] > 0
        assert set(load["targets_met"]) >= {"verify_p99", "no_wait_behind_verify"}
