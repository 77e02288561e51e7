/**
 * WebSecureREPL end to end: the real CLI over wss against an emulated ESP32 running our uploaded
 * wss_repl.py, with PKI made by lib/pki. Positive path (exec, put/get byte-exact) and every negative of
 * the issue: host certificate from another CA, no host certificate, expired host certificate, device
 * certificate for another address, wrong passphrase, wrong WebREPL password.
 */
import { assert, assertEquals, assertStringIncludes } from "./helpers/assert.ts";
import { type Sandbox, sandbox } from "./helpers/cli.ts";
import { FAST_KDF } from "./helpers/pki.ts";
import {
  CA_PASS,
  HOST_PASS,
  hostWithCa,
  storeOf,
  WEBREPL_PASSWORD as PASSWORD,
  wssDeviceFor,
} from "./helpers/wss.ts";
import { createHost } from "../lib/pki/mod.ts";

function assertOneLineFailure(result: { code: number; stderr: string }, includes: string) {
  if (Deno.env.get("SHOW_ERRORS")) console.log(result.stderr.trim());
  assert(result.code !== 0, "exit code is non-zero");
  assertEquals(result.stderr.trim().split("\n").length, 1, `one line: ${result.stderr}`);
  assertStringIncludes(result.stderr, includes);
}

Deno.test("wss end to end: exec, put and get byte-exact through the device's own wss_repl.py", async () => {
  const box = await hostWithCa();
  const { device: emu, port } = await wssDeviceFor(box);
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
  const { device: emu, port } = await wssDeviceFor(box);
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
    assertOneLineFailure(foreignResult, `${address} failed: the device closed the connection`);

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
    assertOneLineFailure(await run(expired, `${PASSWORD}:${HOST_PASS}`), "expired on 2001-01-31");
  } finally {
    await emu.close();
    await box.cleanup();
    for (const other of others) await other.cleanup();
  }
});

Deno.test("wss negative: a device certificate for another address is refused by the host", async () => {
  const box = await hostWithCa();
  const { device: emu, port } = await wssDeviceFor(box, ["10.9.9.9"]);
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
