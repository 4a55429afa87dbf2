"""Where a person is sent back to after a form (log-in, the language switch): this site only."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["safe_next"]


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site (no ``//host`` or ``scheme:``) is followed, and only one that can
    be sent as a ``Location`` header: no control character (CR, LF, a vertical tab). Any other
    target falls back to ``fallback``, so the redirect can always be sent (aiohttp refuses such
    a header, which failed the log-in after its session began)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or not target.isprintable()
    ):
        return fallback
    parts = urlsplit(target)
    return fallback if parts.scheme or parts.netloc or "\\" in target else target
