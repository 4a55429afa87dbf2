"""The systemd units for production, checked the two ways this machine allows: ``systemd-analyze
verify`` on the units as ``deploy/systemd/install.sh`` installs them, and the units' own command
lines started the way systemd starts them (their environment file, ``NOTIFY_SOCKET``), since no
systemd runs here as the service manager."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

INSTALL = REPO_ROOT / "deploy" / "systemd" / "install.sh"
UNITS = ("hotline-node.service", "hotline-console.service")


def _free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``install.sh --root``: every file it installs, written under a folder of the test's."""
    root = tmp_path_factory.mktemp("sysroot")
    done = subprocess.run(
        [str(INSTALL), "--root", str(root)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def _unit(root: Path, name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (root / "etc/systemd/system" / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def _verify(*paths: Path) -> str:
    """What ``systemd-analyze verify`` says (it exits 0 on directives it ignores: read it all)."""
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: apt-get install systemd", pytrace=False)
    done = subprocess.run(
        ["systemd-analyze", "verify", *map(str, paths)], capture_output=True, text=True, timeout=60
    )
    return (done.stdout + done.stderr).strip() + ("" if done.returncode == 0 else " (failed)")


def test_install_writes_units_for_this_checkout_and_a_private_environment_file(
    installed: Path,
) -> None:
    for name in UNITS:
        unit = _unit(installed, name)
        (command,) = unit["ExecStart"]
        assert command.startswith(f"{REPO_ROOT}/.venv/bin/hotline ")
        assert unit["Type"] == ["notify"] and unit["Restart"] == ["on-failure"]
        assert unit["User"] == ["hotline"] and unit["EnvironmentFile"] == [
            "/etc/hotline/hotline.env"
        ]
        assert unit["NoNewPrivileges"] == ["yes"] and unit["ProtectSystem"] == ["strict"]
        assert unit["PrivateTmp"] == ["yes"] and unit["ReadWritePaths"] == ["/var/lib/hotline"]
    env = installed / "etc/hotline/hotline.env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o640  # it holds secrets
    override = (installed / "etc/systemd/system/asterisk.service.d/hotline.conf").read_text()
    assert "Restart=on-failure" in override and "-C /etc/hotline-asterisk/asterisk.conf" in override
    assert (installed / "etc/hotline-asterisk/extensions.conf").is_file()


def test_the_units_pass_systemd_analyze_verify(installed: Path, tmp_path: Path) -> None:
    units = [installed / "etc/systemd/system" / name for name in UNITS]
    assert _verify(*units) == ""
    # The check can fail: a unit with a directive systemd would ignore is reported.
    broken = tmp_path / "broken.service"
    broken.write_text(units[0].read_text().replace("Restart=on-failure", "Restart=sometimes"))
    assert "Failed to parse service restart specifier" in _verify(broken)


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.setblocking(False)
    try:
        yield listener, path
    finally:
        listener.close()


def _service_environment(root: Path, data_dir: Path, notify: str) -> dict[str, str]:
    """The unit's environment file, with this test's folder and ports for the machine-wide ones."""
    env = dict(os.environ)
    for line in (root / "etc/hotline/hotline.env").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    env.pop("HOTLINE_DB_URL")  # no PostgreSQL server here: the embedded SQLite
    env.update(
        HOTLINE_DATA_DIR=str(data_dir),
        HOTLINE_AGI_PORT=str(_free_port()),
        HOTLINE_AMI_PORT=str(_free_port()),  # nothing listens: the bridge keeps retrying
        HOTLINE_WEB_PORT=str(_free_port()),
        HOTLINE_OPS_PORT=str(_free_port()),
        NOTIFY_SOCKET=notify,
    )
    return env


async def _notifications(listener: socket.socket, until: str, within: float) -> list[str]:
    loop = asyncio.get_running_loop()
    seen: list[str] = []
    async with asyncio.timeout(within):
        while not any(until in message for message in seen):
            seen.append((await loop.sock_recv(listener, 4096)).decode())
    return seen


@pytest.mark.parametrize("name", UNITS)
async def test_each_units_command_line_tells_systemd_it_is_ready_and_stops_cleanly(
    installed: Path, notify_socket: tuple[socket.socket, str], tmp_path: Path, name: str
) -> None:
    listener, path = notify_socket
    (command,) = _unit(installed, name)["ExecStart"]
    env = _service_environment(installed, tmp_path / "data", path)
    # The schema first, as an operator's `hotline db upgrade` makes it.
    upgrade = await asyncio.create_subprocess_exec(
        f"{REPO_ROOT}/.venv/bin/hotline", "db", "upgrade", env=env
    )
    assert await asyncio.wait_for(upgrade.wait(), 120) == 0
    service = await asyncio.create_subprocess_exec(
        *shlex.split(command),
        cwd=_unit(installed, name)["WorkingDirectory"][0],
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        ready = await _notifications(listener, "READY=1", 60)
        assert any("STATUS=" in message for message in ready)
        service.send_signal(signal.SIGTERM)  # what systemctl stop sends
        assert any("STOPPING=1" in m for m in await _notifications(listener, "STOPPING=1", 30))
        out, _ = await asyncio.wait_for(service.communicate(), 30)
        assert service.returncode == 0, out.decode()
    finally:
        if service.returncode is None:
            service.kill()
            await service.wait()
