"""Where the local Asterisk keeps things, on the host and inside its root file system.

The host folders of one instance all live under ``<data_dir>/asterisk`` (configuration, state)
and the data folder (recordings, built prompts, logs). Inside the root they are bound at fixed
paths, which the rendered configuration names. Recordings are the one path the hotline passes to
Asterisk (RECORD FILE), so mapping between both views is public here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ivr.config import Settings

# Paths as Asterisk sees them (inside the chroot, and in the container image).
ETC_DIR = PurePosixPath("/etc/hotline-asterisk")
CONFIG_FILE = ETC_DIR / "asterisk.conf"
STATE_DIR = PurePosixPath("/var/lib/hotline-asterisk")
PROMPTS_DIR = PurePosixPath("/srv/hotline/sounds")
RECORDINGS_DIR = PurePosixPath("/var/spool/hotline/recordings")
ASTERISK_SOUNDS_DIR = PurePosixPath("/usr/share/asterisk/sounds")

__all__ = [
    "ASTERISK_SOUNDS_DIR",
    "CONFIG_FILE",
    "ETC_DIR",
    "PROMPTS_DIR",
    "RECORDINGS_DIR",
    "STATE_DIR",
    "HostLayout",
    "asterisk_path_of_recording",
    "host_path_of_recording",
    "recordings_dir_in_asterisk",
]


@dataclass(frozen=True)
class HostLayout:
    """The host folders and files of one local Asterisk, all derived from the settings."""

    rootfs: Path
    etc: Path
    state: Path
    pid_file: Path
    log_file: Path
    recordings: Path
    prompts: Path

    @classmethod
    def from_settings(cls, settings: Settings, rootfs: Path | None = None) -> HostLayout:
        base = settings.data_dir.resolve() / "asterisk"
        shared = Path(settings.asterisk_rootfs) if settings.asterisk_rootfs else None
        return cls(
            rootfs=(rootfs or shared or base / "rootfs").resolve(),
            etc=base / "etc",
            state=base / "state",
            pid_file=base / "asterisk.pid",
            log_file=settings.log_dir.resolve() / "asterisk.log",
            recordings=settings.recordings_dir.resolve(),
            prompts=settings.prompts_dir.resolve(),
        )

    def state_dirs(self) -> tuple[Path, ...]:
        """The folders asterisk.conf points into (Asterisk does not create them all itself)."""
        return tuple(self.state / name for name in ("spool", "log", "run", "db", "cache"))

    @property
    def asterisk_log(self) -> Path:
        """Asterisk's own verbose log (dialplan steps, AGI traffic), readable from the host."""
        return self.state / "log" / "full.log"


def recordings_dir_in_asterisk(settings: Settings) -> PurePosixPath:
    """The recordings folder as Asterisk sees it: the setting, else the local chroot's path."""
    configured = settings.asterisk_recordings_dir
    path = PurePosixPath(configured) if configured else RECORDINGS_DIR
    if not path.is_absolute():
        raise ValueError(f"asterisk_recordings_dir must be absolute, not {configured!r}")
    return path


def asterisk_path_of_recording(settings: Settings, host_path: Path) -> str:
    """The path to give RECORD FILE for a file that should appear at ``host_path``."""
    relative = host_path.resolve().relative_to(settings.recordings_dir.resolve())
    return str(recordings_dir_in_asterisk(settings) / PurePosixPath(relative.as_posix()))


def host_path_of_recording(settings: Settings, asterisk_path: str) -> Path:
    """Where the hotline finds a file Asterisk recorded at ``asterisk_path``."""
    relative = PurePosixPath(asterisk_path).relative_to(recordings_dir_in_asterisk(settings))
    if ".." in relative.parts:
        raise ValueError(f"{asterisk_path!r} leaves the recordings folder")
    return settings.recordings_dir / relative
