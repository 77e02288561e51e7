import { assert, assertEquals, assertMatch, assertRejects, assertStringIncludes } from "./helpers/assert.ts";
import { UserError } from "../lib/cli/errors.ts";
import { type EmulatedDevice, startEmulator } from "../lib/emulator/emulator.ts";
import { openDevice } from "../lib/device/connect.ts";
import { openedDevice } from "../lib/actions/action.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { Shell } from "../lib/shell/shell.ts";
import { DEVICE_ACTIONS } from "../lib/actions/table.ts";

async function waitFor(condition: () => boolean, what: string, screen = () => "", timeoutMs = 15_000) {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) {
      throw new Error(`timed out waiting for ${what}; screen: ${JSON.stringify(screen().slice(-400))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("shell: header, prompt, file commands, REPL toggle and exit against the emulated device", async () => {
  const emu = await startEmulator({ password: "pw", port: 0 });
  const local = await Deno.makeTempDir({ prefix: "upydev-shl-" });
  try {
    await Deno.writeTextFile(`${local}/hello.py`, "print('hello from file')\n");
    const target = { name: "esp_room1", host: emu.hostname, port: emu.port, password: "pw", secure: false };
    const device = await openDevice(target);
    const io = recordingIo({ cwd: local, stdoutIsTerminal: true });
    const history: string[] = [];
    const shell = new Shell(openedDevice(device, target), io, { name: "esp_room1", history });
    const running = shell.run();
    try {
      await waitFor(() => io.stdout.includes("esp32@esp_room1:~ $ "), "the first prompt");
      const header = io.stdout.split("\n");
      // On a terminal the plain-ws warning is red, the prompt green.
      assertEquals(header.slice(0, 2), [
        "WebREPL connected",
        "\x1b[1;31mWARNING: ENCRYPTION DISABLED IN THIS MODE\x1b[0m",
      ]);
      assertStringIncludes(io.stdout, "\x1b[1;32mesp32@esp_room1:~ $ \x1b[0m");
      assertMatch(io.stdout, /MicroPython v1\.27\.0 on \S+; Generic ESP32 module with ESP32\n/);
      assertStringIncludes(
        io.stdout,
        "- CTRL-k to see keybindings or -h to see help\n- CTRL-s to toggle shell/repl mode\n",
      );

      const step = async (input: string, expect: string) => {
        const before = io.stdout.length;
        io.feed(input);
        await waitFor(
          () => io.stdout.slice(before).includes(expect),
          JSON.stringify(expect),
          () => io.stdout,
        );
        return io.stdout.slice(before);
      };
      await step("mkdir lib/sub\r", "esp32@esp_room1:~ $ ");
      await step("cd lib\r", "esp32@esp_room1:~/lib $ ");
      assertStringIncludes(await step("pwd\r", "$ "), "/lib\r\n");
      await step("put hello.py\r", "hello.py -> /lib/hello.py (25 bytes)");
      await step("put hello.py renamed.py\r", "hello.py -> /lib/renamed.py (25 bytes)");
      await step("put hello.py sub\r", "hello.py -> /lib/sub/hello.py (25 bytes)");
      // Columns as ls aligns them; directories in colour on a terminal.
      assertStringIncludes(await step("ls\r", "$ "), "hello.py    renamed.py  \x1b[1;34msub/\x1b[0m\r\n");
      assertStringIncludes(await step("cat hello.py\r", "$ "), "print('hello from file')\r\n");
      assertStringIncludes(
        await step("get hello.py copy.py\r", "$ "),
        "/lib/hello.py -> copy.py (25 bytes)",
      );
      assertEquals(await Deno.readTextFile(`${local}/copy.py`), "print('hello from file')\n");
      assertStringIncludes(
        await step("cat nope.txt\r", "$ "),
        "cat: no such file on the device: /lib/nope.txt",
      );
      assertStringIncludes(await step("frob\r", "$ "), "frob: command not found");
      assertStringIncludes(await step("ls -h\r", "$ "), "usage: ls [-l] [-r] [-a] [PATH...]");
      assertStringIncludes(await step("\x0b", "$ "), "CTRL-s       toggle shell/REPL mode");
      await step("rm -r sub\r", "$ ");
      assertEquals(await step("ls\r", "$ ").then((out) => out.includes("sub/")), false);

      assertStringIncludes(await step("cd hello.py\r", "$ "), "cd: not a directory: /lib/hello.py");
      assertStringIncludes(await step("cat 'unterminated\r", "$ "), "unterminated quote");
      assertStringIncludes(await step("lpwd\r", "$ "), `${local}\r\n`);
      await step("lcd /\r", "$ ");
      assertStringIncludes(await step("lpwd\r", "$ "), "/\r\n");
      await step(`lcd ${local}\r`, "$ ");
      await step("\x13", ">>> ");
      const repl = await step("import os; print(os.getcwd(), 6*7)\r", "42");
      assertStringIncludes(repl, "/lib 42");
      await step("\x13", "esp32@esp_room1:~/lib $ ");
      await step("\x18", "Connection to esp_room1 closed.");
      await running;
      assertEquals(history, [
        "mkdir lib/sub",
        "cd lib",
        "pwd",
        "put hello.py",
        "put hello.py renamed.py",
        "put hello.py sub",
        "ls",
        "cat hello.py",
        "get hello.py copy.py",
        "cat nope.txt",
        "frob",
        "ls -h",
        "rm -r sub",
        "ls",
        "cd hello.py",
        "cat 'unterminated",
        "lpwd",
        "lcd /",
        "lpwd",
        `lcd ${local}`,
      ]);
    } finally {
      io.endInput();
      await running.catch(() => {});
      await device.close();
    }
  } finally {
    await emu.close();
    await Deno.remove(local, { recursive: true });
  }
});

Deno.test("shell: CTRL-d on an empty line leaves; a dropped connection ends the shell with one line", async () => {
  const emu = await startEmulator({ password: "pw", port: 0 });
  try {
    const target = { host: emu.hostname, port: emu.port, password: "pw", secure: false };
    const device = await openDevice(target);
    const io = recordingIo();
    const running = new Shell(openedDevice(device, target), io, { name: "esp" }).run();
    await waitFor(() => io.stdout.includes("esp32@esp:~ $ "), "the prompt", () => io.stdout);
    io.feed("\x04");
    await running;
    assertStringIncludes(io.stdout, "Connection to esp closed.");
    await device.close();

    const second = await openDevice(target);
    const io2 = recordingIo();
    const shell = new Shell(openedDevice(second, target), io2, { name: "esp" }).run();
    await waitFor(() => io2.stdout.includes("esp32@esp:~ $ "), "the prompt", () => io2.stdout);
    io2.feed("\x13");
    await waitFor(() => io2.stdout.includes(">>> "), "the REPL prompt", () => io2.stdout);
    io2.feed("\x04");
    await assertRejects(() => shell, UserError, `connection to 127.0.0.1:${emu.port} lost`);
    await second.close();
  } finally {
    await emu.close();
  }
});

Deno.test("shell: globs, &&, > and >>, !cmd, completion, the guide's keys, CTRL-e, resets and reconnects", async () => {
  const emu = await startEmulator({ password: "pw", port: 0 });
  const local = await Deno.makeTempDir({ prefix: "upydev-shl-" });
  try {
    const editor = `${local}/fake_editor.sh`;
    await Deno.writeTextFile(editor, `#!/bin/sh\nprintf "print('edited', 6*7)\\n" > "$1"\n`);
    await Deno.chmod(editor, 0o755);
    const target = { name: "esp", host: emu.hostname, port: emu.port, password: "pw", secure: false };
    const connect = async () => openedDevice(await openDevice(target), target);
    const io = recordingIo({ cwd: local, stdoutIsTerminal: true, env: { NO_COLOR: "1", EDITOR: editor } });
    const shell = new Shell(await connect(), io, { name: "esp", reconnect: connect, reconnectDelayMs: 200 });
    const running = shell.run();
    const step = async (input: string, expect: string) => {
      const before = io.stdout.length;
      io.feed(input);
      await waitFor(() => io.stdout.slice(before).includes(expect), JSON.stringify(expect), () => io.stdout);
      return io.stdout.slice(before);
    };
    const PROMPT = "esp32@esp:~ $ ";
    try {
      await waitFor(() => io.stdout.includes(PROMPT), "the first prompt", () => io.stdout);
      // NO_COLOR: a terminal, but no colour codes at all.
      assertEquals(io.stdout.includes("\x1b[1;"), false);

      await step("touch a.bin && touch b.bin && touch keep.py\r", PROMPT);
      await step("rm *.bin\r", PROMPT);
      const listing = await step("ls\r", PROMPT);
      assertEquals([listing.includes("a.bin"), listing.includes("keep.py")], [false, true]);
      assertStringIncludes(await step("rm *.bin\r", PROMPT), "rm: no match: *.bin");
      await step("touch a.txt && ls > listing.txt\r", PROMPT);
      await step("pwd >> listing.txt\r", PROMPT);
      const written = await Deno.readTextFile(`${local}/listing.txt`);
      assertEquals([written.includes("a.txt\n"), written.endsWith("\n/\n"), written.includes("\x1b")], [
        true,
        true,
        false,
      ]);
      // A failing first command skips the second.
      const failed = await step("cat nope && pwd\r", PROMPT);
      assertStringIncludes(failed, "cat: no such file on the device: /nope");
      assertEquals(failed.includes("\r\n/\r\n"), false);

      // Tab: the unique match is completed; a second Tab on an ambiguous word lists the candidates.
      await step("cat bo\t", "cat boot.py ");
      assertStringIncludes(await step("\r", PROMPT), "# This file is executed on every boot");
      const listed = await step("cat \t\t", PROMPT);
      assertMatch(listed, /boot\.py +keep\.py/);
      await step("\x15", PROMPT);

      assertStringIncludes(await step("lls\r", PROMPT), "listing.txt");
      assertStringIncludes(await step("lls *.txt\r", PROMPT), "listing.txt");
      assertStringIncludes(await step("lls -x\r", PROMPT), "lls: unknown option '-x' for 'lls'");
      assertMatch(await step("ldu\r", PROMPT), /\d+ B {2}listing\.txt\r\n.*\d+ B {2}\.\r\n/s);
      await step("!echo local > from_bang.txt\r", PROMPT);
      assertEquals(await Deno.readTextFile(`${local}/from_bang.txt`), "local\n");
      assertStringIncludes(await step("frob\r", PROMPT), "frob: command not found");

      assertStringIncludes(await step("\x02", PROMPT), "MicroPython v1.27.0");
      assertStringIncludes(await step("\x0e", PROMPT), "heap");
      assertStringIncludes(await step("\x17", PROMPT), `connection:  ws 127.0.0.1:${emu.port}`);
      assertMatch(await step("\x19", PROMPT), /gc\.collect\(\): \d+ bytes freed/);
      await step("pwd\r", PROMPT);
      assertStringIncludes(await step("\x00", PROMPT), "pwd\r\n/\r\n");

      // CTRL-t before any script; CTRL-e writes one with $EDITOR and runs it; CTRL-t runs it again.
      assertStringIncludes(await step("\x14", PROMPT), "no script yet: CTRL-e writes one");
      assertStringIncludes(await step("\x05", PROMPT), "edited 42");
      assertStringIncludes(await step("\x14", PROMPT), "edited 42");

      // CTRL-c interrupts a script that never ends: KeyboardInterrupt on the device, and the shell goes on.
      await Deno.writeTextFile(
        editor,
        `#!/bin/sh\nprintf "import time\\nprint('looping')\\nwhile True:\\n time.sleep(0.1)\\n" > "$1"\n`,
      );
      await step("\x05", "looping");
      const interrupted = await step("\x03", PROMPT);
      assertStringIncludes(interrupted, "^C\r\nTraceback (most recent call last):");
      assertStringIncludes(interrupted, "KeyboardInterrupt: \r\ninterrupted\r\n");

      // CTRL-d in REPL mode soft-resets: the shell reconnects and keeps the working directory.
      await step("mkdir lib && cd lib\r", "esp32@esp:~/lib $ ");
      await step("\x13", ">>> ");
      // Tab in REPL mode is the device's own completion.
      await step("impo\t", "import ");
      await step("\x03", ">>> ");
      const reset = await step("\x04", ">>> ");
      assertStringIncludes(reset, `reset: reconnecting to 127.0.0.1:${emu.port} ...`);
      assertStringIncludes(reset, `reconnected to 127.0.0.1:${emu.port}`);
      assertStringIncludes(await step("import os; print(os.getcwd())\r", ">>> "), "/lib");
      // CTRL-e works in REPL mode too, and gives the REPL back.
      await Deno.writeTextFile(editor, `#!/bin/sh\nprintf "print('again', 7*6)\\n" > "$1"\n`);
      const edited = await step("\x05", ">>> ");
      assertStringIncludes(edited, "again 42");
      // A link that drops unexpectedly (a hard reset typed at the REPL) asks before reconnecting.
      assertStringIncludes(
        await step("import machine; machine.reset()\r", "reconnect? [Y/n] "),
        `connection to 127.0.0.1:${emu.port} lost`,
      );
      await step("y", ">>> ");
      await step("\x13", "esp32@esp:~/lib $ ");
      // `reset` in shell mode: the device reboots, the shell reconnects.
      const shellReset = await step("reset\r", "esp32@esp:~/lib $ ");
      assertStringIncludes(shellReset, "soft reset: 127.0.0.1");
      assertStringIncludes(shellReset, "reconnected to");
      const exit = await step("exit -r\r", "Connection to esp closed.");
      assertStringIncludes(exit, `soft reset: 127.0.0.1:${emu.port} closed the connection`);
      await running;
      if (Deno.env.get("SHOW")) console.log(io.stdout);
    } finally {
      io.endInput();
      await running.catch(() => {});
      await shell.device.session.close();
    }
  } finally {
    await emu.close();
    await Deno.remove(local, { recursive: true });
  }
});

Deno.test("shell: a link lost during a command gives one line and a reconnect offer; exit -hr", async () => {
  const emu = await startEmulator({ password: "pw", port: 0 });
  try {
    const target = { host: emu.hostname, port: emu.port, password: "pw", secure: false };
    const connect = async () => openedDevice(await openDevice(target), target);
    const io = recordingIo();
    const shell = new Shell(await connect(), io, { name: "esp", reconnect: connect, reconnectDelayMs: 200 });
    const running = shell.run();
    try {
      await waitFor(() => io.stdout.includes("esp32@esp:~ $ "), "the prompt", () => io.stdout);
      const before = io.stdout.length;
      io.feed(`exec "import machine; machine.reset()"\r`);
      await waitFor(() => io.stdout.includes("reconnect? [Y/n] "), "the offer", () => io.stdout);
      assertEquals(
        io.stdout.slice(before).replace(/^.*\r\n/, ""),
        `\r\nconnection to 127.0.0.1:${emu.port} lost; reconnect? [Y/n] `,
      );
      io.feed("\r");
      await waitFor(() => io.stdout.endsWith("esp32@esp:~ $ "), "the prompt again", () => io.stdout);
      io.feed("exit -hr\r");
      await running;
      assertStringIncludes(io.stdout, `hard reset: 127.0.0.1:${emu.port} closed the connection\r\n`);
      assertStringIncludes(io.stdout, "Connection to esp closed.");
    } finally {
      io.endInput();
      await running.catch(() => {});
      await shell.device.session.close();
    }
    // Without a way to reconnect, a lost link ends the shell with that one line.
    const io2 = recordingIo();
    const device = await connect();
    const alone = new Shell(device, io2, { name: "esp" }).run();
    await waitFor(() => io2.stdout.includes("esp32@esp:~ $ "), "the prompt", () => io2.stdout);
    io2.feed(`exec "import machine; machine.reset()"\r`);
    await assertRejects(() => alone, UserError, `connection to 127.0.0.1:${emu.port} lost`);
    await device.session.close();
  } finally {
    await emu.close();
  }
});

/**
 * A shell on an emulated device, at its first prompt, for `use`, which ends it with `exit`; the device, the
 * shell and `cwd` (a temporary local directory) are cleaned up after.
 */
async function withShell(
  use: (shell: { io: ReturnType<typeof recordingIo>; emu: EmulatedDevice; cwd: string }) => Promise<void>,
  flashSize?: number,
): Promise<void> {
  const emu = await startEmulator({ password: "pw", port: 0, flashSize });
  const cwd = await Deno.makeTempDir({ prefix: "upydev-shl-" });
  try {
    const target = { host: emu.hostname, port: emu.port, password: "pw", secure: false };
    const device = openedDevice(await openDevice(target), target);
    const io = recordingIo({ cwd });
    const running = new Shell(device, io, { name: "esp" }).run();
    try {
      await waitFor(() => io.stdout.includes(SHELL_PROMPT), "the prompt", () => io.stdout);
      await use({ io, emu, cwd });
      await running;
    } finally {
      io.endInput();
      await running.catch(() => {});
      await device.session.close();
    }
  } finally {
    await emu.close();
    await Deno.remove(cwd, { recursive: true });
  }
}

const SHELL_PROMPT = "esp32@esp:~ $ ";

Deno.test("shell: every device action of the table runs as a shell command, -h included", async () => {
  await withShell(async ({ io }) => {
    const step = async (input: string) => {
      const before = io.stdout.length;
      io.feed(`${input}\r`);
      await waitFor(() => io.stdout.slice(before).includes(SHELL_PROMPT), input, () => io.stdout);
      return io.stdout.slice(before + input.length + 2, -SHELL_PROMPT.length);
    };
    for (const action of DEVICE_ACTIONS.filter((action) => action.inShell !== false)) {
      assertStringIncludes(await step(`${action.name} -h`), `usage: ${action.usage}\r\n`);
    }
    assertEquals(await step(`exec "print(6*7)"`), "42\r\n");
    assertEquals(
      await step("head -n 1 boot.py"),
      "# This file is executed on every boot (including wake-boot from deepsleep)\r\n",
    );
    assertMatch(await step("shasum boot.py"), /^[0-9a-f]{64} {2}\/boot\.py\r\n$/);
    assertEquals(await step("cp boot.py b2.py && mv b2.py b3.py && ls"), "b3.py    boot.py\r\n");
    assertStringIncludes(await step("tree"), "└── boot.py");
    assertMatch(await step("uptime"), /^up \d\d:\d\d:\d\d\r\n$/);
    assertMatch(await step("datetime"), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\r\n$/);
    assertMatch(await step("id"), /^[0-9a-f]{12}\r\n$/);
    assertStringIncludes(await step("modules"), "micropython");
    assertStringIncludes(await step("df"), "Filesystem");
    assertStringIncludes(await step("net"), "station:");
    assertStringIncludes(await step("log"), "log: no log on the device");
    assertStringIncludes(await step("reload json"), "json reloaded");
    assertStringIncludes(await step("rmdir nothere"), "rmdir: ");
    io.feed("exit\r");
  });
});

Deno.test("shell: CTRL-c stops a transfer as Ctrl-C stops the CLI's, and the shell goes on", async () => {
  await withShell(async ({ io, emu, cwd }) => {
    await Deno.mkdir(`${cwd}/src`);
    for (let i = 0; i < 40; i++) {
      await Deno.writeFile(`${cwd}/src/f${i}.bin`, crypto.getRandomValues(new Uint8Array(32 * 1024)));
    }
    const before = io.stdout.length;
    io.feed("put -r src /app\r");
    // Once the first file is in place, CTRL-c: the put stops at its next frame.
    await waitFor(() => io.stdout.slice(before).includes("-> /app/"), "the first file", () => io.stdout);
    io.feed("\x03");
    await waitFor(() => io.stdout.slice(before).endsWith(SHELL_PROMPT), "the prompt again", () => io.stdout);
    const shown = io.stdout.slice(before);
    assertStringIncludes(shown, "^C");
    assert(shown.endsWith(`put: interrupted\r\n${SHELL_PROMPT}`), shown.slice(-200));
    const listing = await emu.runPython("import os\nprint(repr(os.listdir('/app')).replace(\"'\", '\"'))");
    const copied: string[] = JSON.parse(listing.output);
    assert(copied.length > 0 && copied.length < 40, `${copied.length} files copied`);
    assertEquals(copied.filter((name) => name.startsWith(".upytmp-")), []);
    // The link is still good: the next command runs.
    io.feed(`exec "print(6*7)"\r`);
    await waitFor(() => io.stdout.slice(before).includes("42\r\n"), "the next command", () => io.stdout);
    io.feed("exit\r");
  }, 8 << 20);
});
