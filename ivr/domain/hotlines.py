"""The hotline numbers a citizen can call: the one list every layer reads.

The dialplan answers them, the AMI bridge recognises calls by them, the flows are named after them
and the console and CLI filter by them.
"""

from __future__ import annotations

__all__ = ["CARD_LINE", "HOTLINES", "LABOUR_LINE"]

LABOUR_LINE = "12333"  # labour and social security
CARD_LINE = "96102"  # 24-hour social-security card line
HOTLINES: tuple[str, ...] = (LABOUR_LINE, CARD_LINE)
