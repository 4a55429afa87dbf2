"""The checkout's root, for tests that read the repository (compose file, units, scripts) or write
beside it (``test-output/``). The package itself never looks there: see ``ivr.resources``."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
