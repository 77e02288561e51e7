/**
 * lib/glob: the matcher (a table of patterns and paths, edge cases included), expansion with a recording
 * lister, local expansion on a temporary tree, and device expansion against the emulator in one exec.
 */
import { assertEquals, assertRejects } from "./helpers/assert.ts";
import { UserError } from "../lib/cli/errors.ts";
import { compileGlob, hasGlob, unescapeGlob } from "../lib/glob/pattern.ts";
import { expandWords, type TreeEntry, type TreeRequest } from "../lib/glob/expand.ts";
import { expandLocalPaths } from "../lib/glob/local.ts";
import { expandDevicePaths, listDeviceTrees } from "../lib/glob/device.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { openDevice } from "../lib/device/connect.ts";
import { DeviceFiles, sha256Hex } from "../lib/ops/files.ts";
import { runCli } from "../lib/cli/run.ts";
import { deviceActionCommands } from "../lib/actions/table.ts";
import { recordingIo } from "../lib/ui/io.ts";

Deno.test("glob: patterns against paths", () => {
  const cases: [string, string, boolean][] = [
    ["*.txt", "a.txt", true],
    ["*.txt", "a.txt.bak", false],
    ["*.txt", "dir/a.txt", false],
    ["*", "", false],
    ["*", "a", true],
    ["*", ".hidden", false],
    [".*", ".hidden", true],
    ["*/*.py", "lib/x.py", true],
    ["*/*.py", "lib/sub/x.py", false],
    ["a?c", "abc", true],
    ["a?c", "ac", false],
    ["a?c", "a/c", false],
    ["?", "é", true],
    ["[abc].py", "b.py", true],
    ["[abc].py", "d.py", false],
    ["[!abc].py", "d.py", true],
    ["[^abc].py", "a.py", false],
    ["[a-c]x", "bx", true],
    ["[a-c]x", "dx", false],
    ["[]]x", "]x", true],
    ["[!]]x", "]x", false],
    ["[a-]x", "-x", true],
    ["[z-a]x", "ax", false],
    ["[abc", "[abc", true],
    ["[a/b]", "a", false],
    ["[a/b]", "[a/b]", true],
    ["**", "a", true],
    ["**", "a/b/c", true],
    ["**", ".git/config", false],
    ["**/*.py", "x.py", true],
    ["**/*.py", "a/b/x.py", true],
    ["**/*.py", "a/.b/x.py", false],
    ["a/**/z", "a/z", true],
    ["a/**/z", "a/b/c/z", true],
    ["a/**/z", "a/b/c/y", false],
    ["a/**", "a", true],
    ["a**b", "axxb", true],
    ["a**b", "ax/xb", false],
    ["a\\*b", "a*b", true],
    ["a\\*b", "axb", false],
    ["\\[x]", "[x]", true],
    ["a.b", "a.b", true],
    ["a.b", "axb", false],
    ["(x)+", "(x)+", true],
    ["$^{1}|", "$^{1}|", true],
    ["/lib/*.py", "/lib/a.py", true],
    ["lib//./*.py", "lib/a.py", true],
  ];
  for (const [pattern, path, expected] of cases) {
    assertEquals(compileGlob(pattern).test(path), expected, `${pattern} vs ${path}`);
  }
  assertEquals(compileGlob("*", { dot: true }).test(".hidden"), true);
  assertEquals(compileGlob("**", { dot: true }).test(".git/config"), true);
  assertEquals(compileGlob("*/").directoriesOnly, true);
  const compiled = compileGlob("*.log");
  assertEquals(["a.log", "b.txt", "c.log"].filter((path) => compiled.test(path)), ["a.log", "c.log"]);
});

Deno.test("glob: which words are patterns, and their literal form", () => {
  assertEquals(["a*", "a?", "a[b]", "plain", "a\\*", "a\\[b]", "a\\b", "x]"].map(hasGlob), [
    true,
    true,
    true,
    false,
    false,
    false,
    false,
    false,
  ]);
  assertEquals(unescapeGlob("a\\*b\\\\c\\d"), "a*b\\c\\d");
});

function treeLister(trees: Record<string, TreeEntry[] | null>) {
  const requests: TreeRequest[][] = [];
  const list = (asked: TreeRequest[]) => {
    requests.push(asked);
    return Promise.resolve(
      asked.map(({ base, depth }) =>
        trees[base]?.filter((entry) => entry.path.split("/").length <= depth) ?? null
      ),
    );
  };
  return { requests, list };
}

Deno.test("glob: expansion lists each base once, only as deep as needed, and keeps the form typed", async () => {
  const { requests, list } = treeLister({
    "": [
      { path: "a.bin", isDir: false },
      { path: "b.bin", isDir: false },
      { path: "file[1].txt", isDir: false },
      { path: "lib", isDir: true },
      { path: "lib/x.py", isDir: false },
      { path: "lib/deep", isDir: true },
      { path: "lib/deep/y.py", isDir: false },
    ],
    "/logs": [{ path: "1.txt", isDir: false }, { path: "2.txt", isDir: false }],
  });
  assertEquals(
    await expandWords(["keep", "*.bin", "/logs/*.txt", "*/*.py", "x\\*y"], list),
    ["keep", "a.bin", "b.bin", "/logs/1.txt", "/logs/2.txt", "lib/x.py", "x*y"],
  );
  assertEquals(requests, [[{ base: "", depth: 2 }, { base: "/logs", depth: 1 }]]);
  assertEquals(await expandWords(["**/*.py"], list), ["lib/deep/y.py", "lib/x.py"]);
  assertEquals(requests[1], [{ base: "", depth: Infinity }]);
  assertEquals(await expandWords(["*/"], list), ["lib/"]);
  // A name with glob characters that exists is its own match.
  assertEquals(await expandWords(["file[1].txt"], list), ["file[1].txt"]);
  await assertRejects(() => expandWords(["*.none"], list), UserError, "no match: *.none");
  await assertRejects(() => expandWords(["/missing/*"], list), UserError, "no match: /missing/*");
  // Plain words never cost a listing.
  const before = requests.length;
  assertEquals(await expandWords(["a b", "c"], list), ["a b", "c"]);
  assertEquals(requests.length, before);
});

Deno.test("glob: local expansion on a temporary tree", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upydev-glob-" });
  try {
    await Deno.mkdir(`${dir}/src/sub`, { recursive: true });
    for (const name of ["a.py", "b.py", "c.txt", ".hidden.py", "src/d.py", "src/sub/e.py"]) {
      await Deno.writeTextFile(`${dir}/${name}`, name);
    }
    assertEquals(await expandLocalPaths(dir, ["*.py"]), ["a.py", "b.py"]);
    assertEquals(await expandLocalPaths(dir, ["src/*.py", "c.txt"]), ["src/d.py", "c.txt"]);
    assertEquals(await expandLocalPaths(dir, ["**/*.py"]), ["a.py", "b.py", "src/d.py", "src/sub/e.py"]);
    assertEquals(await expandLocalPaths("/", [`${dir}/*.txt`]), [`${dir}/c.txt`]);
    assertEquals(await expandLocalPaths(dir, ["*"], { dot: true }), [
      ".hidden.py",
      "a.py",
      "b.py",
      "c.txt",
      "src",
    ]);
    await assertRejects(() => expandLocalPaths(dir, ["*.rs"]), UserError, "no match: *.rs");
    await assertRejects(() => expandLocalPaths(dir, ["a.py/*"]), UserError, "no match: a.py/*");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("glob: device expansion against the emulator reads every base in one exec", async () => {
  const emulator = await startEmulator({ port: 0, password: "globpw" });
  const connection = await openDevice({
    host: "127.0.0.1",
    port: emulator.port,
    password: "globpw",
    secure: false,
  });
  try {
    const files = new DeviceFiles(connection.session);
    await files.mkdir("/logs/old");
    for (
      const name of [
        "/logs/1.txt",
        "/logs/2.txt",
        "/logs/old/0.txt",
        "/logs/x.bin",
        "/a b.bin",
        "/n\x1bq.bin",
      ]
    ) {
      await files.touch(name);
    }
    const session = connection.session;
    const execText = session.execText.bind(session);
    let execs = 0;
    session.execText = (code, options) => {
      execs++;
      return execText(code, options);
    };
    const context = { device: { session }, cwd: "/logs" };
    assertEquals(
      await expandDevicePaths(context, ["*.txt", "/*.bin", "old/*", "plain"]),
      ["1.txt", "2.txt", "/a b.bin", "/n\x1bq.bin", "old/0.txt", "plain"],
    );
    assertEquals(execs, 1);
    assertEquals(await expandDevicePaths(context, ["/**/0.txt"]), ["/logs/old/0.txt"]);
    assertEquals(execs, 2);
    assertEquals(await expandDevicePaths(context, ["no", "globs"]), ["no", "globs"]);
    assertEquals(execs, 2);
    await assertRejects(() => expandDevicePaths(context, ["*.py"]), UserError, "no match: *.py");
    await assertRejects(() => expandDevicePaths(context, ["/nodir/*"]), UserError, "no match: /nodir/*");
    const trees = await listDeviceTrees(session, "/", [{ base: "/logs", depth: 1 }, {
      base: "/1",
      depth: 1,
    }]);
    assertEquals(trees.map((tree) => tree?.sort((a, b) => a.path.localeCompare(b.path)) ?? null), [
      [
        { path: "1.txt", isDir: false },
        { path: "2.txt", isDir: false },
        { path: "old", isDir: true },
        { path: "x.bin", isDir: false },
      ],
      null,
    ]);
  } finally {
    await connection.close();
    await emulator.close();
  }
});

Deno.test("glob: the CLI's path-taking actions expand patterns (upydev rm '/logs/*.txt')", async () => {
  const emulator = await startEmulator({ port: 0, password: "globpw" });
  const dir = await Deno.makeTempDir({ prefix: "upydev-glob-cli-" });
  const run = async (...argv: string[]) => {
    const io = recordingIo({ cwd: dir, env: { XDG_CONFIG_HOME: `${dir}/config` } });
    const address = ["-t", `127.0.0.1:${emulator.port}`, "-p", "globpw"];
    const code = await runCli([...argv, ...address], io, deviceActionCommands());
    return { code, stdout: io.stdout, stderr: io.stderr };
  };
  try {
    await Deno.writeTextFile(`${dir}/a.py`, "A = 1\n");
    await Deno.writeTextFile(`${dir}/b.py`, "B = 2\n");
    assertEquals((await run("mkdir", "/logs", "/lib")).code, 0);
    assertEquals(
      (await run("put", "*.py", "/lib")).stdout,
      "a.py -> /lib/a.py (6 bytes)\nb.py -> /lib/b.py (6 bytes)\n",
    );
    for (const name of ["1.txt", "2.txt", "keep.bin"]) {
      assertEquals((await run("touch", `/logs/${name}`)).code, 0);
    }
    assertEquals((await run("cat", "/lib/?.py")).stdout, "A = 1\nB = 2\n");
    assertEquals(
      (await run("shasum", "/**/b.py")).stdout,
      `${await sha256Hex(new TextEncoder().encode("B = 2\n"))}  /lib/b.py\n`,
    );
    assertEquals(await run("rm", "/logs/*.txt"), { code: 0, stdout: "", stderr: "" });
    assertEquals((await run("ls", "/logs")).stdout, "keep.bin\n");
    assertEquals(await run("rm", "/logs/*.txt"), {
      code: 1,
      stdout: "",
      stderr: "upydev: no match: /logs/*.txt\n",
    });
    await Deno.mkdir(`${dir}/back`);
    assertEquals(
      (await run("get", "/lib/*.py", "back")).stdout,
      "/lib/a.py -> back/a.py (6 bytes)\n/lib/b.py -> back/b.py (6 bytes)\n",
    );
    assertEquals(await Deno.readTextFile(`${dir}/back/b.py`), "B = 2\n");
    assertEquals(
      (await run("get", "/lib/*.py", "a.py")).stderr,
      "upydev: get: a.py is not a local directory\n",
    );
    assertEquals((await run("mv", "/lib/[ab].py", "/logs")).code, 0);
    assertEquals((await run("ls", "/logs")).stdout, "a.py\nb.py\nkeep.bin\n");
  } finally {
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});
