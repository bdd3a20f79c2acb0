#!/usr/bin/env bash
# The full test suite: unit, integration (real sshd) and end-to-end (real Chromium and Firefox).
# Installs what it needs first. Optional arguments narrow the run: `npm test -- unit integration`,
# or name test files: `npm test -- test/unit/patterns.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# A type error fails the run, but the tests still run so that every failure shows at once.
build_ok=1
npm run -s build || build_ok=0

files=()
if [ $# -eq 0 ]; then set -- unit integration e2e; fi
for arg in "$@"; do
  case "$arg" in
    *.ts) files+=("dist/${arg%.ts}.js") ;;
    *) while IFS= read -r f; do files+=("$f"); done < <(find "dist/test/$arg" -name '*.test.js' 2>/dev/null | sort) ;;
  esac
done
[ ${#files[@]} -gt 0 ] || { echo "no test files for: $*" >&2; exit 1; }

mkdir -p artifacts
summary=$(mktemp)
set +e
node --enable-source-maps --test --test-concurrency="${TEST_CONCURRENCY:-2}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./scripts/summary-reporter.mjs --test-reporter-destination="$summary" \
  "${files[@]}"
code=$?
set -e
[ $build_ok = 1 ] || { echo "test: the build failed (see above)"; code=1; }
cat "$summary"; rm -f "$summary"
exit $code
