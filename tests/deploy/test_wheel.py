"""A node installed as a package, not run from a checkout.

The wheel is built from a copy of this tree (what ``docker/hotline`` also sends its build: the
package and the folders ``ivr/resources`` links to), installed into a new virtualenv outside the
checkout, and run from a folder outside it with a data folder of its own: the schema, the demo
data, the README's scripted call, the Asterisk and Kamailio configurations. What it reads must be
the copies the wheel shipped, never the checkout's.

No network: the wheel is built with this virtualenv's setuptools (``--no-build-isolation``), and
installed with ``pip install --no-index --find-links`` from wheels of its dependencies packed from
this virtualenv (``tests/deploy/wheelhouse.py``), so pip resolves ``pyproject.toml``'s
dependencies against those alone. pip's configuration files and ``PIP_*`` variables are ignored.

Slow, about a minute, and marked ``wheel``: ``pytest -m wheel`` runs it alone, ``-m "not
wheel"`` leaves it out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.domain.hotlines import HOTLINES
from ivr.telephony.dialplan import AGENTS, TESTERS
from tests.deploy.wheelhouse import pack_requirements, requirements_of_wheel
from tests.paths import REPO_ROOT

pytestmark = pytest.mark.wheel

# What building the wheel needs from the checkout (the hotline image's build context too).
BUILD_INPUTS = ("pyproject.toml", "README.md", "ivr", "prompts", "dialplan", "data")
# ivr.resources' names, and the checkout's folder each leads to there.
SHIPPED = {"SHIPPED_PROMPTS": "prompts", "SHIPPED_DIALPLAN": "dialplan", "SHIPPED_DATA": "data"}
PROBE = """import json, sys, ivr, ivr.resources as r
shipped = {name: str(getattr(r, name).resolve()) for name in r.__all__}
print(json.dumps({"package": ivr.__file__, "path": sys.path, "shipped": shipped}))"""
SCRIPTED_CALL = "-,1,11010519491231002*#,231002#,1"  # the README's: balance of the first citizen
SIP_PASSWORD = "wheel-test-sip-secret"
PIP_TIMEOUT_S = 300
COMMAND_TIMEOUT_S = 120


@dataclass(frozen=True)
class Node:
    venv: Path
    workdir: Path  # outside the checkout: the commands' working directory
    env: Mapping[str, str]

    def run(self, *argv: str, timeout: float = COMMAND_TIMEOUT_S) -> str:
        """``argv[0]`` from the virtualenv's ``bin``; its standard output (it must succeed)."""
        done = subprocess.run(
            [str(self.venv / "bin" / argv[0]), *argv[1:]],
            cwd=self.workdir,
            env=dict(self.env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout


def _run(argv: list[str]) -> None:
    """Offline (no index), with none of this machine's pip configuration."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # no index or find-links from pip.conf either
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}\n{done.stderr}"


def _pip(python: Path | str, command: str, *args: str) -> None:
    _run(
        [
            str(python),
            "-m",
            "pip",
            "--disable-pip-version-check",
            "-q",
            command,
            "--no-index",
            *args,
        ]
    )


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Node:
    root = tmp_path_factory.mktemp("wheel")
    assert not root.resolve().is_relative_to(REPO_ROOT)
    # A copy, so no build/ or egg-info is left in the checkout (nor a stale one taken from it).
    source = root / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        origin = REPO_ROOT / name
        if origin.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(origin, source / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(origin, source / name)
    built = root / "built"
    _pip(
        sys.executable, "wheel", "--no-build-isolation", "--no-deps", "-w", str(built), str(source)
    )
    (wheel,) = built.glob("hotline-*.whl")
    wheelhouse = root / "wheelhouse"
    pack_requirements(requirements_of_wheel(wheel), wheelhouse)
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    _pip(venv / "bin" / "python", "install", "--find-links", str(wheelhouse), str(wheel))
    workdir = root / "work"
    workdir.mkdir()
    # Nothing of this process's set-up: no PYTHONPATH, no virtualenv, no hotline settings.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "HOTLINE_")) and key != "VIRTUAL_ENV"
    }
    env |= {"HOTLINE_DATA_DIR": str(root / "var"), "HOTLINE_SIP_PASSWORD": SIP_PASSWORD}
    return Node(venv, workdir, env)


def test_the_installed_package_reads_the_files_it_shipped(node: Node) -> None:
    # -I: isolated, neither the working directory nor PYTHON* variables on the path.
    found = json.loads(node.run("python", "-I", "-c", PROBE))
    venv = node.venv.resolve()
    assert Path(found["package"]).resolve().is_relative_to(venv)
    assert not [p for p in found["path"] if p and Path(p).resolve().is_relative_to(REPO_ROOT)]
    assert found["shipped"].keys() == SHIPPED.keys()
    for name, folder in SHIPPED.items():
        installed = Path(found["shipped"][name])
        assert installed.is_relative_to(venv), (name, installed)
        # Every file of the checkout's folder, as it is there: the wheel ships them whole.
        assert _files(installed) == _files(REPO_ROOT / folder), folder


def test_the_installed_node_serves_the_scripted_call(node: Node) -> None:
    node.run("hotline", "db", "upgrade")
    seeded = node.run("hotline", "db", "seed", "--citizens", "3")
    assert "11010519491231002*" in seeded  # the citizen the scripted call identifies as
    call = node.run("hotline", "simulate", HOTLINES[0], "--keys", SCRIPTED_CALL)
    assert "outcome=served" in call.splitlines()[-1], call


def test_the_installed_package_renders_the_asterisk_configuration(node: Node) -> None:
    out = node.workdir / "asterisk"
    node.run("python", "-m", "ivr.telephony", "render", "--out", str(out))
    extensions = (out / "extensions.conf").read_text()
    pjsip = (out / "pjsip.conf").read_text()
    for number in HOTLINES:
        assert f"exten => {number}," in extensions, number
    for phone in (*TESTERS, *AGENTS):
        assert f"[{phone}](phone)" in pjsip, phone
    assert f"password = {SIP_PASSWORD}" in pjsip  # the node's settings, not a default


KAMAILIO_RENDER = """import sys
from pathlib import Path
from ivr.cluster.proxy import render_proxy_config
from ivr.config import Settings
out = Path(sys.argv[1])
nodes = ["127.0.2.10:5060", "127.0.2.11:5060"]
for name, text in render_proxy_config(Settings.load(), "127.0.2.1", 5060, nodes, out).items():
    (out / name).write_text(text)"""


def test_the_installed_package_renders_the_kamailio_configuration(node: Node) -> None:
    out = node.workdir / "kamailio"
    out.mkdir()
    node.run("python", "-I", "-c", KAMAILIO_RENDER, str(out))
    dispatcher = (out / "dispatcher.list").read_text().splitlines()
    assert "1 sip:127.0.2.10:5060 0 0" in dispatcher
    assert "1 sip:127.0.2.11:5060 0 0" in dispatcher
    config = (out / "kamailio.cfg").read_text()
    assert f'modparam("dispatcher", "list_file", "{out / "dispatcher.list"}")' in config
