// device/upysecrets.py in real MicroPython (wasm) against lib/ops/secrets.ts: the same passwords and tags
// from shared vectors, the hand-written HMAC against RFC 4231, and the atomic webrepl_cfg.py update.
import {
  confirmTag,
  derivePassword,
  newSecret,
  newToken,
  PASSWORD_ALPHABET,
  randomPassword,
} from "../lib/ops/secrets.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { WasmMicroPython } from "./helpers/wasm_micropython.ts";

const py = await WasmMicroPython.load();

const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i);
/** [token, password, tag]: the second token's HMAC has a byte ≥ 248 among the first nine, which is skipped. */
const VECTORS: [string, string, string][] = [
  ["a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", "ejqPOIqPC", "55f5cf2768bf43ced9b6730be73b2b9a"],
  ["101112131415161718191a1b1c1d1e1f", "5ANyQkgrv", "fae8d629fa108c31381f51eb677dcba0"],
];

const pyBytes = (bytes: Uint8Array) => `bytes.fromhex('${bytes.toHex()}')`;

/** Fresh directory, fake _webrepl recording password() calls, a webrepl_cfg.py, and the secret file as given. */
function device(options: { cfg?: string; secret?: string | null } = {}): void {
  py.fresh();
  py.ok(
    "import sys, os\nCALLS = []\nclass _W:\n def password(p):\n  CALLS.append(p)\nsys.modules['_webrepl'] = _W\n" +
      "for f in ('/webrepl_cfg.py', '/upysecrets.key', '/webrepl_cfg.py.tmp'):\n try:\n  os.remove(f)\n except OSError:\n  pass\n" +
      "import upysecrets",
  );
  if (options.cfg !== undefined) py.writeFile("/webrepl_cfg.py", options.cfg);
  if (options.secret !== null) py.writeFile("/upysecrets.key", `${options.secret ?? SECRET.toHex()}\n`);
}

Deno.test("secrets: the host's derivation gives the shared vectors; the second skips a byte >= 248", async () => {
  for (const [token, password, tag] of VECTORS) {
    assertEquals(derivePassword(SECRET, Uint8Array.fromHex(token)), password);
    assertEquals(confirmTag(SECRET, Uint8Array.fromHex(token)), tag);
  }
  const key = await crypto.subtle.importKey("raw", SECRET, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const message = new Uint8Array([
    ...new TextEncoder().encode("upysecrets wrkey v1"),
    ...Uint8Array.fromHex(VECTORS[1][0]),
    1,
  ]);
  const block = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  assert(block.slice(0, 9).some((b) => b >= 248), "the vector must exercise the rejection");
  assertEquals(
    VECTORS[1][1],
    [...block].filter((b) => b < 248).slice(0, 9).map((b) => PASSWORD_ALPHABET[b % 62]).join(""),
  );
});

Deno.test("upysecrets: the device derives the same passwords and tags as the host, across HMAC blocks too", () => {
  device();
  for (const [token, password, tag] of VECTORS) {
    const t = pyBytes(Uint8Array.fromHex(token));
    assertEquals(
      py.ok(
        `print(upysecrets.derive(${pyBytes(SECRET)}, ${t}), upysecrets.confirm_tag(${
          pyBytes(SECRET)
        }, ${t}))`,
      ),
      `${password} ${tag}\n`,
    );
  }
  for (let i = 0; i < 20; i++) {
    const [secret, token] = [newSecret(), newToken()];
    assertEquals(
      py.ok(`print(upysecrets.derive(${pyBytes(secret)}, ${pyBytes(token)}, 70))`).trim(),
      derivePassword(secret, token, 70),
    );
  }
});

Deno.test("upysecrets: the hand-written HMAC-SHA256 matches RFC 4231 (short key, and a key longer than a block)", () => {
  device();
  const cases: [string, string, string][] = [
    ["0b".repeat(20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
    [
      "aa".repeat(131),
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
  ];
  for (const [key, data, mac] of cases) {
    assertEquals(
      py.ok(
        `import binascii\nprint(binascii.hexlify(upysecrets._hmac(bytes.fromhex('${key}'), b'${data}')).decode())`,
      ).trim(),
      mac,
    );
  }
});

Deno.test("rf_wrkey: the derived password goes into webrepl_cfg.py (other lines kept) and the running WebREPL; it is never printed", () => {
  device({ cfg: "# set by webrepl_setup\nPASS = 'oldpass'\nEXTRA = 1\n" });
  const [token, password, tag] = VECTORS[0];
  assertEquals(py.ok(`upysecrets.rf_wrkey('${token}', '${tag}')`), "WebREPL password changed\n");
  assertEquals(py.readText("/webrepl_cfg.py"), `# set by webrepl_setup\nEXTRA = 1\nPASS = '${password}'\n`);
  assertEquals(
    py.ok("print(CALLS, sorted(os.listdir('/')).count('webrepl_cfg.py.tmp'))"),
    `['${password}'] 0\n`,
  );
  assertEquals(py.ok("os.chdir('/')\nimport webrepl_cfg\nprint(webrepl_cfg.PASS)"), `${password}\n`);
});

Deno.test("rf_wrkey: a host with another secret, a missing secret or a bad token changes nothing", () => {
  const [token, , tag] = VECTORS[0];
  device({ cfg: "PASS = 'oldpass'\n", secret: "ff".repeat(32) });
  assertEquals(
    py.run(`upysecrets.rf_wrkey('${token}', '${tag}')`).error,
    "ValueError: the host's secret differs from this device's: password unchanged",
  );
  device({ cfg: "PASS = 'oldpass'\n", secret: null });
  assertEquals(
    py.run(`upysecrets.rf_wrkey('${token}', '${tag}')`).error,
    "ValueError: no shared secret in /upysecrets.key: set one over wss or USB (set_secret)",
  );
  device({ cfg: "PASS = 'oldpass'\n" });
  assertEquals(
    py.run(`upysecrets.rf_wrkey('abcd', '${tag}')`).error,
    "ValueError: the token has 16 bytes (32 hex digits)",
  );
  assertEquals(py.readText("/webrepl_cfg.py"), "PASS = 'oldpass'\n");
  assertEquals(py.ok("print(CALLS)"), "[]\n");
});

Deno.test("set_password: 4 to 9 characters, written as a Python literal; creates webrepl_cfg.py when missing", () => {
  device();
  py.ok('upysecrets.set_password("it\'s\\\\9")');
  assertEquals(py.readText("/webrepl_cfg.py"), 'PASS = "it\'s\\\\9"\n');
  assertEquals(
    py.run("upysecrets.set_password('abc')").error,
    "ValueError: a WebREPL password has 4 to 9 characters",
  );
  assertEquals(
    py.run("upysecrets.set_password('abcdefghij')").error,
    "ValueError: a WebREPL password has 4 to 9 characters",
  );
  assertEquals(py.ok("os.chdir('/')\nimport webrepl_cfg\nprint(webrepl_cfg.PASS)"), "it's\\9\n");
});

Deno.test("set_password: where rename cannot replace a file (FAT), the old one is removed first", () => {
  device({ cfg: "PASS = 'oldpass'\n" });
  py.ok(
    "class _Fat:\n def __getattr__(self, n):\n  return getattr(os, n)\n def rename(self, a, b):\n" +
      "  try:\n   os.stat(b)\n  except OSError:\n   return os.rename(a, b)\n  raise OSError(17)\nupysecrets.os = _Fat()\n" +
      "upysecrets.set_password('newpass1')",
  );
  assertEquals(py.readText("/webrepl_cfg.py"), "PASS = 'newpass1'\n");
});

Deno.test("set_secret: stores 32 bytes as hex; anything else is refused", () => {
  device({ secret: null });
  const secret = newSecret().toHex();
  py.ok(`upysecrets.set_secret('${secret}')`);
  assertEquals(py.readText("/upysecrets.key"), `${secret}\n`);
  assertEquals(
    py.run("upysecrets.set_secret('abcd')").error,
    "ValueError: the secret has 32 bytes (64 hex digits)",
  );
});

Deno.test("randomPassword: 9 characters of the alphabet, all of it used", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const password = randomPassword();
    assert(/^[A-Za-z0-9]{9}$/.test(password), password);
    for (const char of password) seen.add(char);
  }
  assertEquals(seen.size, 62);
});
