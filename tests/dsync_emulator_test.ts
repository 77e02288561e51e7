/**
 * dsync end to end through the real CLI against the emulated ESP32, over ws and over wss: a nested tree of more
 * than 50 files through first sync, no change, one change, deletion, dry run, ignore rules and device to host,
 * with both sides compared byte for byte after each step; then interrupted syncs (Ctrl-C, a dropped link) that a
 * second run completes, and a sync refused up front for lack of flash.
 */
import { deviceActionCommands } from "../lib/actions/table.ts";
import { runCli } from "../lib/cli/run.ts";
import { type EmulatedDevice, startEmulator } from "../lib/emulator/emulator.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import type { CliResult } from "./helpers/cli.ts";
import { cuttingProxy } from "./helpers/cut_proxy.ts";
import { deviceDump, localDump, type TreeDump } from "./helpers/trees.ts";
import { HOST_PASS, hostWithCa, WEBREPL_PASSWORD, wssDeviceFor } from "./helpers/wss.ts";

type Run = (...args: string[]) => Promise<CliResult>;

const LONG_DIR = "a_directory_name_long_enough";
const LONG_FILE = "that_the_whole_path_passes_wawb_63_bytes.py";

/** 56 synced files in three levels, plus what must never be synced. */
async function buildTree(root: string): Promise<void> {
  const write = async (path: string, data: string | Uint8Array) => {
    await Deno.mkdir(`${root}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
    if (typeof data === "string") await Deno.writeTextFile(`${root}/${path}`, data);
    else await Deno.writeFile(`${root}/${path}`, data);
  };
  for (let d = 0; d < 5; d++) {
    for (let f = 0; f < 10; f++) {
      const where = f < 4 ? `pkg${d}` : f < 8 ? `pkg${d}/sub` : `pkg${d}/sub/deep`;
      await write(`${where}/m${f}.py`, `# module ${d}.${f}\n${"x = 1\n".repeat(d * 40 + f * 7)}`);
    }
  }
  await write("main.py", "import pkg0\nprint('main')\n");
  await write("empty.txt", "");
  await write("data/blob.bin", Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256));
  await write("data/ünïcode.txt", "ü\n");
  await write(`${LONG_DIR}/${LONG_FILE}`, "long = True\n");
  await write("notes.log", "ignored by .upyignore\n");
  await write(".upyignore", "# local notes\n*.log\n");
  await write(".git/config", "[core]\n");
  await write("pkg0/__pycache__/m0.cpython-312.pyc", "bytecode");
  await Deno.mkdir(`${root}/emptydir`);
}

/** What the device must hold after a full sync of `root`: everything but the ignored names. */
function synced(path: string): boolean {
  return /(^|\/)(\.git|__pycache__)(\/|$)/.test(path) || path.endsWith(".log");
}

async function dsyncSteps(t: Deno.TestContext, run: Run, device: EmulatedDevice, cwd: string) {
  const src = `${cwd}/src`;
  await buildTree(src);
  const ok = async (...args: string[]) => {
    const result = await run(...args);
    assertEquals([result.code, result.stderr], [0, ""], `${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const bothSidesEqual = async () => {
    const local = await localDump(src, synced);
    assertEquals(await deviceDump(device, "/app"), local);
    return local;
  };

  await t.step("first sync sends every file, creating directories", async () => {
    const out = await ok("dsync", "src", "--to", "/app");
    const lines = out.trimEnd().split("\n");
    assertEquals(lines.at(-1), "56 new files, 0 files changed, 0 files deleted");
    assertEquals(lines.filter((line) => line.startsWith("new ")).length, 56);
    const local = await bothSidesEqual();
    assertEquals(Object.values(local).filter((value) => value !== "<dir>").length, 56);
    assert(".upyignore" in local && "emptydir" in local && `${LONG_DIR}/${LONG_FILE}` in local);
  });

  await t.step("no change: nothing is transferred", async () => {
    assertEquals(await ok("dsync", "src", "--to", "/app"), "0 new files, 0 files changed, 0 files deleted\n");
    await bothSidesEqual();
  });

  await t.step("one changed file (same size): exactly one transfer", async () => {
    const path = `${src}/pkg3/sub/m5.py`;
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, text.replace("x = 1\n", "y = 2\n"));
    assertEquals(
      await ok("dsync", "src", "--to", "/app"),
      "changed  pkg3/sub/m5.py\n0 new files, 1 files changed, 0 files deleted\n",
    );
    await bothSidesEqual();
  });

  await t.step("-rf deletes a file deleted locally, after listing it; without --yes it refuses", async () => {
    await Deno.remove(`${src}/pkg1/m2.py`);
    const refused = await run("dsync", "src", "--to", "/app", "-rf");
    assertEquals([refused.code, refused.stderr], [
      1,
      "upydev: dsync -rf deletes files: confirm with --yes (no terminal to ask); nothing was changed\n",
    ]);
    assertEquals(
      refused.stdout,
      "1 files on the device in /app are not in the source and will be deleted:\n  pkg1/m2.py\n",
    );
    assert("pkg1/m2.py" in await deviceDump(device, "/app"));
    assertEquals(
      await ok("dsync", "src", "--to", "/app", "-rf", "--yes"),
      "1 files on the device in /app are not in the source and will be deleted:\n  pkg1/m2.py\n" +
        "deleted  pkg1/m2.py\n0 new files, 0 files changed, 1 files deleted\n",
    );
    await bothSidesEqual();
  });

  await t.step("-n prints the plan and changes nothing", async () => {
    const before = await deviceDump(device, "/app");
    await Deno.writeTextFile(`${src}/pkg4/new.py`, "new = 1\n");
    await Deno.writeTextFile(`${src}/main.py`, "print('main, longer now')\n");
    await Deno.remove(`${src}/pkg0/m1.py`);
    assertEquals(
      await ok("dsync", "src", "--to", "/app", "-n", "-rf"),
      "new      pkg4/new.py\nchanged  main.py\ndeleted  pkg0/m1.py\n" +
        "1 new files, 1 files changed, 1 files deleted (dry run: nothing changed)\n",
    );
    assertEquals(await deviceDump(device, "/app"), before);
    await ok("dsync", "src", "--to", "/app", "-rf", "--yes");
    await bothSidesEqual();
  });

  await t.step("-i ignores paths on both sides; .upyignore is honoured", async () => {
    await Deno.writeTextFile(`${src}/pkg2/m0.py`, "changed but ignored\n");
    await Deno.writeTextFile(`${src}/pkg2/extra.py`, "new but ignored\n");
    await Deno.writeTextFile(`${src}/more.log`, "ignored by .upyignore\n");
    assertEquals(
      await ok("dsync", "src", "--to", "/app", "-rf", "--yes", "-i", "pkg2/"),
      "0 new files, 0 files changed, 0 files deleted\n",
    );
    const device_ = await deviceDump(device, "/app");
    assert(!("pkg2/extra.py" in device_) && !("more.log" in device_));
    assert(device_["pkg2/m0.py"] !== btoa("changed but ignored\n"));
    assertEquals(
      await ok("dsync", "src", "--to", "/app", "-i", "*.py", "!pkg2/*.py"),
      "new      pkg2/extra.py\nchanged  pkg2/m0.py\n1 new files, 1 files changed, 0 files deleted\n",
    );
    await bothSidesEqual();
  });

  await t.step("-d copies the device into an empty folder, byte for byte", async () => {
    const out = await ok("dsync", "back", "-d", "--to", "/app");
    assertEquals(out.trimEnd().split("\n").at(-1), "56 new files, 0 files changed, 0 files deleted");
    assertEquals(await localDump(`${cwd}/back`), await deviceDump(device, "/app"));
    assertEquals(
      await ok("dsync", "back", "-d", "--to", "/app"),
      "0 new files, 0 files changed, 0 files deleted\n",
    );
  });
}

function cliRunner(port: number, cwd: string): Run {
  return async (...args) => {
    const io = recordingIo({ cwd, env: { XDG_CONFIG_HOME: `${cwd}/config` } });
    const code = await runCli([...args, "-t", `127.0.0.1:${port}`, "-p", "pw"], io, deviceActionCommands());
    return { code, stdout: io.stdout, stderr: io.stderr };
  };
}

Deno.test("dsync over ws", async (t) => {
  const cwd = await Deno.makeTempDir({ prefix: "upydev-dsync-" });
  const emulator = await startEmulator({ port: 0, password: "pw", flashSize: 4 << 20 });
  try {
    await dsyncSteps(t, cliRunner(emulator.port, cwd), emulator, cwd);
  } finally {
    await emulator.close();
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("dsync over wss", async (t) => {
  const box = await hostWithCa();
  const { device, port } = await wssDeviceFor(box);
  const run: Run = (...args) =>
    box.run(...args, "-t", `127.0.0.1:${port}`, "-p", `${WEBREPL_PASSWORD}:${HOST_PASS}`);
  try {
    await dsyncSteps(t, run, device, box.cwd);
    await t.step("-rf at the device's root never deletes the files its link depends on", async () => {
      const before = await deviceDump(device, "/");
      await Deno.mkdir(`${box.cwd}/tiny`);
      await Deno.writeTextFile(`${box.cwd}/tiny/main.py`, "print(1)\n");
      const result = await run("dsync", "tiny", "-rf", "--yes");
      assertEquals([result.code, result.stderr], [0, ""]);
      const after = await deviceDump(device, "/");
      const link = (dump: TreeDump) =>
        Object.keys(dump).filter((path) =>
          /^(boot\.py|webrepl_cfg\.py|ROOT_CA_cert\.pem|SSL_.*|lib\/wss_(repl|helper)\.py)$/.test(path)
        );
      assertEquals(link(after), link(before));
      assert(link(before).length >= 6, link(before).join(" "));
      assert("main.py" in after && !("app" in after), Object.keys(after).join(" "));
      // Device to host at the root: the password and the private key never land in a project folder.
      assertEquals((await run("dsync", "rootcopy", "-d")).code, 0);
      const copied = await localDump(`${box.cwd}/rootcopy`);
      assert(
        "boot.py" in copied && "main.py" in copied && "lib/wss_repl.py" in copied,
        Object.keys(copied).join(" "),
      );
      assertEquals(Object.keys(copied).filter((path) => /^(webrepl_cfg\.py|SSL_key)/.test(path)), []);
      assert(Object.keys(after).some((path) => path.startsWith("SSL_key")));
      // The link still works: wss needs the key and certificates, login the password.
      assertEquals((await run("exec", "print(6*7)")).stdout, "42\n");
    });
  } finally {
    await device.close();
    await box.cleanup();
  }
});

/** Each device file is the old or the new version (or, for a new file, absent): never anything else. */
function oldOrNew(device: TreeDump, old: TreeDump, wanted: TreeDump): void {
  for (const [path, value] of Object.entries(device)) {
    if (path.split("/").some((part) => part.startsWith(".upytmp-"))) continue;
    assert(value === old[path] || value === wanted[path], `${path} is neither old nor new`);
  }
}

Deno.test("an interrupted dsync leaves each file old or new, and running it again completes it", async (t) => {
  const cwd = await Deno.makeTempDir({ prefix: "upydev-dsync-" });
  const emulator = await startEmulator({ port: 0, password: "pw", flashSize: 4 << 20 });
  const run = cliRunner(emulator.port, cwd);
  const src = `${cwd}/src`;
  try {
    await buildTree(src);
    const wanted = await localDump(src, synced);

    /** Runs the sync with `io` and presses Ctrl-C `times` once stdout shows `when`; returns the exit code. */
    const interruptedSync = async (io: ReturnType<typeof recordingIo>, when: string, times: number) => {
      const running = runCli(
        ["dsync", "src", "--to", "/app", "-t", `127.0.0.1:${emulator.port}`, "-p", "pw"],
        io,
        deviceActionCommands(),
      );
      let finished = false;
      running.finally(() => (finished = true));
      while (!io.stdout.includes(when) && !finished) await new Promise((resolve) => setTimeout(resolve, 1));
      for (let i = 0; i < times; i++) io.interrupt();
      return await running;
    };

    await t.step("Ctrl-C stops the sync; what was sent before is committed", async () => {
      const io = recordingIo({ cwd, env: { XDG_CONFIG_HOME: `${cwd}/config` } });
      // Interrupt once the first batch has landed.
      assertEquals(await interruptedSync(io, "new ", 1), 130);
      assertEquals(io.stderr, "upydev: interrupted\n");
      const device = await deviceDump(emulator, "/app");
      oldOrNew(device, {}, wanted);
      const sent = Object.values(device).filter((value) => value !== "<dir>").length;
      assert(sent > 0 && sent < 56, `${sent} files on the device`);
    });

    await t.step("a second Ctrl-C stops in the middle of a file, which stays old or new", async () => {
      let clock = 0;
      const io = recordingIo({
        cwd,
        env: { XDG_CONFIG_HOME: `${cwd}/config` },
        stdoutIsTerminal: true,
        now: () => (clock += 2000),
      });
      // The progress bar appears with the first bytes of the first file: interrupt twice during it.
      assertEquals(await interruptedSync(io, "\rdsync 0/", 2), 130);
      assert(io.stderr.endsWith("upydev: interrupted\n"), io.stderr);
      oldOrNew(await deviceDump(emulator, "/app"), {}, wanted);
    });

    await t.step(
      "a link dropped mid-transfer fails the sync; no file is partial under its name",
      async () => {
        await Deno.writeTextFile(`${src}/pkg4/sub/deep/m9.py`, "z = 3\n".repeat(4000));
        const proxy = cuttingProxy(emulator.port, "toDevice", 30_000);
        const result = await cliRunner(proxy.port, cwd)("dsync", "src", "--to", "/app");
        await proxy.finish();
        assertEquals(result.code, 1);
        oldOrNew(await deviceDump(emulator, "/app"), {}, await localDump(src, synced));
      },
    );

    await t.step("running it again completes it and cleans what the interruptions left", async () => {
      const result = await run("dsync", "src", "--to", "/app");
      assertEquals([result.code, result.stderr], [0, ""]);
      assertEquals(await deviceDump(emulator, "/app"), await localDump(src, synced));
      assertEquals(
        await run("dsync", "src", "--to", "/app").then((r) => r.stdout),
        "0 new files, 0 files changed, 0 files deleted\n",
      );
    });
  } finally {
    await emulator.close();
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("a sync that cannot fit is refused before anything changes, with the numbers", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "upydev-dsync-" });
  const emulator = await startEmulator({ port: 0, password: "pw", flashSize: 64 * 1024 });
  try {
    await buildTree(`${cwd}/src`);
    const before = await deviceDump(emulator, "/");
    const result = await cliRunner(emulator.port, cwd)("dsync", "src", "--to", "/app");
    assertEquals(result.code, 1);
    assert(
      /^upydev: not enough space on the device: the sync needs \d+ bytes \(with temporary copies\), \d+ bytes are free of 65536; nothing was changed\n$/
        .test(result.stderr),
      result.stderr,
    );
    assertEquals(await deviceDump(emulator, "/"), before);
  } finally {
    await emulator.close();
    await Deno.remove(cwd, { recursive: true });
  }
});
