"""The container deployment, checked as far as a machine without a Docker engine can.

The compose file must parse, name only paths that exist, and agree with the local stack: the
same Asterisk packages, the same paths inside Asterisk, the RTP range it renders and publishes.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from ivr.telephony.layout import ETC_DIR, PROMPTS_DIR, RECORDINGS_DIR, STATE_DIR
from ivr.telephony.rootfs import PACKAGES
from tests.paths import REPO_ROOT

DOCKER = REPO_ROOT / "docker"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_the_three_services_and_the_renderer_are_defined(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "asterisk-config", "asterisk", "hotline"}


def test_build_contexts_and_dockerfiles_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if "build" not in service:
            continue
        context = (DOCKER / service["build"]["context"]).resolve()
        assert context.is_dir(), name
        dockerfile = context / service["build"].get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), name


def test_bind_mounts_exist_and_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (DOCKER / source).resolve().exists(), f"{name}: {source}"
            else:
                assert source in declared, f"{name}: {source}"


def mounts(service: dict[str, Any]) -> dict[str, str]:
    return {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}


def test_asterisk_sees_the_paths_the_configuration_names(compose: dict[str, Any]) -> None:
    services = compose["services"]
    asterisk = mounts(services["asterisk"])
    for inner in (ETC_DIR, STATE_DIR, PROMPTS_DIR, RECORDINGS_DIR):
        assert str(inner) in asterisk
    hotline = mounts(services["hotline"])
    assert hotline["/data/recordings"] == asterisk[str(RECORDINGS_DIR)]
    assert hotline["/data/sounds"] == asterisk[str(PROMPTS_DIR)]
    assert mounts(services["asterisk-config"])[str(ETC_DIR)] == asterisk[str(ETC_DIR)]
    settings = compose["x-settings"]
    assert settings["HOTLINE_ASTERISK_RECORDINGS_DIR"] == str(RECORDINGS_DIR)
    assert services["hotline"]["environment"]["HOTLINE_DATA_DIR"] == "/data"


def test_the_rendered_rtp_range_is_the_published_one(compose: dict[str, Any]) -> None:
    command = compose["services"]["asterisk-config"]["command"]
    start = next(a for a in command if a.startswith("--rtp-start=")).split("=")[1]
    end = next(a for a in command if a.startswith("--rtp-end=")).split("=")[1]
    assert f"{start}-{end}:{start}-{end}/udp" in compose["services"]["asterisk"]["ports"]


def test_no_secret_is_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    text = (DOCKER / "compose.yaml").read_text()
    for variable in ("HOTLINE_AMI_SECRET", "HOTLINE_SIP_PASSWORD", "POSTGRES_PASSWORD"):
        assert re.search(rf"{variable}: \$\{{{variable}:\?", text), variable


def test_the_asterisk_image_has_the_packages_of_the_local_root() -> None:
    dockerfile = (DOCKER / "asterisk" / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM debian:sid-slim" in dockerfile
    installed = re.search(r"apt-get install[^\n]*\n\s+([^\n&\\]+)", dockerfile)
    assert installed is not None
    assert set(installed.group(1).split()) == set(PACKAGES)


def test_the_hotline_image_sends_a_small_build_context() -> None:
    ignore = (DOCKER / "hotline" / "Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in ignore  # .venv and var/ (with the cached Asterisk root) stay out
    dockerfile = (DOCKER / "hotline" / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (\S+)", dockerfile, re.M)
    for path in copied:
        assert (REPO_ROOT / path).exists(), path
    # The folders ivr/resources links to are in the image (the package reads them there).
    for folder in ("ivr", "dialplan", "prompts", "data"):
        assert folder in copied and f"!{folder}/" in ignore, folder
