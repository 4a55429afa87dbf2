"""Renders the Asterisk configuration from ``dialplan/*.j2`` and the one settings source.

Host, ports and secrets come from :class:`ivr.config.Settings` only; the few choices that are not
settings of the hotline itself (business hours, RTP ports, where AMI listens in a container) are
:class:`DialplanOptions`. ``python -m ivr.telephony render --out DIR`` renders by hand (the
container deployment does this into a shared volume).
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2

from ivr.ami.admission import SHED_UNTIL
from ivr.ami.subscription import manager_filters
from ivr.config import Settings
from ivr.domain.clock import ZONE_NAME
from ivr.domain.hotlines import HOTLINES
from ivr.domain.verifier import core_count
from ivr.resources import SHIPPED_DIALPLAN
from ivr.telephony.errors import ConfigError
from ivr.telephony.layout import ETC_DIR, STATE_DIR, recordings_dir_in_asterisk

TEMPLATE_DIR = SHIPPED_DIALPLAN
TESTERS: tuple[str, ...] = ("6001", "6002", "6003")
AGENTS: tuple[str, ...] = ("7001", "7002")
SECRET_FIELDS: tuple[str, ...] = ("ami_secret", "sip_password")
# Files holding a secret are written readable by their owner only.
SECRET_FILES: frozenset[str] = frozenset({"manager.conf", "pjsip.conf"})
# The calls at once a node takes per core when ``max_calls`` is 0 (see ``Settings.max_calls``).
CALLS_PER_CORE = 60
# Loaded modules read these; their defaults suit the hotline, but a missing file logs an ERROR
# at every start that an operator would chase for nothing.
DEFAULTS_ONLY: tuple[str, ...] = (
    "acl.conf",
    "ccss.conf",
    "pjproject.conf",
    "queuerules.conf",
    "stasis.conf",
    "udptl.conf",
)

__all__ = [
    "AGENTS",
    "HOTLINES",
    "TEMPLATE_DIR",
    "TESTERS",
    "DialplanOptions",
    "max_calls",
    "render_config",
    "write_config",
]

_HOURS = re.compile(r"^(\*|\d\d:\d\d-\d\d:\d\d)$")
_DAYS = re.compile(r"^(\*|[a-z]{3}(-[a-z]{3})?(&[a-z]{3}(-[a-z]{3})?)*)$")


@dataclass(frozen=True)
class DialplanOptions:
    """Choices of the Asterisk side that are not hotline settings; the defaults suit a laptop."""

    language: str = "zh"
    # When agents answer (GotoIfTime syntax); the flow may decide instead (HOTLINE_AGENTS_OPEN).
    agent_hours: str = "08:30-17:30"
    agent_days: str = "mon-fri"
    timezone: str = ZONE_NAME
    agent_wait: int = 120
    message_max: int = 120
    rtp_start: int = 10000
    rtp_end: int = 10999
    # Where AMI listens and whom it lets in; None listens on settings.ami_host.
    ami_bind: str | None = None
    ami_permit: tuple[str, ...] = ("127.0.0.1/255.255.255.255",)
    # The address phones reach Asterisk at when it is behind NAT (a container), and the
    # networks that are not behind it.
    external_address: str = ""
    local_net: str = ""

    def check(self) -> None:
        if not _HOURS.match(self.agent_hours):
            raise ConfigError(f"agent_hours {self.agent_hours!r}: use HH:MM-HH:MM or *")
        if not _DAYS.match(self.agent_days):
            raise ConfigError(f"agent_days {self.agent_days!r}: use e.g. mon-fri or mon&wed")
        if not 0 < self.rtp_start < self.rtp_end < 65536:
            raise ConfigError(f"RTP range {self.rtp_start}-{self.rtp_end} is not a port range")


_NODE_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")


def _check_value(name: str, value: object) -> None:
    # A newline or a semicolon (comment) would let a value rewrite the configuration around it.
    text = str(value)
    if not text or any(bad in text for bad in ("\n", "\r", ";")):
        raise ConfigError(f"setting {name} must be non-empty, on one line and without ';'")


def _binds_rtp(host: str) -> bool:
    try:
        return not ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False  # a host name: let Asterisk choose the RTP address


def _host_port(value: str, what: str) -> tuple[str, int]:
    host, _, port = value.strip().rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{what} {value!r}: give host:port")
    _check_value(what, host)
    return host, int(port)


def agi_urls(settings: Settings) -> list[str]:
    """The FastAGI servers a call is handed to, in turn: this node's own, then its peers'."""
    own = f"agi://{settings.agi_host}:{settings.agi_port}"
    peers = [part for part in settings.agi_peers.split(",") if part.strip()]
    return [own] + ["agi://{}:{}".format(*_host_port(p, "agi_peers")) for p in peers]


def max_calls(settings: Settings) -> int:
    """The most calls this node's Asterisk takes at once: the setting, or a share of the cores."""
    if settings.max_calls < 0:
        raise ConfigError(f"max_calls {settings.max_calls}: give a number of calls, or 0 (auto)")
    return settings.max_calls or CALLS_PER_CORE * core_count()


def template_context(settings: Settings, options: DialplanOptions) -> dict[str, Any]:
    options.check()
    for name in ("agi_host", "ami_host", "ami_user", "sip_host", *SECRET_FIELDS):
        _check_value(name, getattr(settings, name))
    if settings.node_name and not _NODE_NAME.fullmatch(settings.node_name):
        raise ConfigError(f"node_name {settings.node_name!r}: letters, digits, - and _ only")
    options = options if options.ami_bind else replace(options, ami_bind=settings.ami_host)
    for name in ("ami_bind", "timezone", "language"):
        _check_value(name, getattr(options, name))
    # Behind a SIP proxy the phones register there, not here.
    proxy = _host_port(settings.sip_proxy, "sip_proxy") if settings.sip_proxy else None
    phones = [] if proxy else [(n, "hotline-testers", "Tester") for n in TESTERS]
    phones += [] if proxy else [(n, "hotline-agent-phones", "Agent") for n in AGENTS]
    return {
        "settings": settings,
        "options": options,
        "paths": {
            "etc": ETC_DIR,
            "state": STATE_DIR,
            "recordings": recordings_dir_in_asterisk(settings),
        },
        "hotlines": HOTLINES,
        "testers": TESTERS,
        "agents": AGENTS,
        "phones": phones,
        "proxy": None if proxy is None else {"host": proxy[0], "port": proxy[1]},
        "agi_urls": agi_urls(settings),
        "max_calls": max_calls(settings),
        "shed_until": SHED_UNTIL,
        "ami_filters": manager_filters(),
        "bind_rtp": _binds_rtp(settings.sip_host),
    }


def render_config(
    settings: Settings,
    options: DialplanOptions | None = None,
    template_dir: Path = TEMPLATE_DIR,
) -> dict[str, str]:
    """Every ``<name>.j2`` of ``template_dir`` rendered: file name -> text."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Asterisk configuration, not HTML
    )
    context = template_context(settings, options or DialplanOptions())
    rendered = {}
    for template in sorted(template_dir.glob("*.conf.j2")):
        name = template.name.removesuffix(".j2")
        header = f"Generated by hotline from dialplan/{template.name}: edit the template."
        text = environment.get_template(template.name).render(context, header=header)
        rendered[name] = text
    if "asterisk.conf" not in rendered:
        raise ConfigError(f"no asterisk.conf.j2 in {template_dir}")
    for name in DEFAULTS_ONLY:
        rendered.setdefault(name, "; Generated by hotline: Asterisk's defaults apply.\n")
    return rendered


def write_config(
    settings: Settings,
    out_dir: Path,
    options: DialplanOptions | None = None,
    template_dir: Path = TEMPLATE_DIR,
) -> list[Path]:
    """Render into ``out_dir``, replacing each file atomically and removing stale ``*.conf``."""
    rendered = render_config(settings, options, template_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered.items():
        target = out_dir / name
        partial = out_dir / f".{name}.tmp"
        mode = 0o600 if name in SECRET_FILES else 0o644
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(partial, mode)  # O_CREAT's mode does not apply to a file left from a crash
        partial.replace(target)
        written.append(target)
    for stale in out_dir.glob("*.conf"):
        if stale.name not in rendered:
            stale.unlink()
    return written
