"""The console volume benchmark works end to end on both engines (a small run; its figures are
not judged here, only that every request was measured and the export was whole)."""

from __future__ import annotations

from pathlib import Path

from tests.bench.run import run_bench


def test_benchmark_seeds_both_engines_and_times_every_console_request(tmp_path: Path) -> None:
    out = tmp_path / "console_volume.json"
    _, result = run_bench(
        "console_volume.py", "--calls", "600", "--samples", "2", out=out, timeout=600
    )
    runs = {r["engine"]: r for r in result["runs"]}
    assert set(runs) == {"sqlite", "postgresql"}
    for result in runs.values():
        assert result["calls"] == 600
        assert result["export"]["complete"] and result["export"]["rows"] > 0
        names = [r["request"] for r in result["requests"]]
        assert "statistics API, 30 days" in names and "call log, ID search" in names
        assert "hotline calls --last 50 (whole process)" in names
        assert all(r["samples"] >= 2 and r["p95_ms"] > 0 for r in result["requests"])
