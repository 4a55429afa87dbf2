"""``hotline up`` / ``hotline down``: the whole local stack in one command, and its stop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from ivr.cli.startup import freeze_start_up
from ivr.config import Settings
from ivr.runtime.processes import process_runs
from ivr.stack import Stack, start_stack


def add_parser(subparsers: Any) -> None:
    up = subparsers.add_parser(
        "up", help="start Asterisk, the FastAGI server, the AMI bridge and the console"
    )
    up.add_argument("--detach", action="store_true", help="run in the background")
    up.add_argument("--no-asterisk", action="store_true", help="FastAGI and console only")
    up.add_argument("--no-web", action="store_true", help="without the supervisor console")
    up.add_argument(
        "--no-seed", action="store_true", help="without the demo citizens (a cluster seeds once)"
    )
    # Set by --detach for its child: where the full welcome goes instead of the log.
    up.add_argument("--welcome-file", type=Path, help=argparse.SUPPRESS)
    up.set_defaults(func=run_up)
    down = subparsers.add_parser("down", help="stop what `hotline up` started")
    down.set_defaults(func=run_down)


STOP_WAIT_S = 30.0  # calls get 5 s of grace, the console and the AMI bridge as much


def pid_file(settings: Settings) -> Path:
    return settings.data_dir / "hotline-up.pid"


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    _refuse_or_clear_previous(settings)
    if args.detach:
        return _detach(args, settings)
    try:
        return asyncio.run(
            _up(
                settings,
                asterisk=not args.no_asterisk,
                web=not args.no_web,
                seed=not args.no_seed,
                welcome_file=args.welcome_file,
            )
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            pid_file(settings).unlink()


async def _up(
    settings: Settings, *, asterisk: bool, web: bool, seed: bool, welcome_file: Path | None
) -> int:
    """Run until asked to stop (0), or until Asterisk keeps failing (1). ``welcome_file``: the
    welcome with the test callers' ID numbers and passwords goes there (owner only) for
    ``up --detach`` to show, and the log gets it without them."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        running = await start_stack(settings, stack, asterisk=asterisk, web=web, seed=seed)
        freeze_start_up()
        if welcome_file is None:
            print(welcome(running), flush=True)
        else:
            print(welcome(running, testers=False), flush=True)
            await asyncio.to_thread(_write_private, welcome_file, welcome(running))
        pid_file(settings).write_text(str(os.getpid()))  # last: `up --detach` waits for it
        failed = running.asterisk.gave_up if running.asterisk else asyncio.Event()
        await _first(stop, failed)
        if failed.is_set():
            assert running.asterisk is not None
            print(f"hotline: {running.asterisk.reason}; stopping", file=sys.stderr, flush=True)
            return 1
        print("hotline: stopping...", flush=True)
    return 0


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)


def welcome(stack: Stack, *, testers: bool = True) -> str:
    s = stack.settings
    lines = [f"hotline is up: {', '.join(stack.parts)} (data in {s.data_dir.resolve()})"]
    if "asterisk" in stack.parts and s.sip_proxy:
        lines += ["", f"Asterisk {s.sip_host}:{s.sip_port} behind the SIP proxy {s.sip_proxy}"]
    elif "asterisk" in stack.parts:
        lines += [
            "",
            "Register a SIP softphone (Linphone, Zoiper, baresip) on this machine:",
            f"  server {s.sip_host}:{s.sip_port} (UDP)   users 6001, 6002, 6003   "
            f"password {s.sip_password}",
            "  dial 12333 (labour and social security) or 96102 (social-security card line)",
            "  agents: register 7001 or 7002 (same password) to take transfers (key 0)",
        ]
    lines += ["", f"FastAGI: agi://{s.agi_host}:{stack.node.agi.port}/12333 and /96102"]
    if stack.node.ops is not None:
        lines.append(f"Metrics and health: {stack.node.ops.url}/metrics, /healthz, /readyz")
    if stack.testers and not testers:
        lines += [f"Test callers: {len(stack.testers)} (listed by `hotline up --detach`)"]
    elif stack.testers:
        lines += ["Test callers (key * for a final X; the password is the initial one):"]
        lines += [
            f"  {c.id_number.replace('X', '*'):<20} {c.initial_password}   card {c.card_status}"
            for c in stack.testers[:5]
        ]
    if stack.web is not None:
        lines += [
            "",
            f"Supervisor console: {stack.web.url}  "
            "(create an account: hotline users add NAME --role supervisor)",
        ]
    call = (
        'Scripted test call: hotline simulate 12333 --keys "1,11010519491231002*#,231002#,1"   '
        if testers
        else ""  # a demo caller's ID number and password too
    )
    lines += ["", f"{call}Stop: Ctrl-C or hotline down"]
    return "\n".join(lines)


def _refuse_or_clear_previous(settings: Settings) -> None:
    """One stack per data folder. A stack that died without stopping (``kill -9``, a crash)
    leaves its pid file and its Asterisk behind: stop that Asterisk so this start can go on."""
    path = pid_file(settings)
    if not path.exists():
        return
    pid = int(path.read_text() or 0)
    if pid and process_runs(pid):
        raise RuntimeError(f"hotline up is already running (pid {pid}): `hotline down` first")
    print(f"hotline: the last `hotline up` (pid {pid}) died without stopping; cleaning up")
    from ivr.telephony import stop_local_asterisk

    if asyncio.run(stop_local_asterisk(settings)):
        print("hotline: stopped the Asterisk it left running")
    path.unlink(missing_ok=True)


def _detach(args: argparse.Namespace, settings: Settings) -> int:
    settings.make_data_dir()
    settings.log_dir.mkdir(exist_ok=True)
    log_path = settings.log_dir / "hotline-up.log"
    # The test callers' ID numbers and passwords are shown here, never written to the log.
    welcome_path = settings.data_dir / "hotline-up.welcome"
    welcome_path.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "ivr.cli.main", "up", "--welcome-file", str(welcome_path)]
    argv += ["--no-asterisk"] if args.no_asterisk else []
    argv += ["--no-web"] if args.no_web else []
    argv += ["--no-seed"] if args.no_seed else []
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 300  # the first run builds Asterisk's root (about 20 s)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"hotline up failed; see {log_path}", file=sys.stderr)
            return 1
        if pid_file(settings).exists():
            print(welcome_path.read_text())
            welcome_path.unlink()
            return 0
        time.sleep(0.5)
    print(f"hotline up is still starting; see {log_path}", file=sys.stderr)
    return 1


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while process_runs(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def run_down(args: argparse.Namespace, settings: Settings) -> int:
    path = pid_file(settings)
    stopped = False
    pid = int(path.read_text() or 0) if path.exists() else 0
    if pid and process_runs(pid):
        os.kill(pid, signal.SIGTERM)  # calls in progress get their grace, then everything stops
        if not _gone_within(pid, STOP_WAIT_S):
            print(f"hotline: pid {pid} did not stop within {STOP_WAIT_S:.0f} s: killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _gone_within(pid, 5)
        stopped = True
    path.unlink(missing_ok=True)
    from ivr.telephony import stop_local_asterisk

    if asyncio.run(stop_local_asterisk(settings)):
        stopped = True
    print("hotline stopped" if stopped else "nothing was running")
    return 0
