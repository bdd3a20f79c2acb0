#!/usr/bin/env bash
# Installs what the project needs, once: Debian packages (as root) and npm packages.
# Usage: scripts/setup.sh [system packages...]   (default: the full set for tests)
set -euo pipefail
cd "$(dirname "$0")/.."

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(openssh-server openssh-client chromium firefox-esr curl fonts-dejavu-core)

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run: sudo apt-get install -y ${missing[*]}" >&2
  fi
fi

# npm packages: install when node_modules is absent or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
