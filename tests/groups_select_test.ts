/**
 * Selecting devices (`-@` words, globs, brace ranges, gg, group names, -G/-GP, --jobs), the group file
 * commands (mkg, mgg, mksg, see, gg) and the group run's output: prefixed lines, the summary, exit codes.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "./helpers/assert.ts";
import "npm:reflect-metadata@0.2.2";
import { type Sandbox, sandbox } from "./helpers/cli.ts";
import { hostWithCa } from "./helpers/wss.ts";
import type { ParsedArgs } from "../lib/cli/command.ts";
import { UserError } from "../lib/cli/errors.ts";
import { expandBraces } from "../lib/config/groups.ts";
import { Registry } from "../lib/config/registry.ts";
import { resolveSelection } from "../lib/config/resolve.ts";
import type { DeviceTarget } from "../lib/device/target.ts";
import { devicePrefixes, PrefixedLines, summaryTable } from "../lib/groups/output.ts";
import { runGroup } from "../lib/groups/run.ts";
import { painter } from "../lib/ui/colour.ts";
import { recordingIo } from "../lib/ui/io.ts";

Deno.test("brace expansion: numeric and letter ranges, zero padding, lists, several braces", () => {
  assertEquals(expandBraces("dev{1..4}"), ["dev1", "dev2", "dev3", "dev4"]);
  assertEquals(expandBraces("dev{3..1}"), ["dev3", "dev2", "dev1"]);
  assertEquals(expandBraces("esp{08..11}"), ["esp08", "esp09", "esp10", "esp11"]);
  assertEquals(expandBraces("{a..c}x"), ["ax", "bx", "cx"]);
  assertEquals(expandBraces("{kitchen,hall}_{1..2}"), ["kitchen_1", "kitchen_2", "hall_1", "hall_2"]);
  assertEquals(expandBraces("plain"), ["plain"]);
  assertEquals(expandBraces("{x}{1..2}"), ["{x}1", "{x}2"]);
  assertThrows(() => expandBraces("d{1..99999}"), UserError, "expands to more than 1024 names");
});

function args(options: ParsedArgs["options"], atName?: string): ParsedArgs {
  return { action: "exec", positionals: [], options, atName };
}

async function withDevices(body: (box: Sandbox, registry: Registry) => Promise<void>): Promise<void> {
  const box = await sandbox();
  try {
    await Deno.mkdir(box.configDir, { recursive: true });
    await Deno.writeTextFile(
      `${box.configDir}/UPY_G.config`,
      JSON.stringify({
        esp1: ["10.0.0.1", "p1"],
        esp2: ["10.0.0.2", "p2:phrase"],
        esp3: ["10.0.0.3", "p3"],
        lamp: ["lamp.local", "p4"],
      }),
    );
    await body(box, new Registry({ cwd: box.cwd, configDir: box.configDir }));
  } finally {
    await box.cleanup();
  }
}

const names = (targets: DeviceTarget[]) => targets.map((target) => target.name);

Deno.test("selection: one plain name is one device; lists, globs, ranges, gg and groups are group runs", async () => {
  await withDevices(async (box, registry) => {
    const one = await resolveSelection(args({ "-@": ["esp2"] }), registry);
    assertEquals([one.kind, names(one.targets), one.targets[0].secure], ["one", ["esp2"], true]);
    assertEquals((await resolveSelection(args({}, "lamp"), registry)).kind, "one");

    const cases: [ParsedArgs, string[]][] = [
      [args({ "-@": ["esp1", "lamp"] }), ["esp1", "lamp"]],
      [args({ "-@": ["esp*"] }), ["esp1", "esp2", "esp3"]],
      [args({ "-@": ["esp?", "esp1"] }), ["esp1", "esp2", "esp3"]],
      [args({ "-@": ["esp[13]"] }), ["esp1", "esp3"]],
      [args({ "-@": ["esp{2..3}"] }), ["esp2", "esp3"]],
      [args({ "-@": ["gg"] }), ["esp1", "esp2", "esp3", "lamp"]],
      [args({ "-@": ["lam*"] }), ["lamp"]],
    ];
    for (const [parsed, expected] of cases) {
      const selection = await resolveSelection(parsed, registry);
      assertEquals([selection.kind, names(selection.targets), selection.jobs], ["group", expected, 8]);
    }

    assertEquals(
      (await box.run("mkg", "pair", "-devs", "a1", "10.1.0.1", "x", "a2", "10.1.0.2", "y")).code,
      0,
    );
    const group = await resolveSelection(args({ "-@": ["pair", "lamp"] }), registry);
    assertEquals(names(group.targets), ["a1", "a2", "lamp"]);
    const sequential = await resolveSelection(args({ "-G": "pair" }), registry);
    assertEquals([sequential.kind, names(sequential.targets), sequential.jobs], ["group", ["a1", "a2"], 1]);
    const parallel = await resolveSelection(args({ "-GP": "pair", "--jobs": "3" }), registry);
    assertEquals([names(parallel.targets), parallel.jobs], [["a1", "a2"], 3]);
  });
});

Deno.test("selection mistakes are one line each", async () => {
  await withDevices(async (_box, registry) => {
    const fails: [ParsedArgs, string][] = [
      [args({ "-@": ["nope"] }), "unknown device 'nope': known devices: esp1, esp2, esp3, lamp"],
      [args({ "-@": ["x*"] }), "no device matches 'x*': known devices: esp1, esp2, esp3, lamp"],
      [args({ "-G": "room" }), "unknown group 'room': no groups yet (see 'upydev mkg')"],
      [
        args({ "-G": "a", "-GP": "b" }),
        "give -G GROUP (one device after another) or -GP GROUP (in parallel)",
      ],
      [
        args({ "-GP": "a", "-@": ["esp1"] }),
        "-G/-GP GROUP selects the devices; it takes no -@ NAME or -t ADDR",
      ],
      [args({ "-@": ["esp*"], "--jobs": "0" }), "--jobs takes a number of devices from 1 to 9999, not '0'"],
      [args({ "-G": "../x" }), "invalid group name '../x'"],
      [
        args({ "-G": "a", "--jobs": "2" }),
        "-G runs one device at a time; use -GP GROUP --jobs N to run N at once",
      ],
    ];
    for (const [parsed, message] of fails) {
      await assertRejects(() => resolveSelection(parsed, registry), UserError, message);
    }
  });
});

Deno.test("mkg, mgg, mksg write upydev's group files; see and gg show them, --json without secrets", async () => {
  await withDevices(async (box) => {
    const made = await box.run(
      "mkg",
      "room",
      "-devs",
      "d1",
      "10.2.0.1",
      "pw1",
      "d2",
      "10.2.0.2",
      "pw2:phr",
      "d3",
      "d3.local",
      "pw3",
    );
    assertEquals(made, {
      code: 0,
      stdout: `Group room with d1, d2, d3 saved in ${box.cwd}/room.config\n`,
      stderr: "",
    });
    assertEquals(JSON.parse(await Deno.readTextFile(`${box.cwd}/room.config`)), {
      d1: ["10.2.0.1", "pw1"],
      d2: ["10.2.0.2", "pw2:phr"],
      d3: ["d3.local", "pw3"],
    });
    assertEquals((await Deno.stat(`${box.cwd}/room.config`)).mode! & 0o777, 0o600);
    const again = await box.run("mkg", "room", "-devs", "d9", "10.2.0.9", "pw");
    assertEquals([again.code, again.stderr], [
      1,
      `upydev: group room already exists (${box.cwd}/room.config): change it with 'upydev mgg'\n`,
    ]);
    const odd = await box.run("mkg", "x", "-devs", "d1", "10.2.0.1");
    assertEquals([odd.code, odd.stderr], [
      2,
      "upydev: -devs takes NAME ADDR PASSWORD for each device (2 words given)\n",
    ]);

    const changed = await box.run("mgg", "-G", "room", "-add", "d4", "10.2.0.4", "pw4", "-rm", "d1");
    assertEquals(changed.stdout, `Group room (${box.cwd}/room.config): added d4, removed d1\n`);
    assertEquals(Object.keys(JSON.parse(await Deno.readTextFile(`${box.cwd}/room.config`))), [
      "d2",
      "d3",
      "d4",
    ]);
    const missing = await box.run("mgg", "-G", "room", "-rm", "d1");
    assertEquals([missing.code, missing.stderr], [
      1,
      `upydev: not in group room: d1 (${box.cwd}/room.config)\n`,
    ]);

    const sub = await box.run("mksg", "-G", "room", "-sg", "corner", "-devs", "d{3..4}", "-g");
    assertEquals(sub.stdout, `Group corner with d3, d4 saved in ${box.configDir}/corner.config\n`);
    assertEquals(Object.keys(JSON.parse(await Deno.readTextFile(`${box.configDir}/corner.config`))), [
      "d3",
      "d4",
    ]);

    const seen = await box.run("see", "corner", "esp2");
    assertEquals(seen.code, 0);
    assertEquals(
      seen.stdout,
      `group corner: ${box.configDir}/corner.config\n` +
        "  d3               d3.local                 password ******  passphrase (none)  ws\n" +
        "  d4               10.2.0.4                 password ******  passphrase (none)  ws\n" +
        "esp2             10.0.0.2                 password ******  passphrase ******  wss\n",
    );
    const json = await box.run("see", "room", "esp*", "--json");
    assertEquals(JSON.parse(json.stdout).devices.map((device: { name: string }) => device.name), [
      "d2",
      "d3",
      "d4",
      "esp1",
      "esp2",
      "esp3",
    ]);
    assertEquals(JSON.parse(json.stdout).devices[0], {
      name: "d2",
      address: "10.2.0.2",
      link: "wss",
      passphraseStored: true,
    });
    const gg = await box.run("gg", "--json");
    const document = JSON.parse(gg.stdout);
    assertEquals(document.groups.map((group: { scope: string }) => group.scope), ["global"]);
    assertEquals(document.groups[0].devices.length, 4);
    for (const output of [json.stdout, gg.stdout]) {
      assert(!/"p[1-4]"|:phr|pw\d/.test(output), output);
    }
  });
});

Deno.test("prefixed lines: whole lines only, bytes split anywhere, an unfinished line flushed at the end", () => {
  let written = "";
  const lines = new PrefixedLines((text) => (written += text), "e1 | ");
  lines.text("a\nb");
  assertEquals(written, "e1 | a\n");
  lines.bytes(new TextEncoder().encode("c\n\u00e9").subarray(0, 3));
  lines.bytes(new TextEncoder().encode("\u00e9").subarray(1));
  assertEquals(written, "e1 | a\ne1 | bc\n");
  lines.flush();
  assertEquals(written, "e1 | a\ne1 | bc\ne1 | \u00e9\n");
});

Deno.test("prefixes are padded to the longest name and coloured only on a terminal", () => {
  const plain = painter(recordingIo(), false);
  assertEquals(devicePrefixes(["a", "long"], plain), ["a    | ", "long | "]);
  const colour = painter(recordingIo(), true);
  assertEquals(devicePrefixes(["a", "b"], colour), ["\x1b[36ma\x1b[0m | ", "\x1b[35mb\x1b[0m | "]);
  assertEquals(devicePrefixes(["a"], painter(recordingIo({ env: { NO_COLOR: "1" } }), true)), ["a | "]);
});

Deno.test("summary table: one row per device, times, errors, and the count", () => {
  const table = summaryTable([
    { device: "esp1", address: "ws://10.0.0.1:8266", status: "ok", ms: 1234 },
    { device: "x", address: "ws://10.0.0.9:8266", status: "failed", ms: 5, error: "cannot connect" },
    { device: "esp3", address: "ws://10.0.0.3:8266", status: "interrupted" },
  ], painter(recordingIo(), false));
  assertEquals(
    table,
    "device  status         time  error\n" +
      "esp1    ok           1.23 s\n" +
      "x       failed       0.01 s  cannot connect\n" +
      "esp3    interrupted       -\n" +
      "1 of 3 devices succeeded\n",
  );
});

const target = (name: string): DeviceTarget => ({
  name,
  host: `${name}.local`,
  password: "p",
  secure: false,
});

Deno.test("a group run never lets one device stop the others, bounds concurrency, and exits 1 on any failure", async () => {
  const io = recordingIo();
  let active = 0;
  let most = 0;
  const code = await runGroup({
    io,
    targets: ["a", "b", "c", "d", "e"].map(target),
    jobs: 2,
    json: false,
    width: 80,
    async task({ target, io: deviceIo }) {
      active++;
      most = Math.max(most, active);
      await new Promise((resolve) => setTimeout(resolve, 10));
      active--;
      if (target.name === "b") throw new UserError("broken");
      deviceIo.out(`hello from ${target.name}\n`);
      return { name: target.name };
    },
  });
  assertEquals([code, most], [1, 2]);
  assertEquals(io.stdout.split("\n").filter(Boolean).sort(), [
    "a | hello from a",
    "c | hello from c",
    "d | hello from d",
    "e | hello from e",
  ]);
  assert(io.stderr.startsWith("b | error: broken\n"), io.stderr);
  assert(io.stderr.endsWith("4 of 5 devices succeeded\n"), io.stderr);

  const jsonIo = recordingIo();
  const jsonCode = await runGroup({
    io: jsonIo,
    targets: ["a", "b"].map(target),
    jobs: 8,
    json: true,
    width: 80,
    task: ({ target, io: deviceIo }) => {
      deviceIo.out("text");
      if (target.name === "b") throw new Error("a bug");
      return Promise.resolve([1, 2]);
    },
  });
  assertEquals(jsonCode, 1);
  const document = JSON.parse(jsonIo.stdout);
  assertEquals(document.ok, false);
  assertEquals(
    document.devices.map((
      entry: Record<string, unknown>,
    ) => [entry.device, entry.result, entry.output, entry.error]),
    [
      ["a", [1, 2], "text", null],
      ["b", null, "text", "internal error (please report it): a bug"],
    ],
  );
  assertEquals(document.devices[0].address, "ws://a.local:8266");
});

Deno.test("--json on one device that cannot be reached: the document says why, stderr has the line, exit 1", async () => {
  const box = await sandbox();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  try {
    const result = await box.run("ls", "--json", "-t", `127.0.0.1:${port}`, "-p", "pw");
    const message = `cannot connect to 127.0.0.1:${port}: connection refused (is WebREPL running there?)`;
    assertEquals([result.code, result.stderr], [1, `upydev: ${message}\n`]);
    const document = JSON.parse(result.stdout);
    assertEquals(
      { ...document, ms: typeof document.ms },
      {
        device: "127.0.0.1",
        address: `ws://127.0.0.1:${port}`,
        ok: false,
        status: "failed",
        ms: "number",
        result: null,
        output: "",
        error: message,
      },
    );
    const repl = await box.run("repl", "-@", "a", "b");
    assertEquals(repl.code, 1);
    await box.run("config", "-t", "10.9.9.1", "-p", "x", "-@", "a", "-gg");
    await box.run("config", "-t", "10.9.9.2", "-p", "x", "-@", "b", "-gg");
    const both = await box.run("repl", "-@", "a", "b");
    assertEquals([both.code, both.stderr], [
      2,
      "upydev: 'repl' takes over the terminal: it works on one device\n",
    ]);
  } finally {
    await box.cleanup();
  }
});

Deno.test("kg ssl CA|host|dev status --json: the certificates as one document", async () => {
  const box = await hostWithCa();
  try {
    const ca = await box.run("kg", "ssl", "CA", "status", "--json");
    assertEquals([ca.code, ca.stderr], [0, ""]);
    const [root] = JSON.parse(ca.stdout).certificates;
    assertEquals([root.label, root.path], ["ROOT CA", `${box.configDir}/pki/ROOT_CA_cert.pem`]);
    assertEquals(root.subject, root.issuer);
    assert(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/i.test(root.sha256), root.sha256);
    assertEquals([typeof root.daysLeft, Date.parse(root.notAfter) > Date.now()], ["number", true]);
    const host = JSON.parse((await box.run("kg", "ssl", "host", "status", "--json")).stdout).certificates;
    assertEquals([host.length, host[0].label, host[0].issuer], [1, "HOST", root.subject]);
    const devices = await box.run("kg", "ssl", "dev", "status", "--json");
    assertEquals([devices.code, JSON.parse(devices.stdout)], [0, { certificates: [] }]);
    for (
      const argv of [["kg", "ssl", "CA", "--json"], [
        "kg",
        "ssl",
        "--uid",
        "30aea4233564",
        "--san",
        "e1.local",
        "--json",
      ]]
    ) {
      const refused = await box.run(...argv);
      assertEquals([refused.code, refused.stdout, refused.stderr], [
        2,
        "",
        "upydev: --json goes with 'kg ssl CA|host|dev status' and 'kg ssl' over several devices\n",
      ]);
    }
  } finally {
    await box.cleanup();
  }
});
