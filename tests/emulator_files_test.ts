/** WA/WB against the emulator with hand-built frames: byte-exact PUT/GET, errors that close, flash full, persistence. */
import { assert, assertEquals } from "./helpers/assert.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import {
  encoder,
  fileHeader,
  get,
  latin1,
  PASSWORD,
  put,
  WB_OK,
  withSession,
} from "./helpers/emulator_wire.ts";

function pattern(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + 3) & 0xff;
  return data;
}

Deno.test("PUT then GET round-trips byte-exact at 0, 1, 255, 256, 257 and 3000 bytes", async () => {
  await withSession(async (client) => {
    for (const size of [0, 1, 255, 256, 257, 3000]) {
      const data = pattern(size);
      const replies = await put(client, `f${size}.bin`, data);
      assertEquals(replies, [WB_OK, WB_OK], `PUT ${size}: WB 0 after open and after the data`);
      const { data: back, chunks } = await get(client, `f${size}.bin`);
      assertEquals(back, data, `GET ${size} is byte-exact`);
      const expectedChunks = [
        ...Array(Math.floor(size / 256)).fill(256),
        ...(size % 256 ? [size % 256] : []),
        0,
      ];
      assertEquals(chunks, expectedChunks, `GET ${size} comes in 256-byte chunks`);
    }
  });
});

Deno.test("PUT header split 40 + 42 over frames, and a 63-byte name", async () => {
  await withSession(async (client, emu) => {
    const name = "n".repeat(60) + ".py";
    const data = encoder.encode("print('hi')\n");
    const header = fileHeader(1, name, data.length);
    await client.sendBinary(header.subarray(0, 40));
    await client.sendBinary(header.subarray(40));
    assertEquals(await client.readBinary(), WB_OK);
    await client.sendBinary(data);
    assertEquals(await client.readBinary(), WB_OK);
    const { output } = await emu.runPython(`import os; print(os.stat(${JSON.stringify(name)})[6])`);
    assertEquals(output, `${data.length}\r\n`);
  });
});

Deno.test("GET_VER answers [1, 27, 0] with no WB", async () => {
  await withSession(async (client) => {
    await client.sendBinary(fileHeader(3, ""));
    assertEquals(await client.readBinary(), new Uint8Array([1, 27, 0]));
    await client.sendText("5\r");
    assert((await client.readText(">>> ")).includes("5"), "REPL continues after GET_VER");
  });
});

Deno.test("GET of a missing file closes the connection without a WB reply", async () => {
  await withSession(async (client) => {
    await client.sendBinary(fileHeader(2, "missing.txt"));
    assertEquals(await client.readFramesToEnd(), []);
  });
});

Deno.test("PUT into a missing directory closes the connection", async () => {
  await withSession(async (client) => {
    await client.sendBinary(fileHeader(1, "nodir/x.txt", 3));
    assertEquals(await client.readFramesToEnd(), []);
  });
});

Deno.test("flash full: a PUT is cut silently with WB 0 twice; Python writes raise ENOSPC", async () => {
  await withSession(async (client, emu) => {
    const { output: freeText } = await emu.runPython(
      "import os\nfrom os import statvfs\ns = statvfs('/')\nprint(s[0] * s[3], s[0] * s[2])",
    );
    const [free, total] = freeText.trim().split(" ").map(Number);
    assertEquals(total, 64 * 1024, "statvfs reports the configured flash size");
    const data = pattern(80 * 1024);
    assertEquals(await put(client, "big.bin", data), [WB_OK, WB_OK]);
    const { output } = await emu.runPython("print(os.stat('big.bin')[6])");
    const stored = Number(output.trim());
    assert(stored < data.length && stored >= free - 4096, `the file was cut to what fits (${stored})`);
    const write = await emu.runPython("f = open('more.bin', 'wb')\nf.write(b'x' * 100)");
    assert(write.error?.includes("OSError: 28"), `Python write fails with ENOSPC: ${write.error}`);
  }, { flashSize: 64 * 1024 });
});

Deno.test("a text frame in the middle of a PUT goes to the REPL", async () => {
  await withSession(async (client, emu) => {
    await client.sendBinary(fileHeader(1, "mid.txt", 4));
    assertEquals(await client.readBinary(), WB_OK);
    await client.sendBinary(encoder.encode("ab"));
    await client.sendText("x");
    const echo = (await client.readFrame())!;
    assertEquals([echo.opcode, latin1(echo.payload)], [1, "x"]);
    await client.sendBinary(encoder.encode("cd"));
    assertEquals(await client.readBinary(), WB_OK);
    assertEquals((await emu.runPython("print(open('mid.txt').read())")).output, "abcd\r\n");
  });
});

Deno.test("flash directory keeps files between runs; a fresh flash holds only boot.py", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upydev-emu-flash-" });
  try {
    await withSession(async (client, emu) => {
      assertEquals((await emu.runPython("import os; print(os.listdir('/'))")).output, "['boot.py']\r\n");
      await put(client, "kept.txt", encoder.encode("kept"));
      await emu.runPython(
        "import os\nos.mkdir('lib')\nwith open('lib/m.py', 'w') as f:\n    f.write('X = 1')",
      );
    }, { flashDir: dir });
    assertEquals(await Deno.readTextFile(`${dir}/kept.txt`), "kept");
    assertEquals(await Deno.readTextFile(`${dir}/lib/m.py`), "X = 1");
    await withSession(async (_client, emu) => {
      const { output } = await emu.runPython(
        "import os, sys\nfrom m import X\nprint(sorted(os.listdir('/')), X)",
      );
      assertEquals(output, "['boot.py', 'kept.txt', 'lib'] 1\r\n");
      await emu.runPython("os.remove('kept.txt')");
    }, { flashDir: dir });
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names.sort(), ["boot.py", "lib"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GET with pipelined pulls: each received byte asks for one chunk (64 KiB byte-exact)", async () => {
  await withSession(async (client) => {
    const data = pattern(64 * 1024);
    assertEquals(await put(client, "big.bin", data), [WB_OK, WB_OK]);
    await client.sendBinary(fileHeader(2, "big.bin"));
    assertEquals(await client.readBinary(), WB_OK);
    const pulls = data.length / 256 + 1;
    await client.sendBinary(new Uint8Array(pulls));
    const received = new Uint8Array(data.length);
    let offset = 0;
    for (let i = 0; i < pulls; i++) {
      const chunk = await client.readBinary();
      const size = chunk[0] | (chunk[1] << 8);
      assertEquals(size, i < pulls - 1 ? 256 : 0);
      received.set(chunk.subarray(2), offset);
      offset += size;
    }
    assertEquals(await client.readBinary(), WB_OK);
    assertEquals(received, data);
  });
});

Deno.test("Python filesystem errors carry ESP32 errno numbers; rename works with relative paths", async () => {
  const emu = await startEmulator({ password: PASSWORD, port: 0 });
  try {
    const errnoOf = async (code: string) => {
      const { output } = await emu.runPython(
        `import os\ntry:\n    ${code}\nexcept OSError as e:\n    print(e.args[0])`,
      );
      return Number(output.trim());
    };
    assertEquals(await errnoOf("open('missing.txt')"), 2);
    assertEquals(await errnoOf("os.stat('missing.txt')"), 2);
    assertEquals(await errnoOf("os.mkdir('boot.py')"), 17);
    assertEquals(await errnoOf("os.mkdir('d'); open('d/x', 'w').close(); os.rmdir('d')"), 39);
    assertEquals(await errnoOf("os.rename('missing.txt', 'other.txt')"), 2);
    const { output } = await emu.runPython(
      "os.chdir('d')\nos.rename('x', 'y')\nos.rename('/d/y', '/z')\nos.chdir('/')\nprint(os.listdir('d'), 'z' in os.listdir())",
    );
    assertEquals(output, "[] True\r\n");
  } finally {
    await emu.close();
  }
});
