#!/usr/bin/env bash
# Smoke test of one way of running upydev (a binary, a launcher, or `deno run -A URL/main.ts`), given as the
# command line to run: the CLI answers, the device scripts are embedded, the emulated ESP32 boots and runs Python,
# and the demo's whole WebSecureREPL flow passes.
#   scripts/smoke.sh /tmp/upydev-0.1.0-linux-x86_64/upydev
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/smoke.sh UPYDEV_COMMAND [ARGS...]" >&2; exit 2; }
upydev=("$@")
fail() { echo "smoke: $*" >&2; exit 1; }

"${upydev[@]}" --version
"${upydev[@]}" --help | grep -q "^  emu " || fail "--help does not list emu"
"${upydev[@]}" update_upyutils --help | grep -q "wss_repl.py" || fail "the device scripts are not embedded"

log="$(mktemp)"
"${upydev[@]}" emu --password smoke --port 0 --wss-port 0 >"$log" 2>&1 &
emu=$!
trap 'kill "$emu" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 300); do grep -q "ws://" "$log" && break; sleep 0.1; done
address="$(grep -o 'ws://127\.0\.0\.1:[0-9]*' "$log" | head -1 | cut -d/ -f3)"
[ -n "$address" ] || { cat "$log" >&2; fail "the emulator did not start"; }
platform="$("${upydev[@]}" exec -t "$address" -p smoke 'import sys; print(sys.platform)' | tr -d '\r')"
[ "$platform" = "esp32" ] || fail "exec on the emulator printed '$platform', expected esp32"

"${upydev[@]}" demo --script >"$log" 2>&1 || { cat "$log" >&2; fail "demo --script failed"; }
grep -q "upydev demo: done" "$log" || { cat "$log" >&2; fail "demo --script did not finish"; }
echo "smoke: ok (--version, --help, update_upyutils --help, emu + exec, demo --script): ${upydev[*]}" >&2
