// Heap kept by importing each device script, measured in real MicroPython (wasm32, 4-byte pointers like the
// ESP32): gc.mem_alloc() after gc.collect(), before and after the import. An ESP32 running WebSecureREPL has
// about 100 KB free next to mbedtls, so each utility must stay within a few KB.
import { DEVICE_SCRIPTS } from "../lib/ops/upyutils.ts";
import { assert } from "./helpers/assert.ts";
import { WasmMicroPython } from "./helpers/wasm_micropython.ts";

const py = await WasmMicroPython.load();

/** Bytes each script may keep; wss_repl imports wss_helper, so its figure covers both. */
const LIMIT = 5 * 1024;
const LIMITS: Record<string, number> = { wss_repl: 10 * 1024 };

/** Stand-ins for the firmware modules the scripts import at the top (the wasm port has none of them). */
const FIRMWARE_MODULES = `
import sys
class _Module:
    AF_INET = 2
    SOCK_RAW = 3
    class Pin:
        OUT = 3
for _name in ("socket", "machine", "websocket", "_webrepl"):
    sys.modules[_name] = _Module
`;

function importCost(name: string): number {
  const dir = py.fresh();
  // The first import of a .py grows the import machinery's tables, and the wasm port's binascii costs 7 KB
  // on first import where the ESP32's is in ROM: pay both before measuring.
  py.writeFile(`${dir}/warm_up.py`, "x = 1\n");
  py.ok(`${FIRMWARE_MODULES}\nimport warm_up, binascii, hashlib, struct, os, time, io`);
  const out = py.ok(
    `import gc\ngc.collect()\n_before = gc.mem_alloc()\nimport ${name}\ngc.collect()\nprint(gc.mem_alloc() - _before)`,
  );
  return Number(out.trim());
}

for (const script of DEVICE_SCRIPTS) {
  const name = script.name.slice(0, -3);
  const limit = LIMITS[name] ?? LIMIT;
  Deno.test(`heap: importing ${name} keeps at most ${limit / 1024} KB`, () => {
    const cost = importCost(name);
    assert(cost > 0 && cost <= limit, `${name}: ${cost} bytes`);
  });
}
