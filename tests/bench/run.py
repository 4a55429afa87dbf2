"""Running a benchmark script as the README does, from the repository's root, for its smoke test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_bench(
    script: str, *args: str, out: Path, timeout: float = 300
) -> tuple[subprocess.CompletedProcess[str], Any]:
    """``bench/<script> <args> --out <out>`` with this interpreter; it must exit 0. What it
    printed and the JSON it wrote."""
    run = subprocess.run(
        [sys.executable, f"bench/{script}", *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run, json.loads(out.read_text())
