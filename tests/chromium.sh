#!/usr/bin/env bash
# Prints the path of the Chromium the HTML report test opens the report
# in, installing Debian's package `chromium` when there is none (as
# tests/moto-env.sh installs moto). BASELINE_CHROMIUM names another one.
set -euo pipefail
for c in "${BASELINE_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; exit 0; fi
done
echo "Installing Debian's chromium for the HTML report test ..." >&2
SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get install -y --no-install-recommends chromium >&2 ||
       { $SUDO apt-get update >&2 && $SUDO apt-get install -y --no-install-recommends chromium >&2; }; }; then
  echo "Could not install Chromium: install Debian's package chromium (apt-get install chromium)," >&2
  echo "or set BASELINE_CHROMIUM to a Chromium or Chrome binary." >&2
  exit 1
fi
echo /usr/bin/chromium
