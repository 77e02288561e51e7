/**
 * Real MicroPython (the wasm build, v1.27) for testing the device scripts: device/*.py are copied to /lib,
 * which is on sys.path as on a device. One interpreter per test module, because a second one in the same
 * realm breaks the first (notes/micropython-wasm.md); `fresh()` gives each test its own directory and
 * re-imports the scripts, so tests do not see each other's files or module state.
 */
import { loadMicroPython } from "npm:@micropython/micropython-webassembly-pyscript@1.27.0";
import { DEVICE_SCRIPTS } from "../../lib/ops/upyutils.ts";

export interface PyResult {
  /** Everything printed, as the wasm port prints it (`\n` line ends). */
  out: string;
  /** The exception's last traceback line, e.g. "ValueError: bad"; "" when the code ran through. */
  error: string;
}

const decoder = new TextDecoder();

export class WasmMicroPython {
  // deno-lint-ignore no-explicit-any
  readonly #mp: any;
  readonly #out: number[];
  #tests = 0;
  #replStarted = false;

  // deno-lint-ignore no-explicit-any
  private constructor(mp: any, out: number[]) {
    this.#mp = mp;
    this.#out = out;
  }

  static #instance: Promise<WasmMicroPython> | undefined;

  /** The module's interpreter, with the device scripts in /lib. */
  static load(): Promise<WasmMicroPython> {
    WasmMicroPython.#instance ??= (async () => {
      const out: number[] = [];
      const mp = await loadMicroPython({
        linebuffer: false,
        heapsize: 4 << 20,
        stdout: (bytes: Uint8Array) => out.push(...bytes),
        stderr: (bytes: Uint8Array) => out.push(...bytes),
      });
      mp.FS.mkdir("/lib");
      for (const script of DEVICE_SCRIPTS) mp.FS.writeFile(`/lib/${script.name}`, script.source);
      mp.runPython("import sys\nsys.path.insert(0, '/lib')");
      return new WasmMicroPython(mp, out);
    })();
    return WasmMicroPython.#instance;
  }

  /** Runs code in `__main__`; output and the exception, if any, come back instead of being thrown. */
  run(code: string): PyResult {
    this.#out.length = 0;
    let error = "";
    try {
      this.#mp.runPython(code);
    } catch (e) {
      const lines = (e as Error).message.trim().split("\n");
      error = lines[lines.length - 1].trim();
    }
    return { out: decoder.decode(new Uint8Array(this.#out)), error };
  }

  /** Types a line at the friendly REPL, as a user would; returns what came back (echo, output, prompt). */
  repl(line: string): string {
    if (!this.#replStarted) {
      this.#mp.replInit();
      this.#replStarted = true;
    }
    this.#out.length = 0;
    for (const byte of new TextEncoder().encode(`${line}\r`)) this.#mp.replProcessChar(byte);
    return decoder.decode(new Uint8Array(this.#out));
  }

  /** Runs code that must not raise; returns its output. */
  ok(code: string): string {
    const { out, error } = this.run(code);
    if (error) throw new Error(`MicroPython raised ${error}\n${out}`);
    return out;
  }

  /** A new empty working directory, and the device scripts forgotten so the next import starts afresh. */
  fresh(): string {
    const dir = `/t${++this.#tests}`;
    this.ok(
      `import os, sys\nos.mkdir(${JSON.stringify(dir)})\nos.chdir(${JSON.stringify(dir)})\n` +
        `for _m in ${
          JSON.stringify(DEVICE_SCRIPTS.map((s) => s.name.slice(0, -3)))
        }:\n sys.modules.pop(_m, None)`,
    );
    return dir;
  }

  writeFile(path: string, data: string | Uint8Array): void {
    this.#mp.FS.writeFile(path, data);
  }

  readText(path: string): string {
    return decoder.decode(this.#mp.FS.readFile(path));
  }

  exists(path: string): boolean {
    return this.#mp.FS.analyzePath(path).exists;
  }
}
