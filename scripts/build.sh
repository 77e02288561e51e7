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
  cat > "$dist/upydev" <<'WRAPPER'
#!/usr/bin/env bash
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
exec "${UPYDEV_DENO:-$here/../scripts/deno.sh}" run -A --no-config "$here/upydev.js" "$@"
WRAPPER
  chmod +x "$dist/upydev"
fi

# Smoke test: the CLI answers, and the embedded device scripts and the emulator's Workers are there.
"$dist/upydev" --version
"$dist/upydev" update_upyutils --help | grep -q "wss_repl.py"
echo "build: $(ls "$dist" | tr '\n' ' ')" >&2
