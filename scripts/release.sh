#!/usr/bin/env bash
# `deno task release [TARGET...]`: the portable release archives in release/, with their SHA256SUMS.
#
# Each archive holds the portable build (scripts/build.sh --portable: the bundle, its Workers, micropython.wasm, the
# launcher) plus the Deno runtime for its platform, taken from the npm distribution of Deno at the version the
# project pins (tools/package.json), so it runs with nothing installed. Targets (default: all five):
#   linux-x86_64 linux-aarch64 macos-x86_64 macos-aarch64 windows-x86_64
# The archive for this machine, when built, is unpacked and smoke-tested with no Node, npm or network.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
deno="$root/scripts/deno.sh"
all_targets=(linux-x86_64 linux-aarch64 macos-x86_64 macos-aarch64 windows-x86_64)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

runtime_package() {
  case "$1" in
    linux-x86_64) echo "@deno/linux-x64-glibc" ;;
    linux-aarch64) echo "@deno/linux-arm64-glibc" ;;
    macos-x86_64) echo "@deno/darwin-x64" ;;
    macos-aarch64) echo "@deno/darwin-arm64" ;;
    windows-x86_64) echo "@deno/win32-x64" ;;
    *) return 1 ;;
  esac
}
for target in "${targets[@]}"; do
  runtime_package "$target" >/dev/null || { echo "release: unknown target $target (one of: ${all_targets[*]})" >&2; exit 2; }
  if [ "$target" = windows-x86_64 ] && ! command -v zip >/dev/null; then
    echo "release: the Windows archive needs zip (apt-get install zip)" >&2
    exit 1
  fi
done

version="$(sed -n 's/^export const VERSION = "\(.*\)";$/\1/p' lib/cli/version.ts)"
deno_version="$("$deno" --version | head -1 | cut -d' ' -f2)"
out="$root/release"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out" "$work/npm"

"$root/scripts/build.sh" --portable "$work/portable"
# The runtime's licence travels with it (MIT: the notice goes with every copy).
(cd "$work/npm" && tar -xzf "$(npm pack --silent --prefer-offline "deno@$deno_version")" package/LICENSE)
cp "$work/npm/package/LICENSE" "$work/portable/LICENSE.deno"

for target in "${targets[@]}"; do
  name="upydev-$version-$target"
  stage="$work/$name"
  cp -R "$work/portable" "$stage"
  tarball="$(cd "$work/npm" && npm pack --silent --prefer-offline "$(runtime_package "$target")@$deno_version")"
  if [ "$target" = windows-x86_64 ]; then
    tar -xzf "$work/npm/$tarball" -C "$stage" --strip-components=1 package/deno.exe
    rm "$stage/upydev"
    (cd "$work" && zip -q -r -X "$out/$name.zip" "$name")
  else
    tar -xzf "$work/npm/$tarball" -C "$stage" --strip-components=1 package/deno
    rm "$stage/upydev.cmd"
    tar -czf "$out/$name.tar.gz" -C "$work" --sort=name --owner=0 --group=0 --numeric-owner "$name"
  fi
  rm "$work/npm/$tarball"
  echo "release: $(du -h "$out/$name".* | cut -f1) $name" >&2
done
(cd "$out" && sha256sum -- * >SHA256SUMS)

host="$(uname -s)-$(uname -m)"
[ "$host" = Linux-x86_64 ] && [ -f "$out/upydev-$version-linux-x86_64.tar.gz" ] || exit 0
# The unpacked archive must run on its own: a PATH with only the smoke test's tools (no deno, node or npm), an empty
# DENO_DIR and HOME, and no network: a network namespace with loopback only where the kernel allows one (root),
# otherwise a dead HTTP proxy, which is where Deno would send any download.
unpacked="$work/unpacked"
mkdir -p "$unpacked" "$work/bin" "$work/home" "$work/deno-dir"
tar -xzf "$out/upydev-$version-linux-x86_64.tar.gz" -C "$unpacked"
for tool in bash sh grep mktemp seq sleep cut head tr cat rm readlink; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
isolated=(env -i PATH="$work/bin" HOME="$work/home" DENO_DIR="$work/deno-dir")
smoke=("$root/scripts/smoke.sh" "$unpacked/upydev-$version-linux-x86_64/upydev")
netns=()
if command -v ip >/dev/null; then
  if unshare -n true 2>/dev/null; then netns=(unshare -n); elif unshare -rn true 2>/dev/null; then netns=(unshare -rn); fi
fi
if [ ${#netns[@]} -gt 0 ]; then
  echo "release: smoke test of the unpacked linux-x86_64 archive in a network namespace (loopback only)" >&2
  "${netns[@]}" sh -c 'ip link set lo up && exec "$@"' sh "${isolated[@]}" "${smoke[@]}"
else
  echo "release: smoke test of the unpacked linux-x86_64 archive behind a dead proxy (no network namespace here)" >&2
  "${isolated[@]}" HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 "${smoke[@]}"
fi
