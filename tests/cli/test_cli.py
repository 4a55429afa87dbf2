"""The ``hotline`` command as a tester uses it: seed, a scripted simulated call, the call log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def hotline(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOTLINE_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_seed_simulate_and_call_log(tmp_path: Path) -> None:
    seeded = hotline(tmp_path, "db", "seed", "--citizens", "4")
    assert seeded.returncode == 0, seeded.stderr
    assert "11010519491231002*" in seeded.stdout and "231002" in seeded.stdout
    call = hotline(tmp_path, "simulate", "12333", "--keys", "1,11010519491231002*#,231002#,1")
    assert call.returncode == 0, call.stderr
    assert "您的养老账户余额为" in call.stdout  # the balance, read back in Mandarin
    assert "outcome=served" in call.stdout
    english = hotline(tmp_path, "simulate", "96102", "--keys", "7,2,420102197305080012#,508001#")
    assert "card" in english.stdout.lower() and english.returncode == 0
    log = hotline(tmp_path, "calls", "--json", "--last", "5")
    calls = json.loads(log.stdout)
    assert [c["hotline"] for c in calls] == ["96102", "12333"]
    assert calls[1]["outcome"] == "served" and calls[1]["id_masked"] == "110105********002X"
    keys = [step["key"] for step in calls[1]["path"] if step["kind"] == "input"]
    assert "***" in keys and "231002" not in keys
    # Nothing under the data folder holds the clear ID or the password in a log or the database.
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in {".db", ".log", ".db-wal", ""}:
            data = path.read_bytes()
            assert b"11010519491231002X" not in data, path
    text = hotline(tmp_path, "calls", "--last", "1")
    assert "#2 96102" in text.stdout and "[en]" in text.stdout


def test_flows_draw_writes_one_file_per_flow(tmp_path: Path) -> None:
    drawn = hotline(tmp_path, "flows", "draw", "--out", str(tmp_path / "flows"))
    assert drawn.returncode == 0, drawn.stderr
    names = sorted(p.stem for p in (tmp_path / "flows").glob("*.mmd"))
    flows = ["12333", "96102", "card_services", "greeting", "identity", "identity_loss"]
    assert names == sorted([*flows, "lost_card_info"])


def test_seed_a_month_of_calls_then_the_call_log_shows_them(tmp_path: Path) -> None:
    seeded = hotline(tmp_path, "db", "seed", "--citizens", "2", "--calls", "300", "--days", "3")
    assert seeded.returncode == 0, seeded.stderr
    assert "wrote 300 calls" in seeded.stdout
    calls = json.loads(hotline(tmp_path, "calls", "--json", "--last", "300").stdout)
    assert len(calls) == 300 and {c["hotline"] for c in calls} == {"12333", "96102"}
    days = {c["started_at"][:10] for c in calls}
    assert len(days) in (3, 4)  # three local days, in UTC dates
    assert all(c["path"] for c in calls)


def test_the_call_log_starts_without_loading_the_console_the_stack_or_the_calendar(
    tmp_path: Path,
) -> None:
    probe = (
        "import sys\n"
        "from ivr.cli.main import main\n"
        "code = main(['calls', '--last', '1'])\n"
        "heavy = ('aiohttp', 'pypinyin', 'yaml', 'holidays', 'ivr.stack', 'ivr.web', 'ivr.ami')\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith(heavy)))\n"
    )
    assert hotline(tmp_path, "db", "upgrade").returncode == 0
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-c", probe]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert run.stdout.splitlines()[-1] == "0 []", run.stderr
    assert "calls" in hotline(tmp_path, "--help").stdout  # every command is still offered
