"""``hotline call`` without Asterisk: arguments, and what it says when it cannot place a call."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

import pytest

from ivr.cli import call_cmd
from ivr.cli.main import _join_keys_value, build_parser, main
from ivr.config import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_keys_may_start_with_silence() -> None:
    argv = ["call", "96102", "--keys", "-,1,11010519491231002*#,231002#,1", "--trace"]
    args = build_parser().parse_args(_join_keys_value(argv))
    assert args.hotline == "96102" and args.trace and not args.stay
    assert args.keys == "-,1,11010519491231002*#,231002#,1"
    assert args.context == "hotline-local" and args.func is call_cmd.run


def test_bad_keys_are_refused_before_calling(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    assert main(["call", "12333", "--keys", "1,x"]) == 1
    assert "keys entry 2" in capsys.readouterr().err


async def test_no_asterisk_is_a_failure_to_connect(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, ami_port=free_port())
    args = argparse.Namespace(
        hotline="12333", context="hotline-local", caller="13800000000", timeout=5.0,
        stay=False, trace=False,
    )  # fmt: skip
    assert await call_cmd.call(settings, args, ["1"]) == 1
    out = capsys.readouterr().out
    assert "cannot reach AMI" in out and "hotline up" in out
