"""A long-running command, once started, leaves what start-up made out of the garbage collector's
later walks (``ivr.cli.startup``): a full collection then pauses the event loop for a few
milliseconds, not the 55-95 ms that every import's objects cost."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
from pathlib import Path

import pytest

from ivr.cli import web_cmd
from ivr.config import Settings


async def test_the_console_is_ready_with_its_start_up_objects_out_of_the_collectors_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.load(
        env={"HOTLINE_DATA_DIR": str(tmp_path / "data")}, web_host="127.0.0.1", web_port=0
    )
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as manager:
        # the readiness message a service manager would get (``ivr.cli.sdnotify``)
        manager.bind(str(tmp_path / "notify"))
        manager.setblocking(False)
        monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
        serving = asyncio.create_task(web_cmd.serve(settings))
        ready = b""
        try:
            ready = await asyncio.wait_for(loop.sock_recv(manager, 4096), 120)
            frozen, walked = gc.get_freeze_count(), len(gc.get_objects())
        finally:
            if ready:  # its stop signal's handler is installed: stop it as systemd would
                os.kill(os.getpid(), signal.SIGTERM)
                await asyncio.wait_for(serving, 60)
            else:
                serving.cancel()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            gc.unfreeze()
    assert ready.startswith(b"READY=1")
    # What start-up made is frozen; what a full collection still walks is what came since.
    assert frozen > 10 * walked
