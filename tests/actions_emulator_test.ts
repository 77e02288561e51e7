/**
 * The device actions of lib/actions through the real CLI against the emulated ESP32, over ws and over wss,
 * with their whole output asserted.
 */
import { deviceActionCommands } from "../lib/actions/table.ts";
import { runCli } from "../lib/cli/run.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { sha256Hex } from "../lib/ops/files.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import type { CliResult } from "./helpers/cli.ts";
import { DEVICE_UID, HOST_PASS, hostWithCa, WEBREPL_PASSWORD, wssDeviceFor } from "./helpers/wss.ts";

type Run = (...args: string[]) => Promise<CliResult>;

const encoder = new TextEncoder();
const A_TXT = "line 1\nline 2\nline 3\n";
const HOSTILE = "\x1b[2J\x1b]0;pwned\x07.py";

async function actionsAgainst(t: Deno.TestContext, run: Run, local: string, uid: string) {
  const ok = async (...args: string[]) => {
    const result = await run(...args);
    assertEquals([result.code, result.stderr], [0, ""], `${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const fails = async (message: string, ...args: string[]) => {
    const result = await run(...args);
    assertEquals(
      [result.code, result.stdout, result.stderr],
      [1, "", `upydev: ${message}\n`],
      args.join(" "),
    );
  };

  await t.step("mkdir, put, touch, cp, mv build a tree; tree and ls show it", async () => {
    await Deno.writeTextFile(`${local}/a.txt`, A_TXT);
    await ok("mkdir", "/t/sub", "/t/.hidden");
    await ok("put", `${local}/a.txt`, "/t/");
    await ok("touch", "/t/empty.txt");
    await ok("cp", "/t/a.txt", "/t/b.txt");
    await ok("cp", "/t/a.txt", "/t/sub");
    await ok("mv", "/t/b.txt", "/t/moved.txt");
    assertEquals(
      await ok("tree", "/t"),
      "/t\n├── a.txt\n├── empty.txt\n├── moved.txt\n└── sub\n    └── a.txt\n\n1 directory, 4 files\n",
    );
    assertEquals(await ok("ls", "/t"), "a.txt\nempty.txt\nmoved.txt\nsub/\n");
    assertEquals(await ok("ls", "-a", "/t"), ".hidden/\na.txt\nempty.txt\nmoved.txt\nsub/\n");
    assertEquals(
      await ok("ls", "-l", "/t"),
      "        21  a.txt\n         0  empty.txt\n        21  moved.txt\n     <dir>  sub/\n",
    );
    assertEquals(await ok("ls", "-r", "/t/sub"), "a.txt\n");
  });

  await t.step("cat, head and du read the tree", async () => {
    assertEquals(await ok("cat", "/t/moved.txt"), A_TXT);
    assertEquals(await ok("head", "-n", "2", "/t/a.txt"), "line 1\nline 2\n");
    assertEquals(await ok("head", "/t/a.txt"), A_TXT);
    assertEquals(await ok("du", "/t"), "       0 B  /t/.hidden\n      21 B  /t/sub\n      63 B  /t\n");
  });

  await t.step("shasum hashes every file under a directory in one listing", async () => {
    const digest = await sha256Hex(encoder.encode(A_TXT));
    const empty = await sha256Hex(new Uint8Array(0));
    const lines = (await ok("shasum", "/t")).trimEnd().split("\n").sort();
    assertEquals(
      lines,
      [
        `${digest}  /t/a.txt`,
        `${digest}  /t/moved.txt`,
        `${digest}  /t/sub/a.txt`,
        `${empty}  /t/empty.txt`,
      ].sort(),
    );
  });

  await t.step("each failure is one line naming the path", async () => {
    await fails("directory not empty on the device: /t/sub", "rmdir", "/t/sub");
    await fails("not a directory on the device: /t/a.txt", "rmdir", "/t/a.txt");
    await fails("no such file or directory on the device: /t/nope", "head", "/t/nope");
    await fails("no such file or directory on the device: /t/nope", "mv", "/t/nope", "/t/x");
    await fails("/t/sub is a directory on the device (not copied)", "cp", "/t/sub", "/t/x");
    await fails("already exists on the device: /t/a.txt -> /t/moved.txt", "mv", "/t/a.txt", "/t/moved.txt");
    await fails(
      "mv: /t/a.txt is not a directory on the device",
      "mv",
      "/t/moved.txt",
      "/t/empty.txt",
      "/t/a.txt",
    );
    const usage = await run("head", "-n", "x", "/t/a.txt");
    assertEquals([usage.code, usage.stderr], [2, "upydev: -n takes a whole number, not 'x'\n"]);
    await ok("rm", "/t/sub/a.txt");
    await ok("rmdir", "/t/sub", "/t/.hidden");
    assertEquals(await ok("ls", "-a", "/t"), "a.txt\nempty.txt\nmoved.txt\n");
  });

  await t.step("device names are shown with control characters escaped", async () => {
    await Deno.writeTextFile(`${local}/plain`, "x");
    await ok("put", `${local}/plain`, `/t/${HOSTILE}`);
    await ok("put", `${local}/plain`, "/t/a\nforged.py");
    const listing = await ok("ls", "/t");
    assertEquals(
      listing,
      "\\x1b[2J\\x1b]0;pwned\\x07.py\na\\x0aforged.py\na.txt\nempty.txt\nmoved.txt\n",
    );
    assert(!listing.includes("\x1b") && !listing.includes("\x07"), JSON.stringify(listing));
    assert(!(await ok("tree", "/t")).includes("\x1b"));
    await ok("rm", `/t/${HOSTILE}`, "/t/a\nforged.py");
  });

  await t.step("df, mem, id, uptime, modules, net describe the device", async () => {
    assertMatch(
      await ok("df"),
      /^Filesystem {8}Size {6}Used {6}Free {2}Use%\n\/ {11} *[\d.]+ [KM]?B *[\d.]+ [KM]?B *[\d.]+ [KM]?B +\d+%\n$/,
    );
    assertMatch(await ok("mem"), /^Memory {8}Size {6}Used {6}Free {2}Use%\nheap .*\d+%\n$/);
    assertEquals(await ok("id"), `${uid}\n`);
    assertMatch(await ok("uptime"), /^up \d\d:\d\d:\d\d\n$/);
    const modules = (await ok("modules")).split("\n");
    for (const name of ["hashlib", "json", "os", "sys"]) assert(modules.includes(name), name);
    const mac = uid.match(/../g)!.join(":");
    assertEquals(
      await ok("net"),
      "station:  connected\nssid:     emulator\nip:       127.0.0.1\nmask:     255.255.255.0\n" +
        `gateway:  127.0.0.1\ndns:      127.0.0.1\nrssi:     -50 dBm\nmac:      ${mac}\n`,
    );
  });

  await t.step(
    "datetime shows the device clock; --set brings a clock from 2000 to this computer's UTC",
    async () => {
      await ok("exec", "import machine;machine.RTC().datetime((2000,1,1,5,0,0,0,0))");
      assertMatch(await ok("datetime"), /^2000-01-01T00:00:0\d\n$/);
      const before = Date.now();
      const shown = await ok("datetime", "--set");
      const device = Date.parse(`${shown.trim()}Z`);
      assert(Math.abs(device - before) < 5_000, `${shown} vs ${new Date(before).toISOString()}`);
    },
  );

  await t.step(
    "run streams a local script's output; an exception prints its traceback and exits 1",
    async () => {
      await Deno.writeTextFile(`${local}/good.py`, "for i in range(3):\n    print('tick', i)\n");
      assertEquals(await ok("run", `${local}/good.py`), "tick 0\ntick 1\ntick 2\n");
      await Deno.writeTextFile(`${local}/bad.py`, "print('before')\n1/0\n");
      const bad = await run("run", `${local}/bad.py`);
      assertEquals(bad.code, 1);
      assertEquals(
        bad.stdout,
        'before\nTraceback (most recent call last):\n  File "<stdin>", line 2, in <module>\n' +
          "ZeroDivisionError: divide by zero\n",
      );
      assertEquals(bad.stderr, `upydev: ${local}/bad.py: ZeroDivisionError: divide by zero\n`);
      const missing = await run("run", `${local}/missing.py`);
      assertEquals([missing.code, missing.stderr], [1, `upydev: no such local file: ${local}/missing.py\n`]);
    },
  );

  await t.step("reload re-imports a module after a new version is uploaded", async () => {
    await ok("mkdir", "/lib");
    await Deno.writeTextFile(`${local}/mod_x.py`, "print('version 1')\n");
    await ok("put", `${local}/mod_x.py`, "/lib/");
    await ok("exec", "import mod_x");
    await Deno.writeTextFile(`${local}/mod_x.py`, "print('version 2')\n");
    await ok("put", `${local}/mod_x.py`, "/lib/");
    assertEquals(await ok("reload", "mod_x"), "version 2\nmod_x reloaded\n");
    const bad = await run("reload", "not-a-module");
    assertEquals([bad.code, bad.stderr], [2, "upydev: not a module name: 'not-a-module'\n"]);
  });
}

Deno.test("device actions over ws", async (t) => {
  const local = await Deno.makeTempDir({ prefix: "upydev-actions-" });
  const emulator = await startEmulator({ port: 0, password: "pw", uniqueId: DEVICE_UID });
  const run: Run = async (...args) => {
    const io = recordingIo({ cwd: local, env: { XDG_CONFIG_HOME: `${local}/config` } });
    const code = await runCli(
      [...args, "-t", `127.0.0.1:${emulator.port}`, "-p", "pw"],
      io,
      deviceActionCommands(),
    );
    return { code, stdout: io.stdout, stderr: io.stderr };
  };
  try {
    await actionsAgainst(t, run, local, DEVICE_UID.toHex());
  } finally {
    await emulator.close();
    await Deno.remove(local, { recursive: true });
  }
});

Deno.test("device actions over wss", async (t) => {
  const box = await hostWithCa();
  const { device, port } = await wssDeviceFor(box);
  const run: Run = (...args) =>
    box.run(...args, "-t", `127.0.0.1:${port}`, "-p", `${WEBREPL_PASSWORD}:${HOST_PASS}`);
  try {
    await actionsAgainst(t, run, box.cwd, DEVICE_UID.toHex());
  } finally {
    await device.close();
    await box.cleanup();
  }
});

Deno.test("an error message carrying a device name is printed with its control characters escaped", async () => {
  const local = await Deno.makeTempDir({ prefix: "upydev-actions-" });
  const emulator = await startEmulator({ port: 0, password: "pw" });
  try {
    const io = recordingIo({ cwd: local, env: { XDG_CONFIG_HOME: `${local}/config` } });
    const code = await runCli(
      ["cat", "/\x1b]0;pwned\x07.py", "-t", `127.0.0.1:${emulator.port}`, "-p", "pw"],
      io,
      deviceActionCommands(),
    );
    assertEquals([code, io.stderr], [
      1,
      "upydev: no such file on the device: /\\x1b]0;pwned\\x07.py\n",
    ]);
  } finally {
    await emulator.close();
    await Deno.remove(local, { recursive: true });
  }
});

Deno.test("log shows the upylog files, the rotated one first; -n keeps the last lines", async () => {
  const local = await Deno.makeTempDir({ prefix: "upydev-actions-" });
  const emulator = await startEmulator({ port: 0, password: "pw" });
  const run = async (...args: string[]) => {
    const io = recordingIo({ cwd: local, env: { XDG_CONFIG_HOME: `${local}/config` } });
    const code = await runCli(
      [...args, "-t", `127.0.0.1:${emulator.port}`, "-p", "pw"],
      io,
      deviceActionCommands(),
    );
    return { code, stdout: io.stdout, stderr: io.stderr };
  };
  try {
    const none = await run("log");
    assertEquals([none.code, none.stderr], [
      1,
      "upydev: no log on the device (/upy.log): upylog writes it, see 'upydev update_upyutils'\n",
    ]);
    await emulator.runPython(
      "with open('/upy.log.1','w') as f:\n f.write('2026-01-01 10:00:00 INFO main: old\\n')\n" +
        "with open('/upy.log','w') as f:\n f.write('2026-01-01 10:00:01 WARNING main: new\\n" +
        "2026-01-01 10:00:02 ERROR main: \\x1b[2Jnewest\\n')",
    );
    const all = await run("log");
    assertEquals([all.code, all.stdout], [
      0,
      "2026-01-01 10:00:00 INFO main: old\n2026-01-01 10:00:01 WARNING main: new\n" +
      "2026-01-01 10:00:02 ERROR main: \\x1b[2Jnewest\n",
    ]);
    assertEquals((await run("log", "-n", "1")).stdout, "2026-01-01 10:00:02 ERROR main: \\x1b[2Jnewest\n");
  } finally {
    await emulator.close();
    await Deno.remove(local, { recursive: true });
  }
});
