// device/shasum.py in real MicroPython (wasm): hashes checked against the host's SHA-256, the line format dsync
// parses, tree walking, escaping, streaming (heap use independent of file size) and the check mode.
import { sha256Hex } from "../lib/ops/files.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { WasmMicroPython } from "./helpers/wasm_micropython.ts";

const py = await WasmMicroPython.load();

function random(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65536)));
  }
  return bytes;
}

/** Writes files (relative to a fresh directory); returns the directory and each file's expected line. */
async function files(sizes: Record<string, number>): Promise<{ dir: string; line: Record<string, string> }> {
  const dir = py.fresh();
  const line: Record<string, string> = {};
  for (const [name, size] of Object.entries(sizes)) {
    const data = random(size);
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const sub = `${dir}/${parts.slice(0, i).join("/")}`;
      if (!py.exists(sub)) py.ok(`import os\nos.mkdir('${sub}')`);
    }
    py.writeFile(`${dir}/${name}`, data);
    line[name] = `${await sha256Hex(data)}  ${name}  ${size}`;
  }
  return { dir, line };
}

Deno.test("shasum: '<sha256>  <path>  <size>' per file, equal to the host's SHA-256 at buffer edges", async () => {
  const sizes = { "e0": 0, "e1": 1, "e511": 511, "e512": 512, "e513": 513, "e5000": 5000 };
  const { line } = await files(sizes);
  const out = py.ok(
    `from shasum import shasum\nshasum(${Object.keys(sizes).map((n) => `'${n}'`).join(", ")})`,
  );
  assertEquals(out, Object.keys(sizes).map((n) => line[n] + "\n").join(""));
});

Deno.test("shasum: a directory is walked recursively in name order, hidden files included; dirs=True adds directory lines", async () => {
  const { line } = await files({ "b.py": 10, ".h": 2, "lib/z.py": 30, "lib/a/x.py": 40 });
  const expected = [line[".h"], line["b.py"], line["lib/a/x.py"], line["lib/z.py"]].map((l) =>
    `${l.replace("  ", "  ./")}\n`
  );
  assertEquals(py.ok("from shasum import shasum\nshasum('.')"), expected.join(""));
  assertEquals(
    py.ok("shasum('lib', dirs=True)"),
    ["dir  lib  0", "dir  lib/a  0", line["lib/a/x.py"], line["lib/z.py"]].map((l) => l + "\n").join(""),
  );
  assertEquals(py.ok("shasum('lib/')").split("\n")[0], line["lib/a/x.py"]);
});

Deno.test("shasum: wildcards go through nanoglob; a missing path is one error line and the rest still runs", async () => {
  const { line } = await files({ "a.py": 3, "b.txt": 4, "c.py": 5 });
  assertEquals(py.ok("from shasum import shasum\nshasum('*.py')"), `${line["a.py"]}\n${line["c.py"]}\n`);
  // The wasm port prints an OSError's errno bare; an ESP32 prints "[Errno 2] ENOENT".
  assertEquals(py.ok("shasum('nope', 'b.txt')"), `shasum: nope: 44\n${line["b.txt"]}\n`);
});

Deno.test("shasum: a backslash or a newline in a name is escaped, and the check mode reads it back", async () => {
  const dir = py.fresh();
  const name = "we\\ird\nname";
  py.writeFile(`${dir}/${name}`, "data");
  const digest = await sha256Hex(new TextEncoder().encode("data"));
  assertEquals(py.ok("from shasum import shasum\nshasum('.')"), `${digest}  ./we\\\\ird\\nname  4\n`);
  py.writeFile(`${dir}/sums`, py.ok("shasum('.')"));
  assertEquals(
    py.ok("from shasum import shasum_check\nprint(shasum_check('sums'))"),
    "./we\\ird\nname: OK\n0\n",
  );
});

Deno.test("shasum: sums() is a generator; hashing 256 KB allocates no more than hashing 5 bytes (about 2 KB)", async () => {
  await files({ "big": 256 << 10, "small": 5 });
  assertEquals(py.ok("from shasum import sums\nprint(type(sums('.')).__name__)"), "generator\n");
  // No collection runs in between (the heap is 4 MB), so the difference is everything the call allocated.
  const allocated = (name: string) =>
    Number(
      py.ok(`import gc\ngc.collect()\n_a = gc.mem_alloc()\nshasum('${name}')\nprint(gc.mem_alloc() - _a)`)
        .split("\n").at(-2),
    );
  py.ok("from shasum import shasum\nshasum('small')");
  const [small, big] = [allocated("small"), allocated("big")];
  assert(small < 4096 && big <= small, `5 bytes: ${small} bytes allocated, 256 KB: ${big}`);
});

Deno.test("shasum_check: OK, FAILED (content or size), MISSING; sha256sum's two-field lines; returns the failures", async () => {
  const { dir, line } = await files({ "a": 10, "b": 20, "c": 30, "d": 40 });
  const listing = [
    "dir  .  0",
    line["a"],
    line["b"],
    line["c"].replace(/ 30$/, " 31"),
    line["d"].replace(/ {2}40$/, ""),
    `${"0".repeat(64)}  gone  5`,
  ];
  py.writeFile(`${dir}/sums`, listing.join("\n") + "\n");
  py.writeFile(`${dir}/b`, random(20));
  assertEquals(
    py.ok("from shasum import shasum_check\nprint(shasum_check('sums'))"),
    "a: OK\nb: FAILED\nc: FAILED\nd: OK\ngone: MISSING\n3\n",
  );
});
