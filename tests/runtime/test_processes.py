"""Whether a process runs: a process killed but not reaped (a zombie) does not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from ivr.runtime.processes import process_runs


def test_a_running_process_runs_and_a_killed_one_does_not_even_unreaped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert process_runs(child.pid)
        os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while process_runs(child.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        # Not reaped yet: a zombie, which kill(pid, 0) would still find.
        os.kill(child.pid, 0)
        assert not process_runs(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not process_runs(child.pid) and not process_runs(0)
    assert process_runs(os.getpid())
