#!/usr/bin/env bash
# Builds the local Asterisk root file system ahead of time (Debian unstable + Asterisk 22, about
# 20-40 s, cached under <data dir>/asterisk/rootfs). `hotline up` and the tests build it on first
# use anyway; run this in CI images or to rebuild: scripts/asterisk-rootfs.sh --rebuild
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=.venv/bin/python
[ -x "$PYTHON" ] || PYTHON=python3
exec "$PYTHON" -m ivr.telephony rootfs "$@"
