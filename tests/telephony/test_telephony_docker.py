"""The container deployment, checked as far as a machine without a Docker engine can.

The compose file must parse, name only paths that exist, and agree with the local cluster
(``hotline cluster up``): Kamailio in front of two Asterisk nodes, each handing its calls to its
own hotline node first and to the other next, one PostgreSQL, Prometheus scraping every node; the
same Asterisk packages, the same paths inside Asterisk, the RTP ranges each node renders and
publishes. The configurations are rendered here from the compose file's own settings and
command lines, by the code the *-config services run.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.cluster.__main__ import main as cluster_main
from ivr.config import Settings
from ivr.telephony.__main__ import build_parser, render_options
from ivr.telephony.dialplan import render_config
from ivr.telephony.layout import ETC_DIR, PROMPTS_DIR, RECORDINGS_DIR, STATE_DIR
from ivr.telephony.rootfs import PACKAGES
from tests.paths import REPO_ROOT

DOCKER = REPO_ROOT / "docker"
NODES = ("1", "2")
METRICS_PORT = 9105  # the ops server's port on every node
ENV_FILE = {  # docker/.env, as env.example says to fill it
    "HOTLINE_AMI_SECRET": "compose-ami-secret",
    "HOTLINE_SIP_PASSWORD": "compose-sip-secret",
    "HOTLINE_ID_HASH_KEY": "ab" * 32,
    "POSTGRES_PASSWORD": "compose-db-secret",
    "HOTLINE_PUBLIC_ADDRESS": "192.0.2.7",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def interpolate(value: str) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}`` from ``ENV_FILE``."""
    return re.sub(r"\$\{(\w+)(?::[-?][^}]*)?\}", lambda m: ENV_FILE[m.group(1)], value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    return {name: interpolate(str(value)) for name, value in service["environment"].items()}


def arguments(service: dict[str, Any], after: str) -> list[str]:
    command = [interpolate(a) for a in service["command"]]
    return command[command.index(after) :]


def address(compose: dict[str, Any], name: str) -> str:
    address: str = compose["services"][name]["networks"]["hotline"]["ipv4_address"]
    return address


def mounts(service: dict[str, Any]) -> dict[str, str]:
    return {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}


def test_the_services_follow_the_cluster_topology(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "postgres",
        "kamailio-config",
        "kamailio",
        *(f"asterisk-{n}-config" for n in NODES),
        *(f"asterisk-{n}" for n in NODES),
        *(f"hotline-{n}" for n in NODES),
        "console",
        "prometheus",
    }
    services = compose["services"]
    for n in NODES:
        assert services[f"hotline-{n}"]["command"] == ["hotline", "serve", "--ami"]
    assert services["console"]["command"] == ["hotline", "web"]
    names = [environment(services[f"hotline-{n}"])["HOTLINE_NODE_NAME"] for n in NODES]
    assert len(set(names)) == len(NODES)  # each node its own row in the runs table


def test_build_contexts_and_dockerfiles_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if "build" not in service:
            assert "image" in service, name
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


def test_each_asterisk_sees_the_paths_its_configuration_names(compose: dict[str, Any]) -> None:
    services = compose["services"]
    recordings = set()
    for n in NODES:
        asterisk = mounts(services[f"asterisk-{n}"])
        for inner in (ETC_DIR, STATE_DIR, PROMPTS_DIR, RECORDINGS_DIR):
            assert str(inner) in asterisk
        hotline = mounts(services[f"hotline-{n}"])
        assert hotline["/data/sounds"] == asterisk[str(PROMPTS_DIR)]
        config = mounts(services[f"asterisk-{n}-config"])
        assert config[str(ETC_DIR)] == asterisk[str(ETC_DIR)]
        recordings |= {hotline["/data/recordings"], asterisk[str(RECORDINGS_DIR)]}
        assert environment(services[f"hotline-{n}"])["HOTLINE_DATA_DIR"] == "/data"
    # Each node its own configuration and state; one recordings volume, shared with the console.
    etc = {mounts(services[f"asterisk-{n}"])[str(ETC_DIR)] for n in NODES}
    state = {mounts(services[f"asterisk-{n}"])[str(STATE_DIR)] for n in NODES}
    assert len(etc) == len(state) == len(NODES)
    assert recordings == {mounts(services["console"])["/data/recordings"]}
    assert compose["x-settings"]["HOTLINE_ASTERISK_RECORDINGS_DIR"] == str(RECORDINGS_DIR)


def test_the_rendered_rtp_ranges_are_the_published_ones(compose: dict[str, Any]) -> None:
    ranges = []
    for n in NODES:
        options = render_options(
            build_parser().parse_args(
                arguments(compose["services"][f"asterisk-{n}-config"], "render")
            )
        )
        published = (
            f"{options.rtp_start}-{options.rtp_end}:{options.rtp_start}-{options.rtp_end}/udp"
        )
        assert compose["services"][f"asterisk-{n}"]["ports"] == [published]
        ranges.append(range(options.rtp_start, options.rtp_end + 1))
    assert not set(ranges[0]) & set(ranges[1])  # both published on one host


def test_each_asterisk_hands_calls_to_its_own_node_then_the_other(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    services = compose["services"]
    kamailio = address(compose, "kamailio")
    for n, other in zip(NODES, reversed(NODES), strict=True):
        renderer = services[f"asterisk-{n}-config"]
        settings = Settings.load(environment(renderer), data_dir=tmp_path)
        options = render_options(build_parser().parse_args(arguments(renderer, "render")))
        rendered = render_config(settings, options)
        agi = re.findall(r"agi://[^/\s]+", rendered["extensions.conf"])
        assert list(dict.fromkeys(agi)) == [
            f"agi://hotline-{n}:4573",
            f"agi://hotline-{other}:4573",
        ]
        # The node's FastAGI server listens where its Asterisk dials, its AMI bridge its own.
        node = environment(services[f"hotline-{n}"])
        assert node["HOTLINE_AGI_HOST"] == "0.0.0.0"
        assert node["HOTLINE_AGI_PORT"] == "4573"
        assert node["HOTLINE_AMI_HOST"] == f"asterisk-{n}"
        # Behind Kamailio: the proxy is known by its address, no phone registers here.
        assert f"contact = sip:{kamailio}:5060" in rendered["pjsip.conf"]
        assert f"match = {kamailio}" in rendered["pjsip.conf"]
        assert "[6001](phone)" not in rendered["pjsip.conf"]


def test_kamailio_dispatches_over_both_asterisk_nodes(
    compose: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose["services"]
    for name, value in environment(services["kamailio-config"]).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "data"))
    command = arguments(services["kamailio-config"], "proxy-config")
    folder = next(a for a in command if a.startswith("--out=")).split("=")[1]
    # Kamailio runs from the volume the configuration is written to.
    assert mounts(services["kamailio"])[folder] == mounts(services["kamailio-config"])[folder]
    local = tmp_path / "kamailio"
    command = [a if not a.startswith("--out=") else f"--out={local}" for a in command]
    assert cluster_main(command) == 0
    dispatcher = (local / "dispatcher.list").read_text().splitlines()
    nodes = [f"1 sip:{address(compose, f'asterisk-{n}')}:5060 0 0" for n in NODES]
    assert [line for line in dispatcher if line.startswith("1 ")] == nodes
    config = (local / "kamailio.cfg").read_text()
    kamailio = address(compose, "kamailio")
    public = ENV_FILE["HOTLINE_PUBLIC_ADDRESS"]
    assert f"listen=udp:{kamailio}:5060 advertise {public}:5060" in config
    assert f"{kamailio}:5060" == compose["x-settings"]["HOTLINE_SIP_PROXY"]
    assert "5060:5060/udp" in services["kamailio"]["ports"]
    for n in NODES:  # phones reach the nodes only through Kamailio
        assert not any("5060" in port for port in services[f"asterisk-{n}"]["ports"])
    # The configuration Kamailio 5.6 (Debian's, as the image installs) accepts, once the paths
    # name this machine's folder: the addresses are only bound when it runs.
    checked = subprocess.run(
        ["/usr/sbin/kamailio", "-c", "-f", str(local / "kamailio.cfg")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_prometheus_scrapes_every_node(compose: dict[str, Any]) -> None:
    services = compose["services"]
    scrape = mounts(services["prometheus"])["/etc/prometheus/prometheus.yml"]
    config = yaml.safe_load((DOCKER / scrape).read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        if job.get("metrics_path", "/metrics") == "/metrics"
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert targets == {f"hotline-{n}:{METRICS_PORT}" for n in NODES}
    for n in NODES:  # each node serves them there, on an address the prometheus service reaches
        settings = Settings.load(environment(services[f"hotline-{n}"]))
        assert (settings.ops_host, settings.ops_port) == ("0.0.0.0", METRICS_PORT)


def test_no_secret_is_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    text = (DOCKER / "compose.yaml").read_text()
    for variable in ENV_FILE.keys() - {"HOTLINE_PUBLIC_ADDRESS"}:
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


def test_the_kamailio_image_is_debians_kamailio_as_the_local_cluster_runs() -> None:
    dockerfile = (DOCKER / "kamailio" / "Dockerfile").read_text()
    assert "FROM debian:bookworm-slim" in dockerfile  # Kamailio 5.6, as on this machine
    installed = re.search(r"apt-get install[^\n]*\n?\s*([^\n&\\]+)", dockerfile)
    assert installed is not None
    assert "kamailio" in installed.group(0).split()
    setup = (REPO_ROOT / "scripts" / "setup.sh").read_text()
    assert re.search(r"^\s*kamailio\b", setup, re.M)
