"""Data at rest, as an operator meets it: every file the ``hotline`` command writes is its owner's
alone whatever the umask it is started with, and ``hotline db prune [--dry-run]`` applies the
retention policy, audited under the operator's name."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATEMENT = "1,420102197305080012#,*,4,3"  # 96102: a loss statement of 3 s, no password


def hotline(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command as a shell with the common umask 022 starts it."""
    return subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", *args],
        cwd=ROOT,
        env={**os.environ, "HOTLINE_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        umask=0o022,
    )


def test_every_file_the_hotline_writes_is_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "var"
    assert hotline(data, "db", "seed", "--citizens", "3").returncode == 0
    call = hotline(data, "simulate", "96102", "--keys", STATEMENT)
    assert call.returncode == 0, call.stderr
    written = [data, *data.rglob("*")]
    assert any(p.suffix == ".wav" for p in written)  # a recording, a database and a key at least
    assert {"hotline.db", "id-hash.key"} <= {p.name for p in written}
    too_open = {
        str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in written
        if p.stat().st_mode & 0o077
    }
    assert too_open == {}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_an_existing_open_data_folder_is_closed(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    database = data / "hotline.db"
    sqlite3.connect(database).close()
    database.chmod(0o644)  # as an older version left it
    assert hotline(data, "db", "upgrade").returncode == 0
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def _age(database: Path) -> None:
    """Make every recording and call a thousand days old, and close every loss report."""
    with sqlite3.connect(database) as connection:
        old = "2020-01-01 00:00:00.000000"
        connection.execute("UPDATE recordings SET created_at = ?", (old,))
        connection.execute("UPDATE calls SET started_at = ?", (old,))
        connection.execute("UPDATE loss_reports SET status = 'lifted'")


def _audit_actors(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT action, actor FROM audit_log ORDER BY id").fetchall()


def test_prune_dry_run_then_prune(tmp_path: Path) -> None:
    data = tmp_path / "var"
    assert hotline(data, "db", "seed", "--citizens", "3").returncode == 0
    assert hotline(data, "simulate", "96102", "--keys", STATEMENT).returncode == 0
    assert hotline(data, "simulate", "12333", "--keys", "9").returncode == 0
    (recording,) = data.glob("recordings/statement/*.wav")
    _age(data / "hotline.db")

    dry = hotline(data, "db", "prune", "--dry-run")

    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would delete 1 recordings, the paths of 2 calls (")
    assert "(dry run: nothing deleted)" in dry.stdout and "recordings: 1" in dry.stdout
    assert recording.exists() and _audit_actors(data / "hotline.db") == []

    done = hotline(data, "db", "prune", SUDO_USER="alice")

    assert done.returncode == 0, done.stderr
    said = dry.stdout.split("would delete ")[1].split(" (dry run")[0]
    assert done.stdout.startswith(f"deleted {said}\n")  # what the dry run announced
    assert not recording.exists()
    assert _audit_actors(data / "hotline.db") == [
        ("delete_recording", "operator:alice"),
        ("delete_call_path", "operator:alice"),
        ("delete_call_path", "operator:alice"),
    ]
    again = hotline(data, "db", "prune")
    assert again.stdout.startswith("deleted 0 recordings, the paths of 0 calls (0 steps)")
