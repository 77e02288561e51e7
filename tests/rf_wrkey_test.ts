/**
 * `upydev rf_wrkey` through the real CLI against the emulated ESP32: over wss (password inside TLS, a shared
 * secret set up), then over plain ws (only a token on the wire, checked on the unmasked frames), the refusals
 * that change nothing, and a link that drops while the device changes its password. Also the emulator's model
 * of the device's password: `_webrepl.password()` applies to the next login, webrepl_cfg.py at the next boot.
 */
import { startEmulator } from "../lib/emulator/emulator.ts";
import { serveEmulator } from "../lib/emulator/commands.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { writeDeviceFile } from "../lib/emulator/shims/wss.ts";
import { deviceSecretPath } from "../lib/config/device_secrets.ts";
import { openDevice } from "../lib/device/connect.ts";
import { latin1 } from "../lib/bytes/bytes.ts";
import { FrameParser } from "../lib/ws/frame.ts";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { type CliResult, type Sandbox, sandbox } from "./helpers/cli.ts";
import { DEVICE_UID, HOST_PASS, hostWithCa, WEBREPL_PASSWORD, wssDeviceFor } from "./helpers/wss.ts";

const encoder = new TextEncoder();
const UID = DEVICE_UID.toHex();
const SECRET = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);
/** Device code: the running WebREPL takes the next password, then the device resets before it can reply. */
const RESET_AFTER_PASSWORD = "import _webrepl, machine\n_set = _webrepl.password\n" +
  "def _then_reset(p):\n    _set(p)\n    machine.reset()\n_webrepl.password = _then_reset";

/** A TCP proxy for any number of connections that keeps what each client sent; `refuse()` stops accepting. */
function recordingProxy(upstreamPort: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sent: Uint8Array[][] = [];
  const pumps: Promise<void>[] = [];
  const pump = async (from: Deno.Conn, to: Deno.Conn, record?: Uint8Array[]) => {
    const buffer = new Uint8Array(16384);
    try {
      for (let count = await from.read(buffer); count !== null; count = await from.read(buffer)) {
        record?.push(buffer.slice(0, count));
        for (let offset = 0; offset < count;) offset += await to.write(buffer.subarray(offset, count));
      }
    } catch {
      // one side closed
    }
    for (const conn of [from, to]) {
      try {
        conn.close();
      } catch {
        // already closed by the other pump
      }
    }
  };
  const accepting = (async () => {
    try {
      for await (const client of listener) {
        const device = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
        const record: Uint8Array[] = [];
        sent.push(record);
        pumps.push(pump(client, device, record), pump(device, client));
      }
    } catch {
      // listener closed
    }
  })();
  let open = true;
  const refuse = async () => {
    if (open) listener.close();
    open = false;
    await accepting;
  };
  return {
    port: listener.addr.port,
    /** What the client sent on connection `i` as WebSocket payloads (unmasked), after the HTTP upgrade. */
    payloads(i: number): string {
      const bytes = latin1(new Uint8Array(sent[i].flatMap((chunk) => [...chunk])));
      const body = bytes.slice(bytes.indexOf("\r\n\r\n") + 4);
      const frames = new FrameParser({ masking: "either" }).push(
        Uint8Array.from(body, (char) => char.charCodeAt(0)),
      );
      return frames.map((frame) => latin1(frame.payload)).join("");
    },
    connections: () => sent.length,
    refuse,
    async close() {
      await refuse();
      await Promise.all(pumps);
    },
  };
}

async function json(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

/** The device's webrepl_cfg.py PASS, read through the emulator. */
async function devicePass(runPython: (code: string) => Promise<{ output: string }>): Promise<string> {
  return (await runPython(
    "import sys\nsys.modules.pop('webrepl_cfg',None)\nimport webrepl_cfg\nprint(webrepl_cfg.PASS)",
  ))
    .output.trim();
}

async function canLogIn(port: number, password: string): Promise<boolean> {
  try {
    const connection = await openDevice({ host: "127.0.0.1", port, password, secure: false });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("emulator: _webrepl.password() applies to the next login; webrepl_cfg.py alone only after a reset", async () => {
  const emu = await startEmulator({ password: "first", port: 0 });
  try {
    await emu.runPython("import _webrepl\n_webrepl.password('second')");
    assertEquals([await canLogIn(emu.port, "first"), await canLogIn(emu.port, "second")], [false, true]);
    assertEquals(emu.password, "second");
    assertMatch(
      (await emu.runPython("import _webrepl\n_webrepl.password('0123456789')")).error ?? "",
      /\nValueError: \n$/,
    );
    await writeDeviceFile(emu, "/webrepl_cfg.py", encoder.encode("PASS = 'third'\n"));
    assertEquals(await canLogIn(emu.port, "second"), true);
    emu.core.reset();
    await emu.core.ready;
    assertEquals([await canLogIn(emu.port, "second"), await canLogIn(emu.port, "third")], [false, true]);
  } finally {
    await emu.close();
  }
});

Deno.test("rf_wrkey over wss, then over ws through the secret it set up", async (t) => {
  const box = await hostWithCa();
  const { device, port } = await wssDeviceFor(box);
  const proxy = recordingProxy(device.port);
  const stdoutOf = async (result: Promise<CliResult>) => {
    const { code, stdout, stderr } = await result;
    assertEquals([code, stderr], [0, ""], stderr);
    return stdout;
  };
  try {
    let password = "";
    await t.step(
      "wss: the password goes inside TLS, with a fresh shared secret; both registry entries follow",
      async () => {
        await stdoutOf(
          box.run("config", "-t", `127.0.0.1:${port}`, "-p", `${WEBREPL_PASSWORD}:${HOST_PASS}`),
        );
        await stdoutOf(
          box.run("config", "-t", `127.0.0.1:${proxy.port}`, "-p", WEBREPL_PASSWORD, "-gg", "-@", "espws"),
        );
        assertEquals(
          await stdoutOf(box.run("rf_wrkey")),
          `WebREPL password changed on 127.0.0.1:${port} (sent inside TLS)\n` +
            "verified: logged in again with the new password\n" +
            `registry updated: ${box.cwd}/upydev_.config, ${box.configDir}/UPY_G.config\n` +
            `secret shared for changes over ws: ${deviceSecretPath(box.configDir, UID)}\n`,
        );
        password = String((await json(`${box.cwd}/upydev_.config`)).passwd).split(":")[0];
        assertMatch(password, /^[A-Za-z0-9]{9}$/);
        assertEquals((await json(`${box.cwd}/upydev_.config`)).passwd, `${password}:${HOST_PASS}`);
        assertEquals((await json(`${box.configDir}/UPY_G.config`)).espws, [
          `127.0.0.1:${proxy.port}`,
          password,
        ]);
        assertEquals(await devicePass((code) => device.runPython(code)), password);
        const hostSecret = await Deno.readTextFile(deviceSecretPath(box.configDir, UID));
        assertEquals(
          (await device.runPython("print(open('/upysecrets.key').read(), end='')")).output,
          hostSecret.replace("\n", "\r\n"),
        );
        assertEquals((await Deno.stat(deviceSecretPath(box.configDir, UID))).mode! & 0o777, 0o600);
        assertEquals((await Deno.stat(`${box.configDir}/upysecrets`)).mode! & 0o777, 0o700);
        assertEquals((await box.run("id")).stdout, `${UID}\n`);
      },
    );

    await t.step(
      "ws: only a token crosses the link; the device derives the password the host expects",
      async () => {
        const before = proxy.connections();
        assertEquals(
          await stdoutOf(box.run("rf_wrkey@espws")),
          `WebREPL password changed on 127.0.0.1:${proxy.port} (derived on the device: only a token crossed the link)\n` +
            "verified: logged in again with the new password\n" +
            `registry updated: ${box.cwd}/upydev_.config, ${box.configDir}/UPY_G.config\n`,
        );
        const [, next] = (await json(`${box.configDir}/UPY_G.config`)).espws as string[];
        assert(next !== password, "a new password");
        assertEquals(await devicePass((code) => device.runPython(code)), next);
        const rotation = proxy.payloads(before);
        assert(rotation.startsWith(`${password}\r`), "the session logged in with the previous password");
        assertMatch(rotation, /rf_wrkey\(\\'[0-9a-f]{32}\\',\\'[0-9a-f]{32}\\'\)/);
        assert(!rotation.includes(next), "the new password never crossed the link in the rotation session");
        // The check afterwards is a WebREPL login, which sends the password as every later login does.
        assert(proxy.payloads(before + 1).startsWith(`${next}\r`));
        assertEquals((await box.run("id@espws")).stdout, `${UID}\n`);
      },
    );

    await t.step(
      "wss: the device resets right after taking the password; logging in again settles it",
      async () => {
        await device.runPython(RESET_AFTER_PASSWORD);
        assertEquals(await box.run("rf_wrkey"), {
          code: 0,
          stdout: `WebREPL password changed on 127.0.0.1:${port} (sent inside TLS)\n` +
            "verified: logged in again with the new password (its reply to the change was lost)\n" +
            `registry updated: ${box.cwd}/upydev_.config, ${box.configDir}/UPY_G.config\n`,
          stderr: "",
        });
        const now = String((await json(`${box.cwd}/upydev_.config`)).passwd).split(":")[0];
        assertEquals(await devicePass((code) => device.runPython(code)), now);
        assertEquals((await box.run("id")).stdout, `${UID}\n`);
      },
    );
  } finally {
    await proxy.close();
    await device.close();
    await box.cleanup();
  }
});

/** A plain-ws emulated device registered as this directory's default, its secret shared with the host. */
async function wsDevice(options: { hostSecret?: Uint8Array; deviceSecret?: Uint8Array } = {}) {
  const box = await sandbox();
  const emu = await startEmulator({ password: "oldpass", port: 0, uniqueId: DEVICE_UID });
  await box.run("config", "-t", `127.0.0.1:${emu.port}`, "-p", "oldpass");
  if (options.deviceSecret) {
    await writeDeviceFile(emu, "/upysecrets.key", encoder.encode(`${options.deviceSecret.toHex()}\n`));
  }
  if (options.hostSecret) {
    await Deno.mkdir(`${box.configDir}/upysecrets`, { recursive: true });
    await Deno.writeTextFile(deviceSecretPath(box.configDir, UID), `${options.hostSecret.toHex()}\n`);
  }
  const registered = async () => String((await json(`${box.cwd}/upydev_.config`)).passwd);
  return {
    box,
    emu,
    registered,
    async close() {
      await emu.close();
      await box.cleanup();
    },
  };
}

async function unchanged(box: Sandbox, registered: () => Promise<string>, emu: { port: number }) {
  assertEquals(await registered(), "oldpass");
  assertEquals(await canLogIn(emu.port, "oldpass"), true);
  assertEquals((await box.run("id")).code, 0);
}

Deno.test("rf_wrkey over ws refuses, changing nothing, without a shared secret or with another one", async () => {
  const none = await wsDevice({ deviceSecret: SECRET });
  try {
    assertEquals(await none.box.run("rf_wrkey"), {
      code: 1,
      stdout: "",
      stderr: `upydev: this host shares no secret with the device ${UID}, which plain ws needs: ` +
        "run 'upydev rf_wrkey' once over wss to set one up\n",
    });
    await unchanged(none.box, none.registered, none.emu);
  } finally {
    await none.close();
  }
  const other = await wsDevice({ hostSecret: SECRET, deviceSecret: SECRET.map((byte) => byte ^ 1) });
  try {
    assertEquals(await other.box.run("rf_wrkey"), {
      code: 1,
      stdout: "",
      stderr: "upydev: the device's shared secret differs from this host's: password unchanged; " +
        "run 'upydev rf_wrkey' once over wss to set a new one up\n",
    });
    assertEquals(await devicePass((code) => other.emu.runPython(code)), "");
    await unchanged(other.box, other.registered, other.emu);
  } finally {
    await other.close();
  }
  const deviceless = await wsDevice({ hostSecret: SECRET });
  try {
    assertEquals(
      (await deviceless.box.run("rf_wrkey")).stderr,
      "upydev: the device has no shared secret (/upysecrets.key): password unchanged; " +
        "run 'upydev rf_wrkey' once over wss to set a new one up\n",
    );
    await unchanged(deviceless.box, deviceless.registered, deviceless.emu);
  } finally {
    await deviceless.close();
  }
});

Deno.test("rf_wrkey on an unregistered device needs --show, which prints the password", async () => {
  const { box, emu, close } = await wsDevice({ hostSecret: SECRET, deviceSecret: SECRET });
  try {
    const address = ["-t", `127.0.0.1:${emu.port}`, "-p", "oldpass"];
    await Deno.remove(`${box.cwd}/upydev_.config`);
    assertEquals(await box.run("rf_wrkey", ...address), {
      code: 1,
      stdout: "",
      stderr:
        `upydev: 127.0.0.1:${emu.port} is not in the registry, so the new password would be kept nowhere: ` +
        "add --show to see it, or register the device first ('upydev config')\n",
    });
    assertEquals(await canLogIn(emu.port, "oldpass"), true);
    const shown = await box.run("rf_wrkey", "--show", ...address);
    const password = /^new password: ([A-Za-z0-9]{9})\n/.exec(shown.stdout)?.[1] ?? "";
    assertEquals(shown, {
      code: 0,
      stdout: `new password: ${password}\n` +
        `WebREPL password changed on 127.0.0.1:${emu.port} (derived on the device: only a token crossed the link)\n` +
        "verified: logged in again with the new password\n",
      stderr: "",
    });
    assertEquals([await canLogIn(emu.port, "oldpass"), await canLogIn(emu.port, password)], [false, true]);
  } finally {
    await close();
  }
});

Deno.test("rf_wrkey: when the link drops mid-change, logging in tells which password holds", async (t) => {
  await t.step("the device reset after taking the new password: the change stands", async () => {
    const { box, emu, registered, close } = await wsDevice({ hostSecret: SECRET, deviceSecret: SECRET });
    try {
      await emu.runPython(RESET_AFTER_PASSWORD);
      assertEquals(await box.run("rf_wrkey"), {
        code: 0,
        stdout:
          `WebREPL password changed on 127.0.0.1:${emu.port} (derived on the device: only a token crossed the link)\n` +
          "verified: logged in again with the new password (its reply to the change was lost)\n" +
          `registry updated: ${box.cwd}/upydev_.config\n`,
        stderr: "",
      });
      assertEquals(await devicePass((code) => emu.runPython(code)), await registered());
    } finally {
      await close();
    }
  });

  await t.step("the device reset before writing webrepl_cfg.py: the registry goes back", async () => {
    const { box, emu, registered, close } = await wsDevice({ hostSecret: SECRET, deviceSecret: SECRET });
    try {
      await emu.runPython("import os, machine\nos.rename = lambda a, b: machine.reset()");
      assertEquals(await box.run("rf_wrkey"), {
        code: 1,
        stdout: "",
        stderr: `upydev: the link to 127.0.0.1:${emu.port} dropped before the device changed its WebREPL ` +
          "password: it still has the previous one, which the registry keeps; run rf_wrkey again\n",
      });
      await unchanged(box, registered, emu);
    } finally {
      await close();
    }
  });

  await t.step("the device does not answer afterwards: the message says where each password is", async () => {
    const { box, emu, registered, close } = await wsDevice({ hostSecret: SECRET, deviceSecret: SECRET });
    const proxy = recordingProxy(emu.port);
    try {
      await box.run("config", "-t", `127.0.0.1:${proxy.port}`, "-p", "oldpass");
      await emu.runPython(RESET_AFTER_PASSWORD);
      // The first connection is the rotation; none after it gets through.
      const refusing = (async () => {
        while (proxy.connections() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        await proxy.refuse();
      })();
      const result = await box.run("rf_wrkey");
      await refusing;
      const saved = `${box.configDir}/rf_wrkey-previous-127.0.0.1-${proxy.port}`;
      assertEquals(result, {
        code: 1,
        stdout: "",
        stderr:
          `upydev: the link to 127.0.0.1:${proxy.port} dropped while the device was changing its WebREPL ` +
          "password, and it takes no login now: the registry has the new password; if the device refuses it " +
          `once it answers, it kept the previous one, saved in ${saved}: put that back with 'upydev config'\n`,
      });
      assertEquals(await Deno.readTextFile(saved), "oldpass\n");
      assertEquals((await Deno.stat(saved)).mode! & 0o777, 0o600);
      const now = await registered();
      assertEquals(await devicePass((code) => emu.runPython(code)), now);
      assertEquals([await canLogIn(emu.port, now), await canLogIn(emu.port, "oldpass")], [true, false]);
    } finally {
      await proxy.close();
      await close();
    }
  });
});

Deno.test("rf_wrkey --help says where the secret lives and what crosses the link", async () => {
  const box = await sandbox();
  try {
    const help = await box.run("rf_wrkey", "--help");
    assertEquals(help.code, 0);
    for (
      const text of ["rf_wrkey [--show]", "--show", "upysecrets/UNIQUE_ID.key (0600)", "only a random token"]
    ) {
      assert(help.stdout.includes(text), text);
    }
  } finally {
    await box.cleanup();
  }
});

Deno.test("emu: a kept flash whose webrepl_cfg.py was changed keeps that password, and says so", async () => {
  const flashDir = await Deno.makeTempDir({ prefix: "upydev-flash-" });
  const serve = async (check: (io: ReturnType<typeof recordingIo>, port: number) => Promise<void>) => {
    const io = recordingIo();
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => stop = resolve);
    const args = { "--port": "0", "--wss-port": "0", "--password": "first", "--flash-dir": flashDir };
    const running = serveEmulator({ action: "emu", positionals: [], options: args }, io, () => stopped);
    while (!io.stdout.includes("\n")) await new Promise((resolve) => setTimeout(resolve, 10));
    try {
      await check(io, Number(/:(\d+) /.exec(io.stdout)![1]));
    } finally {
      stop();
      await running;
    }
  };
  try {
    await serve(async (io, port) => {
      assertEquals(io.stderr, "");
      const connection = await openDevice({ host: "127.0.0.1", port, password: "first", secure: false });
      await connection.session.exec(
        "f=open('webrepl_cfg.py','w')\nf.write(\"PASS = 'second'\\n\")\nf.close()",
      );
      await connection.close();
    });
    await serve(async (io, port) => {
      assertEquals(io.stderr, "emu: the flash's webrepl_cfg.py sets the WebREPL password, not --password\n");
      assertEquals([await canLogIn(port, "first"), await canLogIn(port, "second")], [false, true]);
    });
  } finally {
    await Deno.remove(flashDir, { recursive: true });
  }
});
