"""Who may open what: the console's role sets, defined once and named on every route.

A route lists one of these (``@routes.get("/calls", roles=SUPERVISORS)``); the guard in
``routing`` enforces it and the menu is built from it, so the sets are stated nowhere else.
"""

from __future__ import annotations

from ivr.store.users import Role

__all__ = ["ALL_ROLES", "AUDITORS", "CASEWORK", "SUPERVISORS"]

SUPERVISORS = frozenset({Role.SUPERVISOR})  # calls, live calls, statistics, prompts
CASEWORK = frozenset({Role.STAFF, Role.SUPERVISOR})  # card cases and their statements
AUDITORS = frozenset({Role.AUDITOR})  # the audit log
ALL_ROLES = frozenset(Role)  # every logged-in user: log-out, the session, the API description
