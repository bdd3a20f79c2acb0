#!/usr/bin/env bash
# Installs what the project needs, once: Debian packages (as root) and npm packages.
# Usage: scripts/setup.sh [system packages...]   (default: the full set for tests)
set -euo pipefail
cd "$(dirname "$0")/.."

# Node.js first: on an older one npm installs with a mere warning and the failures come later,
# far from their cause. The minimum is package.json's "engines".
need=$(sed -n 's/.*"node": *">=\([0-9.]*\)".*/\1/p' package.json)
if ! have=$(node -p 'process.versions.node' 2>/dev/null); then
  echo "setup: Node.js is not installed: g5k-tunnel needs Node.js $need or newer (https://nodejs.org/en/download)" >&2
  exit 1
fi
IFS=. read -r need_major need_minor _ <<<"$need.0"
IFS=. read -r major minor _ <<<"$have"
if ((major < need_major || (major == need_major && minor < need_minor))); then
  echo "setup: Node.js $have is too old: g5k-tunnel needs $need or newer." >&2
  echo "setup: install a current Node.js LTS from https://nodejs.org/en/download (or with nvm: \`nvm install --lts\`);" >&2
  echo "setup: Debian 12's own nodejs package is 18, too old. Then run this again." >&2
  exit 1
fi

want=("$@")
# chromium-l10n and firefox-esr-l10n-fr: the browsers in French, for the extension's French e2e test
[ ${#want[@]} -gt 0 ] || want=(openssh-server openssh-client chromium chromium-l10n firefox-esr firefox-esr-l10n-fr curl fonts-dejavu-core)

if ! command -v dpkg-query >/dev/null; then
  echo "setup: not a Debian system: install the equivalents of ${want[*]} yourself" >&2
  echo "setup: (the tests and the demo use /usr/sbin/sshd, /usr/lib/chromium/chromium and /usr/bin/firefox-esr)" >&2
else
  missing=()
  for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "setup: installing Debian packages: ${missing[*]} (a few minutes the first time)"
      # apt's progress is noise here; its output is shown only when it fails
      log=$(mktemp)
      if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        tail -n 25 "$log" >&2
        rm -f "$log"
        echo "setup: apt-get failed (its last lines are above)" >&2
        exit 1
      fi
      rm -f "$log"
    else
      echo "setup: missing Debian packages: ${missing[*]}" >&2
      echo "setup: install them as root: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
      echo "setup: going on without them; what needs them will say so" >&2
    fi
  fi
fi

# npm packages: when node_modules is missing, older than the lock file, or lacks a package that
# package.json names (a dependency added without `npm install`).
deps_present() {
  node -e '
    const p = require("./package.json"), l = require("./node_modules/.package-lock.json");
    const names = Object.keys({ ...p.dependencies, ...p.devDependencies });
    process.exit(names.every((n) => l.packages["node_modules/" + n]) ? 0 : 1);' 2>/dev/null
}
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || ! deps_present; then
  echo "setup: installing npm packages (npm ci)"
  log=$(mktemp)
  if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
    if grep -q 'can only install packages when your package.json and package-lock.json' "$log"; then
      # npm follows this with its whole usage text: keep only what differs
      echo "setup: package-lock.json does not match package.json:" >&2
      grep -E '^npm error (Missing|Invalid)' "$log" | sed 's/^npm error /setup:   /' >&2 || true
      echo "setup: run \`npm install\` (it brings package-lock.json up to date), then run this again" >&2
    else
      cat "$log" >&2
      echo "setup: npm ci failed (see above)" >&2
    fi
    rm -f "$log"
    exit 1
  fi
  cat "$log"
  rm -f "$log"
fi
