"""The Debian unstable root file system the local Asterisk runs in, built once and cached.

Debian 12 has no asterisk package; unstable has Asterisk 22. mmdebstrap builds a root with it in
well under a minute. The build goes into a temporary sibling that is renamed into place only when
complete, so a half-built root is never used; a stamp inside the root records what it holds.
The apt mirror is read from the machine's own apt sources at run time, never written down here.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from ivr.telephony.errors import RootfsBuildError, TelephonyError, ToolMissingError

log = logging.getLogger(__name__)

SUITE = "sid"
PACKAGES: tuple[str, ...] = (
    "asterisk",
    "asterisk-modules",
    "asterisk-core-sounds-en-gsm",  # last-resort sounds (sorry, beep) when a prompt is missing
    "asterisk-moh-opsound-gsm",  # music on hold in the agent queue
    "tzdata",  # business hours are checked in Asia/Shanghai
)
STAMP_NAME = ".hotline-rootfs.json"
APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))
SETUP_HINT = "run scripts/setup.sh (or apt-get install mmdebstrap util-linux coreutils)"

__all__ = [
    "PACKAGES",
    "SUITE",
    "apt_mirror",
    "ensure_rootfs",
    "mounts_under",
    "read_stamp",
    "require_tools",
    "rootfs_ready",
]


def require_tools(*names: str) -> None:
    """Fail with what to install when one of the programs is not on PATH."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise ToolMissingError(f"{', '.join(missing)} not found: {SETUP_HINT}")


def apt_mirror(sources: Sequence[Path] = APT_SOURCES) -> str:
    """The first Debian mirror of this machine's apt sources (deb822 or one-line format)."""
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            files.extend(sorted(source.glob("*.sources")) + sorted(source.glob("*.list")))
        elif source.is_file():
            files.append(source)
    for path in files:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split("#", 1)[0].split()
            if path.suffix == ".sources" and words[:1] == ["URIs:"] and len(words) > 1:
                uri = words[1]
            elif words[:1] == ["deb"]:
                uri = next((w for w in words[1:] if not w.startswith("[")), "")
            else:
                continue
            if "security" not in uri:  # unstable has no security suite on that host
                return uri
    raise TelephonyError(f"no Debian mirror found in {', '.join(map(str, sources))}")


def read_stamp(root: Path) -> dict[str, object] | None:
    try:
        data = json.loads((root / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def rootfs_ready(root: Path, packages: Sequence[str] = PACKAGES) -> bool:
    """True when ``root`` is a complete build of exactly these packages."""
    stamp = read_stamp(root)
    return (
        stamp is not None
        and stamp.get("suite") == SUITE
        and stamp.get("packages") == list(packages)
        and _has_asterisk(root)
    )


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` in this process's mount namespace."""
    prefix = str(path.resolve())
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as info:
        for line in info:
            mount_point = line.split()[4].replace("\\040", " ")
            if mount_point == prefix or mount_point.startswith(prefix + "/"):
                found.append(mount_point)
    return found


def remove_tree(path: Path) -> None:
    """Delete a root, refusing when something is mounted inside it (rmtree would follow)."""
    if not path.exists():
        return
    mounted = mounts_under(path)
    if mounted:
        raise TelephonyError(f"not deleting {path}: still mounted: {', '.join(mounted)}")
    shutil.rmtree(path)


async def ensure_rootfs(
    root: Path, *, packages: Sequence[str] = PACKAGES, mirror: str | None = None
) -> Path:
    """Return ``root``, building it first when it is missing or holds other packages."""
    if rootfs_ready(root, packages):
        return root
    require_tools("mmdebstrap")
    root.parent.mkdir(parents=True, exist_ok=True)
    async with _build_lock(root):
        if rootfs_ready(root, packages):  # another process built it while we waited
            return root
        await _build(root, packages, mirror or apt_mirror())
    return root


@contextlib.asynccontextmanager
async def _build_lock(root: Path) -> AsyncIterator[None]:
    # Two test sessions or a test and `hotline up` may start at once; one builds, one waits.
    lock = _open_lock(root.parent / f".{root.name}.lock")
    try:
        # Another process holds the lock: there is no event to await, only its release to poll.
        while not _try_lock(lock):  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        yield
    finally:
        lock.close()  # closing releases the lock


def _open_lock(path: Path) -> IO[str]:
    return open(path, "w")


def _try_lock(lock: IO[str]) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


async def _build(root: Path, packages: Sequence[str], mirror: str) -> None:
    temporary = root.with_name(f"{root.name}.building-{os.getpid()}")
    build_log = root.with_name(f"{root.name}.build.log")
    await asyncio.to_thread(remove_tree, temporary)
    started = time.monotonic()
    log.info("building the Asterisk root file system in %s (Debian %s)", root, SUITE)
    command = [
        "mmdebstrap",
        "--variant=apt",
        f"--include={','.join(packages)}",
        # A snapshot mirror serves Release files past their Valid-Until date.
        '--aptopt=Acquire::Check-Valid-Until "false"',
        SUITE,
        str(temporary),
        mirror,
    ]
    with _open_build_log(build_log) as out:
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
        )
        code = await process.wait()
    if code != 0 or not _has_asterisk(temporary):
        with contextlib.suppress(TelephonyError):
            await asyncio.to_thread(remove_tree, temporary)
        tail = "\n".join(build_log.read_text(errors="replace").splitlines()[-15:])
        raise RootfsBuildError(f"mmdebstrap failed ({code}); see {build_log}:\n{tail}")
    stamp = {"suite": SUITE, "packages": list(packages), "built": time.strftime("%FT%T%z")}
    await asyncio.to_thread(_install, temporary, root, stamp)
    log.info("Asterisk root file system ready in %.0f s", time.monotonic() - started)


def _open_build_log(path: Path) -> IO[bytes]:
    return open(path, "wb")


def _has_asterisk(root: Path) -> bool:
    return (root / "usr/sbin/asterisk").exists()


def _install(temporary: Path, root: Path, stamp: Mapping[str, object]) -> None:
    """Stamp the finished build and rename it into place; the previous root goes last."""
    (temporary / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n")
    old = root.with_name(f"{root.name}.old-{os.getpid()}")
    if root.exists():
        root.rename(old)
    temporary.rename(root)
    remove_tree(old)
