/** `upydev kg ssl ...` through the real CLI runner, with a fake device link for -tfkey. */
import "npm:reflect-metadata@0.2.2";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./helpers/assert.ts";
import { openssl, opensslOk, P256_GENPKEY } from "./helpers/pki.ts";
import { sandbox } from "./helpers/cli.ts";
import { runCli } from "../lib/cli/run.ts";
import { configCommands } from "../lib/config/commands.ts";
import type { DeviceTarget } from "../lib/device/target.ts";
import { formatSummary, kgCommand } from "../lib/pki/commands.ts";
import { type KeyTransferLink, UNIQUE_ID_CODE } from "../lib/pki/transfer.ts";
import { recordingIo } from "../lib/ui/io.ts";

const UID = "30aea4233564";
const CA_PASS = "ca-secret";
const HOST_PASS = "host-secret";

/** An in-memory device: files by path, the unique id, and a switch that corrupts what it stores. */
class FakeDevice {
  files = new Map<string, Uint8Array>();
  connections: DeviceTarget[] = [];
  corrupt = false;
  link(target: DeviceTarget): KeyTransferLink {
    this.connections.push(target);
    return {
      secure: target.secure,
      exec: (code) => {
        if (code !== UNIQUE_ID_CODE) throw new Error(`unexpected exec: ${code}`);
        return Promise.resolve(`${UID}\r\n`);
      },
      put: (path, data) => {
        this.files.set(path, this.corrupt ? data.slice(1) : data.slice());
        return Promise.resolve();
      },
      sha256: async (path) =>
        new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(this.files.get(path) ?? [])))
          .toHex(),
      close: () => Promise.resolve(),
    };
  }
}

interface Box {
  home: string;
  cwd: string;
  pki: string;
  device: FakeDevice;
  run(argv: string[], options?: { env?: Record<string, string>; stdin?: string }): Promise<{
    code: number;
    stdout: string;
    stderr: string;
  }>;
}

async function withBox(body: (box: Box) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "upydev_kg_test_" });
  const cwd = `${home}/project`;
  await Deno.mkdir(cwd);
  const device = new FakeDevice();
  const table = [kgCommand((target) => Promise.resolve(device.link(target))), ...configCommands];
  const box: Box = {
    home,
    cwd,
    pki: `${home}/.config/upydev/pki`,
    device,
    async run(argv, options = {}) {
      const env = {
        HOME: home,
        USER: "carlo",
        UPYDEV_CA_PASSPHRASE: CA_PASS,
        UPYDEV_PASSPHRASE: HOST_PASS,
        ...options.env,
      };
      const io = recordingIo({
        env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== "")),
        cwd,
      });
      if (options.stdin !== undefined) {
        io.feed(options.stdin);
        io.endInput();
      }
      const code = await runCli(argv, io, table);
      return { code, stdout: io.stdout, stderr: io.stderr };
    },
  };
  try {
    await body(box);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort();
}

const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test("kg ssl CA: files 0600 in a 0700 folder; not replaced without --force; --force keeps the old one; rotate", async () => {
  await withBox(async (box) => {
    const first = await box.run(["kg", "ssl", "CA"]);
    assertEquals(first.code, 0, first.stderr);
    assertStringIncludes(first.stdout, "ROOT CA ECDSA P-256 key & certificate generated");
    assertMatch(first.stdout, /SHA-256: {5}([0-9A-F]{2}:){31}[0-9A-F]{2}\n/);
    assertEquals(await mode(box.pki), 0o700);
    assertEquals(await listDir(box.pki), ["ROOT_CA_cert.pem", "ROOT_CA_key.pem"]);
    for (const name of await listDir(box.pki)) assertEquals(await mode(`${box.pki}/${name}`), 0o600, name);
    const original = await Deno.readTextFile(`${box.pki}/ROOT_CA_cert.pem`);

    const again = await box.run(["kg", "ssl", "CA"]);
    assertEquals(again, {
      code: 1,
      stdout: "",
      stderr: `upydev: a ROOT CA already exists in ${box.pki}; pass --force to replace it\n`,
    });
    assertEquals(await Deno.readTextFile(`${box.pki}/ROOT_CA_cert.pem`), original);

    const forced = await box.run(["kg", "ssl", "CA", "--force"]);
    assertEquals(forced.code, 0, forced.stderr);
    assertEquals(await Deno.readTextFile(`${box.pki}/~ROOT_CA_cert.pem`), original);
    assert(await Deno.readTextFile(`${box.pki}/ROOT_CA_cert.pem`) !== original);

    const rotated = await box.run(["kg", "ssl", "CA", "rotate"]);
    assertEquals(rotated.code, 0, rotated.stderr);
    assertEquals(await Deno.readTextFile(`${box.pki}/ROOT_CA_cert.pem`), original);
    assertStringIncludes(rotated.stdout, "previous ROOT CA");
    assertEquals(
      await opensslOk(["pkey", "-in", `${box.pki}/ROOT_CA_key.pem`, "-passin", `pass:${CA_PASS}`, "-pubout"]),
      await opensslOk(["x509", "-in", `${box.pki}/ROOT_CA_cert.pem`, "-noout", "-pubkey"]),
    );
  });
});

Deno.test("kg ssl CA rotate stopped after any of its renames is finished by running it again", async () => {
  await withBox(async (box) => {
    assertEquals((await box.run(["kg", "ssl", "CA"])).code, 0);
    assertEquals(
      (await box.run(["kg", "ssl", "CA", "rotate"])).stderr,
      `upydev: no previous CA in ${box.pki} to rotate to\n`,
    );
    assertEquals((await box.run(["kg", "ssl", "CA", "--force"])).code, 0);
    const read = (name: string) => Deno.readTextFile(`${box.pki}/${name}`);
    const current = await read("ROOT_CA_cert.pem");
    const previous = await read("~ROOT_CA_cert.pem");
    // The renames rotate makes, in order (lib/pki/authority.ts); the sixth completes it.
    const renames = [
      ["ROOT_CA_key.pem", "ROOT_CA_key.pem.rotate"],
      ["ROOT_CA_cert.pem", "ROOT_CA_cert.pem.rotate"],
      ["~ROOT_CA_key.pem", "ROOT_CA_key.pem"],
      ["~ROOT_CA_cert.pem", "ROOT_CA_cert.pem"],
      ["ROOT_CA_key.pem.rotate", "~ROOT_CA_key.pem"],
    ];
    for (let done = 1; done <= renames.length; done++) {
      for (const [from, to] of renames.slice(0, done)) {
        await Deno.rename(`${box.pki}/${from}`, `${box.pki}/${to}`);
      }
      if (done === 2) {
        const stuck = await box.run(["kg", "ssl", "host"]);
        assertStringIncludes(
          stuck.stderr,
          "a CA rotation stopped half-way; finish it with `upydev kg ssl CA rotate`",
        );
      }
      const finished = await box.run(["kg", "ssl", "CA", "rotate"]);
      assertEquals(finished.code, 0, `after ${done} renames: ${finished.stderr}`);
      assertEquals([await read("ROOT_CA_cert.pem"), await read("~ROOT_CA_cert.pem")], [previous, current]);
      assertEquals((await listDir(box.pki)).filter((name) => name.endsWith(".rotate")), []);
      // Each certificate is still with its own key.
      for (const prefix of ["", "~"]) {
        assertEquals(
          await opensslOk([
            "pkey",
            "-in",
            `${box.pki}/${prefix}ROOT_CA_key.pem`,
            "-passin",
            `pass:${CA_PASS}`,
            "-pubout",
          ]),
          await opensslOk(["x509", "-in", `${box.pki}/${prefix}ROOT_CA_cert.pem`, "-noout", "-pubkey"]),
          `${prefix}ROOT_CA after ${done} renames`,
        );
      }
      // Back to the starting order for the next round.
      assertEquals((await box.run(["kg", "ssl", "CA", "rotate"])).code, 0);
      assertEquals(await read("ROOT_CA_cert.pem"), current);
    }
    // A store no rotation step could have left is not touched.
    await Deno.remove(`${box.pki}/~ROOT_CA_key.pem`);
    await Deno.rename(`${box.pki}/ROOT_CA_key.pem`, `${box.pki}/ROOT_CA_key.pem.rotate`);
    const before = await listDir(box.pki);
    const refused = await box.run(["kg", "ssl", "CA", "rotate"]);
    assertEquals(refused.code, 1);
    assertEquals(
      refused.stderr,
      `upydev: the CA files in ${box.pki} are not a CA and a previous CA ` +
        "(ROOT_CA_key.pem.rotate, ROOT_CA_cert.pem, ~ROOT_CA_cert.pem); nothing was changed\n",
    );
    assertEquals(await listDir(box.pki), before);
  });
});

Deno.test("kg ssl CA at a terminal asks before replacing; a no keeps the CA", async () => {
  await withBox(async (box) => {
    await box.run(["kg", "ssl", "CA"]);
    const original = await Deno.readTextFile(`${box.pki}/ROOT_CA_cert.pem`);
    const io = recordingIo({
      env: { HOME: box.home, USER: "carlo", UPYDEV_CA_PASSPHRASE: CA_PASS },
      stdinIsTerminal: true,
    });
    io.feed("n\n");
    const code = await runCli(["kg", "ssl", "CA"], io, [
      kgCommand(() => Promise.reject(new Error("no device"))),
    ]);
    assertEquals(code, 1);
    assertEquals(
      io.stderr,
      "CA certificate detected, generate new one? [y/n]: upydev: kept the existing ROOT CA\n",
    );
    assertEquals(await Deno.readTextFile(`${box.pki}/ROOT_CA_cert.pem`), original);
  });
});

Deno.test("passphrases typed on stdin: asked twice for a new key; a mismatch writes nothing", async () => {
  await withBox(async (box) => {
    const mismatch = await box.run(["kg", "ssl", "CA"], {
      env: { UPYDEV_CA_PASSPHRASE: "" },
      stdin: "abcd1\nabcd2\n",
    });
    assertEquals(mismatch.code, 1);
    assertStringIncludes(
      mismatch.stderr,
      "upydev: passphrases for ROOT CA key do not match; nothing written\n",
    );
    assertEquals(await Deno.lstat(box.pki).then(() => "exists", () => "absent"), "absent");
    const typed = await box.run(["kg", "ssl", "CA"], {
      env: { UPYDEV_CA_PASSPHRASE: "" },
      stdin: "typed1\ntyped1\n",
    });
    assertEquals(typed.code, 0, typed.stderr);
    assertStringIncludes(
      typed.stderr,
      "Enter new passphrase for ROOT CA key: Verify passphrase for ROOT CA key: ",
    );
    await opensslOk(["pkey", "-in", `${box.pki}/ROOT_CA_key.pem`, "-passin", "pass:typed1", "-noout"]);
  });
});

Deno.test("kg ssl host: HOST_key@<hostid>.pem encrypted with its own passphrase; a wrong CA passphrase writes nothing", async () => {
  await withBox(async (box) => {
    await box.run(["kg", "ssl", "CA"]);
    const wrong = await box.run(["kg", "ssl", "host"], { env: { UPYDEV_CA_PASSPHRASE: "nope" } });
    assertEquals(wrong, {
      code: 1,
      stdout: "",
      stderr: `upydev: wrong passphrase for ${box.pki}/ROOT_CA_key.pem\n`,
    });
    assertEquals(await listDir(box.pki), ["ROOT_CA_cert.pem", "ROOT_CA_key.pem"]);

    const host = await box.run(["kg", "ssl", "host"]);
    assertEquals(host.code, 0, host.stderr);
    assertStringIncludes(
      host.stdout,
      "HOST ECDSA P-256 key & certificate generated: HOST_key@6361726c6f.pem",
    );
    await opensslOk([
      "pkey",
      "-in",
      `${box.pki}/HOST_key@6361726c6f.pem`,
      "-passin",
      `pass:${HOST_PASS}`,
      "-noout",
    ]);
    const verified = await openssl([
      ...["verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", `${box.pki}/ROOT_CA_cert.pem`],
      `${box.pki}/HOST_cert@6361726c6f.pem`,
    ]);
    assertEquals(verified.code, 0, verified.stderr);

    const status = await box.run(["kg", "ssl", "host", "status"]);
    assertEquals(status.code, 0);
    assertMatch(
      status.stdout,
      /^HOST: .*HOST_cert@6361726c6f\.pem\n {2}subject: {5}O=MicroPython, OU=upydev host, CN=carlo@/,
    );
    assertMatch(status.stdout, /valid from: {2}2000-01-01T00:00:00\.000Z\n/);
    assertMatch(status.stdout, /\((729|730) days left\)/);
  });
});

Deno.test("status warns under 30 days", async () => {
  await withBox(async (box) => {
    await box.run(["kg", "ssl", "CA", "--days", "20"]);
    const status = await box.run(["kg", "ssl", "CA", "status"]);
    assertStringIncludes(status.stdout, "  WARNING: expires in 19 days\n");
  });
});

Deno.test("status of an expired certificate says so", () => {
  const text = formatSummary("HOST", "/x.pem", {
    subject: "CN=a",
    issuer: "CN=b",
    serialNumber: "01",
    sha256Fingerprint: "AA",
    notBefore: new Date("2000-01-01T00:00:00Z"),
    notAfter: new Date("2001-01-01T00:00:00Z"),
    daysLeft: -5,
    altNames: [],
  });
  assert(
    text.endsWith("  valid until: 2001-01-01T00:00:00.000Z (-5 days left)\n  WARNING: EXPIRED 5 days ago\n"),
    text,
  );
});

Deno.test("kg ssl -tfkey over plain ws is refused; nothing is sent and no key is left on the host", async () => {
  await withBox(async (box) => {
    await box.run(["kg", "ssl", "CA"]);
    const refused = await box.run(["kg", "ssl", "-tfkey", "-t", "192.168.1.40", "-p", "pass"]);
    assertEquals(refused.code, 1);
    assertMatch(
      refused.stderr,
      /^upydev: refusing to send a private key over plain ws:\/\/ \(cleartext\);.*--insecure-transfer\n$/,
    );
    assertEquals(box.device.files.size, 0);
    assertEquals(await listDir(box.pki), ["ROOT_CA_cert.pem", "ROOT_CA_key.pem"]);
  });
});

Deno.test("kg ssl -tfkey over ws with --insecure-transfer warns loudly and sends verified DER files", async () => {
  await withBox(async (box) => {
    await box.run(["kg", "ssl", "CA"]);
    const sent = await box.run([
      "kg",
      "ssl",
      "-tfkey",
      "--insecure-transfer",
      "-t",
      "192.168.1.40",
      "-p",
      "pass",
    ]);
    assertEquals(sent.code, 0, sent.stderr);
    assertStringIncludes(sent.stderr, "WARNING: sending the device's PRIVATE KEY over plain ws://");
    assertEquals([...box.device.files.keys()].sort(), [`/SSL_certificate${UID}.der`, `/SSL_key${UID}.der`]);
  });
});

Deno.test("kg ssl -tfkey -@ NAME over wss: key and certificate on the device, SANs from the registry, no key on the host", async () => {
  await withBox(async (box) => {
    await box.run(["kg", "ssl", "CA"]);
    const saved = await box.run([
      "config",
      "-t",
      "192.168.1.40",
      "-p",
      "pass:phrase",
      "-@",
      "esp_room1",
      "-gg",
    ]);
    assertEquals(saved.code, 0, saved.stderr);
    const result = await box.run(["kg", "ssl", "-tfkey", "-@", "esp_room1"]);
    assertEquals(result.code, 0, result.stderr);
    assertStringIncludes(result.stdout, "Getting unique id...\n");
    assertStringIncludes(result.stdout, `Device ${UID} ECDSA key & certificate generated.\n`);
    assertStringIncludes(result.stdout, "names:       IP:192.168.1.40, DNS:esp_room1.local\n");
    assert(box.device.connections.every((target) => target.secure));
    assertEquals(await listDir(box.pki), [
      "ROOT_CA_cert.pem",
      "ROOT_CA_key.pem",
      `SSL_certificate${UID}.pem`,
    ]);

    const dir = `${box.home}/check`;
    await Deno.mkdir(dir);
    await Deno.writeFile(`${dir}/key.der`, box.device.files.get(`/SSL_key${UID}.der`)!);
    await Deno.writeFile(`${dir}/cert.der`, box.device.files.get(`/SSL_certificate${UID}.der`)!);
    assertEquals(
      await opensslOk(["ec", "-inform", "DER", "-in", `${dir}/key.der`, "-pubout"]),
      await opensslOk(["x509", "-inform", "DER", "-in", `${dir}/cert.der`, "-noout", "-pubkey"]),
    );
    await opensslOk(["x509", "-inform", "DER", "-in", `${dir}/cert.der`, "-out", `${dir}/cert.pem`]);
    for (const check of [["-verify_ip", "192.168.1.40"], ["-verify_hostname", "esp_room1.local"]]) {
      const verified = await openssl([
        ...["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", `${box.pki}/ROOT_CA_cert.pem`],
        ...check,
        `${dir}/cert.pem`,
      ]);
      assertEquals(verified.code, 0, verified.stderr);
    }
    const status = await box.run(["kg", "ssl", "dev", "status"]);
    assertMatch(
      status.stdout,
      /^DEVICE: .*SSL_certificate30aea4233564\.pem\n {2}subject: {5}O=MicroPython, OU=30aea4233564, CN=esp_room1\n/,
    );
  });
});

Deno.test("a transfer that does not verify is an error naming the file", async () => {
  await withBox(async (box) => {
    await box.run(["kg", "ssl", "CA"]);
    box.device.corrupt = true;
    const result = await box.run(["kg", "ssl", "-tfkey", "-t", "192.168.1.40", "-p", "pass:phrase"]);
    assertEquals(result.code, 1);
    assertEquals(
      result.stderr,
      `upydev: transfer of /SSL_key${UID}.der failed: SHA-256 differs on the device\n`,
    );
  });
});

Deno.test("kg ssl CA -tfkey sends ROOT_CA_cert.pem (public) even over ws", async () => {
  await withBox(async (box) => {
    const result = await box.run(["kg", "ssl", "CA", "-tfkey", "-t", "192.168.1.40", "-p", "pass"]);
    assertEquals(result.code, 0, result.stderr);
    assertEquals(
      new TextDecoder().decode(box.device.files.get("/ROOT_CA_cert.pem")),
      await Deno.readTextFile(`${box.pki}/ROOT_CA_cert.pem`),
    );
  });
});

Deno.test("without -tfkey, --uid and --san need no device; the DER key is written 0600 with a warning", async () => {
  await withBox(async (box) => {
    await box.run(["kg", "ssl", "CA"]);
    const result = await box.run([
      "kg",
      "ssl",
      "--uid",
      "abcdef",
      "--san",
      "10.0.0.2",
      "esp.local",
      "--name",
      "esp",
    ]);
    assertEquals(result.code, 0, result.stderr);
    assertEquals(box.device.connections.length, 0);
    assertStringIncludes(
      result.stderr,
      "is NOT encrypted: copy it and SSL_certificateabcdef.der to the device by USB",
    );
    assertEquals(await mode(`${box.pki}/SSL_keyabcdef.der`), 0o600);
    assertStringIncludes(result.stdout, "names:       IP:10.0.0.2, DNS:esp.local\n");
  });
});

Deno.test("kg ssl --csr signs the device's CSR and sends only the certificate", async () => {
  await withBox(async (box) => {
    await box.run(["kg", "ssl", "CA"]);
    await opensslOk([...P256_GENPKEY, "-out", `${box.cwd}/dev.key`]);
    await opensslOk([
      "req",
      "-new",
      "-key",
      `${box.cwd}/dev.key`,
      "-subj",
      "/CN=dev",
      "-out",
      `${box.cwd}/dev.csr`,
    ]);
    const result = await box.run([
      "kg",
      "ssl",
      "--csr",
      `${box.cwd}/dev.csr`,
      "-tfkey",
      "-t",
      "10.0.0.3",
      "-p",
      "pass",
    ]);
    assertEquals(result.code, 0, result.stderr);
    assertEquals([...box.device.files.keys()], [`/SSL_certificate${UID}.der`]);
    await Deno.writeFile(`${box.cwd}/c.der`, box.device.files.get(`/SSL_certificate${UID}.der`)!);
    assertEquals(
      await opensslOk(["x509", "-inform", "DER", "-in", `${box.cwd}/c.der`, "-noout", "-pubkey"]),
      await opensslOk(["pkey", "-in", `${box.cwd}/dev.key`, "-pubout"]),
    );
  });
});

Deno.test("CA export then add on another computer gives the same CA, re-encrypted; add never replaces silently", async () => {
  await withBox(async (first) => {
    await first.run(["kg", "ssl", "CA"]);
    const exported = await first.run(["kg", "ssl", "CA", "export"]);
    assertEquals(exported.code, 0, exported.stderr);
    assertEquals(await listDir(first.cwd), ["ROOT_CA_cert.pem", "ROOT_CA_key.pem"]);
    const again = await first.run(["kg", "ssl", "CA", "export"]);
    assertStringIncludes(again.stderr, "already exists");
    await withBox(async (second) => {
      await Deno.copyFile(`${first.cwd}/ROOT_CA_cert.pem`, `${second.cwd}/ROOT_CA_cert.pem`);
      await Deno.copyFile(`${first.cwd}/ROOT_CA_key.pem`, `${second.cwd}/ROOT_CA_key.pem`);
      const added = await second.run(["kg", "ssl", "CA", "add"]);
      assertEquals(added.code, 0, added.stderr);
      const fingerprint = (text: string) => /SHA-256: +(\S+)/.exec(text)![1];
      assertEquals(
        fingerprint(added.stdout),
        fingerprint((await first.run(["kg", "ssl", "CA", "status"])).stdout),
      );
      const host = await second.run(["kg", "ssl", "host"]);
      assertEquals(host.code, 0, host.stderr);
      const twice = await second.run(["kg", "ssl", "CA", "add"]);
      assertStringIncludes(twice.stderr, "already exists");
    });
  });
});

Deno.test("kg ssl import reads an upydev store with legacy encrypted keys and re-encrypts them", async () => {
  await withBox(async (box) => {
    const old = `${box.home}/upydev_pkg`;
    await Deno.mkdir(old);
    const run = (args: string[]) => opensslOk(args, { cwd: old });
    await run([...P256_GENPKEY, "-out", "ca_plain.pem"]);
    await run([
      "ec",
      "-in",
      "ca_plain.pem",
      "-aes256",
      "-passout",
      `pass:${CA_PASS}`,
      "-out",
      "ROOT_CA_key.pem",
    ]);
    await run([
      ...["req", "-x509", "-new", "-key", "ca_plain.pem", "-subj", "/O=MicroPython/CN=carlo", "-days", "30"],
      ...["-addext", "basicConstraints=critical,CA:TRUE", "-out", "ROOT_CA_cert.pem"],
    ]);
    await run([...P256_GENPKEY, "-out", "host_plain.pem"]);
    await run([
      "ec",
      "-in",
      "host_plain.pem",
      "-aes256",
      "-passout",
      `pass:${HOST_PASS}`,
      "-out",
      "HOST_key@6361726c6f.pem",
    ]);
    await run([
      ...["req", "-x509", "-key", "host_plain.pem", "-CA", "ROOT_CA_cert.pem", "-CAkey", "ca_plain.pem"],
      ...["-subj", "/O=MicroPython/CN=carlo", "-days", "30", "-out", "HOST_cert@6361726c6f.pem"],
    ]);
    await Deno.copyFile(`${old}/HOST_cert@6361726c6f.pem`, `${old}/SSL_certificate30aea4233564.pem`);
    for (const name of ["ca_plain.pem", "host_plain.pem"]) await Deno.remove(`${old}/${name}`);

    const wrong = await box.run(["kg", "ssl", "import", old], { env: { UPYDEV_CA_PASSPHRASE: "nope" } });
    assertEquals(wrong.stderr, `upydev: wrong passphrase for ${old}/ROOT_CA_key.pem\n`);
    assertEquals(await Deno.lstat(box.pki).then(() => "exists", () => "absent"), "absent");

    const imported = await box.run(["kg", "ssl", "import", old]);
    assertEquals(imported.code, 0, imported.stderr);
    assertEquals(await listDir(box.pki), [
      "HOST_cert@6361726c6f.pem",
      "HOST_key@6361726c6f.pem",
      "ROOT_CA_cert.pem",
      "ROOT_CA_key.pem",
      "SSL_certificate30aea4233564.pem",
    ]);
    for (const [name, pass] of [["ROOT_CA_key.pem", CA_PASS], ["HOST_key@6361726c6f.pem", HOST_PASS]]) {
      const text = await Deno.readTextFile(`${box.pki}/${name}`);
      assert(text.startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----") && !text.includes("Proc-Type"), name);
      assertEquals(
        await opensslOk(["pkey", "-in", `${box.pki}/${name}`, "-passin", `pass:${pass}`, "-pubout"]),
        await opensslOk(["pkey", "-in", `${old}/${name}`, "-passin", `pass:${pass}`, "-pubout"]),
      );
    }
    // The imported CA (upydev's: no key identifiers, no key usage) still signs a new host certificate.
    const host = await box.run(["kg", "ssl", "host", "--force"]);
    assertEquals(host.code, 0, host.stderr);
    const verified = await openssl([
      ...["verify", "-purpose", "sslclient", "-CAfile", `${box.pki}/ROOT_CA_cert.pem`],
      `${box.pki}/HOST_cert@6361726c6f.pem`,
    ]);
    assertEquals(verified.code, 0, verified.stderr);
  });
});

Deno.test("kg grammar: unknown words are usage errors (exit 2)", async () => {
  await withBox(async (box) => {
    for (
      const argv of [["kg", "rsa"], ["kg", "ssl", "CA", "burn"], ["kg", "ssl", "dev", "wipe"], [
        "kg",
        "ssl",
        "host",
        "status",
        "x",
      ]]
    ) {
      const result = await box.run(argv);
      assertEquals(result.code, 2, argv.join(" "));
      assertMatch(result.stderr, /^upydev: .+\n$/);
    }
  });
});

Deno.test("kg ssl host without a CA says how to make one, before asking for any passphrase", async () => {
  const box = await sandbox();
  try {
    const result = await box.run("kg", "ssl", "host");
    assertEquals(result.code, 1);
    assertEquals(result.stdout, "");
    assertEquals(
      result.stderr,
      `upydev: ${box.configDir}/pki/ROOT_CA_key.pem not found; create it with \`upydev kg ssl CA\`\n`,
    );
  } finally {
    await box.cleanup();
  }
});
