"""The store-work benchmark runs a few balance calls and measures each figure (not judged here:
``tests/calls/test_store_work.py`` counts a real call's transactions)."""

from __future__ import annotations

from pathlib import Path

from tests.bench.run import run_bench


def test_benchmark_measures_the_store_work_of_a_few_balance_calls(tmp_path: Path) -> None:
    command = ["--calls", "5", "--warmup", "1", "--label", "smoke"]
    _, result = run_bench("store_call.py", *command, out=tmp_path / "store_call.json")
    assert result["label"] == "smoke" and result["calls"] == 5
    assert result["transactions_per_call"] >= 1 and result["round_trips_per_call"] >= 1
    assert result["loop_cpu_ms_per_call"] > 0 and result["wall_ms_per_call"] > 0
