/** What `upydev --version` reports: this tool, the Deno running it, and the MicroPython inside the emulator. */
export const VERSION = "0.1.0";

/** The npm wasm port the emulator runs (lib/emulator/worker.ts imports exactly this version; a test checks). */
export const MICROPYTHON_VERSION = "1.27.0";

export function versionReport(): string {
  const { deno, v8, typescript } = Deno.version;
  return [
    `upydev ${VERSION}`,
    `deno ${deno} (v8 ${v8}, typescript ${typescript})`,
    `MicroPython ${MICROPYTHON_VERSION} (emulator, wasm port)`,
  ].join("\n") + "\n";
}
