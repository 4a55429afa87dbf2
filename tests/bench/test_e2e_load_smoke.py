"""The end-to-end load run works through the real stack: ``hotline up``, sipp calls with RFC 2833
keys, a profile of the hotline process (a small run; its figures are not judged here, only that
every call was served, has one record, and was measured)."""

from __future__ import annotations

from pathlib import Path

from tests.bench.run import ROOT, run_bench

DATA = ROOT / "test-output" / "bench-e2e-smoke" / "var"  # kept: its prompts are built once


def test_a_few_calls_through_the_whole_stack_are_served_recorded_and_measured(
    tmp_path: Path,
) -> None:
    out, profile = tmp_path / "e2e_load.json", tmp_path / "e2e_profile.txt"
    command = ["--rates", "0.3", "--duration", "15", "--data", str(DATA)]
    command += ["--profile", "0.3", "--profile-out", str(profile)]
    _, report = run_bench("e2e_load.py", *command, out=out, timeout=900)
    (step,) = report["steps"]
    assert step["offered"] >= 3
    assert step["answered"] == step["completed"] == step["records"] == step["offered"]
    assert step["failed"] == step["refused"] == 0 and step["one_record_each"]
    assert step["refused_because"] == {}
    # The node's own timings over the step: every AGI command it sent, one check per caller.
    replies, checks = step["node_timings"]["agi_reply"], step["node_timings"]["password_check"]
    assert replies["count"] >= 10 * step["offered"] and replies["p50_ms_at_most"] is not None
    assert checks["count"] == step["offered"] and checks["over_1s"] == 0
    assert set(step["outcomes"]) == {"served"}
    cpu = step["cpu_per_call_s"]
    assert cpu["asterisk"] > 0 and cpu["hotline"] > 0 and step["hotline_over_asterisk"] > 0
    # The process's CPU split into its event loop, its password pool (the threads below its
    # priority) and the rest adds up (a step this small may hold no verification in its window).
    assert cpu["hotline_password_pool"] >= 0 and cpu["hotline_other_threads"] >= 0
    parts = cpu["hotline_event_loop"] + cpu["hotline_password_pool"] + cpu["hotline_other_threads"]
    assert abs(parts - cpu["hotline"]) < 0.001
    assert step["key_to_prompt_ms"]["samples"] >= 3 * step["offered"]
    assert step["key_to_prompt_ms"]["p50"] is not None
    assert step["peak_rss_mib"]["asterisk"] > 0 and step["peak_rss_mib"]["hotline"] > 0
    assert report["saturation"]["held_rate_per_s"] == 0.3
    assert report["saturation"]["saturates_first"] in {"asterisk", "hotline_event_loop"}
    assert step["profile"]["samples"] > 0 and profile.stat().st_size > 0
    assert "| 0.3 |" in out.with_suffix(".md").read_text()
