"""Where the files the hotline ships with are: the prompt catalog, the Asterisk configuration
templates and the State Council's holiday schedule.

People edit them in the repository's top-level folders (``prompts/``, ``dialplan/``, ``data/``).
This package holds a relative symbolic link to each, so one path serves every way of running:
in a checkout (and under ``pip install -e .``) the links lead to those folders and an edit takes
effect at once; building a wheel follows the links and ships copies (package data, see
``pyproject.toml``), so an installed node reads its own and needs no checkout.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SHIPPED_DATA", "SHIPPED_DIALPLAN", "SHIPPED_PROMPTS"]

_HERE = Path(__file__).resolve().parent

SHIPPED_PROMPTS = _HERE / "prompts"  # catalog.yaml, fragments.yaml, pinyin.yaml, recorded/<lang>/
SHIPPED_DIALPLAN = _HERE / "dialplan"  # <name>.conf.j2
SHIPPED_DATA = _HERE / "data"  # official-holidays.yaml
