#!/usr/bin/env bash
# npm run bench [-- options]: g5k-tunnel against OpenSSH ssh -D, on loopback and through a 20 ms WAN stand-in (see docs/BENCHMARKS.md).
# `npm run bench -- --help` lists the options; `--quick` takes under 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh openssh-server openssh-client
# A type error elsewhere must not stop a measurement of what was built.
npm run -s build || echo "bench: the build reported errors; measuring what was emitted" >&2
exec node dist/scripts/bench/main.js "$@"
