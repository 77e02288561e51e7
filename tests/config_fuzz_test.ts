/**
 * Property-based tests (fast-check) of the two parsers that read what users and files hand us: the device
 * address parser and the registry's file reader. Whatever the input, each answers or throws the project's own
 * UserError, in bounded time (no regular-expression blow-up) and bounded memory (a huge file is not read).
 */
import fc from "npm:fast-check@4.10.2";
import { UserError } from "../lib/cli/errors.ts";
import { formatAddress, parseAddress } from "../lib/config/address.ts";
import { Registry } from "../lib/config/registry.ts";
import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";

/** Text that looks like addresses often enough to reach every branch. */
const addressLike = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.tuple(
    fc.constantFrom("", "ws://", "wss://", "WSS://", "http://", "ws:/"),
    fc.oneof(fc.ipV4(), fc.domain(), fc.ipV6(), fc.stringMatching(/^[a-z0-9._-]{0,70}$/)),
    fc.constantFrom("", ":", ":8266", ":0", ":65536", ":-1", ":99999999999", "/", "/x"),
  ).map(([scheme, host, port]) => scheme + host + port),
);

function parsed(text: string): ReturnType<typeof parseAddress> | UserError {
  try {
    return parseAddress(text);
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
}

Deno.test("fuzz: parseAddress answers or throws a one-line UserError, and what it accepts round-trips", () => {
  fc.assert(
    fc.property(addressLike, (text) => {
      const result = parsed(text);
      if (result instanceof UserError) {
        assert(!result.message.includes("\n") || text.includes("\n"), result.message);
        return;
      }
      assert(
        result.port === undefined ||
          (Number.isInteger(result.port) && result.port >= 1 && result.port <= 65535),
      );
      assert(result.host.length > 0 && result.host.length <= 253, result.host);
      assertEquals(parseAddress(formatAddress(result)), result);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("fuzz: parseAddress stays linear on long hostile input", () => {
  const hostile = [
    "a".repeat(100_000),
    "a-".repeat(50_000),
    `${"a.".repeat(50_000)}!`,
    `${"1.".repeat(50_000)}1`,
    `ws://${":".repeat(100_000)}`,
    `${"a".repeat(62)}-`.repeat(2000),
  ];
  for (const text of hostile) {
    const started = performance.now();
    assert(parsed(text) instanceof UserError);
    // A regular expression that backtracks would take seconds to minutes here.
    assert(performance.now() - started < 1000, `${text.slice(0, 20)}… took too long`);
  }
});

const jsonish = fc.oneof(
  fc.json(),
  fc.string({ maxLength: 200 }),
  fc.dictionary(
    fc.string({ maxLength: 20 }),
    fc.oneof(fc.tuple(fc.string(), fc.string()), fc.array(fc.jsonValue(), { maxLength: 3 }), fc.jsonValue()),
  ).map((value) => JSON.stringify(value)),
  fc.record({ addr: fc.jsonValue(), passwd: fc.jsonValue(), name: fc.jsonValue() }, { requiredKeys: [] })
    .map((value) => JSON.stringify(value)),
);

Deno.test("fuzz: the registry reads any file content as devices or as a UserError, and never rewrites a bad file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upydev-fuzz-" });
  const registry = new Registry({ cwd: dir, configDir: dir });
  const group = registry.groupPath("global");
  const local = registry.defaultPath("local");
  try {
    await fc.assert(
      fc.asyncProperty(jsonish, jsonish, async (groupText, defaultText) => {
        await Deno.writeTextFile(group, groupText);
        await Deno.writeTextFile(local, defaultText);
        const outcomes = await Promise.allSettled([
          registry.readGroup("global"),
          registry.readDefault("local"),
          registry.matchDevices("*"),
          registry.saveToGroup({ name: "fuzz", address: "10.0.0.1", password: "pw" }, "global"),
          registry.saveDefault({ name: "fuzz", address: "10.0.0.1", password: "pw" }, "local"),
        ]);
        for (const outcome of outcomes) {
          if (outcome.status === "rejected") {
            assert(outcome.reason instanceof UserError, String(outcome.reason));
          }
        }
        const [readGroup, readDefault, , savedGroup, savedDefault] = outcomes;
        if (readGroup.status === "rejected") {
          assertEquals(savedGroup.status, "rejected");
          assertEquals(await Deno.readTextFile(group), groupText);
        }
        if (readDefault.status === "rejected") {
          assertEquals(savedDefault.status, "rejected");
          assertEquals(await Deno.readTextFile(local), defaultText);
        }
      }),
      { numRuns: 300 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the registry refuses a config file over 1 MiB without reading it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upydev-fuzz-" });
  try {
    const registry = new Registry({ cwd: dir, configDir: dir });
    const path = registry.groupPath("global");
    await Deno.writeTextFile(path, `{"a": ["10.0.0.1", "${"x".repeat(2 << 20)}"]}`);
    await assertRejects(
      () => registry.readGroup("global"),
      UserError,
      `corrupt config file ${path}: it is ${(2 << 20) + 23} bytes, more than a config file's 1 MiB`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
