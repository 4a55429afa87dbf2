"""systemd's readiness protocol (``Type=notify``): tell the service manager we are ready.

Without ``NOTIFY_SOCKET`` (not started by systemd) nothing is sent. The socket is a Unix datagram
socket; a leading ``@`` names an abstract one.
"""

from __future__ import annotations

import os
import socket

__all__ = ["notify"]


def notify(*fields: str) -> bool:
    """Send ``READY=1``, ``STOPPING=1``, ``STATUS=...``; True when a service manager listens."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto("\n".join(fields).encode(), address)
        except OSError:
            return False
    return True
