"""How a call ended, as the call log, the statistics and the console name it.

The flows end a call with one of the first four; the call runtime writes the others when the
caller or the line went away, or a fault got in the way; the AMI bridge writes ``refused`` for a
call the dialplan turned away because the node was full (it never reached the flow).
"""

from __future__ import annotations

import enum

__all__ = ["DROP_OFFS", "Outcome"]


class Outcome(enum.StrEnum):
    SERVED = "served"  # the caller got what they called for (a balance, a report...)
    AGENT = "agent"  # handed to the agents
    VOICE_MESSAGE = "voice_message"  # left a message for a call-back
    FAILED = "failed"  # the menus gave up (no input, no valid key to the end)
    ABANDONED = "abandoned"  # the caller hung up before being served
    INTERRUPTED = "interrupted"  # the line went away: the server stopped or died, Asterisk died
    ERROR = "error"  # a technical problem: apology, then an agent
    REFUSED = "refused"  # the node was full (max_calls): told the lines are busy, not answered


# Where a caller was lost: the statistics' drop-off by menu node (an interrupted call is not a
# caller's choice, and stays out of it).
DROP_OFFS = (Outcome.ABANDONED, Outcome.FAILED)
