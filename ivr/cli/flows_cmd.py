"""``hotline flows draw``: a drawing of each flow from the same definitions the engine runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ivr.config import Settings
from ivr.engine.draw import graphviz, mermaid
from ivr.flows import FLOWS


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("flows", help="inspect the call flows")
    commands = parser.add_subparsers(dest="flows_command", required=True)
    draw = commands.add_parser("draw", help="write a diagram of each flow")
    draw.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    draw.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder to write <flow>.mmd/.dot into (default: print)",
    )
    draw.add_argument("flow", nargs="*", help="flows to draw (default: all)")
    draw.set_defaults(func=run_draw)


def run_draw(args: argparse.Namespace, settings: Settings) -> int:
    names = args.flow or list(FLOWS)
    unknown = [name for name in names if name not in FLOWS]
    if unknown:
        raise SystemExit(f"unknown flow(s): {', '.join(unknown)}; known: {', '.join(FLOWS)}")
    render, suffix = (mermaid, ".mmd") if args.format == "mermaid" else (graphviz, ".dot")
    for name in names:
        text = render(FLOWS[name])
        if args.out is None:
            print(text)
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            path = args.out / f"{name}{suffix}"
            path.write_text(text, encoding="utf-8")
            print(path)
    return 0
