#!/usr/bin/env bash
# Runs the project's pinned Deno (2.9.6, from the npm package `deno`), installing it into tools/ first when missing.
# The platform binary is called directly: the npm launcher adds ~200 ms per call.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/tools"
find_deno() {
  local candidate
  for candidate in "$tools"/node_modules/@deno/*/deno; do
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}
if ! bin="$(find_deno)"; then
  echo "upydev: installing Deno 2.9.6 from npm into tools/ ..." >&2
  (cd "$tools" && npm install --no-audit --no-fund --loglevel=error >&2)
  bin="$(find_deno)" || { echo "upydev: Deno binary not found after npm install" >&2; exit 1; }
fi
unset RUST_BACKTRACE
export DENO_NO_UPDATE_CHECK=1
export DENO_DIR="${DENO_DIR:-$root/.deno-cache}"
exec "$bin" "$@"
