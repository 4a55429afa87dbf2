"""``python -m ivr.telephony``: the two steps of the local Asterisk that are useful on their own.

- ``render --out DIR``: write the Asterisk configuration (the container deployment renders into a
  shared volume this way, with ``--ami-bind`` / ``--ami-permit`` / ``--external-address``);
- ``rootfs``: build the cached root file system ahead of time (CI images, or ``--rebuild``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ivr.config import Settings
from ivr.telephony.dialplan import TEMPLATE_DIR, DialplanOptions, write_config
from ivr.telephony.errors import TelephonyError
from ivr.telephony.layout import HostLayout
from ivr.telephony.rootfs import STAMP_NAME, ensure_rootfs


def render_options(args: argparse.Namespace) -> DialplanOptions:
    """The options of a ``render`` command line (the compose file's are tested this way)."""
    return DialplanOptions(
        agent_hours=args.agent_hours,
        agent_days=args.agent_days,
        ami_bind=args.ami_bind,
        ami_permit=tuple(args.ami_permit or DialplanOptions.ami_permit),
        external_address=args.external_address,
        local_net=args.local_net,
        rtp_start=args.rtp_start,
        rtp_end=args.rtp_end,
    )


def _render(args: argparse.Namespace) -> int:
    options = render_options(args)
    for path in write_config(Settings.load(), args.out, options, args.templates):
        print(path)
    return 0


def _rootfs(args: argparse.Namespace) -> int:
    root = args.root.resolve() if args.root else HostLayout.from_settings(Settings.load()).rootfs
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.rebuild:
        (root / STAMP_NAME).unlink(missing_ok=True)
    started = time.monotonic()
    asyncio.run(ensure_rootfs(root, mirror=args.mirror))
    print(f"{root} ready ({time.monotonic() - started:.0f} s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ivr.telephony", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    render = commands.add_parser("render", help="write the Asterisk configuration")
    render.set_defaults(func=_render)
    render.add_argument("--out", type=Path, required=True, help="folder to write *.conf into")
    render.add_argument("--templates", type=Path, default=TEMPLATE_DIR)
    render.add_argument("--ami-bind", help="address AMI listens on (default: HOTLINE_AMI_HOST)")
    render.add_argument("--ami-permit", action="append", help="network allowed to use AMI")
    render.add_argument("--external-address", default="", help="address phones reach (NAT)")
    render.add_argument("--local-net", default="", help="network not behind that NAT")
    render.add_argument("--agent-hours", default=DialplanOptions.agent_hours)
    render.add_argument("--agent-days", default=DialplanOptions.agent_days)
    render.add_argument("--rtp-start", type=int, default=DialplanOptions.rtp_start)
    render.add_argument("--rtp-end", type=int, default=DialplanOptions.rtp_end)

    rootfs = commands.add_parser("rootfs", help="build the Asterisk root file system")
    rootfs.set_defaults(func=_rootfs)
    rootfs.add_argument("--root", type=Path, help="default: <data dir>/asterisk/rootfs")
    rootfs.add_argument("--mirror", help="Debian mirror (default: this machine's apt sources)")
    rootfs.add_argument("--rebuild", action="store_true", help="build again even when ready")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except TelephonyError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
