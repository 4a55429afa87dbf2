"""The folder tree is the architecture: each package imports only the ones below it.

The table is the design; an import that runs back up (the console from the runtime, the runtime
from the AMI bridge, anything from the CLI) fails here, with the file that does it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ivr"

ALLOWED: dict[str, set[str]] = {
    "config": set(),
    "resources": set(),  # where the shipped files are (catalog, templates, holiday schedule)
    "live": set(),  # the live board: producers and readers import it, it imports nothing
    "domain": {"config", "resources"},
    "speech": {"config", "resources"},
    "agi": {"config"},
    "logs": {"config", "domain"},
    "engine": {"config", "speech"},
    "store": {"config", "domain"},
    "prompts": {"config", "speech"},
    # ami: manager.conf's event filter is rendered from what the AMI bridge reads
    "telephony": {"ami", "config", "domain", "resources", "speech"},
    "ami": {"config", "domain", "live"},
    "sim": {"config", "engine", "speech"},
    "flows": {"config", "domain", "engine", "speech", "store"},
    "runtime": {"agi", "config", "domain", "engine", "live", "speech", "store"},
    # metrics, readiness and their HTTP server: the parts that take calls never import it (the
    # composition root hands them its bound methods); the console's /readyz uses its readiness
    "ops": {"config", "domain", "live", "prompts", "speech"},
    "web": {"config", "domain", "engine", "flows", "live", "ops", "speech", "store"},
    # Several nodes on one machine: processes it starts (PostgreSQL, Kamailio, `hotline` itself).
    "cluster": {"config", "domain", "runtime", "telephony"},
    # generated calls for volume tests: walks the flows, writes through the store's bulk path
    "traffic": {"config", "domain", "engine", "flows", "store"},
}
# The composition root builds everything but the CLI; the CLI sits on top of it all.
ALLOWED["stack"] = set(ALLOWED) - {"stack", "cluster", "traffic"}
ALLOWED["cli"] = set(ALLOWED) | {"stack"}


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _package_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def test_every_package_is_in_the_table() -> None:
    found = {_package_of(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    assert found == set(ALLOWED)


def test_imports_point_down_only() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        owner = _package_of(path)
        if owner == "__init__":
            continue
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] != "ivr" or len(parts) < 2 or parts[1] == owner:
                continue
            if parts[1] not in ALLOWED[owner]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert wrong == []


def test_the_table_has_no_cycle() -> None:
    def reaches(start: str, seen: frozenset[str]) -> None:
        for below in ALLOWED[start]:
            assert below not in seen, f"cycle through {below}"
            reaches(below, seen | {below})

    for package in ALLOWED:
        reaches(package, frozenset({package}))
