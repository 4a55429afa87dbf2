"""Starting and stopping local Asterisks: pid file, second instances, ports, container options."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from ivr.config import Settings
from ivr.telephony import (
    AlreadyRunningError,
    HostLayout,
    LocalAsterisk,
    PortInUseError,
    start_local_asterisk,
    stop_local_asterisk,
)
from ivr.telephony.__main__ import build_parser, render_options
from ivr.telephony.process import PidRecord
from ivr.telephony.rootfs import mounts_under
from tests.paths import REPO_ROOT
from tests.telephony.callkit import make_settings, shared_rootfs

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]


async def test_a_stack_started_elsewhere_is_stopped_through_its_pid_file(
    asterisk: LocalAsterisk, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    other = await start_local_asterisk(settings, rootfs=shared_rootfs())
    try:
        record = PidRecord.read(HostLayout.from_settings(settings).pid_file)
        assert record is not None
        assert record.pid == other.pid
        assert record.alive()
        # The binds live in Asterisk's own mount namespace, never on the host.
        assert mounts_under(shared_rootfs()) == []
        assert "Asterisk Ready" in (settings.log_dir / "asterisk.log").read_text()
        with pytest.raises(AlreadyRunningError, match="hotline down"):
            await LocalAsterisk(settings, rootfs=shared_rootfs()).start()
    finally:
        stopped = await stop_local_asterisk(settings)
    assert stopped
    assert not record.alive()
    assert not HostLayout.from_settings(settings).pid_file.exists()
    assert await stop_local_asterisk(settings) is False
    await other.stop()  # already stopped: only reaps the child


async def test_a_taken_port_is_reported_with_the_setting_to_change(
    asterisk: LocalAsterisk, asterisk_settings: Settings, tmp_path: Path
) -> None:
    clash = Settings(data_dir=tmp_path, ami_port=asterisk_settings.ami_port)
    with pytest.raises(PortInUseError, match="HOTLINE_AMI_PORT"):
        await LocalAsterisk(clash, rootfs=shared_rootfs()).start()
    assert not HostLayout.from_settings(clash).pid_file.exists()


async def test_the_container_configuration_loads_too(
    asterisk: LocalAsterisk, tmp_path: Path
) -> None:
    # The options the compose file renders with; `render` arguments with ${...} are placeholders.
    compose = yaml.safe_load((REPO_ROOT / "docker" / "compose.yaml").read_text())
    command = compose["services"]["asterisk-1-config"]["command"]
    arguments = [a for a in command[command.index("render") :] if "${" not in a]
    options = render_options(build_parser().parse_args(arguments))
    assert options.ami_bind == "0.0.0.0"
    settings = replace(make_settings(tmp_path), sip_host="0.0.0.0")
    async with LocalAsterisk(settings, rootfs=shared_rootfs(), options=options) as container:
        transports = await container.rx("pjsip show transports")
        assert f"0.0.0.0:{settings.sip_port}" in transports
        manager = await container.rx("manager show settings")
        assert re.search(rf"TCP Bindaddress:\s+0\.0\.0\.0:{settings.ami_port}", manager), manager
        rtp = await container.rx("rtp show settings")
        assert "10000" in rtp and "10099" in rtp, rtp
