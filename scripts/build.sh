#!/usr/bin/env bash
# `deno task build`: the single upydev binary, with the device scripts embedded.
#
# `deno compile` needs Deno's `denort` base binary, which only Deno's own download host serves. When it is at
# hand (DENORT_BIN, or the release zip in $DENO_DIR/dl/release/v2.9.6/) this builds dist/upydev. Otherwise the
# same build is prepared and checked: the program and its two Workers are bundled into dist/, run by the pinned
# Deno behind a wrapper script, and smoke-tested exactly as the binary would be.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
deno="$root/scripts/deno.sh"
dist="$root/dist"
version="$("$deno" --version | head -1 | cut -d' ' -f2)"
target="$(uname -m)-unknown-linux-gnu"
zip="${DENO_DIR:-$root/.deno-cache}/dl/release/v$version/denort-$target.zip"
workers=(lib/emulator/worker.ts lib/emulator/shims/worker_plugin.ts)
rm -rf "$dist"
mkdir -p "$dist"

if [ -n "${DENORT_BIN:-}" ] || [ -f "$zip" ]; then
  includes=()
  for worker in "${workers[@]}"; do includes+=(--include "$worker"); done
  "$deno" compile -A --frozen "${includes[@]}" -o "$dist/upydev" main.ts
else
  echo "build: denort for $target is not available (set DENORT_BIN or place $zip); building the bundle fallback" >&2
  "$deno" bundle --quiet --frozen --platform=deno -o "$dist/upydev.js" main.ts
  # The Workers are loaded by URL next to the main module, so each is bundled under the name it is asked for.
  for worker in "${workers[@]}"; do
    "$deno" bundle --quiet --frozen --platform=deno -o "$dist/$(basename "$worker")" "$worker"
  done
  # MicroPython's Emscripten loader reads micropython.wasm next to the (bundled) module that loads it.
  "$deno" cache --quiet --frozen lib/emulator/worker.ts
  wasm="$(find "${DENO_DIR:-$root/.deno-cache}/npm" -path '*micropython-webassembly-pyscript/1.27.0/micropython.wasm' | head -1)"
  [ -n "$wasm" ] || { echo "build: micropython.wasm not found in the Deno cache" >&2; exit 1; }
  cp "$wasm" "$dist/"
  cat > "$dist/upydev" <<'WRAPPER'
#!/usr/bin/env bash
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
exec "${UPYDEV_DENO:-$here/../scripts/deno.sh}" run -A --no-config "$here/upydev.js" "$@"
WRAPPER
  chmod +x "$dist/upydev"
fi

# Smoke test: the CLI answers, the device scripts are embedded, and the emulated device boots and runs Python.
"$dist/upydev" --version
"$dist/upydev" update_upyutils --help | grep -q "wss_repl.py"
log="$(mktemp)"
"$dist/upydev" emu --password smoke --port 0 --wss-port 0 >"$log" 2>&1 &
emu=$!
trap 'kill "$emu" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q "ws://" "$log" && break; sleep 0.1; done
address="$(grep -o '127\.0\.0\.1:[0-9]*' "$log" | head -1)"
[ -n "$address" ] || { cat "$log" >&2; echo "build: the emulator did not start" >&2; exit 1; }
[ "$("$dist/upydev" exec -t "$address" -p smoke 'import sys; print(sys.platform)' | tr -d '\r')" = "esp32" ]
echo "build: $(ls "$dist" | tr '\n' ' ')" >&2
