/**
 * WebSecureREPL end to end: the real CLI over wss against an emulated ESP32 running our uploaded
 * wss_repl.py, with PKI made by lib/pki. Positive path (exec, put/get byte-exact) and every negative of
 * the issue: host certificate from another CA, no host certificate, expired host certificate, device
 * certificate for another address, wrong passphrase, wrong WebREPL password.
 */
import "reflect-metadata";
import { assert, assertEquals, assertStringIncludes } from "./helpers/assert.ts";
import { type Sandbox, sandbox } from "./helpers/cli.ts";
import { createCa, createHost, issueDeviceCertificate, openPkiStore, type PkiStore } from "../lib/pki/mod.ts";
import {
  installDevicePki,
  startWssEmulator,
  writeDeviceFile,
  type WssEmulator,
} from "../lib/emulator/shims/wss.ts";
import { DEVICE_SCRIPTS } from "../lib/device/upyutils.ts";
import { recordingIo } from "../lib/ui/io.ts";

const CA_PASS = "ca passphrase";
const HOST_PASS = "host-pass";
const PASSWORD = "wsspw";
const UID = Uint8Array.of(0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56);
const FAST_KDF = { kind: "scrypt", cost: 1 << 10, blockSize: 8, parallelism: 1 } as const;

function storeOf(box: Sandbox): PkiStore {
  return openPkiStore(box.configDir, recordingIo({ env: box.env }));
}

/** A device whose wss_repl.py serves mutual TLS with a certificate for `deviceIps`. */
async function wssDevice(
  caBox: Sandbox,
  deviceIps = ["127.0.0.1"],
): Promise<{ emu: WssEmulator; port: number }> {
  const device = await issueDeviceCertificate(storeOf(caBox), {
    name: "esp_e2e",
    uid: UID.toHex(),
    ips: deviceIps,
    caPassphrase: CA_PASS,
  });
  const emu = await startWssEmulator({ password: PASSWORD, port: 0, uniqueId: UID });
  try {
    await emu.runPython("import os\ntry:\n os.mkdir('/lib')\nexcept OSError:\n pass");
    for (const script of DEVICE_SCRIPTS) {
      await writeDeviceFile(emu, `/lib/${script.name}`, new TextEncoder().encode(script.source));
    }
    const caPem = await Deno.readTextFile(`${caBox.configDir}/pki/ROOT_CA_cert.pem`);
    await installDevicePki(emu, {
      uniqueId: UID,
      deviceKeyDer: device.keyDer,
      deviceCertDer: device.certDer,
      caPem,
    });
    await writeDeviceFile(emu, "/webrepl_cfg.py", new TextEncoder().encode(`PASS = '${PASSWORD}'\n`));
    const started = await emu.runPython("import wss_repl\nwss_repl.start(ssl=True)");
    assertStringIncludes(started.output, "WebSecureREPL daemon started on wss://");
    return { emu, port: await emu.whenListening() };
  } catch (error) {
    await emu.close();
    throw error;
  }
}

async function hostWithCa(): Promise<Sandbox> {
  const box = await sandbox();
  const store = storeOf(box);
  await createCa(store, { passphrase: CA_PASS, kdf: FAST_KDF });
  await createHost(store, { caPassphrase: CA_PASS, passphrase: HOST_PASS, kdf: FAST_KDF });
  return box;
}

function assertOneLineFailure(result: { code: number; stderr: string }, includes: string) {
  if (Deno.env.get("SHOW_ERRORS")) console.log(result.stderr.trim());
  assert(result.code !== 0, "exit code is non-zero");
  assertEquals(result.stderr.trim().split("\n").length, 1, `one line: ${result.stderr}`);
  assertStringIncludes(result.stderr, includes);
}

Deno.test("wss end to end: exec, put and get byte-exact through the device's own wss_repl.py", async () => {
  const box = await hostWithCa();
  const { emu, port } = await wssDevice(box);
  try {
    const address = `127.0.0.1:${port}`;
    const secret = `${PASSWORD}:${HOST_PASS}`;
    const exec = await box.run("exec", "-t", address, "-p", secret, "import sys; print(sys.platform, 6*7)");
    assertEquals([exec.code, exec.stdout.replace(/\r\n/g, "\n"), exec.stderr], [0, "esp32 42\n", ""]);
    const data = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919 + (i >> 8)) & 0xff);
    await Deno.writeFile(`${box.cwd}/blob.bin`, data);
    assertEquals((await box.run("put", "blob.bin", "/blob.bin", "-t", address, "-p", secret)).code, 0);
    assertEquals((await box.run("get", "/blob.bin", "back.bin", "-t", address, "-p", secret)).code, 0);
    assertEquals(await Deno.readFile(`${box.cwd}/back.bin`), data);
  } finally {
    await emu.close();
    await box.cleanup();
  }
});

Deno.test("wss negatives: each a one-line error with a non-zero exit", async () => {
  const box = await hostWithCa();
  const { emu, port } = await wssDevice(box);
  const others: Sandbox[] = [];
  try {
    const address = `127.0.0.1:${port}`;
    const run = (host: Sandbox, secret: string) => host.run("exec", "-t", address, "-p", secret, "print(1)");

    assertOneLineFailure(await run(box, `${PASSWORD}:wrong-passphrase`), "wrong passphrase");
    assertOneLineFailure(await run(box, `badpw:${HOST_PASS}`), "wrong WebREPL password");

    // A host certificate from another CA (the host still trusts the device's CA).
    const foreign = await hostWithCa();
    others.push(foreign);
    await Deno.copyFile(`${box.configDir}/pki/ROOT_CA_cert.pem`, `${foreign.configDir}/pki/ROOT_CA_cert.pem`);
    const foreignResult = await run(foreign, `${PASSWORD}:${HOST_PASS}`);
    assertOneLineFailure(foreignResult, address);

    // No host certificate at all.
    const bare = await sandbox();
    others.push(bare);
    await Deno.mkdir(`${bare.configDir}/pki`, { recursive: true });
    await Deno.copyFile(`${box.configDir}/pki/ROOT_CA_cert.pem`, `${bare.configDir}/pki/ROOT_CA_cert.pem`);
    assertOneLineFailure(await run(bare, `${PASSWORD}:${HOST_PASS}`), "kg ssl host");

    // An expired host certificate, signed by the right CA.
    const expired = await sandbox();
    others.push(expired);
    await Deno.mkdir(`${expired.configDir}/pki`, { recursive: true, mode: 0o700 });
    for (const name of ["ROOT_CA_cert.pem", "ROOT_CA_key.pem"]) {
      await Deno.copyFile(`${box.configDir}/pki/${name}`, `${expired.configDir}/pki/${name}`);
    }
    await createHost(storeOf(expired), {
      caPassphrase: CA_PASS,
      passphrase: HOST_PASS,
      kdf: FAST_KDF,
      now: new Date("2001-01-01T00:00:00Z"),
      days: 30,
    });
    assertOneLineFailure(await run(expired, `${PASSWORD}:${HOST_PASS}`), address);
  } finally {
    await emu.close();
    await box.cleanup();
    for (const other of others) await other.cleanup();
  }
});

Deno.test("wss negative: a device certificate for another address is refused by the host", async () => {
  const box = await hostWithCa();
  const { emu, port } = await wssDevice(box, ["10.9.9.9"]);
  try {
    const result = await box.run(
      "exec",
      "-t",
      `127.0.0.1:${port}`,
      "-p",
      `${PASSWORD}:${HOST_PASS}`,
      "print(1)",
    );
    assertOneLineFailure(result, "127.0.0.1");
  } finally {
    await emu.close();
    await box.cleanup();
  }
});
