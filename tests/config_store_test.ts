/**
 * The registry under stress and damage: parallel writers, corrupt or wrong-shaped files, a config folder that
 * is a file, a read-only folder, and the password rule in bytes. Each ends in one line naming the cause.
 */
import { assert, assertEquals, assertStringIncludes } from "./helpers/assert.ts";
import { type CliResult, sandbox } from "./helpers/cli.ts";
import { fileURLToPath } from "node:url";
import { makeReadOnly } from "./helpers/read_only.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

/** The real CLI in its own process, as ten shells would run it. */
async function upydevProcess(home: string, cwd: string, args: string[]): Promise<CliResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--frozen", MAIN, ...args],
    cwd,
    env: { HOME: home, USER: "carlo", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

function assertOneLine(result: CliResult, code: number, includes: string): void {
  assertEquals(result.code, code, result.stderr);
  assertStringIncludes(result.stderr, includes);
  assertEquals(result.stderr.trim().split("\n").length, 1, result.stderr);
  assert(!result.stderr.includes("internal error"), result.stderr);
}

Deno.test("config: ten parallel 'config -@ devN -gg' processes leave ten entries", async () => {
  const box = await sandbox();
  try {
    const runs = Array.from(
      { length: 10 },
      (_, n) =>
        upydevProcess(box.home, box.cwd, [
          "config",
          "-t",
          `10.0.0.${n + 1}`,
          "-p",
          "pw",
          "-@",
          `dev${n}`,
          "-gg",
        ]),
    );
    for (const result of await Promise.all(runs)) assertEquals(result.code, 0, result.stderr);
    const group = JSON.parse(await Deno.readTextFile(`${box.configDir}/UPY_G.config`));
    assertEquals(Object.keys(group).sort(), Array.from({ length: 10 }, (_, n) => `dev${n}`).sort());
  } finally {
    await box.cleanup();
  }
});

Deno.test("config: parallel saves inside one process keep every entry too", async () => {
  const box = await sandbox();
  try {
    const runs = Array.from(
      { length: 20 },
      (_, n) => box.run("config", "-t", `10.0.0.${n + 1}`, "-p", "pw", "-@", `dev${n}`, "-gg"),
    );
    for (const result of await Promise.all(runs)) assertEquals(result.code, 0, result.stderr);
    const group = JSON.parse(await Deno.readTextFile(`${box.configDir}/UPY_G.config`));
    assertEquals(Object.keys(group).length, 20);
  } finally {
    await box.cleanup();
  }
});

Deno.test("config: a null group file or a wrong-typed entry is reported as corrupt and left alone", async () => {
  const box = await sandbox();
  try {
    await Deno.mkdir(box.configDir, { recursive: true });
    const path = `${box.configDir}/UPY_G.config`;
    const cases = [
      "null",
      '{"good": ["10.0.0.1", "pw"], "bad": ["10.0.0.2", 5]}',
      '{"bad": "10.0.0.3"}',
      // The kept-session seconds after upydev's two fields: whole seconds, at most a day.
      '{"good": ["10.0.0.1", "pw"], "bad": ["10.0.0.2", "pw", "soon"]}',
      '{"bad": ["10.0.0.2", "pw", 90000]}',
    ];
    for (const text of cases) {
      await Deno.writeTextFile(path, text);
      const saved = await box.run("config", "-t", "10.0.0.9", "-p", "pw", "-@", "esp", "-gg");
      assertOneLine(saved, 1, `corrupt config file ${path}`);
      assertEquals(await Deno.readTextFile(path), text);
      const removed = await box.run("config", "--remove", "-@", "good", "-gg");
      assertOneLine(removed, 1, `corrupt config file ${path}`);
      assertEquals(await Deno.readTextFile(path), text);
    }
    assertStringIncludes(
      (await box.run("config", "-t", "10.0.0.9", "-p", "pw", "-@", "esp", "-gg")).stderr,
      "entry 'bad' is not [ADDRESS, PASSWORD]",
    );
    // The default device's kept-session seconds are checked the same way.
    const local = `${box.cwd}/upydev_.config`;
    const text = '{"addr": "10.0.0.1", "passwd": "pw", "persist": 0}';
    await Deno.writeTextFile(local, text);
    assertOneLine(
      await box.run("exec", "pass"),
      1,
      `corrupt config file ${local}: "persist" must be whole seconds from 1 to 86400`,
    );
    assertEquals(await Deno.readTextFile(local), text);
  } finally {
    await box.cleanup();
  }
});

Deno.test("config: a config folder that is a file names the path and the cause", async () => {
  const box = await sandbox();
  try {
    await Deno.mkdir(`${box.home}/.config`, { recursive: true });
    await Deno.writeTextFile(box.configDir, "not a folder");
    assertOneLine(
      await box.run("config", "-t", "10.0.0.9", "-p", "pw", "-@", "esp", "-gg"),
      1,
      `cannot write ${box.configDir}/.upydev.lock: a part of ${box.configDir} is a file, not a directory`,
    );
    assertOneLine(await box.run("gg"), 1, `cannot read ${box.configDir}/UPY_G.config: a part of`);
    assertOneLine(
      await box.run("config", "-t", "10.0.0.9", "-p", "pw", "-g"),
      1,
      `cannot write ${box.configDir}/.upydev.lock`,
    );
  } finally {
    await box.cleanup();
  }
});

Deno.test("config: a config file that is a directory names the path and the cause", async () => {
  const box = await sandbox();
  try {
    await Deno.mkdir(`${box.configDir}/UPY_G.config`, { recursive: true });
    await Deno.mkdir(`${box.cwd}/upydev_.config`);
    assertOneLine(
      await box.run("config", "-t", "10.0.0.9", "-p", "pw", "-@", "esp", "-gg"),
      1,
      `cannot read ${box.configDir}/UPY_G.config: it is a directory, not a file`,
    );
    assertOneLine(
      await box.run("config", "-t", "10.0.0.9", "-p", "pw"),
      1,
      `cannot read ${box.cwd}/upydev_.config: it is a directory, not a file`,
    );
  } finally {
    await box.cleanup();
  }
});

Deno.test({
  name: "config: a read-only config folder names the path and the cause",
  ignore: Deno.build.os === "windows",
  async fn() {
    const box = await sandbox();
    try {
      await Deno.mkdir(box.configDir, { recursive: true });
      await Deno.writeTextFile(`${box.configDir}/UPY_G.config`, "{}");
      await Deno.writeTextFile(`${box.configDir}/.upydev.lock`, "");
      const restore = [await makeReadOnly(box.configDir), await makeReadOnly(box.cwd)];
      try {
        assertOneLine(
          await box.run("config", "-t", "10.0.0.9", "-p", "pw", "-@", "esp", "-gg"),
          1,
          `cannot write ${box.configDir}/UPY_G.config: permission denied`,
        );
        assertOneLine(
          await box.run("config", "-t", "10.0.0.9", "-p", "pw"),
          1,
          `cannot write ${box.cwd}/.upydev.lock: permission denied`,
        );
      } finally {
        for (const undo of restore) await undo();
      }
    } finally {
      await box.cleanup();
    }
  },
});

Deno.test("config: the password rule counts bytes, as the device does", async () => {
  const box = await sandbox();
  try {
    assertOneLine(
      await box.run("config", "-t", "10.0.0.9", "-p", "ééééé"),
      2,
      "the WebREPL password must be 1 to 9 bytes in UTF-8 (the device keeps at most 9); this one is 10 bytes",
    );
    assertOneLine(
      await box.run("config", "-t", "10.0.0.9", "-p", "pw\uFFFD"),
      2,
      "the WebREPL password has bytes that are not valid UTF-8 text",
    );
    assertOneLine(
      await box.run("config", "-t", "10.0.0.9", "-p", "pw\uD800"),
      2,
      "the WebREPL password has bytes that are not valid UTF-8 text",
    );
    assertEquals((await box.run("config", "-t", "10.0.0.9", "-p", "éééé:pp")).code, 0);
    // The session applies the same rule to what the registry holds.
    await Deno.writeTextFile(
      `${box.cwd}/upydev_.config`,
      JSON.stringify({ addr: "127.0.0.1:9", passwd: "ééééé" }),
    );
    assertOneLine(await box.run("info"), 2, "this one is 10 bytes");
  } finally {
    await box.cleanup();
  }
});

Deno.test("config: a non-UTF-8 password on the command line is refused, not turned into U+FFFD", async () => {
  const box = await sandbox();
  try {
    const script = `${box.home}/run.sh`;
    await Deno.writeTextFile(
      script,
      `exec "${Deno.execPath()}" run -A --frozen "${MAIN}" config -t 10.0.0.9 -p "$(printf 'pw\\377')"\n`,
    );
    const output = await new Deno.Command("sh", {
      args: [script],
      cwd: box.cwd,
      env: { HOME: box.home, USER: "carlo" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assertOneLine({ code: output.code, stdout: "", stderr }, 2, "not valid UTF-8 text");
  } finally {
    await box.cleanup();
  }
});

Deno.test("config: an invalid name after -@ is refused, never taken as an argument", async () => {
  const box = await sandbox();
  try {
    for (
      const argv of [["ls", "-@", "good", "bad/name"], [
        "config",
        "-t",
        "1.2.3.4",
        "-p",
        "pw",
        "-@",
        "good",
        "bad/name",
      ]]
    ) {
      assertOneLine(
        await box.run(...argv),
        2,
        "invalid NAME 'bad/name' after -@ (put other arguments before -@)",
      );
    }
  } finally {
    await box.cleanup();
  }
});

Deno.test("config: a device named __proto__ is stored like any other", async () => {
  const box = await sandbox();
  try {
    assertEquals((await box.run("config", "-t", "10.0.0.7", "-p", "pw", "-@", "__proto__", "-gg")).code, 0);
    assertEquals(
      await Deno.readTextFile(`${box.configDir}/UPY_G.config`),
      '{\n  "__proto__": [\n    "10.0.0.7",\n    "pw"\n  ]\n}\n',
    );
    assertStringIncludes((await box.run("gg")).stdout, "__proto__");
  } finally {
    await box.cleanup();
  }
});
