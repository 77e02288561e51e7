/** dsync's pure parts: gitignore-style rules, the plan (sizes first, then hashes) and the summary line. */
import { IgnoreRules } from "../lib/dsync/ignore.ts";
import { planSync, summaryLine } from "../lib/dsync/plan.ts";
import type { TreeFile } from "../lib/ops/trees.ts";
import { UserError } from "../lib/cli/errors.ts";
import { runCli } from "../lib/cli/run.ts";
import { deviceActionCommands } from "../lib/actions/table.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { assertEquals, assertRejects } from "./helpers/assert.ts";

Deno.test("ignore rules: gitignore's anchoring, directory-only rules, negation and the last match winning", () => {
  const rules = new IgnoreRules([
    "# a comment",
    "",
    "*.log",
    "/build",
    "docs/",
    "cache/*.bin",
    "!keep.log",
  ]);
  const cases: [string, boolean, boolean][] = [
    ["app.log", false, true],
    ["deep/down/app.log", false, true],
    ["keep.log", false, false],
    ["deep/keep.log", false, false],
    ["build", true, true],
    ["build/out.py", false, true],
    ["src/build", true, false],
    ["docs", true, true],
    ["docs/index.md", false, true],
    ["docs", false, false],
    ["src/docs/x.md", false, true],
    ["cache/a.bin", false, true],
    ["cache/sub/a.bin", false, false],
    ["main.py", false, false],
    [".hidden.log", false, true],
  ];
  for (const [path, isDir, ignored] of cases) {
    assertEquals([path, rules.ignores(path, isDir)], [path, ignored]);
  }
});

Deno.test("ignore rules: version control, caches, temporary uploads and registry files are always ignored", () => {
  const rules = new IgnoreRules(["!*", "!.git"]);
  for (
    const path of [
      ".git",
      ".git/config",
      "lib/__pycache__/a.pyc",
      "lib/.upytmp-0a1b2c3d",
      "upydev_.config",
      "sub/UPY_G.config",
      ".main.py.0123abcd.tmp",
    ]
  ) {
    assertEquals([path, rules.ignores(path, false)], [path, true]);
  }
  assertEquals(rules.ignores("gitignore.py", false), false);
  assertEquals(rules.ignores("my.config", false), false);
});

Deno.test("ignore rules: .upyignore in the local root comes first, -i patterns after it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/.upyignore`, "*.md\r\ntests/\n");
    const rules = await IgnoreRules.load(dir, ["!README.md"]);
    assertEquals(rules.patterns, ["*.md", "tests/", "!README.md"]);
    assertEquals([rules.ignores("notes.md", false), rules.ignores("README.md", false)], [true, false]);
    assertEquals(rules.ignores("tests/test_a.py", false), true);
    assertEquals((await IgnoreRules.load(`${dir}/none`)).patterns, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const file = (path: string, size: number, sha256?: string): TreeFile => ({
  path,
  isDir: false,
  size,
  sha256,
});
const dir = (path: string): TreeFile => ({ path, isDir: true, size: 0 });

Deno.test("plan: sizes first, hashes only for files of equal size; extras and missing directories", async () => {
  const hashed: string[] = [];
  const source = [
    dir("lib"),
    file("lib/a.py", 10),
    file("lib/b.py", 20),
    file("lib/c.py", 30),
    dir("new"),
    file("new/d.py", 5),
  ];
  const target = [
    dir("lib"),
    file("lib/a.py", 10, "aa"),
    file("lib/b.py", 21, "bb"),
    file("lib/c.py", 30, "cc"),
    file("lib/old.py", 3, "dd"),
    dir("gone"),
  ];
  const plan = await planSync(source, target, (entry) => {
    hashed.push(entry.path);
    return Promise.resolve(entry.path === "lib/a.py" ? "aa" : "different");
  });
  assertEquals(hashed, ["lib/a.py", "lib/c.py"]);
  assertEquals(plan.created.map((entry) => entry.path), ["new/d.py"]);
  assertEquals(plan.changed.map((entry) => entry.path), ["lib/b.py", "lib/c.py"]);
  assertEquals(plan.extras.map((entry) => entry.path), ["lib/old.py"]);
  assertEquals([plan.newDirectories, plan.extraDirectories, plan.bytes], [["new"], ["gone"], 55]);
});

Deno.test("plan: a file on one side that is a directory on the other is named before anything happens", async () => {
  await assertRejects(
    () => planSync([file("lib", 3), dir("x")], [dir("lib"), file("x", 1, "h")], () => Promise.resolve("h")),
    UserError,
    "a file on one side is a directory on the other (rename or remove it first): lib, x",
  );
});

Deno.test("summary line: upydev's words", () => {
  assertEquals(summaryLine(3, 1, 0), "3 new files, 1 files changed, 0 files deleted");
});

Deno.test("dsync -i does not silently take LOCAL_DIR for a pattern (checked before any connection)", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${cwd}/src`);
    const run = async (...args: string[]) => {
      const io = recordingIo({ cwd, env: { XDG_CONFIG_HOME: `${cwd}/config` } });
      // Port 9 (discard) on loopback: nothing listens, so reaching the device would fail differently.
      const code = await runCli([...args, "-t", "127.0.0.1:9", "-p", "pw"], io, deviceActionCommands());
      return [code, io.stderr];
    };
    assertEquals(await run("dsync", "-i", "*.md", "src"), [
      2,
      "upydev: -i took 'src' as a pattern: give LOCAL_DIR before -i (dsync src -i PATTERN...), " +
      "or write 'src/' to ignore that directory\n",
    ]);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
