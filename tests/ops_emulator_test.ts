/**
 * The one-shot commands end to end against the emulated ESP32 (real MicroPython in a Worker, real WebREPL
 * protocol over TCP): byte-exact round trips, listing, removal, exec, info and the failure cases.
 */
import { runCli } from "../lib/cli/run.ts";
import { openDevice } from "../lib/device/connect.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { deviceActionCommands } from "../lib/actions/table.ts";
import { DeviceFiles, sha256Hex } from "../lib/ops/files.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { cuttingProxy } from "./helpers/cut_proxy.ts";

const PASSWORD = "emu-pw";

async function cli(args: string[], dir: string) {
  const io = recordingIo({ cwd: dir, env: { XDG_CONFIG_HOME: `${dir}/config` } });
  const code = await runCli(args, io, deviceActionCommands({ connect: { inactivityMs: 20_000 } }));
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function sample(size: number, kind: "binary" | "text"): Uint8Array {
  if (kind === "binary") {
    const bytes = new Uint8Array(size);
    for (let offset = 0; offset < size; offset += 65536) {
      crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65536)));
    }
    return bytes;
  }
  const line = new TextEncoder().encode("print('héllo wörld')\r\n# ünïcode ✓\n");
  return Uint8Array.from({ length: size }, (_, i) => line[i % line.length]);
}

Deno.test("ops commands against the emulator", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "upydev-ops-" });
  // 8 MiB of flash: the 1 MiB files and their temporary copies must fit.
  const emulator = await startEmulator({ port: 0, password: PASSWORD, flashSize: 8 << 20 });
  const address = ["-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD];
  const run = (...args: string[]) => cli([...args, ...address], dir);
  try {
    await t.step("mkdir -p", async () => {
      const result = await run("mkdir", "/rt/deep");
      assertEquals([result.code, result.stderr], [0, ""]);
    });

    for (const kind of ["binary", "text"] as const) {
      for (const size of [0, 1, 255, 256, 257, 65536, 1 << 20]) {
        await t.step(`put/get round trip: ${size} B ${kind}`, async () => {
          const data = sample(size, kind);
          const source = `${dir}/src-${kind}-${size}`;
          const back = `${dir}/back-${kind}-${size}`;
          await Deno.writeFile(source, data);
          const put = await run("put", source, `/rt/deep/${kind}-${size}.dat`);
          assertEquals([put.code, put.stderr], [0, ""]);
          assert(put.stdout.includes(`-> /rt/deep/${kind}-${size}.dat (${size} bytes`), put.stdout);
          const get = await run("get", `/rt/deep/${kind}-${size}.dat`, back);
          assertEquals([get.code, get.stderr], [0, ""]);
          const received = await Deno.readFile(back);
          assertEquals(received.length, size);
          assert(received.toHex() === data.toHex(), "bytes differ");
        });
      }
    }

    await t.step("relative local paths are taken from the working directory, not the process's", async () => {
      await Deno.writeTextFile(`${dir}/relative.txt`, "relative\n");
      const put = await run("put", "relative.txt");
      assertEquals([put.code, put.stderr], [0, ""]);
      await Deno.remove(`${dir}/relative.txt`);
      const get = await run("get", "/relative.txt");
      assertEquals([get.code, get.stderr], [0, ""]);
      assertEquals(await Deno.readTextFile(`${dir}/relative.txt`), "relative\n");
      assertEquals((await run("rm", "/relative.txt")).code, 0);
    });

    await t.step("ls lists sizes; -r recurses; no temporary files are left", async () => {
      const top = await run("ls", "/rt");
      assertEquals(top.stdout, "deep/\n");
      const long = await run("ls", "-l", "/rt");
      assertEquals(long.stdout, "     <dir>  deep/\n");
      const all = await run("ls", "-l", "-r", "/");
      assert(all.stdout.includes("  rt/deep/binary-257.dat\n"), all.stdout);
      assert(all.stdout.includes("       257  rt/deep/binary-257.dat\n"), all.stdout);
      assert(!all.stdout.includes("upytmp"), all.stdout);
    });

    await t.step("names with quotes, backslashes and UTF-8 are passed as literals", async () => {
      const name = 'it\'s a \\ "tést".py';
      await Deno.writeTextFile(`${dir}/odd`, "x = 1\n");
      assertEquals((await run("put", `${dir}/odd`, `/rt/${name}`)).code, 0);
      const cat = await run("cat", `/rt/${name}`);
      assertEquals([cat.code, cat.stdout], [0, "x = 1\n"]);
    });

    await t.step(
      "a name over 63 bytes arrives whole (WA/WB to a short temporary name, exec GET)",
      async () => {
        const long = `/rt/${"n".repeat(70)}.bin`;
        const data = sample(5000, "binary");
        await Deno.writeFile(`${dir}/long`, data);
        assertEquals((await run("put", `${dir}/long`, long)).code, 0);
        const listing = await run("ls", "-l", "/rt");
        assert(listing.stdout.includes(`      5000  ${"n".repeat(70)}.bin\n`), listing.stdout);
        assertEquals((await run("get", long, `${dir}/long-back`)).code, 0);
        assertEquals((await Deno.readFile(`${dir}/long-back`)).toHex(), data.toHex());
      },
    );

    await t.step("exec prints output; a device exception exits 1 with its last line", async () => {
      const ok = await run("exec", "print(6*7)");
      assertEquals([ok.code, ok.stdout.trim()], [0, "42"]);
      const bad = await run("exec", "open('/nope')");
      assertEquals(bad.code, 1);
      assert(
        /^upydev: device: OSError: /.test(bad.stderr) && bad.stderr.split("\n").length === 2,
        bad.stderr,
      );
    });

    await t.step("info reports platform, version, unique id, RAM and flash", async () => {
      const info = await run("info");
      assertEquals(info.code, 0);
      assert(/^platform: +esp32/m.test(info.stdout), info.stdout);
      assert(/^micropython: 1\.\d+\.\d+$/m.test(info.stdout), info.stdout);
      assert(/^unique id: +[0-9a-f]{12}$/m.test(info.stdout), info.stdout);
      assert(/^RAM: +\d+ KB free of \d+ KB$/m.test(info.stdout), info.stdout);
      assert(/^flash: +\d+ KB free of \d+ KB$/m.test(info.stdout), info.stdout);
    });

    await t.step("repl: typed bytes reach the prompt, output comes back, Ctrl-] quits", async () => {
      const io = recordingIo({ cwd: dir, env: { XDG_CONFIG_HOME: `${dir}/config` } });
      const running = runCli(["repl", ...address], io, deviceActionCommands());
      io.feed("print(6*7)\r");
      for (let i = 0; i < 200 && !io.stdout.includes("42"); i++) await new Promise((r) => setTimeout(r, 10));
      io.feed(Uint8Array.of(0x1d));
      assertEquals(await running, 0);
      assert(/print\(6\*7\)\r\n42\r\n>>> /.test(io.stdout), JSON.stringify(io.stdout));
      assert(io.stderr.startsWith(`connected to 127.0.0.1:${emulator.port} (Ctrl-] to quit)`), io.stderr);
    });

    await t.step("a missing destination directory is created", async () => {
      await Deno.writeTextFile(`${dir}/small`, "1");
      const result = await run("put", `${dir}/small`, "/nodir/deeper/x.py");
      assertEquals([result.code, result.stderr], [0, ""]);
      assertEquals((await run("cat", "/nodir/deeper/x.py")).stdout, "1");
      assertEquals((await run("rm", "-r", "/nodir")).code, 0);
    });

    await t.step(
      "get of a missing file is refused before any transfer; nothing is written locally",
      async () => {
        const result = await run("get", "/missing.bin", `${dir}/missing.bin`);
        assertEquals([result.code, result.stderr], [1, "upydev: no such file on the device: /missing.bin\n"]);
        const leftovers = [...Deno.readDirSync(dir)].filter((entry) => entry.name.includes("missing"));
        assertEquals(leftovers, []);
        // The session survived: the device still answers.
        assertEquals((await run("exec", "print(1)")).code, 0);
      },
    );

    await t.step("rm of a non-empty directory needs -r; rm -r removes it", async () => {
      const refused = await run("rm", "/rt");
      assertEquals([refused.code, refused.stderr], [
        1,
        "upydev: /rt is a directory that is not empty (use rm -r)\n",
      ]);
      assertEquals((await run("rm", "-r", "/rt")).code, 0);
      const gone = await run("ls", "/rt");
      assertEquals([gone.code, gone.stderr], [1, "upydev: no such file or directory on the device: /rt\n"]);
    });

    await t.step("wrong password", async () => {
      const result = await cli(["ls", "-t", `127.0.0.1:${emulator.port}`, "-p", "wrong"], dir);
      assertEquals([result.code, result.stderr], [
        1,
        `upydev: wrong WebREPL password for 127.0.0.1:${emulator.port}\n`,
      ]);
    });

    await t.step("device busy while another session is attached", async () => {
      const first = await openDevice(
        { host: "127.0.0.1", port: emulator.port, password: PASSWORD, secure: false },
      );
      try {
        const result = await run("ls");
        assertEquals(result.code, 1);
        assertEquals(
          result.stderr,
          `upydev: device busy: another WebREPL session is active on 127.0.0.1:${emulator.port}\n`,
        );
      } finally {
        await first.close();
      }
    });
  } finally {
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flash full during put: caught by verification, reported, temporary file removed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upydev-ops-full-" });
  const emulator = await startEmulator({ port: 0, password: PASSWORD, flashSize: 64 * 1024 });
  const address = ["-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD];
  try {
    await Deno.writeFile(`${dir}/big`, sample(100 * 1024, "binary"));
    const result = await cli(["put", `${dir}/big`, "/big.bin", ...address], dir);
    assertEquals(result.code, 1);
    assert(/flash full/.test(result.stderr), result.stderr);
    assertEquals(result.stderr.split("\n").length, 2);
    const listing = await cli(["ls", ...address], dir);
    assert(!listing.stdout.includes("big") && !listing.stdout.includes("upytmp"), listing.stdout);
  } finally {
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connection cut mid-transfer: no partial file under the destination name on either side", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upydev-ops-cut-" });
  const emulator = await startEmulator({ port: 0, password: PASSWORD });
  const direct = ["-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD];
  try {
    const data = sample(200 * 1024, "binary");
    await Deno.writeFile(`${dir}/big`, data);

    // PUT: the link dies after 100 KB towards the device.
    const putProxy = cuttingProxy(emulator.port, "toDevice", 100 * 1024);
    const put = await cli([
      "put",
      `${dir}/big`,
      "/big.bin",
      "-t",
      `127.0.0.1:${putProxy.port}`,
      "-p",
      PASSWORD,
    ], dir);
    await putProxy.finish();
    assertEquals(put.code, 1);
    assert(/^upydev: connection to 127\.0\.0\.1:\d+ lost/.test(put.stderr), put.stderr);
    await waitForDetach(emulator);
    const listing = await cli(["ls", ...direct], dir);
    assertEquals(listing.code, 0);
    assert(!/ big\.bin\n/.test(listing.stdout), listing.stdout);

    // A complete copy, then GET with the link dying after 50 KB towards the host.
    assertEquals((await cli(["put", `${dir}/big`, "/big.bin", ...direct], dir)).code, 0);
    const getProxy = cuttingProxy(emulator.port, "toClient", 50 * 1024);
    const get = await cli([
      "get",
      "/big.bin",
      `${dir}/got.bin`,
      "-t",
      `127.0.0.1:${getProxy.port}`,
      "-p",
      PASSWORD,
    ], dir);
    await getProxy.finish();
    assertEquals(get.code, 1);
    assert(/lost/.test(get.stderr), get.stderr);
    assertEquals(
      [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) => name.includes("got")),
      [],
    );
  } finally {
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** The emulator frees its terminal slot when it notices the dead connection. */
async function waitForDetach(emulator: { core: { terminalAttached: boolean } }): Promise<void> {
  for (let i = 0; i < 100 && emulator.core.terminalAttached; i++) await new Promise((r) => setTimeout(r, 20));
}

Deno.test("exec-only transfer (for firmware without WA/WB) round-trips bytes", async () => {
  const emulator = await startEmulator({ port: 0, password: PASSWORD });
  const connection = await openDevice(
    { host: "127.0.0.1", port: emulator.port, password: PASSWORD, secure: false },
  );
  const device = { files: new DeviceFiles(connection.session, { execTransferOnly: true }) };
  try {
    const data = sample(10_000, "binary");
    await device.files.put(data, "/exec-only.bin");
    assertEquals(await device.files.sha256("/exec-only.bin"), await sha256Hex(data));
    assertEquals((await device.files.get("/exec-only.bin")).toHex(), data.toHex());
    await device.files.rm("/exec-only.bin");
    assertEquals(await device.files.stat("/exec-only.bin"), null);
  } finally {
    await connection.close();
    await emulator.close();
  }
});
