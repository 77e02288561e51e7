import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "./helpers/assert.ts";
import { sandbox } from "./helpers/cli.ts";
import { parseAddress } from "../lib/config/address.ts";
import { Registry } from "../lib/config/registry.ts";
import { resolveDevice } from "../lib/config/resolve.ts";
import { UserError } from "../lib/cli/errors.ts";
import type { ParsedArgs } from "../lib/cli/command.ts";

Deno.test("config -gg stores the device in the global group, mode 0600, and gg lists it masked", async () => {
  const box = await sandbox();
  try {
    const saved = await box.run(
      "config",
      "-t",
      "192.168.1.42",
      "-p",
      "s3cr3t:ph7ase",
      "-@",
      "esp_room1",
      "-gg",
    );
    assertEquals(saved, {
      code: 0,
      stdout: "WebSocketDevice esp_room1 settings saved in global group!\n",
      stderr: "",
    });
    const path = `${box.configDir}/UPY_G.config`;
    assertEquals(JSON.parse(await Deno.readTextFile(path)), { esp_room1: ["192.168.1.42", "s3cr3t:ph7ase"] });
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    const listed = await box.run("gg");
    assertEquals(listed.code, 0);
    assertStringIncludes(listed.stdout, "esp_room1");
    assertStringIncludes(listed.stdout, "192.168.1.42");
    assert(!listed.stdout.includes("s3cr3t") && !listed.stdout.includes("ph7ase"), "secrets are masked");
    assertMatch(listed.stdout, /password \*+ +passphrase \*+ +wss/);
  } finally {
    await box.cleanup();
  }
});

Deno.test("config without -gg writes ./upydev_.config in upydev's shape; -g writes the global default", async () => {
  const box = await sandbox();
  try {
    assertEquals((await box.run("config", "-t", "esp_room1.local", "-p", "mypasswd", "-@", "dev1")).code, 0);
    const local = JSON.parse(await Deno.readTextFile(`${box.cwd}/upydev_.config`));
    assertEquals(local, { addr: "esp_room1.local", passwd: "mypasswd", name: "dev1" });
    assertEquals((await Deno.stat(`${box.cwd}/upydev_.config`)).mode! & 0o777, 0o600);
    assertEquals((await box.run("config", "-t", "10.0.0.2:8266", "-p", "pw", "-g")).code, 0);
    const global = JSON.parse(await Deno.readTextFile(`${box.configDir}/upydev_.config`));
    assertEquals(global, { addr: "10.0.0.2:8266", passwd: "pw", name: "upydevice" });
  } finally {
    await box.cleanup();
  }
});

Deno.test("registry reads upydev's files, including the legacy 'ip' key, and round-trips groups", async () => {
  const box = await sandbox();
  try {
    await Deno.mkdir(box.configDir, { recursive: true });
    await Deno.writeTextFile(
      `${box.cwd}/upydev_.config`,
      JSON.stringify({ ip: "192.168.4.1", passwd: "abc" }),
    );
    await Deno.writeTextFile(
      `${box.configDir}/UPY_G.config`,
      JSON.stringify({ esp_a: ["192.168.1.10", "pw:pp"], esp_b: ["esp_b.local", "pw2"] }),
    );
    const registry = new Registry({ cwd: box.cwd, configDir: box.configDir });
    assertEquals(await registry.readDefault("local"), {
      name: "upydevice",
      address: "192.168.4.1",
      password: "abc",
    });
    const group = await registry.readGroup("global");
    assertEquals(group, [
      { name: "esp_a", address: "192.168.1.10", password: "pw", passphrase: "pp" },
      { name: "esp_b", address: "esp_b.local", password: "pw2" },
    ]);
    await registry.saveToGroup({ name: "esp_c", address: "wss://10.1.1.1:9000", password: "x" }, "global");
    const again = await registry.readGroup("global");
    assertEquals(again.map((entry) => entry.name), ["esp_a", "esp_b", "esp_c"]);
    assert(await registry.removeFromGroup("esp_b", "global"));
    assert(!await registry.removeFromGroup("esp_b", "global"));
    assertEquals((await registry.readGroup("global")).map((entry) => entry.name), ["esp_a", "esp_c"]);
  } finally {
    await box.cleanup();
  }
});

Deno.test("a corrupt config file is reported with its path and never overwritten", async () => {
  const box = await sandbox();
  try {
    await Deno.mkdir(box.configDir, { recursive: true });
    const path = `${box.configDir}/UPY_G.config`;
    await Deno.writeTextFile(path, "{ not json");
    const result = await box.run("config", "-t", "192.168.1.42", "-p", "pw", "-@", "esp", "-gg");
    assertEquals(result.code, 1);
    assertStringIncludes(result.stderr, `corrupt config file ${path}`);
    assertEquals(result.stderr.trim().split("\n").length, 1);
    assertEquals(await Deno.readTextFile(path), "{ not json");
    const local = `${box.cwd}/upydev_.config`;
    await Deno.writeTextFile(local, JSON.stringify({ addr: 5 }));
    const second = await box.run("config", "-t", "192.168.1.42", "-p", "pw");
    assertEquals(second.code, 1);
    assertStringIncludes(second.stderr, `corrupt config file ${local}`);
    assertEquals(await Deno.readTextFile(local), JSON.stringify({ addr: 5 }));
  } finally {
    await box.cleanup();
  }
});

Deno.test("config rejects bad input with one line and exit 2", async () => {
  const box = await sandbox();
  try {
    const cases: [string[], string][] = [
      [["config", "-t", "999.1.1.1", "-p", "pw"], "an IPv4 octet is over 255"],
      [["config", "-t", "192.168.1.42", "-p", "waytoolongpw"], "1 to 9 bytes in UTF-8"],
      [["config", "-p", "pw"], "config needs -t ADDR"],
      [["config", "-t", "192.168.1.42"], "config needs -p PASSWORD"],
      [["config", "-t", "192.168.1.42", "-p", "pw", "-gg"], "config -gg needs -@ NAME"],
      [["config", "-t"], "option '-t' needs a value"],
    ];
    for (const [argv, message] of cases) {
      const result = await box.run(...argv);
      assertEquals(result.code, 2, argv.join(" "));
      assertStringIncludes(result.stderr, message);
      assertEquals(result.stderr.trim().split("\n").length, 1);
    }
    await assertRejects(() => Deno.stat(`${box.cwd}/upydev_.config`), Deno.errors.NotFound);
  } finally {
    await box.cleanup();
  }
});

Deno.test("config --remove deletes a device from the group", async () => {
  const box = await sandbox();
  try {
    await box.run("config", "-t", "192.168.1.42", "-p", "pw", "-@", "esp1", "-gg");
    const removed = await box.run("config", "--remove", "-@", "esp1", "-gg");
    assertEquals(removed.code, 0);
    assertEquals(JSON.parse(await Deno.readTextFile(`${box.configDir}/UPY_G.config`)), {});
    const missing = await box.run("config", "--remove", "-@", "esp1", "-gg");
    assertEquals(missing.code, 1);
    assertStringIncludes(missing.stderr, "device 'esp1' is not in");
  } finally {
    await box.cleanup();
  }
});

Deno.test("addresses: accepted forms and rejected ones with the reason", () => {
  assertEquals(parseAddress("192.168.1.42"), { host: "192.168.1.42", port: undefined, scheme: undefined });
  assertEquals(parseAddress("192.168.1.42:8266"), { host: "192.168.1.42", port: 8266, scheme: undefined });
  assertEquals(parseAddress("esp_room1.local"), {
    host: "esp_room1.local",
    port: undefined,
    scheme: undefined,
  });
  assertEquals(parseAddress("my-board"), { host: "my-board", port: undefined, scheme: undefined });
  assertEquals(parseAddress("ws://10.0.0.5:8266/"), { host: "10.0.0.5", port: 8266, scheme: "ws" });
  assertEquals(parseAddress("wss://esp.local"), { host: "esp.local", port: undefined, scheme: "wss" });
  const rejected: [string, string][] = [
    ["http://10.0.0.5", "is not ws:// or wss://"],
    ["10.0.0", "four numbers"],
    ["10.0.0.256", "over 255"],
    ["10.0.0.5:70000", "port '70000'"],
    ["10.0.0.5:abc", "port 'abc'"],
    ["fe80::1", "IPv6"],
    ["/dev/ttyUSB0", "serial ports"],
    ["bad host!", "letters, digits"],
    ["ws://10.0.0.5/path", "no path"],
    ["", "empty"],
  ];
  for (const [text, reason] of rejected) assertThrows(() => parseAddress(text), UserError, reason);
});

function args(partial: Partial<ParsedArgs>): ParsedArgs {
  return { action: "ls", positionals: [], options: {}, ...partial };
}

Deno.test("device lookup: local group first, then global; unknown names list the known ones", async () => {
  const box = await sandbox();
  try {
    await Deno.mkdir(box.configDir, { recursive: true });
    await Deno.writeTextFile(
      `${box.configDir}/UPY_G.config`,
      JSON.stringify({ esp_a: ["192.168.1.10", "g"], esp_b: ["10.0.0.2", "gb:pp"] }),
    );
    await Deno.writeTextFile(`${box.cwd}/UPY_G.config`, JSON.stringify({ esp_a: ["192.168.1.99", "l"] }));
    const registry = new Registry({ cwd: box.cwd, configDir: box.configDir });
    assertEquals(await resolveDevice(args({ atName: "esp_a" }), registry), {
      name: "esp_a",
      host: "192.168.1.99",
      port: undefined,
      password: "l",
      passphrase: undefined,
      secure: false,
      persist: undefined,
    });
    const secure = await resolveDevice(args({ options: { "-@": ["esp_b"] } }), registry);
    assertEquals([secure.host, secure.passphrase, secure.secure], ["10.0.0.2", "pp", true]);
    const wss = await resolveDevice(
      args({ options: { "-t": "10.0.0.3", "-p": "x", "-wss": true } }),
      registry,
    );
    assertEquals([wss.host, wss.secure], ["10.0.0.3", true]);
    await assertRejects(
      () => resolveDevice(args({ atName: "esp_z" }), registry),
      UserError,
      "unknown device 'esp_z': known devices: esp_a, esp_b",
    );
    await assertRejects(
      () => resolveDevice(args({ options: { "-@": ["esp_*"] } }), registry),
      UserError,
      "works on one device",
    );
  } finally {
    await box.cleanup();
  }
});

Deno.test("device lookup without names: -t, then ./upydev_.config, then the global default", async () => {
  const box = await sandbox();
  try {
    const registry = new Registry({ cwd: box.cwd, configDir: box.configDir });
    await assertRejects(() => resolveDevice(args({}), registry), UserError, "no device given");
    await assertRejects(
      () => resolveDevice(args({ options: { "-t": "10.0.0.1" } }), registry),
      UserError,
      "missing -p",
    );
    await box.run("config", "-t", "10.0.0.9", "-p", "gpw", "-g");
    assertEquals((await resolveDevice(args({}), registry)).host, "10.0.0.9");
    await box.run("config", "-t", "10.0.0.8", "-p", "lpw");
    assertEquals((await resolveDevice(args({}), registry)).host, "10.0.0.8");
    assertEquals((await resolveDevice(args({ options: { "-g": true } }), registry)).host, "10.0.0.9");
    assertEquals(
      (await resolveDevice(args({ options: { "-t": "10.0.0.7:1234", "-p": "pw" } }), registry)).port,
      1234,
    );
  } finally {
    await box.cleanup();
  }
});
