"""The store-work benchmark runs a few balance calls and measures each figure (not judged here:
``tests/calls/test_store_work.py`` counts a real call's transactions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_measures_the_store_work_of_a_few_balance_calls(tmp_path: Path) -> None:
    out = tmp_path / "store_call.json"
    command = ["bench/store_call.py", "--calls", "5", "--warmup", "1", "--label", "smoke"]
    run = subprocess.run(
        [sys.executable, *command, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(out.read_text())
    assert result["label"] == "smoke" and result["calls"] == 5
    assert result["transactions_per_call"] >= 1 and result["round_trips_per_call"] >= 1
    assert result["loop_cpu_ms_per_call"] > 0 and result["wall_ms_per_call"] > 0
