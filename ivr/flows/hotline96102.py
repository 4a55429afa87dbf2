"""96102, the 24-hour social-security-card line."""

from __future__ import annotations

from ivr.domain.hotlines import CARD_LINE
from ivr.engine.model import End, Flow, Sub

__all__ = ["HOTLINE_96102"]

HOTLINE_96102 = Flow(
    name=CARD_LINE,
    title="96102 social-security card line (24 h)",
    start="language",
    nodes={
        "language": Sub("language", {"ok": "cards"}),
        "cards": Sub(
            "card_services",
            {"agent": "agent", "back": "cards", "served": "served", "failed": "failed"},
        ),
        "agent": End("agent", prompts=("transfer_agent",), then="agent"),
        "served": End("served", then="hangup"),
        "failed": End("failed", then="hangup"),
    },
)
