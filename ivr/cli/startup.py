"""What a long-running command (``web``, ``serve``, ``up``) does once it has started, before it
says it is ready: move what start-up made out of the cyclic garbage collector's way.

A full collection walks every object the collector tracks. Imports and start-up leave about
120,000 (SQLAlchemy, Babel, Jinja2, the flows, the prompt catalog, the stack), which cost
55-95 ms a walk on the 2-core test machine: a pause on the event loop that whichever request or
call is in progress waits out. The statistics page, which makes more objects than most
requests, set one off every twenty or so (PostgreSQL, 30 days: p95 111 ms, its API's 58 ms).
Frozen (``gc.freeze``), they are left out of every collection after; a full one then costs a
few milliseconds. They are still freed when nothing refers to them any more; only a cycle among
them that becomes garbage later is never collected, and start-up's objects live as long as the
process.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_start_up"]


def freeze_start_up() -> None:
    """Collect start-up's garbage, then leave what is left out of later collections."""
    gc.collect()
    gc.freeze()
