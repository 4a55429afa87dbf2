"""96102, the 24-hour social-security-card line: the greeting, then the card services menu."""

from __future__ import annotations

from ivr.domain.hotlines import CARD_LINE
from ivr.engine.model import End, Flow, Sub

__all__ = ["HOTLINE_96102"]

HOTLINE_96102 = Flow(
    name=CARD_LINE,
    title="96102 social-security card line (24 h)",
    start="greeting",
    nodes={
        "greeting": Sub("greeting", {"ok": "cards"}),
        "cards": Sub("card_services", {"agent": "agent", "back": "cards", "failed": "failed"}),
        # Silence or failures end in the offer of an agent; silence there puts the caller through.
        "agent": End("agent", prompts=("transfer_agent",), then="agent"),
        "failed": End("failed", prompts=("transfer_agent",), then="agent"),
    },
)
