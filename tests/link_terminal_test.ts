/**
 * Terminal safety (issue 9, item 3): device-supplied names and text never reach the terminal raw. A file named
 * "\x1b[2J\x1b]0;pwned\x07.py" would clear the screen and retitle the window; a newline in a name would forge
 * listing lines.
 */
import "npm:reflect-metadata@0.2.2";
import { runCli } from "../lib/cli/run.ts";
import { deviceActionCommands } from "../lib/actions/table.ts";
import { openDevice } from "../lib/device/connect.ts";
import { identify } from "../lib/shell/header.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { FAKE_PASSWORD, fakeDevice, login, sendResult, serveRawRepl } from "./helpers/fake_device.ts";

const HOSTILE = "\x1b[2J\x1b]0;pwned\x07.py";
const FORGED = "real.py\n     1234  forged.py";
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

/** A device whose listing holds the hostile names and whose programs fail with a hostile traceback. */
function hostileDevice() {
  return fakeDevice(async (peer) => {
    await login(peer);
    await serveRawRepl(peer, async (code, peer) => {
      if (code.includes("ilistdir")) {
        await sendResult(
          peer,
          JSON.stringify([["/" + HOSTILE, false, 3], ["/" + FORGED, false, 5]]) + "\r\n",
        );
      } else if (code.includes("os.stat(p)")) {
        await sendResult(peer, "[[true, 0]]\r\n");
      } else if (code.includes("os.uname")) {
        await sendResult(peer, "esp32\x1b]0;pwned\x07\r\nv1.27\x1b[2J\r\nESP32\r\n240ac4\r\n");
      } else {
        await sendResult(peer, "", `Traceback (most recent call last):\r\nOSError: ${HOSTILE}\r\n`);
      }
    });
  });
}

async function cli(port: number, args: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "upydev-terminal-" });
  try {
    const io = recordingIo({ cwd: dir, env: { HOME: dir, XDG_CONFIG_HOME: `${dir}/config` } });
    const code = await runCli(
      [...args, "-t", `127.0.0.1:${port}`, "-p", FAKE_PASSWORD],
      io,
      deviceActionCommands({ connect: { inactivityMs: 2000 } }),
    );
    return { code, stdout: io.stdout, stderr: io.stderr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("terminal safety: ls and ls -l show control characters in device names as escapes", async () => {
  const device = hostileDevice();
  try {
    for (const args of [["ls", "/"], ["ls", "-l", "/"]]) {
      const { code, stdout } = await cli(device.port, args);
      assertEquals(code, 0);
      assert(!CONTROL.test(stdout), JSON.stringify(stdout));
      const lines = stdout.trimEnd().split("\n");
      assertEquals(lines.length, 2, JSON.stringify(stdout));
      assert(lines[0].endsWith("\\x1b[2J\\x1b]0;pwned\\x07.py"), lines[0]);
      assert(lines[1].endsWith("real.py\\x0a     1234  forged.py"), lines[1]);
    }
  } finally {
    await device.finish();
  }
});

Deno.test("terminal safety: device text in an error message is escaped", async () => {
  const device = hostileDevice();
  try {
    const { code, stderr } = await cli(device.port, ["exec", "import os"]);
    assertEquals([code, stderr], [1, "upydev: device: OSError: \\x1b[2J\\x1b]0;pwned\\x07.py\n"]);
  } finally {
    await device.finish();
  }
});

Deno.test("terminal safety: the shell's banner and prompt get the device's identity escaped", async () => {
  const device = hostileDevice();
  try {
    const connection = await openDevice({
      host: "127.0.0.1",
      port: device.port,
      password: FAKE_PASSWORD,
      secure: false,
    });
    try {
      assertEquals(await identify(connection.session), {
        platform: "esp32\\x1b]0;pwned\\x07",
        version: "v1.27\\x1b[2J",
        machine: "ESP32",
        uid: "240ac4",
      });
    } finally {
      await connection.close();
    }
  } finally {
    await device.finish();
  }
});
