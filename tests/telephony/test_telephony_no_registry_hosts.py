"""No package registry's host name is written into the repository.

The local Asterisk root is built from whatever mirror this machine's apt sources name, read at
run time. The host names checked here are read the same way (apt sources, pip's default index),
so this test does not write them down either.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from tests.paths import REPO_ROOT

SKIP_DIRS = {".git", ".venv", "var", "node_modules", "__pycache__", ".mypy_cache",
             ".ruff_cache", ".pytest_cache"}  # fmt: skip
APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))


def registry_hosts() -> set[str]:
    hosts: set[str] = set()
    files = [p for d in APT_SOURCES if d.is_dir() for p in d.iterdir()]
    files += [p for p in APT_SOURCES if p.is_file()]
    for path in files:
        for word in path.read_text(errors="replace").split():
            if "://" in word:
                hosts.add(urlparse(word).hostname or "")
    try:
        from pip._internal.models.index import PyPI  # the index pip uses by default

        hosts |= {PyPI.netloc, PyPI.file_storage_domain}
    except ImportError:
        pass
    return {host for host in hosts if "." in host}


def repository_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        found += [Path(folder) / name for name in files]
    return found


def test_the_hosts_to_look_for_were_found() -> None:
    assert registry_hosts(), "no apt source or pip index found to read host names from"


def test_no_registry_host_name_is_written_in_the_repository() -> None:
    hosts = registry_hosts()
    offenders = []
    for path in repository_files():
        if path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode(errors="ignore")
        offenders += [f"{path.relative_to(REPO_ROOT)}: {h}" for h in hosts if h in text]
    assert not offenders, offenders
