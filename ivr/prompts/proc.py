"""The external tools (espeak-ng, ffmpeg) run as asyncio subprocesses, never blocking the loop."""

from __future__ import annotations

import asyncio
import shutil

__all__ = ["ToolError", "run_tool"]

_STDERR_TAIL = 600  # enough of the tool's complaint to act on, without flooding the summary


class ToolError(RuntimeError):
    """An external tool is missing or exited with an error."""


async def run_tool(*argv: str, stdin: bytes | None = None) -> bytes:
    """Run ``argv``; its stdout, or ToolError carrying the end of its stderr."""
    if shutil.which(argv[0]) is None:
        raise ToolError(f"{argv[0]} is not installed (scripts/setup.sh installs it)")
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await process.communicate(stdin)
    except asyncio.CancelledError:
        # A cancelled build must not leave tools running behind it.
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    if process.returncode != 0:
        message = err.decode(errors="replace").strip()[-_STDERR_TAIL:]
        raise ToolError(f"{argv[0]} exited with {process.returncode}: {message}")
    return out
