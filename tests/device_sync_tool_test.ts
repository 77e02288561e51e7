// device/sync_tool.py in real MicroPython (wasm): the framed base64 stream of send() decoded as a host would,
// byte-exact at chunk edges; and the recv_* calls, which verify size and SHA-256 before renaming into place.
import { sha256Hex } from "../lib/ops/files.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { WasmMicroPython } from "./helpers/wasm_micropython.ts";

const py = await WasmMicroPython.load();

function random(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  crypto.getRandomValues(bytes);
  // Every byte value, \x04 (the raw REPL's end of reply) included, must survive.
  bytes.set(Uint8Array.from({ length: Math.min(size, 256) }, (_, i) => i));
  return bytes;
}

interface Received {
  path: string;
  size: number;
  data: Uint8Array;
  sha256: string;
  lines: number;
}

/** Decodes send()'s output as the host side will: F header, base64 lines, E line; X lines as errors. */
function decode(output: string): (Received | { path: string; errno: number })[] {
  const results: (Received | { path: string; errno: number })[] = [];
  const lines = output.replace(/\r\n/g, "\n").split("\n");
  assertEquals(lines.pop(), "");
  while (lines.length > 0) {
    const header = lines.shift()!;
    const failed = /^X (\d+) (.*)$/.exec(header);
    if (failed) {
      results.push({ errno: Number(failed[1]), path: failed[2] });
      continue;
    }
    const match = /^F (\d+) (.*)$/.exec(header);
    assert(match, `expected a header, got ${JSON.stringify(header)}`);
    const chunks: Uint8Array[] = [];
    let line: string;
    while (!(line = lines.shift()!).startsWith("E ")) chunks.push(Uint8Array.fromBase64(line));
    const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((offset, c) => (data.set(c, offset), offset + c.length), 0);
    results.push({
      path: match[2],
      size: Number(match[1]),
      data,
      sha256: line.slice(2),
      lines: chunks.length,
    });
  }
  return results;
}

Deno.test("send: F header, base64 lines of at most `chunk` bytes, E with the SHA-256; byte-exact at chunk edges", async () => {
  const dir = py.fresh();
  const sizes = [0, 1, 1535, 1536, 1537, 10_000];
  const files = sizes.map((size) => ({ name: `f${size}.bin`, data: random(size) }));
  for (const { name, data } of files) py.writeFile(`${dir}/${name}`, data);
  const received = decode(
    py.ok(`import sync_tool\nsync_tool.send(${files.map((f) => `'${f.name}'`).join(", ")})`),
  );
  assertEquals(received.length, files.length);
  for (const [i, { name, data }] of files.entries()) {
    const got = received[i] as Received;
    assertEquals([got.path, got.size, got.lines], [name, data.length, Math.ceil(data.length / 1536)]);
    assertEquals(got.data.toHex(), data.toHex());
    assertEquals(got.sha256, await sha256Hex(data));
  }
});

Deno.test("send: chunk= sets the bytes per line; an unreadable path is one X line and the next file still comes", () => {
  const dir = py.fresh();
  const data = random(1000);
  py.writeFile(`${dir}/a b.bin`, data);
  const [missing, file] = decode(py.ok("import sync_tool\nsync_tool.send('nope', 'a b.bin', chunk=96)"));
  // 44 is the wasm port's ENOENT; an ESP32 says 2.
  assertEquals(missing, { errno: 44, path: "nope" });
  assertEquals([(file as Received).path, (file as Received).lines], ["a b.bin", 11]);
  assertEquals((file as Received).data.toHex(), data.toHex());
});

/** Python calls that upload `data` to `path` with recv_*, as the host will send them (base64 in 300-byte pieces). */
async function recvCalls(path: string, data: Uint8Array, options: { size?: number; sha?: string } = {}) {
  const calls = [`sync_tool.recv_begin(${JSON.stringify(path)}, ${options.size ?? data.length})`];
  for (let offset = 0; offset < data.length; offset += 300) {
    calls.push(`sync_tool.recv_data(b'${data.subarray(offset, offset + 300).toBase64()}')`);
  }
  calls.push(`sync_tool.recv_end('${options.sha ?? await sha256Hex(data)}')`);
  return calls.join("\n");
}

Deno.test("recv: several files in one run, each verified and renamed over any old file; no temporary file left", async () => {
  const dir = py.fresh();
  py.ok("import os\nos.mkdir('lib')\nopen('lib/old.py', 'w').write('old contents')");
  const one = random(1000);
  const two = random(0);
  const three = random(4000);
  const out = py.ok(
    "import sync_tool\n" + (await recvCalls("lib/old.py", one)) + "\n" + (await recvCalls("empty", two)) +
      "\n" +
      (await recvCalls(`${dir}/lib/new.bin`, three)),
  );
  assertEquals(out, `OK lib/old.py\nOK empty\nOK ${dir}/lib/new.bin\n`);
  assertEquals(
    py.ok("import os\nprint(sorted(os.listdir('lib')), sorted(os.listdir()))"),
    "['new.bin', 'old.py'] ['empty', 'lib']\n",
  );
  assertEquals(py.ok("print(open('lib/old.py','rb').read().hex())").trim(), one.toHex());
  assertEquals(py.ok("print(open('lib/new.bin','rb').read().hex())").trim(), three.toHex());
});

Deno.test("recv: a short upload or a wrong SHA-256 raises ValueError, removes the temporary file, keeps the old file", async () => {
  py.fresh();
  py.ok("open('keep.py', 'w').write('old')");
  const data = random(500);
  const short = py.run("import sync_tool\n" + (await recvCalls("keep.py", data, { size: 501 })));
  assertEquals([short.out, short.error], ["", "ValueError: keep.py: received 500 of 501 bytes"]);
  const corrupt = py.run("import sync_tool\n" + (await recvCalls("keep.py", data, { sha: "0".repeat(64) })));
  assertEquals([corrupt.out, corrupt.error], [
    "",
    "ValueError: keep.py: received 500 of 500 bytes, SHA-256 differs",
  ]);
  assertEquals(py.ok("import os\nprint(os.listdir(), open('keep.py').read())"), "['keep.py'] old\n");
});

Deno.test("recv: a new recv_begin abandons an unfinished upload and its temporary file", async () => {
  py.fresh();
  const data = random(10);
  py.ok(`import sync_tool\nsync_tool.recv_begin('a', 99)\nsync_tool.recv_data(b'${data.toBase64()}')`);
  assertEquals(py.ok("import os\nprint(os.listdir())"), "['.upytmp-sync']\n");
  py.ok(await recvCalls("b", data));
  assertEquals(py.ok("print(os.listdir())"), "['b']\n");
});
