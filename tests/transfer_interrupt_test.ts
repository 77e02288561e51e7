/**
 * Ctrl-C during put, get, exec and run, against the emulated ESP32: the command ends with `interrupted` (exit 130),
 * the device's program is stopped, temporary files are removed as far as the link allows, and a later put removes
 * what an earlier interrupted one had to leave.
 */
import { fileURLToPath } from "node:url";
import { deviceActionCommands } from "../lib/actions/table.ts";
import { runCli } from "../lib/cli/run.ts";
import { openDevice } from "../lib/device/connect.ts";
import { type EmulatedDevice, startEmulator } from "../lib/emulator/emulator.ts";
import { DeviceFiles } from "../lib/ops/files.ts";
import { InterruptedError, type RecordingIo, recordingIo } from "../lib/ui/io.ts";
import { Opcode } from "../lib/ws/frame.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { fakeDeviceServer } from "./helpers/fake_server.ts";

const PASSWORD = "emu-pw";
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

async function cli(
  args: string[],
  dir: string,
  io: RecordingIo = recordingIo({ cwd: dir, env: { HOME: dir } }),
) {
  const code = await runCli(args, io, deviceActionCommands({ connect: { inactivityMs: 20_000 } }));
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/**
 * An Io that plays Ctrl-C once the transfer's progress bar reaches `percent`: the bar is drawn after each frame,
 * so the interrupt lands at a known point of the transfer (a clock that runs 50 ms per reading makes it draw).
 */
function interruptAt(percent: number, cwd: string, home: string): RecordingIo {
  let clock = 0;
  const io = recordingIo({ cwd, env: { HOME: home }, stdoutIsTerminal: true, now: () => (clock += 50) });
  const write = io.out;
  let sent = false;
  io.out = (text) => {
    write(text);
    const shown = [...text.matchAll(/(\d+)%/g)].at(-1);
    if (!sent && shown && Number(shown[1]) >= percent) {
      sent = true;
      io.interrupt();
    }
  };
  return io;
}

/** The device's files, hidden ones included, over a fresh connection. */
async function deviceNames(emulator: EmulatedDevice, dir = "/"): Promise<string[]> {
  await waitForDetach(emulator);
  const connection = await openDevice({
    host: "127.0.0.1",
    port: emulator.port,
    password: PASSWORD,
    secure: false,
  });
  try {
    return (await new DeviceFiles(connection.session).list(dir)).map((entry) => entry.path);
  } finally {
    await connection.close();
    await waitForDetach(emulator);
  }
}

async function waitForDetach(emulator: EmulatedDevice): Promise<void> {
  for (let i = 0; i < 200 && emulator.core.terminalAttached; i++) await new Promise((r) => setTimeout(r, 20));
}

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65536)));
  }
  return bytes;
}

async function withEmulator(
  body: (emulator: EmulatedDevice, dir: string) => Promise<void>,
  flashSize = 4 << 20,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "upydev-interrupt-" });
  const emulator = await startEmulator({ port: 0, password: PASSWORD, flashSize });
  try {
    await body(emulator, dir);
  } finally {
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("Ctrl-C during put with little left: the upload is closed off and its temporary file removed", async () => {
  await withEmulator(async (emulator, dir) => {
    await Deno.writeFile(`${dir}/app.bin`, randomBytes(96 * 1024));
    const io = interruptAt(60, dir, dir);
    const result = await cli(
      ["put", "app.bin", "/app.bin", "-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD],
      dir,
      io,
    );
    assertEquals([result.code, result.stderr], [130, "upydev: interrupted\n"]);
    const names = await deviceNames(emulator);
    assert(!names.some((name) => name.includes("upytmp") || name === "/app.bin"), names.join(" "));
  });
});

Deno.test("Ctrl-C during put with much left drops the link; the next put in that folder removes the leftover", async () => {
  await withEmulator(async (emulator, dir) => {
    await Deno.writeFile(`${dir}/big.bin`, randomBytes(400 * 1024));
    await Deno.writeFile(`${dir}/small.txt`, new TextEncoder().encode("hello\n"));
    const io = interruptAt(20, dir, dir);
    const result = await cli(
      ["put", "big.bin", "/", "-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD],
      dir,
      io,
    );
    assertEquals([result.code, result.stderr], [130, "upydev: interrupted\n"]);
    const left = await deviceNames(emulator);
    assertEquals(left.filter((name) => name.startsWith("/.upytmp-")).length, 1, left.join(" "));
    assert(!left.includes("/big.bin"));

    const later = await cli(
      ["put", "small.txt", "/", "-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD],
      dir,
    );
    assertEquals([later.code, later.stderr], [0, ""]);
    const after = await deviceNames(emulator);
    assert(!after.some((name) => name.includes("upytmp")), after.join(" "));
    assert(after.includes("/small.txt"));
  });
});

Deno.test("Ctrl-C during get: interrupted, and nothing written locally (no file, no *.tmp)", async () => {
  await withEmulator(async (emulator, dir) => {
    await Deno.writeFile(`${dir}/big.bin`, randomBytes(300 * 1024));
    const direct = ["-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD];
    assertEquals((await cli(["put", "big.bin", "/big.bin", ...direct], dir)).code, 0);
    await Deno.mkdir(`${dir}/back`);
    await waitForDetach(emulator);
    const io = interruptAt(20, `${dir}/back`, dir);
    const result = await cli(
      ["get", "/big.bin", "-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD],
      `${dir}/back`,
      io,
    );
    assertEquals([result.code, result.stderr], [130, "upydev: interrupted\n"]);
    assertEquals([...Deno.readDirSync(`${dir}/back`)].map((entry) => entry.name), []);
  });
});

const LOOP = "import time\nprint('started')\nwhile True:\n time.sleep(0.05)";

Deno.test("Ctrl-C during exec stops the device's program and ends with 'interrupted' (exit 130)", async () => {
  await withEmulator(async (emulator, dir) => {
    const io = recordingIo({ cwd: dir, env: { HOME: dir } });
    const print = io.outBytes;
    io.outBytes = (bytes) => {
      print(bytes);
      if (io.stdout.includes("started")) io.interrupt();
    };
    const direct = ["-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD];
    const started = Date.now();
    const result = await cli(["exec", LOOP, ...direct], dir, io);
    assertEquals([result.code, result.stderr], [130, "upydev: interrupted\n"]);
    assert(Date.now() - started < 15_000, "the device stopped on Ctrl-C");
    await waitForDetach(emulator);
    // The device's REPL is free again: the next command runs at once.
    const next = await cli(["exec", "print(6*7)", ...direct], dir);
    assertEquals([next.code, next.stdout], [0, "42\n"]);
  });
});

Deno.test("Ctrl-C during run ends with 'interrupted' too", async () => {
  await withEmulator(async (emulator, dir) => {
    await Deno.writeTextFile(`${dir}/loop.py`, LOOP);
    const io = recordingIo({ cwd: dir, env: { HOME: dir } });
    const print = io.outBytes;
    io.outBytes = (bytes) => {
      print(bytes);
      if (io.stdout.includes("started")) io.interrupt();
    };
    const result = await cli(["run", "loop.py", "-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD], dir, io);
    assertEquals(result.code, 130);
    assert(result.stderr.endsWith("upydev: interrupted\n"), result.stderr);
  });
});

Deno.test("a real SIGINT to the upydev process interrupts exec on the device", async () => {
  await withEmulator(async (emulator, dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--frozen", MAIN, "exec", LOOP, "-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD],
      cwd: dir,
      env: { HOME: dir, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    let seen = "";
    while (!seen.includes("started")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    child.kill("SIGINT");
    while (!(await reader.read()).done) { /* drain */ }
    const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
    assertEquals([status.code, stderr], [130, "upydev: interrupted\n"]);
  });
});

Deno.test("Ctrl-C during an exec-route put (firmware without WA/WB): stops between chunks, temporary file removed", async () => {
  await withEmulator(async (emulator) => {
    const connection = await openDevice({
      host: "127.0.0.1",
      port: emulator.port,
      password: PASSWORD,
      secure: false,
    });
    try {
      const interruption = new AbortController();
      const files = new DeviceFiles(connection.session, {
        execTransferOnly: true,
        signal: interruption.signal,
      });
      const data = randomBytes(64 * 1024);
      let error: unknown;
      try {
        await files.put(data, "/app.bin", { onProgress: (done) => done >= 9000 && interruption.abort() });
      } catch (caught) {
        error = caught;
      }
      assert(error instanceof InterruptedError, String(error));
      // The session is still usable, and nothing is left behind.
      const names = (await files.list("/")).map((entry) => entry.path);
      assert(!names.some((name) => name.includes("upytmp") || name === "/app.bin"), names.join(" "));
    } finally {
      await connection.close();
    }
  });
});

/** A device whose program ignores Ctrl-C: it logs in, runs the code, prints "started" and never ends. */
function stubbornDevice() {
  let ctrlC = false;
  const server = fakeDeviceServer(async (peer) => {
    await peer.upgrade();
    await peer.sendText("Password: ");
    await peer.textUntil("\r");
    await peer.sendText("\r\nWebREPL connected\r\n>>> ");
    await peer.textUntil("\x01");
    await peer.sendText("raw REPL; CTRL-B to exit\r\n>");
    await peer.textUntil("\x05A\x01");
    await peer.sendText("R\x00");
    await peer.textUntil("\x04");
    await peer.sendText("OKstarted\r\n");
    for (let frame = await peer.frame(); frame !== null; frame = await peer.frame()) {
      if (frame.opcode === Opcode.Close) return await peer.sendRaw(Uint8Array.of(0x88, 0x00));
      if (frame.payload.includes(0x03)) ctrlC = true;
    }
  });
  return { ...server, ctrlC: () => ctrlC };
}

Deno.test("a device that ignores Ctrl-C: the link is dropped after the grace period, or at once on a second Ctrl-C", async () => {
  for (const presses of [1, 2]) {
    const device = stubbornDevice();
    const io = recordingIo({ env: { HOME: "/nonexistent" } });
    let pressedAt = 0;
    const print = io.outBytes;
    io.outBytes = (bytes) => {
      print(bytes);
      if (pressedAt === 0 && io.stdout.includes("started")) {
        pressedAt = performance.now();
        for (let i = 0; i < presses; i++) io.interrupt();
      }
    };
    const code = await runCli(
      ["exec", "while True: pass", "-t", `127.0.0.1:${device.port}`, "-p", PASSWORD],
      io,
      deviceActionCommands(),
    );
    const waited = performance.now() - pressedAt;
    await device.finish();
    assertEquals([code, io.stderr], [130, "upydev: interrupted\n"]);
    assert(device.ctrlC(), "the device was sent a Ctrl-C");
    // One press: the device gets the 3 s grace period; two: the link goes at once.
    if (presses === 1) assert(waited >= 2900 && waited < 10_000, `waited ${waited} ms`);
    else assert(waited < 2900, `waited ${waited} ms`);
  }
});
