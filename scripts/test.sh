#!/usr/bin/env bash
# Runs every check the project has, on a fresh Debian 12 machine or an old one:
# set-up (idempotent), lint, types, and the whole test suite (real Asterisk and PostgreSQL included).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check ivr tests bench
.venv/bin/ruff format --check ivr tests bench
.venv/bin/mypy
mkdir -p test-output
.venv/bin/pytest -q -p no:cacheprovider "$@"
