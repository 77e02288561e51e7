import { assertEquals, assertStringIncludes, assertThrows } from "./helpers/assert.ts";
import { sandbox } from "./helpers/cli.ts";
import type { CommandSpec, ParsedArgs } from "../lib/cli/command.ts";
import { UsageError } from "../lib/cli/errors.ts";
import { parseCommandLine } from "../lib/cli/parse.ts";
import { commandTable } from "../lib/cli/table.ts";

/** Every command line of the seed guide, as the user types it, with what it must mean. */
const SEED_LINES: [string, Omit<ParsedArgs, "atName"> & { atName?: string }][] = [
  ["upydev update_upyutils", { action: "update_upyutils", positionals: [], options: {} }],
  ["upydev kg ssl CA -tfkey", { action: "kg", positionals: ["ssl", "CA"], options: { "-tfkey": true } }],
  ["upydev kg ssl host", { action: "kg", positionals: ["ssl", "host"], options: {} }],
  ["upydev kg ssl -tfkey", { action: "kg", positionals: ["ssl"], options: { "-tfkey": true } }],
  ["upydev shl", { action: "shl", positionals: [], options: {} }],
  ["upydev shl@esp_room1", { action: "shl", atName: "esp_room1", positionals: [], options: {} }],
  [
    "upydev config -t esp_room1.local -p mypasswd:mypassphr -@ esp_room1 -gg",
    {
      action: "config",
      positionals: [],
      options: { "-t": "esp_room1.local", "-p": "mypasswd:mypassphr", "-@": ["esp_room1"], "-gg": true },
    },
  ],
];

Deno.test("every command line of the seed guide parses to its action and options", () => {
  const table = commandTable();
  for (const [line, expected] of SEED_LINES) {
    const invocation = parseCommandLine(line.split(" ").slice(1), table);
    if (invocation.kind !== "action") throw new Error(`${line}: parsed as ${invocation.kind}`);
    assertEquals(invocation.args, { atName: undefined, ...expected }, line);
  }
});

const fakeTable: CommandSpec[] = [
  {
    name: "put",
    summary: "upload",
    usage: "put SRC [DST]",
    options: [{ names: ["-r", "--recursive"], kind: "flag", help: "recursive" }, {
      names: ["--chunk"],
      kind: "value",
      help: "chunk",
    }],
    positionals: { min: 1, max: 2 },
    device: true,
    run: () => Promise.resolve(),
  },
  {
    name: "shl",
    aliases: ["shell"],
    summary: "shell",
    usage: "shl",
    positionals: { min: 0, max: 0 },
    device: true,
    run: () => Promise.resolve(),
  },
  {
    name: "gg",
    summary: "list",
    usage: "gg",
    positionals: { min: 0, max: 0 },
    device: false,
    run: () => Promise.resolve(),
  },
];

function parse(line: string) {
  const invocation = parseCommandLine(line === "" ? [] : line.split(" "), fakeTable);
  if (invocation.kind !== "action") return invocation;
  return { ...invocation, spec: invocation.spec.name };
}

function parseAction(line: string) {
  const invocation = parseCommandLine(line.split(" "), fakeTable);
  if (invocation.kind !== "action") throw new Error(`${line}: not an action`);
  return invocation;
}

Deno.test("grammar: options anywhere, lists until the next option, aliases, --opt=value, --", () => {
  assertEquals(parse("put a.py -t 10.0.0.1 b.py -p pw -@ x y* -r"), {
    kind: "action",
    spec: "put",
    help: false,
    args: {
      action: "put",
      atName: undefined,
      positionals: ["a.py", "b.py"],
      options: { "-t": "10.0.0.1", "-p": "pw", "-@": ["x", "y*"], "-r": true },
    },
  });
  assertEquals(parseAction("shell@dev1").args.atName, "dev1");
  const code = parseCommandLine(["put", "-@", "esp1", "print(1); x = 2"], fakeTable);
  if (code.kind !== "action") throw new Error("not an action");
  assertEquals([code.args.options["-@"], code.args.positionals], [["esp1"], ["print(1); x = 2"]]);
  assertEquals(parseAction("put --chunk=512 a").args.options, { "--chunk": "512" });
  assertEquals(parseAction("put -- -odd-name").args.positionals, ["-odd-name"]);
  assertEquals(parseAction("put --recursive a").args.options, { "-r": true });
  assertEquals(parseAction("put -h").help, true);
  assertEquals(parse(""), { kind: "help" });
  assertEquals(parse("--help"), { kind: "help" });
  assertEquals(parse("--version"), { kind: "version" });
});

Deno.test("grammar: mistakes are UsageErrors naming the token, with a suggestion when one is close", () => {
  const cases: [string, string][] = [
    ["pt a", "unknown action 'pt' (did you mean 'put'?)"],
    ["frobnicate", "unknown action 'frobnicate' (see"],
    ["put a -x", "unknown option '-x' for 'put'"],
    ["put a --recursiv", "(did you mean '--recursive'?)"],
    ["put a -t", "option '-t' needs a value (ADDR)"],
    ["put a -t -p pw", "option '-t' needs a value (ADDR)"],
    ["put a -@", "option '-@' needs at least one NAME"],
    ["put", "'put' needs more arguments: usage: upydev put SRC [DST]"],
    ["put a b c", "unexpected argument 'c' for 'put'"],
    ["gg@dev", "'gg' does not take a device"],
    ["shl@", "missing device name after 'shl@'"],
    ["-t 1.2.3.4", "expected an action before '-t'"],
    ["put a -r=1", "unknown option '-r=1'"],
  ];
  for (const [line, message] of cases) {
    const error = assertThrows(() => parse(line), UsageError);
    assertStringIncludes(error.message, message);
    assertEquals((error as UsageError).exitCode, 2);
  }
});

Deno.test("upydev --help lists every action with one line each; ACTION --help shows its options", async () => {
  const box = await sandbox();
  try {
    const help = await box.run("--help");
    assertEquals(help.code, 0);
    for (const spec of commandTable()) {
      const lines = help.stdout.split("\n").filter((line) => line.startsWith(`  ${spec.name} `));
      assertEquals(lines.length, 1, spec.name);
    }
    for (const spec of commandTable()) {
      const actionHelp = await box.run(spec.name, "--help");
      assertEquals(actionHelp.code, 0, spec.name);
      assertStringIncludes(actionHelp.stdout, `usage: upydev ${spec.usage}`);
      assertStringIncludes(actionHelp.stdout, "-h, --help");
    }
    const version = await box.run("--version");
    assertEquals(version.stdout.startsWith("upydev "), true);
    const unknown = await box.run("shel");
    assertEquals(unknown.code, 2);
    assertEquals(unknown.stderr.split("\n").filter(Boolean).length, 1);
  } finally {
    await box.cleanup();
  }
});
