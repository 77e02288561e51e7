/**
 * .github/workflows/release.yml can only run on GitHub (deno compile needs denort from Deno's download host), so
 * what can be checked here is: the file parses, every deno flag it uses exists in the pinned Deno, the Workers that
 * the code loads by URL are all --included, and its targets are the five that scripts/release.sh builds.
 */
import { parse } from "npm:yaml@2.9.1";
import { assert, assertEquals } from "./helpers/assert.ts";

const root = new URL("../", import.meta.url);
const RELEASE_TARGETS = ["linux-x86_64", "linux-aarch64", "macos-x86_64", "macos-aarch64", "windows-x86_64"];

interface Step {
  name?: string;
  run?: string;
  uses?: string;
}
interface Job {
  needs?: string;
  steps: Step[];
  strategy?: { matrix: { include: { target: string }[] } };
}
interface Workflow {
  on: { push: { tags: string[] } };
  jobs: Record<string, Job>;
}

const workflow = parse(await Deno.readTextFile(new URL(".github/workflows/release.yml", root))) as Workflow;
const scripts = Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((step) => step.run ?? []));

/** Every `scripts/deno.sh SUBCOMMAND ...` command in the workflow's scripts, continuation lines joined. */
function denoCommands(): { subcommand: string; words: string[] }[] {
  return scripts.flatMap((script) =>
    script.replaceAll("\\\n", " ").split("\n").flatMap((line) => {
      const match = line.match(/(?:^|\s)\.\/scripts\/deno\.sh\s+(\S+)(.*)$/);
      return match ? [{ subcommand: match[1], words: match[2].trim().split(/\s+/).filter(Boolean) }] : [];
    })
  );
}

async function helpOf(subcommand: string): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [subcommand, "--help"],
    env: { NO_COLOR: "1" },
  })
    .output();
  assertEquals(output.code, 0, `deno ${subcommand} --help failed`);
  return new TextDecoder().decode(output.stdout);
}

Deno.test("release.yml: runs on version tags; builds, smoke-tests on each platform, then publishes", () => {
  assertEquals(workflow.on.push.tags, ["v[0-9]+.[0-9]+.[0-9]+*"]);
  assertEquals(Object.keys(workflow.jobs), ["build", "smoke", "publish"]);
  assertEquals(workflow.jobs.smoke.needs, "build");
  assertEquals(workflow.jobs.publish.needs, "smoke");
  assertEquals(workflow.jobs.smoke.strategy?.matrix.include.map((entry) => entry.target), RELEASE_TARGETS);
  assert(scripts.some((script) => script.includes("./scripts/deno.sh task release")), "no portable archives");
  assert(scripts.some((script) => script.includes("gh release create")), "nothing is published");
});

Deno.test("release.yml: every deno flag it uses exists in the pinned Deno's --help for that subcommand", async () => {
  const commands = denoCommands();
  assertEquals(commands.map((command) => command.subcommand).sort(), ["cache", "compile", "task"]);
  const unknown: string[] = [];
  for (const { subcommand, words } of commands) {
    const help = await helpOf(subcommand);
    for (const flag of words.filter((word) => word.startsWith("-")).map((word) => word.split("=")[0])) {
      const listed = new RegExp(`(^|[\\s,])${flag.replace(/[-]/g, "\\-")}([\\s,=\\[]|$)`, "m");
      if (!listed.test(help)) unknown.push(`deno ${subcommand} ${flag}`);
    }
  }
  assertEquals(unknown, []);
});

Deno.test("release.yml and build.sh: deno compile includes device/ and every Worker; the five targets", async () => {
  const [compile] = denoCommands().filter((command) => command.subcommand === "compile");
  const includes = compile.words.flatMap((word, index) =>
    compile.words[index - 1] === "--include" ? [word] : []
  );
  assertEquals(compile.words.includes("--target"), true);
  for (const include of includes) await Deno.stat(new URL(include, root));

  // Every module started as a Worker or Worker plugin by URL must be embedded, or the binary cannot load it.
  const byUrl: string[] = [];
  for (const file of ["lib/emulator/device.ts", "lib/emulator/shims/wss.ts"]) {
    const source = await Deno.readTextFile(new URL(file, root));
    for (const [, relative] of source.matchAll(/new URL\("(\.\/[^"]+\.ts)", import\.meta\.url\)/g)) {
      byUrl.push(new URL(relative, new URL(file, root)).pathname.slice(root.pathname.length));
    }
  }
  assertEquals(byUrl.sort(), ["lib/emulator/shims/worker_plugin.ts", "lib/emulator/worker.ts"]);
  assertEquals(includes.sort(), ["device/", ...byUrl]);
  const buildScript = await Deno.readTextFile(new URL("scripts/build.sh", root));
  assertEquals(buildScript.match(/^workers=\((.*)\)$/m)?.[1].split(" ").sort(), byUrl);

  const step = scripts.find((script) => script.includes("scripts/deno.sh compile"))!;
  const pairs = [...step.matchAll(/([a-z]+-[a-z0-9_]+):([a-z0-9_]+-[a-z0-9_-]+)/g)].map((m) => [m[1], m[2]]);
  assertEquals(pairs, [
    ["linux-x86_64", "x86_64-unknown-linux-gnu"],
    ["linux-aarch64", "aarch64-unknown-linux-gnu"],
    ["macos-x86_64", "x86_64-apple-darwin"],
    ["macos-aarch64", "aarch64-apple-darwin"],
    ["windows-x86_64", "x86_64-pc-windows-msvc"],
  ]);
  const releaseScript = await Deno.readTextFile(new URL("scripts/release.sh", root));
  assertEquals(releaseScript.match(/^all_targets=\((.*)\)$/m)?.[1].split(" "), RELEASE_TARGETS);
});
