"""The local Asterisk: a cached Debian unstable root, the rendered configuration, start and stop.

``start_local_asterisk`` / ``stop_local_asterisk`` are what ``hotline up`` / ``hotline down`` call;
the path helpers map recordings between the hotline's view and Asterisk's.
"""

from __future__ import annotations

from ivr.telephony.asterisk import LocalAsterisk, start_local_asterisk, stop_local_asterisk
from ivr.telephony.dialplan import DialplanOptions, render_config, write_config
from ivr.telephony.errors import (
    AlreadyRunningError,
    AsteriskStartError,
    ConfigError,
    PortInUseError,
    RootfsBuildError,
    TelephonyError,
    ToolMissingError,
)
from ivr.telephony.layout import (
    HostLayout,
    asterisk_path_of_recording,
    host_path_of_recording,
    recordings_dir_in_asterisk,
)
from ivr.telephony.rootfs import ensure_rootfs

__all__ = [
    "AlreadyRunningError",
    "AsteriskStartError",
    "ConfigError",
    "DialplanOptions",
    "HostLayout",
    "LocalAsterisk",
    "PortInUseError",
    "RootfsBuildError",
    "TelephonyError",
    "ToolMissingError",
    "asterisk_path_of_recording",
    "ensure_rootfs",
    "host_path_of_recording",
    "recordings_dir_in_asterisk",
    "render_config",
    "start_local_asterisk",
    "stop_local_asterisk",
    "write_config",
]
