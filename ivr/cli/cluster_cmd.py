"""``hotline cluster up|down|status``: several nodes behind Kamailio on this machine.

Each part on its own loopback address: the SIP proxy and the console at ``<network>.1``,
PostgreSQL at ``.2``, node *i* at ``.(10+i)``. Phones register at the proxy.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ivr.config import Settings


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("cluster", help="several nodes behind Kamailio, on this machine")
    commands = parser.add_subparsers(dest="cluster_command", required=True)
    up = commands.add_parser("up", help="start PostgreSQL, Kamailio, the nodes and the console")
    up.add_argument("--nodes", type=int, default=2, help="how many nodes (default 2)")
    up.add_argument(
        "--network", default="127.0.2.0", help="a /24 of the loopback (default 127.0.2.0)"
    )
    up.set_defaults(func=run_up)
    down = commands.add_parser("down", help="stop every part of the cluster")
    down.set_defaults(func=run_down)
    status = commands.add_parser("status", help="which parts run")
    status.set_defaults(func=run_status)


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.cluster.launch import cluster_up

    running = asyncio.run(cluster_up(settings, args.nodes, args.network))
    layout, s = running.layout, settings
    print(f"hotline cluster is up: {len(layout.nodes)} nodes, data in {layout.folder.resolve()}")
    print("")
    print("Register a SIP softphone at the proxy (one address for every node):")
    print(f"  server {layout.proxy} (UDP)   users 6001, 6002, 6003   password {s.sip_password}")
    print("  agents: register 7001 or 7002 there too; the queue of either node reaches them")
    for node in layout.nodes:
        print(f"  {node.name}: Asterisk {node.sip}, FastAGI {node.agi}, data {node.data_dir}")
        print(f"    metrics and health: {node.ops_url}/metrics, /healthz, /readyz")
    print(f"Records database: PostgreSQL at {layout.postgres_host}")
    print(f"Supervisor console: {layout.console_url}  (hotline users add NAME --role supervisor,")
    print(f"  with HOTLINE_DATA_DIR={layout.console_dir} and HOTLINE_DB_URL as in cluster status)")
    print("")
    print(running.seeded.strip())
    print("Stop: hotline cluster down")
    return 0


def run_down(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.cluster.launch import cluster_down

    stopped = asyncio.run(cluster_down(settings))
    print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.cluster.launch import cluster_status

    for part, running in cluster_status(settings).items():
        print(f"{part:<10} {'running' if running else 'stopped'}")
    return 0
