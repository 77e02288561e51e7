#!/usr/bin/env bash
# `deno task build [--portable] [DIR]`: upydev in DIR (default dist/), then smoke-tested from a copy elsewhere.
#
# With Deno's `denort` base binary (DENORT_BIN, or the release zip in $DENO_DIR/dl/release/vX.Y.Z/),
# `deno compile` makes the single binary DIR/upydev, the device scripts, Workers and MicroPython's wasm inside.
# Only Deno's own download host serves denort. Without it, or with --portable, DIR holds the portable build: the
# program and its two Workers bundled, micropython.wasm, and the launchers upydev and upydev.cmd, which run it
# with the Deno named by UPYDEV_DENO, a `deno` beside them (the release archives ship one) or the one on PATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
deno="$root/scripts/deno.sh"
portable=false
if [ "${1:-}" = "--portable" ]; then
  portable=true
  shift
fi
out="${1:-dist}"
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -e "$out/upydev" ]; then
  echo "build: $out is not empty and holds no previous build: not touching it" >&2
  exit 1
fi
out="$(mkdir -p "$out" && cd "$out" && pwd)"
version="$("$deno" --version | head -1 | cut -d' ' -f2)"
zip="${DENO_DIR:-$root/.deno-cache}/dl/release/v$version/denort-$(uname -m)-unknown-linux-gnu.zip"
workers=(lib/emulator/worker.ts lib/emulator/shims/worker_plugin.ts)
find "$out" -mindepth 1 -delete

if ! $portable && { [ -n "${DENORT_BIN:-}" ] || [ -f "$zip" ]; }; then
  includes=(--include device/)
  for worker in "${workers[@]}"; do includes+=(--include "$worker"); done
  "$deno" compile -A --frozen-lockfile --exclude-unused-npm "${includes[@]}" -o "$out/upydev" main.ts
else
  $portable || echo "build: no denort (set DENORT_BIN or place $zip): building the portable bundle" >&2
  "$deno" bundle --quiet --frozen --platform=deno -o "$out/upydev.js" main.ts
  # The Workers are loaded by URL next to the main module, so each is bundled under the name it is asked for.
  for worker in "${workers[@]}"; do
    "$deno" bundle --quiet --frozen --platform=deno -o "$out/$(basename "$worker")" "$worker"
  done
  # MicroPython's Emscripten loader reads micropython.wasm next to the (bundled) module that loads it.
  "$deno" cache --quiet --frozen lib/emulator/worker.ts
  wasm="$(find "${DENO_DIR:-$root/.deno-cache}/npm" -path '*micropython-webassembly-pyscript/1.27.0/micropython.wasm' | head -1)"
  [ -n "$wasm" ] || { echo "build: micropython.wasm not found in the Deno cache" >&2; exit 1; }
  cp "$wasm" "$out/"
  cp scripts/launcher/upydev "$out/upydev"
  sed 's/$/\r/' scripts/launcher/upydev.cmd >"$out/upydev.cmd"
  chmod +x "$out/upydev"
fi

# The build must run from wherever it is copied: smoke-test a copy, reached through a symbolic link as on PATH.
elsewhere="$(mktemp -d)"
trap 'rm -rf "$elsewhere"' EXIT
cp -R "$out" "$elsewhere/upydev"
mkdir "$elsewhere/bin"
ln -s "$elsewhere/upydev/upydev" "$elsewhere/bin/upydev"
if [ -f "$out/upydev.js" ]; then
  runtime="$("$deno" eval 'console.log(Deno.execPath())')"
  # Without UPYDEV_DENO and without deno on PATH (which holds only what the launcher needs), it says so in one line.
  mkdir "$elsewhere/no-deno"
  ln -s "$(command -v readlink)" "$elsewhere/no-deno/readlink"
  if message="$(PATH="$elsewhere/no-deno" "$elsewhere/bin/upydev" --version 2>&1)"; then
    echo "build: the launcher ran without any Deno" >&2
    exit 1
  fi
  [ "$(printf '%s\n' "$message" | wc -l)" -eq 1 ] && [[ "$message" == "upydev: Deno not found:"* ]] ||
    { echo "build: unexpected message without Deno: $message" >&2; exit 1; }
  mkdir "$elsewhere/deno-on-path"
  ln -s "$runtime" "$elsewhere/deno-on-path/deno"
  PATH="$elsewhere/deno-on-path:$PATH" "$elsewhere/bin/upydev" --version | grep -q "^deno $version"
  UPYDEV_DENO="$runtime" "$root/scripts/smoke.sh" "$elsewhere/bin/upydev"
else
  "$root/scripts/smoke.sh" "$elsewhere/bin/upydev"
fi
echo "build: $out: $(ls "$out" | tr '\n' ' ')" >&2
