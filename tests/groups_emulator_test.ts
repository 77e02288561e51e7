/**
 * Group runs through the real CLI against three emulated devices (two over ws, one over wss) and an address
 * where nothing listens: per-device results, the summary, exit codes, --json documents, group files, put and
 * get over a group, Ctrl-C, and `kg ssl -tfkey` giving each device of a group its own certificate.
 */
import "npm:reflect-metadata@0.2.2";
import tls from "node:tls";
import { runCli } from "../lib/cli/run.ts";
import { commandTable } from "../lib/cli/table.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { pemToDer, startWssDevice, type WssEmulator } from "../lib/emulator/shims/wss.ts";
import { issueDeviceCertificate, loadHostTlsCredentials } from "../lib/pki/mod.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { assert, assertEquals, assertMatch, assertRejects, assertStringIncludes } from "./helpers/assert.ts";
import type { Sandbox } from "./helpers/cli.ts";
import { CA_PASS, HOST_PASS, hostWithCa, storeOf, WEBREPL_PASSWORD, wssDeviceFor } from "./helpers/wss.ts";

/** A port on which nothing listens: taken from the OS, then released. */
function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function ok(box: Sandbox, ...argv: string[]): Promise<string> {
  const result = await box.run(...argv);
  assertEquals([result.code, result.stderr], [0, ""], `${argv.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** The lines of one device in prefixed output (`name | text`). */
function linesOf(output: string, name: string): string[] {
  return output.split("\n").filter((line) => line.startsWith(`${name} `)).map((line) =>
    line.slice(line.indexOf("| ") + 2)
  );
}

Deno.test("group runs over three emulated devices (ws, ws, wss) and a dead address", async (t) => {
  const box = await hostWithCa();
  const e1 = await startEmulator({
    port: 0,
    password: "pw1",
    uniqueId: Uint8Array.of(0x24, 0x0a, 0xc4, 0, 0, 1),
  });
  const e2 = await startEmulator({
    port: 0,
    password: "pw2",
    uniqueId: Uint8Array.of(0x24, 0x0a, 0xc4, 0, 0, 2),
  });
  const { device: e3, port: wssPort } = await wssDeviceFor(box);
  const dead = deadPort();
  try {
    await ok(box, "config", "-t", `127.0.0.1:${e1.port}`, "-p", "pw1", "-@", "e1", "-gg");
    await ok(box, "config", "-t", `127.0.0.1:${e2.port}`, "-p", "pw2", "-@", "e2", "-gg");
    await ok(
      box,
      "config",
      "-t",
      `127.0.0.1:${wssPort}`,
      "-p",
      `${WEBREPL_PASSWORD}:${HOST_PASS}`,
      "-@",
      "e3",
      "-gg",
    );
    await ok(box, "config", "-t", `127.0.0.1:${dead}`, "-p", "pw", "-@", "dead", "-gg");

    await t.step("exec -@ e1 e2 e3 dead: three results, one clear error, a summary, exit 1", async () => {
      const result = await box.run("exec", "-@", "e1", "e2", "e3", "dead", "print(1)");
      assertEquals(result.code, 1, result.stderr);
      for (const name of ["e1", "e2", "e3"]) assertEquals(linesOf(result.stdout, name), ["1"], name);
      assertEquals(result.stdout.split("\n").filter(Boolean).length, 3, result.stdout);
      assertStringIncludes(result.stdout, "e1   | 1\n");
      assertStringIncludes(
        result.stderr,
        `dead | error: cannot connect to 127.0.0.1:${dead}: connection refused (is WebREPL running there?)\n`,
      );
      const table = result.stderr.slice(result.stderr.indexOf("device  status"));
      assertMatch(table, /^device {2}status {4}time {2}error\n/);
      for (const name of ["e1", "e2", "e3"]) {
        assertMatch(table, new RegExp(`\\n${name} {6}ok {6} *\\d+\\.\\d\\d s\\n`));
      }
      assertMatch(table, /\ndead {4}failed +\d+\.\d\d s {2}cannot connect to .*connection refused/);
      assertStringIncludes(table, "3 of 4 devices succeeded\n");
    });

    await t.step(
      "the same with --json: one document, one entry per device with its result or error",
      async () => {
        const result = await box.run("exec", "-@", "e{1..3}", "dead", "print(1)", "--json");
        assertEquals(result.code, 1);
        assertEquals(result.stderr, "");
        const document = JSON.parse(result.stdout);
        assertEquals(document.ok, false);
        assertEquals(
          document.devices.map((
            entry: Record<string, unknown>,
          ) => [entry.device, entry.ok, entry.status, entry.output]),
          [["e1", true, "ok", "1\n"], ["e2", true, "ok", "1\n"], ["e3", true, "ok", "1\n"], [
            "dead",
            false,
            "failed",
            "",
          ]],
        );
        assertEquals(document.devices[2].address, `wss://127.0.0.1:${wssPort}`);
        assertMatch(document.devices[3].error, /^cannot connect to 127\.0\.0\.1:\d+: connection refused/);
        assertEquals(document.devices[0].error, null);
        for (const entry of document.devices) assertEquals(typeof entry.ms, "number");
      },
    );

    await t.step("info --json -@ 'e*': each device's facts, parsed", async () => {
      const result = await box.run("info", "--json", "-@", "e*");
      assertEquals([result.code, result.stderr], [0, ""]);
      const { ok, devices } = JSON.parse(result.stdout);
      assertEquals(ok, true);
      assertEquals(devices.map((entry: { device: string }) => entry.device), ["e1", "e2", "e3"]);
      assertEquals(
        devices.map((entry: { result: { uid: string } }) => entry.result.uid),
        ["240ac4000001", "240ac4000002", "240ac4123456"],
      );
      for (const entry of devices) {
        assertEquals([entry.result.platform, entry.result.release], ["esp32", "1.27.0"]);
        assert(entry.result.memFree > 0 && entry.result.fsTotal > 0, JSON.stringify(entry.result));
      }
      assertEquals(devices[2].result.link.split(" ")[0], "wss");
      assertEquals(devices[0].result.link, "ws");
    });

    await t.step(
      "a group file, run in parallel with -GP; --jobs 1 and -G run one device after another",
      async () => {
        await ok(
          box,
          "mkg",
          "room",
          "-devs",
          ...["e1", `127.0.0.1:${e1.port}`, "pw1"],
          ...["e2", `127.0.0.1:${e2.port}`, "pw2"],
          ...["e3", `127.0.0.1:${wssPort}`, `${WEBREPL_PASSWORD}:${HOST_PASS}`],
        );
        const code = "import machine,binascii;print(binascii.hexlify(machine.unique_id()).decode())";
        for (
          const selection of [["-GP", "room"], ["-G", "room"], ["-GP", "room", "--jobs", "1"], ["-@", "room"]]
        ) {
          const result = await box.run("exec", code, ...selection);
          assertEquals(result.code, 0, result.stderr);
          assertEquals(linesOf(result.stdout, "e1"), ["240ac4000001"]);
          assertEquals(linesOf(result.stdout, "e2"), ["240ac4000002"]);
          assertEquals(linesOf(result.stdout, "e3"), ["240ac4123456"]);
          assertStringIncludes(result.stderr, "3 of 3 devices succeeded\n");
        }
        const sequential = await box.run("exec", "-G", "room", "print('a');print('b')");
        assertEquals(sequential.stdout, "e1 | a\ne1 | b\ne2 | a\ne2 | b\ne3 | a\ne3 | b\n");
        const unknown = await box.run("exec", "-G", "nope", "print(1)");
        assertEquals([unknown.code, unknown.stderr], [
          1,
          "upydev: unknown group 'nope': known groups: room\n",
        ]);
      },
    );

    await t.step(
      "put over a group is byte-exact on each device; get brings each copy into its own folder",
      async () => {
        const data = new Uint8Array(5000).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
        await Deno.writeFile(`${box.cwd}/blob.bin`, data);
        const put = await box.run("put", "blob.bin", "/blob.bin", "-GP", "room", "--json");
        assertEquals(put.code, 0, put.stderr);
        const { devices } = JSON.parse(put.stdout);
        for (const entry of devices) assertEquals(entry.result[0].bytes, 5000, JSON.stringify(entry));
        for (const device of [e1, e2, e3]) {
          const { output } = await device.runPython(
            "import hashlib,binascii\nprint(binascii.hexlify(hashlib.sha256(open('/blob.bin','rb').read()).digest()).decode())",
          );
          assertEquals(output.trim(), new Uint8Array(await crypto.subtle.digest("SHA-256", data)).toHex());
        }
        const got = await box.run("get", "/blob.bin", "-GP", "room");
        assertEquals(got.code, 0, got.stderr);
        for (const name of ["e1", "e2", "e3"]) {
          assertEquals(await Deno.readFile(`${box.cwd}/${name}/blob.bin`), data, name);
        }
        // A device name from a config file never makes a folder outside the current directory.
        await ok(box, "config", "-t", `127.0.0.1:${e1.port}`, "-p", "pw1", "-@", "..", "-gg");
        const dots = await box.run("get", "/blob.bin", "-@", "e2", "..");
        assertEquals(dots.code, 0, dots.stderr);
        assertEquals(await Deno.readFile(`${box.cwd}/_/blob.bin`), data);
        await assertRejects(() => Deno.stat(`${box.home}/blob.bin`), Deno.errors.NotFound);
        await ok(box, "config", "--remove", "-@", "..", "-gg");
      },
    );

    await t.step("datetime --set over the group sets every device's clock", async () => {
      const clear = await box.run(
        "exec",
        "import machine;machine.RTC().datetime((2000,1,1,5,0,0,0,0))",
        "-GP",
        "room",
      );
      assertEquals(clear.code, 0, clear.stderr);
      const before = Date.now();
      const result = await box.run("datetime", "--set", "-GP", "room", "--json");
      assertEquals(result.code, 0, result.stderr);
      for (const entry of JSON.parse(result.stdout).devices) {
        const device = Date.parse(`${entry.result.datetime}Z`);
        assert(Math.abs(device - before) < 5_000, `${entry.device}: ${entry.result.datetime}`);
      }
    });

    await t.step("Ctrl-C stops every device: the run reports them interrupted and exits 130", async () => {
      const io = recordingIo({ env: box.env, cwd: box.cwd });
      const running = runCli(
        [
          "exec",
          "-@",
          "e1",
          "e2",
          "import time\nprint('started')\nprint('looping')\nwhile True: time.sleep_ms(50)",
        ],
        io,
        commandTable(),
      );
      while ((io.stdout.match(/started/g) ?? []).length < 2) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      io.interrupt();
      assertEquals(await running, 130);
      assertMatch(io.stderr, /\ne1 +interrupted /);
      assertMatch(io.stderr, /\ne2 +interrupted /);
      assertStringIncludes(io.stderr, "upydev: interrupted\n");
      // The emulator restarts a device whose program ignores the lost connection; then it answers again.
      for (let attempt = 0;; attempt++) {
        const again = await box.run("exec", "-@", "e1", "e2", "print(2)");
        if (again.code === 0) break;
        assert(attempt < 50, again.stderr);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    });
  } finally {
    await Promise.all([e1.close(), e2.close(), e3.close()]);
    await box.cleanup();
  }
});

/** A wss device with its own unique id and a first certificate from `box`'s CA. */
async function wssDevice(box: Sandbox, last: number): Promise<{ device: WssEmulator; port: number }> {
  const uniqueId = Uint8Array.of(0x24, 0x0a, 0xc4, 0xaa, 0xbb, last);
  const issued = await issueDeviceCertificate(storeOf(box), {
    name: `w${last}`,
    uid: uniqueId.toHex(),
    ips: ["127.0.0.1"],
    caPassphrase: CA_PASS,
  });
  return await startWssDevice({
    password: WEBREPL_PASSWORD,
    port: 0,
    uniqueId,
    pki: {
      uniqueId,
      deviceKeyDer: issued.keyDer,
      deviceCertDer: issued.certDer,
      caPem: await Deno.readTextFile(`${box.configDir}/pki/ROOT_CA_cert.pem`),
    },
  });
}

/** The certificate a device presents to a client with the host's certificate. */
async function servedCertificate(box: Sandbox, port: number): Promise<Uint8Array> {
  const host = await loadHostTlsCredentials(box.configDir, recordingIo({ env: box.env }), HOST_PASS);
  const socket = tls.connect({
    host: "127.0.0.1",
    port,
    ca: [host.caPem],
    cert: host.certPem,
    key: host.keyPem,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    return new Uint8Array(socket.getPeerCertificate().raw);
  } finally {
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.destroy();
    await closed;
  }
}

Deno.test("kg ssl -tfkey -@ w1 w2: each device gets its own certificate and serves wss with it; passphrases asked once", async () => {
  const box = await hostWithCa();
  const w1 = await wssDevice(box, 1);
  const w2 = await wssDevice(box, 2);
  try {
    // wss:// addresses without a stored passphrase: the host key's passphrase is asked for.
    await ok(box, "config", "-t", `wss://127.0.0.1:${w1.port}`, "-p", WEBREPL_PASSWORD, "-@", "w1", "-gg");
    await ok(box, "config", "-t", `wss://127.0.0.1:${w2.port}`, "-p", WEBREPL_PASSWORD, "-@", "w2", "-gg");
    const before = [await servedCertificate(box, w1.port), await servedCertificate(box, w2.port)];

    const io = recordingIo({ env: box.env, cwd: box.cwd });
    io.feed(`${HOST_PASS}\n${CA_PASS}\n`);
    io.endInput();
    // Both devices hold valid certificates already: replacing them takes --force.
    const code = await runCli(["kg", "ssl", "-tfkey", "--force", "-@", "w1", "w2"], io, commandTable());
    assertEquals(code, 0, io.stderr);
    assertEquals(
      io.stderr.match(/Enter passphrase for key 'HOST_key@[0-9a-f]+\.pem': /g)?.length,
      1,
      io.stderr,
    );
    assertEquals(io.stderr.match(/Enter passphrase for ROOT CA key: /g)?.length, 1, io.stderr);
    assertStringIncludes(io.stdout, "w1 | Device 240ac4aabb01 ECDSA key & certificate generated.\n");
    assertStringIncludes(io.stdout, "w2 | Device 240ac4aabb02 ECDSA key & certificate generated.\n");
    assertStringIncludes(io.stderr, "2 of 2 devices succeeded\n");

    const resetIo = recordingIo({ env: { ...box.env, UPYDEV_PASSPHRASE: HOST_PASS }, cwd: box.cwd });
    assertEquals(await runCli(["reset", "-@", "w1", "w2"], resetIo, commandTable()), 0, resetIo.stderr);
    await Promise.all([w1.device.whenListening(), w2.device.whenListening()]);
    const store = `${box.configDir}/pki`;
    const after = [await servedCertificate(box, w1.port), await servedCertificate(box, w2.port)];
    assertEquals(after[0], pemToDer(await Deno.readTextFile(`${store}/SSL_certificate240ac4aabb01.pem`)));
    assertEquals(after[1], pemToDer(await Deno.readTextFile(`${store}/SSL_certificate240ac4aabb02.pem`)));
    assert(after[0].toHex() !== after[1].toHex(), "two distinct certificates");
    assert(after[0].toHex() !== before[0].toHex() && after[1].toHex() !== before[1].toHex(), "new ones");
  } finally {
    await Promise.all([w1.device.close(), w2.device.close()]);
    await box.cleanup();
  }
});
