"""The exceptions of the telephony package: one family, each saying what to do about it."""

from __future__ import annotations


class TelephonyError(Exception):
    """Base of every error raised while preparing or running the local Asterisk."""


class ToolMissingError(TelephonyError):
    """A program the local Asterisk needs (mmdebstrap, chroot, unshare, nsenter) is missing."""


class RootfsBuildError(TelephonyError):
    """mmdebstrap failed; the message carries the end of its log."""


class ConfigError(TelephonyError):
    """A setting cannot be written into the Asterisk configuration as it is."""


class AsteriskStartError(TelephonyError):
    """Asterisk did not come up; the message carries the end of its log."""


class AlreadyRunningError(TelephonyError):
    """A local Asterisk for this data folder is already running."""


class PortInUseError(TelephonyError):
    """A port Asterisk must bind (AMI, SIP) is taken by another program."""
