#!/usr/bin/env bash
# The full test suite: unit, integration (real sshd) and end-to-end (real Chromium and Firefox).
# Installs what it needs first. Optional arguments narrow the run: `npm test -- unit integration`,
# or name test files: `npm test -- test/unit/patterns.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Arguments are checked against the sources first, so that a typo fails at once, before the build.
if [ $# -eq 0 ]; then set -- unit integration e2e; fi
sources=()
for arg in "$@"; do
  case "$arg" in
    *.ts)
      [ -f "$arg" ] || { echo "test: $arg: no such file" >&2; exit 2; }
      src="${arg#"$PWD"/}"
      sources+=("${src#./}") ;;
    *)
      # `unit`, `test/unit` and `test/unit/` all name the folder
      dir="${arg#./}"
      dir="test/${dir#test/}"
      dir="${dir%/}"
      found=0
      while IFS= read -r f; do sources+=("$f"); found=1; done < <(find "$dir" -name '*.test.ts' 2>/dev/null | sort)
      [ $found = 1 ] || { echo "test: no tests in $dir (use unit, integration, e2e, or test file paths)" >&2; exit 2; } ;;
  esac
done

bash scripts/setup.sh
# A type error fails the run, but the tests still run so that every failure shows at once.
build_ok=1
npm run -s build || build_ok=0
# npm run lint: formatting and lint (biome.json), exports nothing imports (scripts/lint-exports.mjs),
# and both type checks (the extension's pages with DOM and WebExtension types); a finding fails the run
npm run -s lint || build_ok=0

files=()
for src in "${sources[@]}"; do files+=("dist/${src%.ts}.js"); done

mkdir -p artifacts
summary=$(mktemp)
set +e
node --enable-source-maps --test --test-concurrency="${TEST_CONCURRENCY:-2}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./scripts/summary-reporter.mjs --test-reporter-destination="$summary" \
  "${files[@]}"
code=$?
set -e
if [ $build_ok = 1 ]; then
  cat "$summary"
else
  # the build counts as one failed test, so that the closing line says the run failed
  echo "test: the build, the type check or the lint failed (see above)"
  code=1
  awk '{ $3 = $3 + 1 } 1' "$summary"
fi
rm -f "$summary"
exit $code
