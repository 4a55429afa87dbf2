"""The key that signs the console's cookies: ``<data_dir>/web-secret.key``, made once, mode 0600.

Blocking file I/O: call ``load_secret`` from a worker thread (the app does, at start-up).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["SECRET_FILE", "load_secret"]

SECRET_FILE = "web-secret.key"


def load_secret(data_dir: Path) -> bytes:
    """The signing key, created on first use; refused if others could read it."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process (``hotline up`` and ``hotline web``) won
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    if path.stat().st_mode & 0o077:
        raise PermissionError(f"{path} is readable by others: chmod 600 it")
    key = path.read_text().strip()
    if len(key) < 32:
        raise ValueError(f"{path} holds no usable key (delete it to have a new one made)")
    return key.encode()
