import { assertEquals, assertMatch, assertThrows } from "./helpers/assert.ts";
import { UserError } from "../lib/cli/errors.ts";
import { parseLine, quoteWord, tokenize } from "../lib/shell/parse.ts";
import {
  complete,
  type CompletionSources,
  type DirectoryEntry,
  ListingCache,
} from "../lib/shell/completion.ts";
import {
  isLocalPathWord,
  shellCommandNames,
  shellCommandOptions,
  takesDirectories,
} from "../lib/shell/shell_commands.ts";
import { DEVICE_ACTIONS } from "../lib/actions/table.ts";
import { shellCommands } from "../lib/shell/commands.ts";
import { KEYBINDINGS } from "../lib/shell/header.ts";

const steps = (line: string) => {
  const parsed = parseLine(line);
  if (parsed.kind !== "steps") throw new Error(`not steps: ${line}`);
  return parsed.steps;
};

Deno.test("shell parse: words, quotes and escapes as a shell splits them", () => {
  assertEquals(steps(`put "my file.py" 'a b' c\\ d  e`), [{
    words: ["put", "my file.py", "a b", "c d", "e"],
  }]);
  assertEquals(steps(`ls ""`), [{ words: ["ls", ""] }]);
  assertEquals(steps(`cat "say \\"hi\\".txt" 'back\\slash'`), [{
    words: ["cat", 'say "hi".txt', "back\\slash"],
  }]);
  // Patterns stay in the words: the command expands them (on the device, or here for put).
  assertEquals(steps("rm *.bin lib/**/x?.py"), [{ words: ["rm", "*.bin", "lib/**/x?.py"] }]);
  assertEquals(steps("   "), []);
  assertThrows(() => parseLine("cat 'unterminated"), UserError, "unterminated quote");
});

Deno.test("shell parse: && chains, > and >> redirections, quoted operators stay words", () => {
  assertEquals(steps("touch a.txt && ls > listing.txt"), [
    { words: ["touch", "a.txt"] },
    { words: ["ls"], redirect: { path: "listing.txt", append: false } },
  ]);
  assertEquals(steps("cat log>>all.log&&pwd"), [
    { words: ["cat", "log"], redirect: { path: "all.log", append: true } },
    { words: ["pwd"] },
  ]);
  assertEquals(steps(`ls "a && b" 'x>y' c\\>d`), [{ words: ["ls", "a && b", "x>y", "c>d"] }]);
  assertEquals(steps(`ls > "my list.txt"`), [{
    words: ["ls"],
    redirect: { path: "my list.txt", append: false },
  }]);
  for (
    const [line, message] of [
      ["&& ls", "'&&' needs a command on both sides"],
      ["ls &&", "'&&' needs a command on both sides"],
      ["ls >", "'>' needs a local file name"],
      ["ls >> && pwd", "'>>' needs a local file name"],
      ["> out.txt", "'>' needs a command"],
      ["ls > a > b", "one '>' or '>>' per command"],
      ["ls | more", "pipes are not supported"],
      ["ls & pwd", "'&' alone is not supported"],
    ]
  ) {
    assertThrows(() => parseLine(line), UserError, message);
  }
});

Deno.test("shell parse: !cmd keeps the rest of the line for the local shell, as typed", () => {
  assertEquals(parseLine("  !ls -l 'a b' | wc -l"), { kind: "local", command: "ls -l 'a b' | wc -l" });
  assertThrows(() => parseLine("!"), UserError, "'!' needs a command");
  // Only a leading '!' means the local shell; elsewhere it is part of a word.
  assertEquals(steps("cat hi!"), [{ words: ["cat", "hi!"] }]);
});

Deno.test("shell parse: a partial line tokenizes with its open quote, for completion", () => {
  assertEquals(tokenize(`cat "my fi`, { partial: true }).at(-1), {
    kind: "word",
    text: "my fi",
    start: 4,
    end: 10,
    openQuote: '"',
  });
  assertEquals(quoteWord("my file.py"), "my\\ file.py");
  assertEquals(quoteWord("my file.py", '"'), '"my file.py');
  assertEquals(quoteWord("it's", "'"), "it\\'s");
  assertEquals(quoteWord("a&b>c"), "a\\&b\\>c");
});

/** A device with /boot.py, /main.py, /lib/{a.py,sub/}, "/my file.txt" and a name with an escape sequence. */
function sources(overrides: Partial<CompletionSources> = {}) {
  const device: Record<string, DirectoryEntry[]> = {
    "/": [
      { name: "boot.py", isDir: false },
      { name: "main.py", isDir: false },
      { name: "lib", isDir: true },
      { name: "my file.txt", isDir: false },
      { name: ".hidden", isDir: false },
      { name: "bo\x1b[2Jx", isDir: false },
    ],
    "/lib": [{ name: "a.py", isDir: false }, { name: "sub", isDir: true }],
  };
  const listed: string[] = [];
  const base: CompletionSources = {
    commands: shellCommandNames(),
    optionsOf: shellCommandOptions,
    localWord: isLocalPathWord,
    takesDirectories,
    device: (directory) => {
      listed.push(`device ${directory}`);
      return Promise.resolve(device[directory] ?? null);
    },
    local: (directory) => {
      listed.push(`local ${directory}`);
      return Promise.resolve(directory === "/home/me" ? [{ name: "sensor.py", isDir: false }] : null);
    },
    cwd: "/",
    localCwd: "/home/me",
    ...overrides,
  };
  return { sources: base, listed };
}

async function completeLine(line: string, overrides: Partial<CompletionSources> = {}) {
  const { sources: s, listed } = sources(overrides);
  const completion = await complete(line, line.length, s);
  return { completion, listed, line: completion && line.slice(0, completion.from) + completion.replacement };
}

Deno.test("shell completion: device paths, directories, quotes, and a name that would be unsafe", async () => {
  assertEquals((await completeLine("cat bo")).line, "cat boot.py ");
  assertEquals((await completeLine("cat l")).line, "cat lib/");
  assertEquals((await completeLine("cat lib/")).completion?.candidates, ["a.py", "sub/"]);
  assertEquals((await completeLine("cat lib/s")).line, "cat lib/sub/");
  assertEquals((await completeLine("cat /lib/a")).line, "cat /lib/a.py ");
  assertEquals((await completeLine("cat a", { cwd: "/lib" })).line, "cat a.py ");
  assertEquals((await completeLine("cat my")).line, "cat my\\ file.txt ");
  assertEquals((await completeLine(`cat "my`)).line, `cat "my file.txt" `);
  assertEquals((await completeLine("cat .h")).line, "cat .hidden ");
  // Shared prefix only, then the candidates; dot files only when asked for.
  const several = await completeLine("cat ");
  assertEquals(several.line, "cat ");
  // A name with control characters is listed escaped and never typed into the line.
  assertEquals(several.completion?.candidates, ["bo\\x1b[2Jx", "boot.py", "lib/", "main.py", "my file.txt"]);
  assertEquals(several.listed, ["device /"]);
  assertEquals((await completeLine("cat zz")).completion, undefined);
  assertEquals((await completeLine("cat nowhere/x")).completion, undefined);
  // After && a new command starts; after > a local file.
  assertEquals((await completeLine("pwd && cat bo")).line, "pwd && cat boot.py ");
  const redirected = await completeLine("ls > se");
  assertEquals([redirected.line, redirected.listed], ["ls > sensor.py ", ["local /home/me"]]);
});

Deno.test("shell completion: command names, options, and local paths where a command reads this computer", async () => {
  assertEquals((await completeLine("tou")).line, "touch ");
  assertEquals((await completeLine("l")).completion?.candidates.includes("lls"), true);
  assertEquals((await completeLine("ls && sha")).line, "ls && shasum ");
  assertEquals((await completeLine("ls -")).completion?.candidates, ["-l", "-r", "-a", "-h", "--help"]);
  assertEquals((await completeLine("head -")).line, "head -");
  assertEquals((await completeLine("put se")).line, "put sensor.py ");
  assertEquals((await completeLine("put sensor.py li")).line, "put sensor.py lib/");
  assertEquals((await completeLine("get boot.py se")).line, "get boot.py sensor.py ");
  assertEquals((await completeLine("lls se")).line, "lls sensor.py ");
  assertEquals((await completeLine("!ca")).completion, undefined);
  // cd and rmdir take directories: files are not offered.
  assertEquals((await completeLine("cd ")).completion?.candidates, ["lib/"]);
  assertEquals((await completeLine("cd lib/")).line, "cd lib/sub/");
  assertEquals((await completeLine("rmdir m")).completion, undefined);
  // Every action of the table is a shell command (and so completes).
  for (const action of DEVICE_ACTIONS.filter((action) => action.inShell !== false)) {
    assertEquals(shellCommandNames().includes(action.name), true, action.name);
  }
});

Deno.test("shell completion: the listing cache lists each directory once until cleared", async () => {
  const calls: string[] = [];
  const cache = new ListingCache((directory) => {
    calls.push(directory);
    return Promise.resolve([]);
  });
  await cache.get("/");
  await cache.get("/");
  await cache.get("/lib");
  assertEquals(calls, ["/", "/lib"]);
  cache.clear();
  await cache.get("/");
  assertEquals(calls, ["/", "/lib", "/"]);
  let fail = true;
  const flaky = new ListingCache(() =>
    fail ? Promise.reject(new UserError("link lost")) : Promise.resolve([])
  );
  await flaky.get("/").catch(() => {});
  fail = false;
  assertEquals(await flaky.get("/"), []);
});

Deno.test("shell docs: shl --help and the README name every shell command and every key", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const help = shellCommands[0].description!;
  const keys = KEYBINDINGS.slice(1).map((line) => line.trim().split(/\s{2,}/)[0]);
  assertEquals(keys.includes("CTRL-space"), true);
  for (const name of shellCommandNames()) {
    assertEquals(readme.includes(`\`${name}`), true, `README lacks ${name}`);
    assertMatch(help, new RegExp(`^  (.+, )?${name}[ ,]`, "m"), `shl --help lacks ${name}`);
  }
  for (const key of keys.flatMap((key) => key.split("/"))) {
    assertEquals(readme.includes(key.trim()), true, `README lacks ${key}`);
    assertEquals(help.includes(key.trim()), true, `shl --help lacks ${key}`);
  }
});
