/**
 * Recursive and pattern transfers (`put -r`, `get -r`, quoted globs) through the real CLI, and dsync from inside
 * `shl`, against the emulated device: where files land (cp -r's rules), missing directories created on the
 * target side, both sides compared byte for byte.
 */
import { openedDevice } from "../lib/actions/action.ts";
import { deviceActionCommands } from "../lib/actions/table.ts";
import { runCli } from "../lib/cli/run.ts";
import { openDevice } from "../lib/device/connect.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { Shell } from "../lib/shell/shell.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { deviceDump, localDump } from "./helpers/trees.ts";

async function project(root: string): Promise<void> {
  await Deno.mkdir(`${root}/lib/sub`, { recursive: true });
  await Deno.mkdir(`${root}/.git`);
  await Deno.mkdir(`${root}/__pycache__`);
  await Deno.writeTextFile(`${root}/a.py`, "print('a')\n");
  await Deno.writeTextFile(`${root}/lib/b.py`, "B = 2\n");
  await Deno.writeTextFile(`${root}/lib/c.py`, "C = 3\n");
  await Deno.writeFile(`${root}/lib/sub/d.bin`, Uint8Array.from({ length: 1500 }, (_, i) => i % 251));
  await Deno.writeTextFile(`${root}/.git/HEAD`, "ref: main\n");
  await Deno.writeTextFile(`${root}/__pycache__/a.pyc`, "x");
}

const SKIPPED = (path: string) => /(^|\/)(\.git|__pycache__)(\/|$)/.test(path);

Deno.test("put -r, get -r and quoted globs place files as cp -r does and create missing directories", async (t) => {
  const cwd = await Deno.makeTempDir({ prefix: "upydev-copy-" });
  const emulator = await startEmulator({ port: 0, password: "pw" });
  const run = async (...args: string[]) => {
    const io = recordingIo({ cwd, env: { XDG_CONFIG_HOME: `${cwd}/config` } });
    const code = await runCli(
      [...args, "-t", `127.0.0.1:${emulator.port}`, "-p", "pw"],
      io,
      deviceActionCommands(),
    );
    return { code, stdout: io.stdout, stderr: io.stderr };
  };
  const ok = async (...args: string[]) => {
    const result = await run(...args);
    assertEquals([result.code, result.stderr], [0, ""], args.join(" "));
    return result.stdout;
  };
  try {
    await project(`${cwd}/proj`);
    const expected = await localDump(`${cwd}/proj`, SKIPPED);

    await t.step("put -r into a missing directory makes it the copy", async () => {
      const out = await ok("put", "-r", "proj", "/deep/copy");
      assertEquals(
        out,
        "proj/a.py -> /deep/copy/a.py (11 bytes)\nproj/lib/b.py -> /deep/copy/lib/b.py (6 bytes)\n" +
          "proj/lib/c.py -> /deep/copy/lib/c.py (6 bytes)\nproj/lib/sub/d.bin -> /deep/copy/lib/sub/d.bin (1500 bytes)\n",
      );
      assertEquals(await deviceDump(emulator, "/deep/copy"), expected);
    });

    await t.step("put -r into an existing directory puts the directory inside it", async () => {
      await ok("put", "-r", "proj", "/deep/copy");
      assertEquals(await deviceDump(emulator, "/deep/copy/proj"), expected);
    });

    await t.step("a quoted pattern uploads its matches into a directory created on the device", async () => {
      assertEquals(
        await ok("put", "proj/lib/*.py", "/new/lib"),
        "proj/lib/b.py -> /new/lib/b.py (6 bytes)\nproj/lib/c.py -> /new/lib/c.py (6 bytes)\n",
      );
      assertEquals(Object.keys(await deviceDump(emulator, "/new")), ["lib", "lib/b.py", "lib/c.py"]);
    });

    await t.step("get -r copies a device directory into a missing local one, byte for byte", async () => {
      await ok("get", "-r", "/deep/copy", "back/here");
      assertEquals(await localDump(`${cwd}/back/here`), await deviceDump(emulator, "/deep/copy"));
    });

    await t.step(
      "get with a quoted pattern downloads its matches into a local directory it creates",
      async () => {
        assertEquals(
          await ok("get", "/deep/copy/lib/*.py", "logs"),
          "/deep/copy/lib/b.py -> logs/b.py (6 bytes)\n/deep/copy/lib/c.py -> logs/c.py (6 bytes)\n",
        );
        assertEquals(await Deno.readTextFile(`${cwd}/logs/c.py`), "C = 3\n");
      },
    );

    await t.step("on a terminal one progress bar counts files and bytes, for put -r and dsync", async () => {
      for (
        const [args, label] of [[["put", "-r", "proj", "/bar"], "put"], [
          ["dsync", "proj", "--to", "/bar2"],
          "dsync",
        ]]
      ) {
        let clock = 0;
        const io = recordingIo({
          cwd,
          env: { XDG_CONFIG_HOME: `${cwd}/config` },
          stdoutIsTerminal: true,
          now: () => (clock += 400),
        });
        const code = await runCli(
          [...args as string[], "-t", `127.0.0.1:${emulator.port}`, "-p", "pw"],
          io,
          deviceActionCommands(),
        );
        assertEquals([code, io.stderr], [0, ""]);
        assert(new RegExp(`\r${label} [0-4]/4 files \\[[#-]{30}\\] +\\d+% `).test(io.stdout), io.stdout);
        assert(io.stdout.includes(`\r${label} 4/4 files [${"#".repeat(30)}] 100% `), io.stdout);
        // A file's line replaces the bar's, which is drawn again below it.
        assert(io.stdout.includes("\r\x1b[K"), io.stdout);
      }
    });

    await t.step("a directory without -r is refused, naming the option", async () => {
      const put = await run("put", "proj", "/x");
      assertEquals([put.code, put.stderr], [1, "upydev: proj is a directory (put -r copies directories)\n"]);
      const get = await run("get", "/deep", "x", "-r");
      assertEquals(get.code, 0);
      assert((await Deno.stat(`${cwd}/x/copy/lib/sub/d.bin`)).isFile);
    });
  } finally {
    await emulator.close();
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("shell: dsync runs inside shl, and -rf asks with one key on the raw terminal", async () => {
  const emulator = await startEmulator({ password: "pw", port: 0 });
  const local = await Deno.makeTempDir({ prefix: "upydev-shl-dsync-" });
  try {
    await project(`${local}/proj`);
    const target = {
      name: "esp",
      host: emulator.hostname,
      port: emulator.port,
      password: "pw",
      secure: false,
    };
    const io = recordingIo({ cwd: local, stdinIsTerminal: true });
    const running = new Shell(openedDevice(await openDevice(target), target), io, {
      name: "esp",
      history: [],
    }).run();
    const step = async (input: string, expect: string) => {
      const before = io.stdout.length;
      io.feed(input);
      const start = Date.now();
      while (!io.stdout.slice(before).includes(expect)) {
        if (Date.now() - start > 30_000) throw new Error(`no ${expect}: ${io.stdout.slice(before)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return io.stdout.slice(before);
    };
    await step("", "esp32@esp:~ $ ");
    assert((await step("dsync proj --to /app\r", "files deleted")).includes("4 new files, 0 files changed"));
    assertEquals(await deviceDump(emulator, "/app"), await localDump(`${local}/proj`, SKIPPED));
    await Deno.remove(`${local}/proj/lib/c.py`);
    await step("dsync proj --to /app -rf\r", "are not in the source and will be deleted:\r\n  lib/c.py\r\n");
    const asked = Date.now();
    while (!io.stderr.includes("delete them? [y/N] ")) {
      if (Date.now() - asked > 30_000) throw new Error(`no question: ${io.stdout} | ${io.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert(
      (await step("y", "files deleted")).includes(
        "deleted  lib/c.py\r\n0 new files, 0 files changed, 1 files deleted",
      ),
    );
    assertEquals(await deviceDump(emulator, "/app"), await localDump(`${local}/proj`, SKIPPED));
    io.feed("exit\r");
    await running;
  } finally {
    await emulator.close();
    await Deno.remove(local, { recursive: true });
  }
});
