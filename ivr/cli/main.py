"""Entry point of the ``hotline`` command.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``; the parser it adds
sets ``func`` to a callable taking the parsed arguments and the settings and returning an exit
code. Registration is an explicit list, so a missing or duplicate command fails at start. A
command ``name`` lives in ``ivr.cli.<name>_cmd``: when the command line names one, only its
module is imported (``hotline calls`` does not load the web console, the stack or the prompt
builder), so a quick look starts quickly; ``--help`` and a mistyped command load them all.

Every command runs with the umask ``PRIVATE_UMASK``: what it writes (the database and its WAL,
recordings, logs, built prompts, keys) and what its children write (the local Asterisk, ffmpeg,
espeak-ng) is readable by its owner only.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from ivr.config import PRIVATE_UMASK, Settings

COMMAND_MODULES: tuple[str, ...] = (
    "ivr.cli.serve_cmd",
    "ivr.cli.db_cmd",
    "ivr.cli.calls_cmd",
    "ivr.cli.simulate_cmd",
    "ivr.cli.flows_cmd",
    "ivr.cli.prompts_cmd",
    "ivr.cli.up_cmd",
    "ivr.cli.web_cmd",
    "ivr.cli.users_cmd",
    "ivr.cli.call_cmd",
    "ivr.cli.cluster_cmd",
)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser of every command, or of the one ``argv`` names only."""
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in _modules_for(argv):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command not built yet on this branch
                continue
            raise
        module.add_parser(subparsers)
    return parser


def _modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    named = next((arg for arg in argv if not arg.startswith("-")), None)
    module = f"ivr.cli.{named}_cmd"
    return (module,) if module in COMMAND_MODULES else COMMAND_MODULES


def _join_keys_value(argv: Sequence[str]) -> list[str]:
    """``--keys "-,1,..."``: a script may start with ``-`` (silence), which argparse would take
    for an option; bind it to ``--keys`` explicitly."""
    out: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--keys" and args:
            out.append(f"--keys={args.pop(0)}")
        else:
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _join_keys_value(sys.argv[1:] if argv is None else argv)
    args = build_parser(arguments).parse_args(arguments)
    settings = Settings.load()
    from ivr.logs import configure_logging

    configure_logging(settings, debug=args.verbose)
    umask = os.umask(PRIVATE_UMASK)
    try:
        return int(args.func(args, settings) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear line for the operator; details in the log
        logging.getLogger("hotline").debug("command failed", exc_info=True)
        print(f"hotline: {exc}", file=sys.stderr)
        return 1
    finally:
        os.umask(umask)  # the caller's again (a test calling ``main`` in its own process)


if __name__ == "__main__":
    sys.exit(main())
