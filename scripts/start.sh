#!/usr/bin/env bash
# `npm start`: the no-account demo, from a fresh clone. Installs what it needs (npm packages, and
# Chromium when missing: as root through apt, else it prints the command), builds, then runs the
# demo: headless with checks and screenshots when there is no display, a browser window otherwise.
# Options go to the demo: `npm start -- --headless`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh chromium
# Type errors still emit JavaScript: report them, and run the demo if it was built.
npm run -s build || echo "start: the build reported errors (above); running the demo anyway" >&2
if [ ! -f dist/scripts/demo/run.js ]; then
  echo "start: dist/scripts/demo/run.js was not built; see the errors above" >&2
  exit 1
fi
exec node dist/scripts/demo/run.js "$@"
