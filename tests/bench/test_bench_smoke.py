"""The load benchmark itself works end to end (a small run; its figures are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_runs_both_servers_and_completes_every_call() -> None:
    run = subprocess.run(
        [sys.executable, "bench/agi_load.py", "--calls", "12", "--audio", "0", "--ramp", "0.5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "bare asyncio responder" in run.stdout and "hotline serve" in run.stdout
    result = json.loads((ROOT / "bench" / "results" / "agi_load.json").read_text())
    servers = {r["server"]: r for r in result["runs"]}
    assert servers["hotline serve"]["completed"] == 12
    assert servers["bare asyncio responder"]["completed"] == 12
    assert servers["hotline serve"]["commands"] > 12 * 20
