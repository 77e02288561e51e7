/**
 * `kg ssl --onboard`: the key-generation Python runs in real MicroPython (the WebAssembly port), with `machine`
 * and `os.urandom` shimmed as an ESP32 provides them; the host signs the CSR it prints.
 */
import "npm:reflect-metadata@0.2.2";
import { loadMicroPython } from "npm:@micropython/micropython-webassembly-pyscript@1.27.0";
import { assert, assertEquals, assertStringIncludes } from "./helpers/assert.ts";
import { openssl, opensslOk } from "./helpers/pki.ts";
import { runCli } from "../lib/cli/run.ts";
import { sha256Hex } from "../lib/ops/files.ts";
import { kgCommand } from "../lib/pki/commands.ts";
import { csrFromOutput } from "../lib/pki/onboard.ts";
import type { KeyTransferLink } from "../lib/pki/transfer.ts";
import { recordingIo } from "../lib/ui/io.ts";

const UID = "30aea4233564";

/** One interpreter per JS realm (notes/micropython-wasm.md), so the file's tests share it. */
const lines: string[] = [];
const micropython = await loadMicroPython({ stdout: (line: string) => lines.push(line), heapsize: 4 << 20 });
const pool = crypto.getRandomValues(new Uint8Array(1 << 16)).toHex();
micropython.runPython(
  [
    "import sys,os,binascii",
    "class _OS: pass",
    "for _n in dir(os):",
    " if not _n.startswith('__'): setattr(_OS,_n,getattr(os,_n))",
    `_pool=binascii.unhexlify('${pool}')`,
    "_at=[0]",
    "def _urandom(n):",
    " _at[0]+=n",
    " return _pool[_at[0]-n:_at[0]]",
    "_OS.urandom=_urandom",
    "sys.modules['os']=_OS",
    "class _machine: pass",
    `_machine.unique_id=lambda: binascii.unhexlify('${UID}')`,
    "sys.modules['machine']=_machine",
  ].join("\n"),
);

function deviceFiles(): string[] {
  lines.length = 0;
  micropython.runPython("import os\nprint(' '.join(sorted(os.listdir('/'))))");
  return lines.join("").split(" ").filter((name) => name.startsWith("SSL_") || name.startsWith("ROOT"));
}

const link: KeyTransferLink = {
  secure: false,
  exec(code) {
    lines.length = 0;
    micropython.runPython(code);
    return Promise.resolve(lines.join("\n"));
  },
  put(path, data) {
    micropython.FS.writeFile(path, data);
    return Promise.resolve();
  },
  sha256: (path) => sha256Hex(micropython.FS.readFile(path)),
  close: () => Promise.resolve(),
};

Deno.test("kg ssl --onboard: the device makes its key, the host signs its CSR; the key never leaves the device", async () => {
  const home = await Deno.makeTempDir({ prefix: "upydev_onboard_test_" });
  try {
    const env = { HOME: home, USER: "carlo", UPYDEV_CA_PASSPHRASE: "ca-secret" };
    const table = [kgCommand(() => Promise.resolve(link))];
    const run = async (...argv: string[]) => {
      const io = recordingIo({ env, cwd: home });
      return { code: await runCli(argv, io, table), stdout: io.stdout, stderr: io.stderr };
    };
    assertEquals((await run("kg", "ssl", "CA")).code, 0);
    const result = await run(
      "kg",
      "ssl",
      "--onboard",
      "-t",
      "192.168.1.40",
      "-p",
      "pass",
      "--name",
      "esp_room1",
    );
    assertEquals(result.code, 0, result.stderr);
    assertStringIncludes(result.stdout, "The private key never left the device.");
    assertEquals(deviceFiles(), [`SSL_certificate${UID}.der`, `SSL_key${UID}.der`]);
    const pki = `${home}/.config/upydev/pki`;
    const stored: string[] = [];
    for await (const entry of Deno.readDir(pki)) stored.push(entry.name);
    assert(!stored.some((name) => name.startsWith("SSL_key")), "no device key on the host");

    await Deno.writeFile(`${home}/key.der`, micropython.FS.readFile(`/SSL_key${UID}.der`));
    await Deno.writeFile(`${home}/cert.der`, micropython.FS.readFile(`/SSL_certificate${UID}.der`));
    assertEquals(await opensslOk(["ec", "-inform", "DER", "-in", `${home}/key.der`, "-check", "-noout"]), "");
    assertEquals(
      await opensslOk(["pkey", "-inform", "DER", "-in", `${home}/key.der`, "-pubout"]),
      await opensslOk(["x509", "-inform", "DER", "-in", `${home}/cert.der`, "-noout", "-pubkey"]),
    );
    await opensslOk(["x509", "-inform", "DER", "-in", `${home}/cert.der`, "-out", `${home}/cert.pem`]);
    const verified = await openssl([
      ...["verify", "-x509_strict", "-purpose", "sslserver", "-verify_ip", "192.168.1.40"],
      ...["-CAfile", `${pki}/ROOT_CA_cert.pem`, `${home}/cert.pem`],
    ]);
    assertEquals(verified.code, 0, verified.stderr);
    assertStringIncludes(
      await opensslOk(["x509", "-in", `${home}/cert.pem`, "-noout", "-subject"]),
      "CN = esp_room1",
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("csrFromOutput takes the last hex line and rejects anything else", () => {
  assertEquals(csrFromOutput("noise\r\n3082\r\n"), Uint8Array.of(0x30, 0x82));
  assertEquals(csrFromOutput("Traceback (most recent call last):\r\nMemoryError:\r\n"), undefined);
});
