"""``python -m ivr.cluster proxy-config``: Kamailio's configuration for nodes that run elsewhere.

``hotline cluster up`` writes it for the nodes it starts; a deployment whose nodes run on other
machines or containers (``docker/compose.yaml``) writes it with this, from the same templates:

    python -m ivr.cluster proxy-config --out DIR --listen HOST:PORT [--advertise HOST] \\
        --node HOST:PORT --node HOST:PORT

The phones' password is the setting ``sip_password`` (``HOTLINE_SIP_PASSWORD``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ivr.cluster.proxy import ProxyError, SipProxy
from ivr.config import Settings


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r}: give host:port")
    return host, int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ivr.cluster")
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("proxy-config", help="write kamailio.cfg and dispatcher.list")
    config.add_argument("--out", type=Path, required=True, help="the folder Kamailio runs from")
    config.add_argument("--listen", type=_host_port, required=True, help="HOST:PORT to listen on")
    config.add_argument("--advertise", default="", help="the address phones reach the proxy at")
    config.add_argument(
        "--node", action="append", required=True, help="an Asterisk node's SIP HOST:PORT"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    host, port = args.listen
    try:
        SipProxy(args.out, host, port, args.advertise).write_config(Settings.load(), args.node)
    except ProxyError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"kamailio.cfg and dispatcher.list written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
