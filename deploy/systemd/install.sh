#!/usr/bin/env bash
# Installs the hotline's systemd units on a Debian machine where the project was set up
# (scripts/setup.sh) in this checkout:
#   - the system user and group `hotline`, which Asterisk runs as too (it reads the prompts and
#     writes the recordings in the hotline's private data folder);
#   - /etc/hotline/hotline.env from the example, unless it exists (edit the CHANGE-ME values);
#   - hotline-node.service and hotline-console.service, pointing at this checkout;
#   - the Asterisk configuration rendered into /etc/hotline-asterisk, and the override that makes
#     Debian's asterisk.service run it and restart on failure;
#   - systemctl daemon-reload.
# Usage: deploy/systemd/install.sh [--root DIR]   (--root: write under DIR only, for a dry run)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
home="$(cd "$here/../.." && pwd)"
root=""
if [ "${1:-}" = "--root" ]; then root="$2"; fi

units="$root/etc/systemd/system"
mkdir -p "$units/asterisk.service.d" "$root/etc/hotline"
for unit in hotline-node.service hotline-console.service; do
  sed "s#/opt/hotline#$home#g" "$here/$unit" > "$units/$unit"
done
cp "$here/asterisk.service.d/hotline.conf" "$units/asterisk.service.d/hotline.conf"
if [ ! -e "$root/etc/hotline/hotline.env" ]; then
  install -m 0640 "$here/hotline.env.example" "$root/etc/hotline/hotline.env"
fi
# Rendered with the settings the services will read.
set -a; . "$root/etc/hotline/hotline.env"; set +a
"$home/.venv/bin/python" -m ivr.telephony render --out "$root/etc/hotline-asterisk" > /dev/null

if [ -z "$root" ]; then
  getent group hotline > /dev/null || groupadd --system hotline
  getent passwd hotline > /dev/null || useradd --system --gid hotline --home-dir /var/lib/hotline \
    --shell /usr/sbin/nologin hotline
  chgrp hotline /etc/hotline /etc/hotline/hotline.env /etc/hotline-asterisk
  chmod 0750 /etc/hotline /etc/hotline-asterisk
  # Asterisk's own state, and where its configuration finds the prompts and the recordings.
  install -d -o hotline -g hotline -m 0700 /var/lib/hotline /var/lib/hotline-asterisk \
    /var/lib/hotline/sounds /var/lib/hotline/recordings
  install -d /srv/hotline
  ln -sfn /var/lib/hotline/sounds /srv/hotline/sounds
  systemctl daemon-reload
  echo "installed; edit /etc/hotline/hotline.env, then: systemctl enable --now hotline-node hotline-console"
fi
