#!/usr/bin/env bash
# The whole test suite: format check, lint, type check, then every test. Ends with "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
deno="$root/scripts/deno.sh"
report="$root/.test-report.junit.xml"

step() {
  echo "== $1" >&2
  shift
  "$@" || { echo "FAILED: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
}
step "format check" "$deno" fmt --check
step "lint" "$deno" lint
step "type check" "$deno" check --frozen main.ts lib tests scripts

echo "== tests" >&2
rm -f "$report"
"$deno" test -A --frozen --junit-path="$report" tests/ "$@"
status=$?
if [ ! -f "$report" ]; then
  echo "no test report written"
  echo "0 passed, 1 failed"
  exit 1
fi
# Deno's JUnit report: the <testsuites> element carries the totals.
totals=$(grep -m1 -o '<testsuites[^>]*>' "$report")
attr() { echo "$totals" | grep -o "$1=\"[0-9]*\"" | grep -o '[0-9]*'; }
tests=$(attr tests); failures=$(attr failures); errors=$(attr errors)
failed=$((failures + errors))
passed=$((tests - failed))
echo "$passed passed, $failed failed"
if [ "$tests" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
