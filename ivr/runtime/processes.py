"""Whether a process still runs on this host, as the stack's own bookkeeping needs to know.

A process killed with ``kill -9`` whose parent does not reap it stays a zombie: ``kill(pid, 0)``
still succeeds, though nothing of it runs. Here a zombie counts as gone.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["process_runs"]


def process_runs(pid: int) -> bool:
    """True while ``pid`` is a running process (a reused pid errs on the side of running)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc to ask: kill() said it exists
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")
