#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for the hotline: system packages, a virtualenv with the
# project and its development tools, and the data folder. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

APT_PACKAGES=(
  espeak-ng sox ffmpeg            # offline prompt synthesis and audio conversion
  sip-tester                      # sipp: a real SIP caller for end-to-end tests
  baresip-core                    # baresip: a real softphone that records what a caller hears
  mmdebstrap                      # builds the local Asterisk root file system (Debian unstable)
  kamailio                        # the SIP proxy in front of several Asterisk nodes (`hotline cluster`)
  postgresql                      # PostgreSQL 15 server binaries for the throwaway test cluster
  chromium chromium-driver        # browser tests of the supervisor console
  fonts-noto-cjk                  # Chinese characters in the console's pages, prints and screenshots
  graphviz                        # renders flow drawings
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[dev]'

mkdir -p "${HOTLINE_DATA_DIR:-var}"
echo "setup: done (activate with: source .venv/bin/activate)"
