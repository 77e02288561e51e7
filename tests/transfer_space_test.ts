/**
 * Replacing a file on a small flash, and the cost of a put in round trips, against the emulated ESP32.
 */
import { deviceActionCommands } from "../lib/actions/table.ts";
import { runCli } from "../lib/cli/run.ts";
import { openDevice } from "../lib/device/connect.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { DeviceFiles, sha256Hex } from "../lib/ops/files.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { assert, assertEquals } from "./helpers/assert.ts";

const PASSWORD = "emu-pw";

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65536)));
  }
  return bytes;
}

Deno.test("replacing a 1 MiB file on a 2 MiB flash: refused with the numbers, then done with --in-place", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upydev-space-" });
  const emulator = await startEmulator({ port: 0, password: PASSWORD, flashSize: 2 << 20 });
  const cli = async (...args: string[]) => {
    const io = recordingIo({ cwd: dir, env: { HOME: dir } });
    const code = await runCli(
      [...args, "-t", `127.0.0.1:${emulator.port}`, "-p", PASSWORD],
      io,
      deviceActionCommands({ connect: { inactivityMs: 20_000 } }),
    );
    for (let i = 0; i < 200 && emulator.core.terminalAttached; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return { code, stdout: io.stdout, stderr: io.stderr };
  };
  try {
    const first = randomBytes(1 << 20);
    const second = randomBytes(1 << 20);
    await Deno.writeFile(`${dir}/v1.bin`, first);
    await Deno.writeFile(`${dir}/v2.bin`, second);
    assertEquals((await cli("put", "v1.bin", "/app.bin")).code, 0);

    const refused = await cli("put", "v2.bin", "/app.bin");
    assertEquals(refused.code, 1);
    assert(
      /^upydev: device flash full for a safe replace of \/app\.bin: the new copy needs 1048576 bytes beside the old one \(1048576 bytes\) and \d+ are free; 'put --in-place' removes the old copy first \(it is lost if the upload then fails\)\n$/
        .test(refused.stderr),
      refused.stderr,
    );
    assertEquals(
      (await cli(
        "exec",
        "import hashlib,binascii;print(binascii.hexlify(hashlib.sha256(open('/app.bin','rb').read()).digest()).decode())",
      )).stdout.trim(),
      await sha256Hex(first),
    );

    const replaced = await cli("put", "v2.bin", "/app.bin", "--in-place");
    assertEquals([replaced.code, replaced.stderr], [0, ""]);
    assertEquals(
      (await cli(
        "exec",
        "import hashlib,binascii;print(binascii.hexlify(hashlib.sha256(open('/app.bin','rb').read()).digest()).decode())",
      )).stdout.trim(),
      await sha256Hex(second),
    );

    await Deno.writeFile(`${dir}/huge.bin`, randomBytes(3 << 20));
    const huge = await cli("put", "huge.bin", "/huge.bin");
    assertEquals(huge.code, 1);
    assert(
      /^upydev: device flash full: \/huge\.bin needs 3145728 bytes and \d+ are free\n$/.test(huge.stderr),
      huge.stderr,
    );
  } finally {
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a put costs two execs: find the target, measure and tidy; then verify and rename", async () => {
  const emulator = await startEmulator({ port: 0, password: PASSWORD });
  const connection = await openDevice({
    host: "127.0.0.1",
    port: emulator.port,
    password: PASSWORD,
    secure: false,
  });
  try {
    let execs = 0;
    const execRaw = connection.session.execRaw.bind(connection.session);
    connection.session.execRaw = (code, options) => {
      execs++;
      return execRaw(code, options);
    };
    const files = new DeviceFiles(connection.session);
    const data = randomBytes(5000);
    await files.mkdir("/lib");
    execs = 0;
    assertEquals(await files.put(data, "/lib", { name: "x.bin" }), "/lib/x.bin");
    assertEquals(execs, 2);
    execs = 0;
    assertEquals(await files.put(data, "/lib/x.bin", { name: "x.bin" }), "/lib/x.bin");
    assertEquals(execs, 2);
    assertEquals(await files.sha256("/lib/x.bin"), await sha256Hex(data));
  } finally {
    await connection.close();
    await emulator.close();
  }
});
