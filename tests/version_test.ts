/** `upydev --version`: the tool, the Deno running it, and the MicroPython the emulator really embeds. */
import { loadMicroPython } from "npm:@micropython/micropython-webassembly-pyscript@1.27.0";
import { assertEquals } from "./helpers/assert.ts";
import { sandbox } from "./helpers/cli.ts";
import { MICROPYTHON_VERSION, VERSION } from "../lib/cli/version.ts";

Deno.test("--version: three lines, upydev, deno (v8, typescript), MicroPython", async () => {
  const box = await sandbox();
  try {
    const result = await box.run("--version");
    assertEquals(result.code, 0);
    const { deno, v8, typescript } = Deno.version;
    assertEquals(result.stdout.split("\n"), [
      `upydev ${VERSION}`,
      `deno ${deno} (v8 ${v8}, typescript ${typescript})`,
      `MicroPython ${MICROPYTHON_VERSION} (emulator, wasm port)`,
      "",
    ]);
  } finally {
    await box.cleanup();
  }
});

Deno.test("--version: the MicroPython version is the one the emulator's Worker imports and runs", async () => {
  const worker = await Deno.readTextFile(new URL("../lib/emulator/worker.ts", import.meta.url));
  const imported = worker.match(/"npm:@micropython\/micropython-webassembly-pyscript@([\d.]+)"/)?.[1];
  assertEquals(imported, MICROPYTHON_VERSION);

  const out: string[] = [];
  const mp = await loadMicroPython({ stdout: (line: string) => out.push(line) });
  mp.runPython("import sys\nprint('.'.join(str(n) for n in sys.implementation.version[:3]))");
  assertEquals(out, [MICROPYTHON_VERSION]);
});
