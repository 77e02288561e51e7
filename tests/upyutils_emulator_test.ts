/**
 * update_upyutils against the emulated ESP32 (real MicroPython behind the real WebREPL protocol): over ws
 * through the CLI with its whole output asserted, over wss through installUpyutils, with the device round trips
 * counted; then the installed scripts run on the device.
 */
import { runCli } from "../lib/cli/run.ts";
import { deviceActionCommands } from "../lib/actions/table.ts";
import { openDevice } from "../lib/device/connect.ts";
import { DEVICE_SCRIPTS, type DeviceScript, installUpyutils, selectScripts } from "../lib/ops/upyutils.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import type { EmulatedDevice } from "../lib/emulator/emulator.ts";
import { pemToDer, startWssDevice, writeDeviceFile } from "../lib/emulator/shims/wss.ts";
import { DeviceFiles, sha256Hex } from "../lib/ops/files.ts";
import { recordingIo } from "../lib/ui/io.ts";
import type { WebReplSession } from "../lib/webrepl/session.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { makeTestPki } from "./helpers/test_certs.ts";

const PASSWORD = "emu-pw";
const encoder = new TextEncoder();
const VALID =
  "sync_tool, nanoglob, shasum, upylog, upynotify, uping, upysh, upysecrets, upysh2, wss_repl, wss_helper";

const bytes = (script: DeviceScript) => encoder.encode(script.source).length;
const script = (name: string) => DEVICE_SCRIPTS.find((s) => s.name === name)!;
const line = (status: string, s: DeviceScript) =>
  `${status.padEnd(10)} /lib/${s.name}${status === "unchanged" ? "" : `  ${bytes(s)} bytes`}\n`;

async function python(emu: EmulatedDevice, code: string): Promise<string> {
  const { output, error } = await emu.runPython(code);
  if (error) throw new Error(error);
  return output.replace(/\r\n/g, "\n");
}

/** Every script in /lib, as "name sha256" lines, and anything else left there. */
async function libContents(emu: EmulatedDevice): Promise<string> {
  return await python(
    emu,
    "import os, hashlib, binascii\nfor n in sorted(os.listdir('/lib')):\n" +
      " print(n, binascii.hexlify(hashlib.sha256(open('/lib/' + n, 'rb').read()).digest()).decode())",
  );
}

async function expectedContents(): Promise<string> {
  const lines = await Promise.all(
    DEVICE_SCRIPTS.map(async (s) => `${s.name} ${await sha256Hex(encoder.encode(s.source))}\n`),
  );
  return lines.sort().join("");
}

/** Counts the session's execs and binary messages (WA/WB requests and data) while `use` runs. */
async function counted<T>(session: WebReplSession, use: () => Promise<T>): Promise<[T, number, number]> {
  let execs = 0;
  let binary = 0;
  const execRaw = session.execRaw.bind(session);
  const sendBinary = session.sendBinary.bind(session);
  session.execRaw = (code, options) => (execs++, execRaw(code, options));
  session.sendBinary = (payload, what) => (binary++, sendBinary(payload, what));
  try {
    return [await use(), execs, binary];
  } finally {
    session.execRaw = execRaw;
    session.sendBinary = sendBinary;
  }
}

Deno.test("update_upyutils over ws: creates /lib, installs, skips what matches, updates what differs, names some", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "upydev-upyutils-" });
  const emu = await startEmulator({ port: 0, password: PASSWORD });
  const cli = async (...args: string[]) => {
    const io = recordingIo({ cwd: dir, env: { XDG_CONFIG_HOME: `${dir}/config` } });
    const code = await runCli(
      [...args, "-t", `127.0.0.1:${emu.port}`, "-p", PASSWORD],
      io,
      deviceActionCommands(),
    );
    return { code, stdout: io.stdout, stderr: io.stderr };
  };
  try {
    await t.step(
      "a fresh device: /lib is created and all eleven are installed, verified, no temporary left",
      async () => {
        assertEquals(await python(emu, "import os\nprint('lib' in os.listdir('/'))"), "False\n");
        const result = await cli("update_upyutils");
        assertEquals(
          [result.code, result.stderr, result.stdout],
          [0, "", "created    /lib\n" + DEVICE_SCRIPTS.map((s) => line("installed", s)).join("")],
        );
        assertEquals(await libContents(emu), await expectedContents());
      },
    );

    await t.step("run again: every script unchanged", async () => {
      const result = await cli("update_upyutils");
      assertEquals([result.code, result.stdout], [
        0,
        DEVICE_SCRIPTS.map((s) => line("unchanged", s)).join(""),
      ]);
    });

    await t.step("a changed script is updated, a deleted one installed, the rest left alone", async () => {
      await writeDeviceFile(emu, "/lib/upysh.py", encoder.encode("# an old upysh\n"));
      await python(emu, "import os\nos.remove('/lib/uping.py')");
      const result = await cli("update_upyutils");
      const status = (s: DeviceScript) =>
        s.name === "upysh.py" ? "updated" : s.name === "uping.py" ? "installed" : "unchanged";
      assertEquals([result.code, result.stdout], [0, DEVICE_SCRIPTS.map((s) => line(status(s), s)).join("")]);
      assertEquals(await libContents(emu), await expectedContents());
    });

    await t.step("NAME... installs only those, with or without .py, in the table's order", async () => {
      await writeDeviceFile(emu, "/lib/nanoglob.py", encoder.encode("# old\n"));
      const result = await cli("update_upyutils", "upysh", "nanoglob.py");
      assertEquals(
        [result.code, result.stdout],
        [0, line("updated", script("nanoglob.py")) + line("unchanged", script("upysh.py"))],
      );
    });

    await t.step("an unknown name is one line listing the valid ones, before any connection", async () => {
      const result = await cli("update_upyutils", "upysh", "nope");
      assertEquals(
        [result.code, result.stdout, result.stderr],
        [1, "", `upydev: unknown device script: nope (valid: ${VALID})\n`],
      );
    });

    await t.step("the installed scripts work on the device", async () => {
      const out = await python(
        emu,
        "import os\nos.chdir('/')\nfrom upysh import *\nls('/lib/upysh.py')\nrm('/nope')\n" +
          "from shasum import shasum\nshasum('/lib/upysh.py')\nfrom nanoglob import glob\nprint(len(glob('/lib/*.py')))",
      );
      const upysh = script("upysh.py");
      assertEquals(
        out,
        `${String(bytes(upysh)).padStart(10)}  /lib/upysh.py\nrm: /nope: [Errno 2] ENOENT\n` +
          `${await sha256Hex(encoder.encode(upysh.source))}  /lib/upysh.py  ${bytes(upysh)}\n11\n`,
      );
    });

    await t.step("/lib that is a file: one line, nothing written", async () => {
      await python(emu, "import os\nfor n in os.listdir('/lib'):\n os.remove('/lib/' + n)\nos.rmdir('/lib')");
      await writeDeviceFile(emu, "/lib", encoder.encode("not a directory"));
      const result = await cli("update_upyutils");
      assertEquals([result.code, result.stdout, result.stderr], [
        1,
        "",
        "upydev: not a directory on the device: /lib\n",
      ]);
      assertEquals(await python(emu, "print(open('/lib').read())"), "not a directory\n");
    });
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("update_upyutils over wss: an up-to-date device costs one exec; a changed script one upload and one more exec; uping runs", async () => {
  const pki = await makeTestPki();
  // As the guide leaves it: the scripts in /lib and WebSecureREPL started from boot.py.
  const { device: emu, port } = await startWssDevice({
    password: PASSWORD,
    port: 0,
    pki: {
      deviceKeyDer: pemToDer(pki.serverKeyPem),
      deviceCertDer: pemToDer(pki.serverCertPem),
      caPem: pki.caPem,
    },
  });
  try {
    const device = await openDevice(
      { host: "127.0.0.1", port, password: PASSWORD, secure: true },
      {
        tlsCredentials: () =>
          Promise.resolve({ caPem: pki.caPem, certPem: pki.clientCertPem, keyPem: pki.clientKeyPem }),
      },
    );
    try {
      assertEquals(device.info.tlsProtocol, "TLSv1.2");
      const [upToDate, execs, binary] = await counted(
        device.session,
        () => installUpyutils(new DeviceFiles(device.session), selectScripts([])),
      );
      assertEquals(upToDate.createdLibDir, false);
      assert(upToDate.results.every((r) => r.status === "unchanged"), JSON.stringify(upToDate.results));
      assertEquals([execs, binary], [1, 0]);

      await writeDeviceFile(emu, "/lib/wss_helper.py", encoder.encode("# tampered\n"));
      const [changed, execs2, binary2] = await counted(
        device.session,
        () => installUpyutils(new DeviceFiles(device.session), selectScripts([])),
      );
      assertEquals(
        changed.results.filter((r) => r.status !== "unchanged"),
        [{ path: "/lib/wss_helper.py", status: "updated", bytes: bytes(script("wss_helper.py")) }],
      );
      // One exec to hash, a WA/WB PUT (request header + one 1024-byte data frame per KB), one exec to check and rename.
      assertEquals([execs2, binary2], [2, 1 + Math.ceil(bytes(script("wss_helper.py")) / 1024)]);
      assertEquals(await libContents(emu), await expectedContents());

      // The wss emulator has raw ICMP sockets: echo requests to its loopback are answered.
      const out = await python(
        emu,
        "from uping import ping\nprint(ping('127.0.0.1', count=2, interval=0))\n" +
          "print(ping('10.9.9.9', count=1, timeout=100, quiet=True))",
      );
      // Round-trip times vary; everything else is exact.
      const timed = out.replace(/\d+\.\d{3} ms/g, "T ms").replace(/= [\d.]+\/[\d.]+\/T ms/, "= T/T/T ms");
      assertEquals(
        timed,
        "PING 127.0.0.1 (127.0.0.1): 56 data bytes\n" +
          "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=T ms\n" +
          "64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=T ms\n" +
          "--- 127.0.0.1 ping statistics ---\n2 packets transmitted, 2 packets received, 0% packet loss\n" +
          "round-trip min/avg/max = T/T/T ms\n(2, 2)\n" +
          "--- 10.9.9.9 ping statistics ---\n1 packets transmitted, 0 packets received, 100% packet loss\n(1, 0)\n",
      );
    } finally {
      await device.close();
    }
  } finally {
    await emu.close();
    await pki.remove();
  }
});
