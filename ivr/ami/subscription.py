"""What the hotline reads of AMI, in one place: the events the bridge's reducer applies, those a
scripted call follows, and, of the ``VarSet`` events (the most frequent of all), only those of the
variables they look at.

``manager.conf``'s ``eventfilter`` lines for the hotline's AMI user are rendered from it
(``manager_filters``), so Asterisk sends that user nothing else: an event added to the reducer is
an event subscribed to, and nothing else is formatted, sent and parsed for nobody.
"""

from __future__ import annotations

import re

from ivr.ami.channels import VARIABLES
from ivr.ami.reducer import EVENTS as BRIDGE_EVENTS
from ivr.ami.scripted_call import EVENTS as SCRIPTED_CALL_EVENTS

__all__ = ["EVENTS", "manager_filters"]

EVENTS = BRIDGE_EVENTS | SCRIPTED_CALL_EVENTS
# With the leading underscores of a variable inherited by the channels a call dials.
_VARIABLE_PATTERN = "^_*(" + "|".join(re.escape(prefix) for prefix in VARIABLES) + ")"


def manager_filters() -> list[tuple[str, str]]:
    """``eventfilter(<criteria>) = <expression>`` lines (Asterisk 22's advanced filters) that
    let through exactly the events above: by name, and VarSet by its variable's name."""
    lines = [(f"action(include),name({name})", "") for name in sorted(EVENTS - {"VarSet"})]
    if "VarSet" in EVENTS:
        lines.append(
            ("action(include),name(VarSet),header(Variable),method(regex)", _VARIABLE_PATTERN)
        )
    return lines
