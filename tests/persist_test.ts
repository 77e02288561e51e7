/**
 * Kept sessions (--persist) against the emulated device: the background process is the real one (main.ts
 * started by upydev), so each test also ends it and checks that nothing is left behind.
 */
import "npm:reflect-metadata@0.2.2";
import { UserError } from "../lib/cli/errors.ts";
import { openDevice } from "../lib/device/connect.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { decryptPrivateKey } from "../lib/hostkey/key_file.ts";
import { listKept, processAlive } from "../lib/persist/kept.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./helpers/assert.ts";
import { type Sandbox, sandbox } from "./helpers/cli.ts";
import { HOST_PASS, hostWithCa, storeOf, WEBREPL_PASSWORD, wssDeviceFor } from "./helpers/wss.ts";

const PASSWORD = "keep";

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function ok(box: Sandbox, ...argv: string[]): Promise<string> {
  const result = await box.run(...argv);
  assertEquals(result.code, 0, result.stderr);
  return result.stdout;
}

/** An emulated device on plain ws and a sandbox that reaches it with -t/-p; ends any kept session after. */
async function withPlainDevice(use: (box: Sandbox, port: number) => Promise<void>): Promise<void> {
  const emulator = await startEmulator({ port: 0, password: PASSWORD });
  const box = await sandbox();
  try {
    await use(box, emulator.port);
  } finally {
    await box.run("disconnect");
    await emulator.close();
    await box.cleanup();
  }
}

Deno.test("persist: a kept session is reused by later commands and holds the device against other tools", async () => {
  await withPlainDevice(async (box, port) => {
    const device = ["-t", `127.0.0.1:${port}`, "-p", PASSWORD];
    assertEquals(await ok(box, "exec", "x = 41", ...device, "--persist=30"), "");
    const [kept] = await listKept(box.configDir);
    assertEquals(kept.address, `ws://127.0.0.1:${port}`);
    assertEquals((await Deno.stat(`${box.configDir}/kept`)).mode! & 0o777, 0o700);
    const socket = (await Array.fromAsync(Deno.readDir(`${box.configDir}/kept`))).find((e) =>
      e.name.endsWith(".sock")
    );
    assertEquals((await Deno.lstat(`${box.configDir}/kept/${socket!.name}`)).mode! & 0o777, 0o600);

    // The same logged-in connection: Python state survives between commands.
    assertEquals(await ok(box, "exec", "x += 1; print(x)", ...device), "42\n");
    assertEquals(await ok(box, "exec", "print(x)", ...device), "42\n");
    const listing = await ok(box, "gg");
    assertStringIncludes(listing, `Held by kept sessions:\n  -                ws://127.0.0.1:${port}`);
    assertStringIncludes(
      listing,
      `held by upydev (pid ${kept.pid}, ends after 30 s idle; upydev disconnect)`,
    );

    // Another tool (a direct connection) finds WebREPL's one client slot taken.
    await assertRejects(
      () => openDevice({ host: "127.0.0.1", port, password: PASSWORD, secure: false }),
      UserError,
      "device busy",
    );

    assertEquals(await ok(box, "disconnect", ...device), "127.0.0.1: kept session ended\n");
    assertEquals(await listKept(box.configDir), []);
    assertEquals(await Array.fromAsync(Deno.readDir(`${box.configDir}/kept`)), []);
    const direct = await openDevice({ host: "127.0.0.1", port, password: PASSWORD, secure: false });
    assertEquals(new TextDecoder().decode(await direct.session.exec("print('x' in globals())")), "True\r\n");
    await direct.close();
  });
});

Deno.test("persist: an idle kept session ends by itself and frees the device", async () => {
  await withPlainDevice(async (box, port) => {
    const device = ["-t", `127.0.0.1:${port}`, "-p", PASSWORD];
    await ok(box, "exec", "pass", ...device, "--persist=1");
    assertEquals((await listKept(box.configDir)).length, 1);
    await until("the idle session to end", async () => (await listKept(box.configDir)).length === 0);
    const direct = await openDevice({ host: "127.0.0.1", port, password: PASSWORD, secure: false });
    await direct.close();
  });
});

Deno.test("persist: a device reset while held ends the kept session; the next command connects anew", async () => {
  await withPlainDevice(async (box, port) => {
    const device = ["-t", `127.0.0.1:${port}`, "-p", PASSWORD];
    await ok(box, "exec", "x = 1", ...device, "--persist=60");
    const [kept] = await listKept(box.configDir);
    await ok(box, "reset", ...device);
    await until("the kept session to end", async () => (await listKept(box.configDir)).length === 0);
    await until("its process to exit", () => Promise.resolve(!processAlive(kept.pid)));
    // A fresh connection to the rebooted device: its Python state is gone.
    assertEquals(await ok(box, "exec", "print('x' in globals())", ...device), "False\n");
  });
});

Deno.test("persist: UPYDEV_PERSIST and bad values", async () => {
  await withPlainDevice(async (box, port) => {
    const device = ["-t", `127.0.0.1:${port}`, "-p", PASSWORD];
    const bad = await box.run("exec", "pass", ...device, "--persist=soon");
    assertEquals(bad.code, 1);
    assertEquals(
      bad.stderr,
      'upydev: --persist / UPYDEV_PERSIST must be whole seconds from 0 to 86400 (got "soon")\n',
    );
    const withEnv = await sandbox({ UPYDEV_PERSIST: "30" });
    try {
      await ok(withEnv, "exec", "pass", ...device);
      assertEquals((await listKept(withEnv.configDir)).length, 1);
      assertEquals(await ok(withEnv, "disconnect"), "kept sessions ended: 1\n");
    } finally {
      await withEnv.cleanup();
    }
  });
});

Deno.test("persist: over wss the decrypted host key is never written to disk", async () => {
  const box = await hostWithCa();
  const { device, port } = await wssDeviceFor(box);
  try {
    const store = storeOf(box);
    const keyFile = store.path(`HOST_key@${store.hostId}.pem`);
    const { pkcs8 } = await decryptPrivateKey(await Deno.readTextFile(keyFile), HOST_PASS, keyFile);
    const target = ["-t", `wss://127.0.0.1:${port}`, "-p", `${WEBREPL_PASSWORD}:${HOST_PASS}`];
    await ok(box, "exec", "pass", ...target, "--persist=30");
    assertEquals(await ok(box, "exec", "print(6 * 7)", ...target), "42\n");
    const [kept] = await listKept(box.configDir);
    assertEquals(kept.link.kind, "tls");

    // Every file the host side could have written: the sandbox home and the temporary directory.
    const needles = [pkcs8.toBase64(), pkcs8.toHex()];
    const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
    const scanned: string[] = [];
    const scan = async (dir: string) => {
      for await (const entry of Deno.readDir(dir)) {
        const path = `${dir}/${entry.name}`;
        if (entry.isDirectory && !entry.isSymlink) await scan(path).catch(() => {});
        if (!entry.isFile) continue;
        const info = await Deno.stat(path).catch(() => null);
        if (!info || info.size > 4 << 20 || (info.mtime?.getTime() ?? 0) < Date.now() - 120_000) continue;
        const bytes = await Deno.readFile(path).catch(() => new Uint8Array(0));
        const text = new TextDecoder("latin1").decode(bytes);
        scanned.push(path);
        for (const needle of needles) assert(!text.includes(needle), `decrypted key found in ${path}`);
        assert(!bytes.toHex().includes(pkcs8.toHex()), `decrypted key (DER) found in ${path}`);
      }
    };
    await scan(box.home);
    await scan(tmp);
    assert(
      scanned.some((path) => path.endsWith(".json") && path.includes("/kept/")),
      "the kept files were scanned",
    );
    assertEquals(await ok(box, "disconnect"), "kept sessions ended: 1\n");
  } finally {
    await box.run("disconnect");
    await device.close();
    await box.cleanup();
  }
});

Deno.test("persist: a registry setting (config --persist) keeps sessions; --persist=0 turns it off", async () => {
  await withPlainDevice(async (box, port) => {
    await ok(box, "config", "-t", `127.0.0.1:${port}`, "-p", PASSWORD, "-@", "kept", "-gg", "--persist=30");
    const group = JSON.parse(await Deno.readTextFile(`${box.configDir}/UPY_G.config`));
    // upydev's [ADDRESS, PASSWORD], with the seconds after them.
    assertEquals(group.kept, [`127.0.0.1:${port}`, PASSWORD, 30]);
    assertStringIncludes(await ok(box, "see", "kept"), "ws  kept 30 s\n");
    assertEquals(JSON.parse(await ok(box, "see", "kept", "--json")).devices[0].persist, 30);
    assertEquals(await ok(box, "exec", "x = 1", "-@", "kept"), "");
    assertEquals((await listKept(box.configDir)).map((kept) => kept.idleSeconds), [30]);
    assertEquals(await ok(box, "exec", "print(x)", "-@", "kept"), "1\n");
    await ok(box, "disconnect");
    // Turned off for one command: nothing is kept, and the device is free afterwards.
    await ok(box, "exec", "pass", "-@", "kept", "--persist=0");
    assertEquals(await listKept(box.configDir), []);
    // Saving the device again without --persist removes the setting.
    await ok(box, "config", "-t", `127.0.0.1:${port}`, "-p", PASSWORD, "-@", "kept", "-gg");
    await ok(box, "exec", "pass", "-@", "kept");
    assertEquals(await listKept(box.configDir), []);
    // The default device (upydev_.config) carries it too.
    await ok(box, "config", "-t", `127.0.0.1:${port}`, "-p", PASSWORD, "--persist");
    const local = JSON.parse(await Deno.readTextFile(`${box.cwd}/upydev_.config`));
    assertEquals(local.persist, 300);
    await ok(box, "exec", "pass");
    assertEquals((await listKept(box.configDir)).map((kept) => kept.idleSeconds), [300]);
  });
});
