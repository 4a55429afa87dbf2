"""A local Asterisk in the cached Debian unstable root, started and stopped from asyncio.

Asterisk runs in a private mount namespace (``unshare --mount``) that binds the host folders it
needs (configuration, state, prompts, recordings) into the root and then ``chroot``s. The binds
live only as long as that namespace: nothing stays mounted on the host when Asterisk dies, two
instances can share one cached root, and deleting the root can never reach the recordings.
A pid file lets ``hotline down`` stop a stack started by another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO

from ivr.config import Settings
from ivr.speech.catalog import LANGUAGES
from ivr.telephony.dialplan import DialplanOptions, write_config
from ivr.telephony.errors import (
    AlreadyRunningError,
    AsteriskStartError,
    PortInUseError,
    TelephonyError,
)
from ivr.telephony.layout import (
    ASTERISK_SOUNDS_DIR,
    CONFIG_FILE,
    ETC_DIR,
    PROMPTS_DIR,
    STATE_DIR,
    HostLayout,
    recordings_dir_in_asterisk,
)
from ivr.telephony.process import PidRecord, run, rx, stop
from ivr.telephony.rootfs import ensure_rootfs, require_tools

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
RX_TIMEOUT = 30.0

__all__ = ["LocalAsterisk", "start_local_asterisk", "stop_local_asterisk"]

# Runs inside the new mount namespace: bind each "host-path=root-path" pair, then become Asterisk.
# The paths arrive as arguments, never pasted into the script, so no quoting can break it.
_NAMESPACE_SCRIPT = """
set -eu
root=$1; shift
while [ "$1" != "--" ]; do
  mount --bind "${1%=*}" "$root${1##*=}"
  shift
done
shift
mount -t proc proc "$root/proc"
exec chroot "$root" "$@"
"""

# Runs inside the root: each language folder of the core sounds gets a `hotline` link to the bound
# prompts, so Playback(hotline/<key>) finds <prompts>/<lang>/hotline/<key>. Inside the chroot,
# because the core folders are absolute symbolic links that would point into the host from outside.
_SOUND_LINKS_SCRIPT = """
set -eu
sounds=$1; prompts=$2; shift 2
for lang in "$@"; do
  mkdir -p "$sounds/$lang"
  ln -sfn "$prompts/$lang/hotline" "$sounds/$lang/hotline"
done
"""


class LocalAsterisk:
    """One Asterisk for one data folder; ``async with`` pairs start and stop."""

    def __init__(
        self,
        settings: Settings,
        *,
        rootfs: Path | None = None,
        options: DialplanOptions | None = None,
    ) -> None:
        self.settings = settings
        self.options = options or DialplanOptions()
        self.layout = HostLayout.from_settings(settings, rootfs)
        self._process: asyncio.subprocess.Process | None = None
        self._pid: int | None = None

    @property
    def pid(self) -> int | None:
        return self._pid

    @property
    def running(self) -> bool:
        return self._pid is not None and PidRecord(self._pid, self.layout.rootfs).alive()

    async def __aenter__(self) -> LocalAsterisk:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Build the root if needed, render the configuration and wait until calls can come in."""
        if os.geteuid() != 0:
            raise TelephonyError("the local Asterisk needs root (chroot and mount namespaces)")
        require_tools("chroot", "unshare", "nsenter", "mount")
        _refuse_second_instance(self.layout)
        # Files and sockets: off the event loop, which may be serving calls (a restart).
        await asyncio.to_thread(self._check_ports)
        await ensure_rootfs(self.layout.rootfs)
        await asyncio.to_thread(self._prepare_host)
        await self._link_sounds()
        await self._spawn()
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise
        log.info("Asterisk running (pid %s), log in %s", self._pid, self.layout.log_file)

    async def stop(self) -> None:
        """``core stop now``, then SIGTERM, then SIGKILL; the namespace's binds go with it."""
        if self._pid is None:
            return
        record = PidRecord(self._pid, self.layout.rootfs)
        await stop(record, self._process)
        self._pid = None
        self._process = None
        with contextlib.suppress(FileNotFoundError):
            self.layout.pid_file.unlink()

    async def exited(self) -> int:
        """Wait until the Asterisk this object started exits; its exit status."""
        if self._process is None:
            raise TelephonyError("Asterisk was not started here")
        return await self._process.wait()

    async def restart(self) -> None:
        """Start again after Asterisk exited (its namespace, binds and pid file cleaned first)."""
        await self.stop()
        await self.start()

    async def rx(self, command: str) -> str:
        """Run one CLI command (``asterisk -rx``) in the running Asterisk and return its output."""
        if self._pid is None:
            raise TelephonyError("Asterisk is not running")
        return await rx(self._pid, self.layout.rootfs, command, RX_TIMEOUT)

    # --- start-up steps -----------------------------------------------------------------------

    def _check_ports(self) -> None:
        checks = [
            (
                socket.SOCK_STREAM,
                self.options.ami_bind or self.settings.ami_host,
                self.settings.ami_port,
                "AMI",
                "HOTLINE_AMI_PORT",
            ),
            (
                socket.SOCK_DGRAM,
                self.settings.sip_host,
                self.settings.sip_port,
                "SIP",
                "HOTLINE_SIP_PORT",
            ),
        ]
        for kind, host, port, what, variable in checks:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            with socket.socket(family, kind) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((host, port))
                except OSError as exc:
                    raise PortInUseError(
                        f"{what} port {host}:{port} is taken ({exc.strerror}): another Asterisk? "
                        f"run `hotline down`, or choose another port with {variable}"
                    ) from exc

    def _prepare_host(self) -> None:
        layout = self.layout
        write_config(self.settings, layout.etc, self.options)
        for folder in (
            *layout.state_dirs(),
            layout.recordings,
            layout.prompts,
            layout.log_file.parent,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        for lang in self._languages():
            (layout.prompts / lang / "hotline").mkdir(parents=True, exist_ok=True)
        for inner in self._binds().values():
            _mkdir_in_root(layout.rootfs, inner)

    def _languages(self) -> list[str]:
        found = {p.name for p in self.layout.prompts.iterdir() if p.is_dir()}
        return sorted(found | set(LANGUAGES))

    def _binds(self) -> dict[Path, PurePosixPath]:
        """Host folder -> where Asterisk sees it."""
        layout = self.layout
        return {
            layout.etc: ETC_DIR,
            layout.state: STATE_DIR,
            layout.prompts: PROMPTS_DIR,
            layout.recordings: recordings_dir_in_asterisk(self.settings),
        }

    async def _link_sounds(self) -> None:
        command = [
            "chroot",
            str(self.layout.rootfs),
            "/bin/sh",
            "-c",
            _SOUND_LINKS_SCRIPT,
            "links",
            str(ASTERISK_SOUNDS_DIR),
            str(PROMPTS_DIR),
            *self._languages(),
        ]
        code, output = await run(command, RX_TIMEOUT)
        if code != 0:
            raise AsteriskStartError(f"could not link the prompts into the root: {output}")

    async def _spawn(self) -> None:
        layout = self.layout
        binds = [f"{host}={inner}" for host, inner in self._binds().items()]
        command = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "/bin/sh",
            "-c",
            _NAMESPACE_SCRIPT,
            "asterisk-namespace",
            str(layout.rootfs),
            *binds,
            "--",
            # -f: stay in the foreground as our child; -n: no colour codes in the log file.
            # Verbose output (each dialplan step) goes to full.log in the state folder only.
            "asterisk",
            "-C",
            str(CONFIG_FILE),
            "-f",
            "-n",
        ]
        with _open_log(layout.log_file) as out:
            # A session of its own: Ctrl-C in `hotline up` reaches us, and we stop Asterisk cleanly.
            self._process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        self._pid = self._process.pid
        PidRecord(self._pid, layout.rootfs).write(layout.pid_file)

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        process = self._process
        assert process is not None
        booted = False
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise AsteriskStartError(f"Asterisk exited ({process.returncode}):\n{self._tail()}")
            if not booted:
                with contextlib.suppress(TelephonyError):
                    await rx(self._pid or 0, self.layout.rootfs, "core waitfullybooted", 5)
                    booted = True
            if booted and await self._ami_answers():
                return
            await asyncio.sleep(0.2)
        raise AsteriskStartError(f"Asterisk not ready after {START_TIMEOUT:.0f} s:\n{self._tail()}")

    async def _ami_answers(self) -> bool:
        host = self.settings.ami_host
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, self.settings.ami_port), 2
            )
        except (OSError, TimeoutError):
            return False
        try:
            banner = await asyncio.wait_for(reader.readline(), 2)
        except (OSError, TimeoutError):
            banner = b""
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return banner.startswith(b"Asterisk Call Manager")

    def _tail(self, lines: int = 20) -> str:
        try:
            text = self.layout.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _open_log(path: Path) -> IO[bytes]:
    out = open(path, "ab")  # noqa: SIM115 - the caller closes it
    out.write(f"\n--- {time.strftime('%F %T')} starting Asterisk\n".encode())
    out.flush()
    return out


def _mkdir_in_root(root: Path, inner: PurePosixPath) -> None:
    # mount(8) resolves its target on the host: a symbolic link on the way could leave the root.
    current = root
    for part in inner.relative_to("/").parts:
        current = current / part
        if current.is_symlink():
            raise TelephonyError(f"{current} is a symbolic link; cannot bind {inner} safely")
        current.mkdir(exist_ok=True)


def _refuse_second_instance(layout: HostLayout) -> None:
    record = PidRecord.read(layout.pid_file)
    if record is None:
        return
    if record.alive():
        raise AlreadyRunningError(
            f"Asterisk is already running for this data folder (pid {record.pid}): `hotline down`"
        )
    layout.pid_file.unlink()  # left by a process that died without cleaning up


async def start_local_asterisk(
    settings: Settings, *, rootfs: Path | None = None, options: DialplanOptions | None = None
) -> LocalAsterisk:
    """Start Asterisk for ``settings`` and return it running (for ``hotline up``)."""
    asterisk = LocalAsterisk(settings, rootfs=rootfs, options=options)
    await asterisk.start()
    return asterisk


async def stop_local_asterisk(settings: Settings) -> bool:
    """Stop the Asterisk named by the pid file of ``settings`` (for ``hotline down``).

    Returns False when none was running.
    """
    layout = HostLayout.from_settings(settings)
    record = PidRecord.read(layout.pid_file)
    if record is None:
        return False
    running = record.alive()
    if running:
        await stop(record)
    with contextlib.suppress(FileNotFoundError):
        layout.pid_file.unlink()
    return running
