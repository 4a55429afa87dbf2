"""The baseline of the load benchmark: a bare asyncio FastAGI server with no IVR in it.

It reads the ``agi_*`` header block, then sends a fixed list of AGI commands (the ones a real
balance-check call sends, captured by the benchmark), each after the previous reply, and closes.
What it costs per command is the floor: asyncio, the socket and the peer, nothing of the hotline.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import signal
from pathlib import Path


async def answer_call(
    payload: list[bytes], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """One call: skip the header block, then each command line after the previous reply."""
    try:
        while (await reader.readline()).strip():
            pass  # the header block ends with an empty line
        for command in payload:
            writer.write(command)
            await writer.drain()
            reply = await reader.readline()
            if not reply or reply.startswith((b"HANGUP", b"511")):
                break
    finally:
        writer.close()


async def serve(host: str, port: int, commands: list[str]) -> None:
    payload = [(command + "\n").encode() for command in commands]
    server = await asyncio.start_server(
        functools.partial(answer_call, payload), host, port, backlog=1024
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        print("ready", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--commands", type=Path, required=True, help="JSON list of command lines")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, json.loads(args.commands.read_text())))


if __name__ == "__main__":
    main()
