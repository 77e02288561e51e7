/**
 * PKI mistakes and faults, each one line naming the real cause: --days beyond what X.509 can hold, a working
 * certificate replaced without asking, a CA lost by a second --force, an invalid --uid, and TLS rejections that
 * node:tls reports as "not signed by your CA" (expired, not yet valid, wrong purpose, empty or damaged local CA).
 */
import "npm:reflect-metadata@0.2.2";
import tls from "node:tls";
import { runCli } from "../lib/cli/run.ts";
import { configCommands } from "../lib/config/commands.ts";
import { UserError } from "../lib/cli/errors.ts";
import {
  createCa,
  createHost,
  type DeviceCertificateOptions,
  issueDeviceCertificate,
  loadCa,
  loadHostTlsCredentials,
} from "../lib/pki/authority.ts";
import { issueLeafCertificate, validityFor } from "../lib/pki/certs.ts";
import { kgCommand } from "../lib/pki/commands.ts";
import { decryptPrivateKey } from "../lib/hostkey/key_file.ts";
import { generateKeyPair, sec1Der } from "../lib/pki/keys.ts";
import { encodePem } from "../lib/hostkey/pem.ts";
import { CA_CERT, hostCertName, hostKeyName } from "../lib/pki/store.ts";
import { type KeyTransferLink, UNIQUE_ID_CODE } from "../lib/pki/transfer.ts";
import { connectTls } from "../lib/transport/tls.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "./helpers/assert.ts";
import { FAST_KDF, openssl, testStore, withTempDir } from "./helpers/pki.ts";
import { makeReadOnly } from "./helpers/read_only.ts";

const CA_PASS = "ca-secret";
const HOST_PASS = "host-secret";
const UID = "30aea4233564";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real `kg` and `config` commands with a fake device link that answers the unique id. */
async function withKg(
  body: (
    run: (argv: string[], options?: { stdin?: string }) => Promise<Result>,
    pki: string,
  ) => Promise<void>,
): Promise<void> {
  await withTempDir(async (home) => {
    await Deno.mkdir(`${home}/project`);
    const link = (target: { secure: boolean }): KeyTransferLink => ({
      secure: target.secure,
      exec: (code) => code === UNIQUE_ID_CODE ? Promise.resolve(`${UID}\r\n`) : Promise.resolve(""),
      put: () => Promise.resolve(),
      sha256: () => Promise.resolve(""),
      close: () => Promise.resolve(),
    });
    const table = [kgCommand((target) => Promise.resolve(link(target))), ...configCommands];
    const run = async (argv: string[], options: { stdin?: string } = {}) => {
      const io = recordingIo({
        env: { HOME: home, USER: "carlo", UPYDEV_CA_PASSPHRASE: CA_PASS, UPYDEV_PASSPHRASE: HOST_PASS },
        cwd: `${home}/project`,
        stdinIsTerminal: options.stdin !== undefined,
      });
      if (options.stdin !== undefined) {
        io.feed(options.stdin);
        io.endInput();
      }
      const code = await runCli(argv, io, table);
      return { code, stdout: io.stdout, stderr: io.stderr };
    };
    await body(run, `${home}/.config/upydev/pki`);
  });
}

function assertOneLine(result: Result, code: number, pattern: RegExp): void {
  assertEquals(result.code, code, result.stderr);
  assertMatch(result.stderr, pattern);
  assertEquals(result.stderr.trim().split("\n").length, 1, result.stderr);
}

Deno.test("kg ssl --days is bounded by 9999-12-31; the largest allowed gives a certificate openssl reads", async () => {
  await withKg(async (run, pki) => {
    assertEquals((await run(["kg", "ssl", "CA"])).code, 0);
    const refused = await run(["kg", "ssl", "host", "--days", "99999999"]);
    assertOneLine(
      refused,
      2,
      /^upydev: --days 99999999 ends after 9999-12-31, the last date a certificate can hold \(at most \d+ days from now\)\n$/,
    );
    await assertRejects(() => Deno.stat(`${pki}/${hostCertName("6361726c6f")}`), Deno.errors.NotFound);
    const most = Number(/at most (\d+) days/.exec(refused.stderr)![1]);
    assertEquals((await run(["kg", "ssl", "host", "--days", String(most)])).code, 0);
    const parsed = await openssl([
      "x509",
      "-noout",
      "-enddate",
      "-in",
      `${pki}/${hostCertName("6361726c6f")}`,
    ]);
    assertEquals(parsed.code, 0, parsed.stderr);
    assertMatch(parsed.stdout, /^notAfter=Dec 3\d .* 9999 GMT|^notAfter=.* 9999 GMT/);
    assertOneLine(await run(["kg", "ssl", "CA", "--force", "--days", "3000000"]), 2, /ends after 9999-12-31/);
  });
});

Deno.test("kg ssl: a certificate still valid is not replaced without --force or a yes", async () => {
  await withKg(async (run, pki) => {
    assertEquals((await run(["kg", "ssl", "CA"])).code, 0);
    assertEquals((await run(["kg", "ssl", "host"])).code, 0);
    const hostPath = `${pki}/${hostCertName("6361726c6f")}`;
    const host = await Deno.readTextFile(hostPath);
    assertOneLine(
      await run(["kg", "ssl", "host"]),
      1,
      new RegExp(
        `^upydev: the host certificate ${hostPath} is valid until \\d{4}-\\d\\d-\\d\\d; pass --force to replace it\n$`,
      ),
    );
    const declined = await run(["kg", "ssl", "host"], { stdin: "n\n" });
    assertEquals(declined.code, 1);
    assert(declined.stderr.endsWith("upydev: kept the existing host certificate\n"), declined.stderr);
    assertEquals(await Deno.readTextFile(hostPath), host);
    assertEquals((await run(["kg", "ssl", "host"], { stdin: "y\n" })).code, 0);
    assert(await Deno.readTextFile(hostPath) !== host);
    assertEquals((await run(["kg", "ssl", "host", "--force"])).code, 0);

    const device = ["kg", "ssl", "--uid", UID, "--san", "10.0.0.5"];
    assertEquals((await run(device)).code, 0, "first device certificate");
    const devicePath = `${pki}/SSL_certificate${UID}.pem`;
    const first = await Deno.readTextFile(devicePath);
    assertOneLine(
      await run(device),
      1,
      /^upydev: the device certificate .* is valid until .*; pass --force to replace it\n$/,
    );
    assertEquals(await Deno.readTextFile(devicePath), first);
    assertEquals((await run([...device, "--force"])).code, 0);
    assert(await Deno.readTextFile(devicePath) !== first);
  });
});

Deno.test("kg ssl CA --force, three times: every replaced CA is kept, dated", async () => {
  await withKg(async (run, pki) => {
    const certs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const made = await run(["kg", "ssl", "CA", ...(i > 0 ? ["--force"] : [])]);
      assertEquals(made.code, 0, made.stderr);
      certs.push(await Deno.readTextFile(`${pki}/ROOT_CA_cert.pem`));
    }
    const kept: string[] = [];
    for await (const entry of Deno.readDir(pki)) {
      if (entry.name.includes("CA_cert")) kept.push(await Deno.readTextFile(`${pki}/${entry.name}`));
    }
    assertEquals(kept.sort(), [...certs].sort(), "all four CA certificates are in the store");
    const names = [...Deno.readDirSync(pki)].map((entry) => entry.name).sort();
    assertEquals(
      names.filter((name) => /^~ROOT_CA_(cert|key)\.replaced-\d{8}T\d{6}Z(-\d+)?\.pem$/.test(name)).length,
      4,
    );
    const status = await run(["kg", "ssl", "CA", "status"]);
    assertEquals(status.stdout.match(/^replaced ROOT CA: /gm)?.length, 2);
  });
});

Deno.test({
  name: "kg ssl: a read-only key store is one line naming the path",
  ignore: Deno.build.os === "windows",
  async fn() {
    await withKg(async (run, pki) => {
      assertEquals((await run(["kg", "ssl", "CA"])).code, 0);
      const restore = await makeReadOnly(pki);
      try {
        const result = await run(["kg", "ssl", "host"]);
        assertOneLine(result, 1, new RegExp(`^upydev: cannot write ${pki}.*: permission denied`));
      } finally {
        await restore();
      }
    });
  },
});

Deno.test("kg ssl --uid is checked by one rule, --onboard included", async () => {
  await withKg(async (run) => {
    assertEquals((await run(["kg", "ssl", "CA"])).code, 0);
    const message = /^upydev: --uid is not a unique id \(2 to 64 lowercase hex digits\): 'zz'\n$/;
    assertOneLine(await run(["kg", "ssl", "--uid", "zz", "--san", "10.0.0.5"]), 2, message);
    assertOneLine(
      await run(["kg", "ssl", "--onboard", "--uid", "zz", "-t", "10.0.0.5", "-p", "pw"]),
      2,
      message,
    );
    assertOneLine(
      await run(["kg", "ssl", "--onboard", "--uid", "../../x", "-t", "10.0.0.5", "-p", "pw"]),
      2,
      /--uid is not a unique id/,
    );
  });
});

// ---- TLS: the real cause of a rejected device certificate ----------------------------------------------------

interface Host {
  caPem: string;
  certPem: string;
  keyPem: string;
}

async function makeHost(configDir: string): Promise<Host> {
  const store = testStore(configDir);
  await createCa(store, { passphrase: CA_PASS, kdf: FAST_KDF });
  await createHost(store, { caPassphrase: CA_PASS, passphrase: HOST_PASS, kdf: FAST_KDF });
  const { pkcs8 } = await decryptPrivateKey(
    await Deno.readTextFile(store.path(hostKeyName(store.hostId))),
    HOST_PASS,
    "host key",
  );
  return {
    caPem: await Deno.readTextFile(store.path(CA_CERT)),
    certPem: await Deno.readTextFile(store.path(hostCertName(store.hostId))),
    keyPem: encodePem("PRIVATE KEY", pkcs8),
  };
}

/** A device-like TLS 1.2 server with the given certificate; connects the host to it and returns the error. */
async function hostErrorAgainst(host: Host, device: { certPem: string; keyPem: string }): Promise<string> {
  const server = tls.createServer({
    key: device.keyPem,
    cert: device.certPem,
    ca: [host.caPem],
    requestCert: true,
    rejectUnauthorized: false,
    maxVersion: "TLSv1.2",
  }, (socket) => socket.end());
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const error = await assertRejects(
      () => connectTls({ host: "127.0.0.1", port, ...host, timeoutMs: 5000 }),
      UserError,
    );
    return error.message.replace(`:${port}`, ":PORT");
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function deviceCert(configDir: string, options: Partial<DeviceCertificateOptions>) {
  const device = await issueDeviceCertificate(testStore(configDir), {
    name: "esp_test",
    ips: ["127.0.0.1"],
    caPassphrase: CA_PASS,
    ...options,
  });
  return { certPem: device.certPem, keyPem: encodePem("EC PRIVATE KEY", device.keyDer) };
}

Deno.test("TLS: an expired, not yet valid or wrong-purpose device certificate is named as such", async () => {
  await withTempDir(async (dir) => {
    const configDir = `${dir}/config`;
    const host = await makeHost(configDir);
    assertMatch(
      await hostErrorAgainst(
        host,
        await deviceCert(configDir, { now: new Date("2010-01-01T00:00:00Z"), days: 30 }),
      ),
      /^TLS to 127\.0\.0\.1:PORT: device certificate expired on 2010-01-31T00:00:00\.000Z$/,
    );
    assertMatch(
      await hostErrorAgainst(
        host,
        await deviceCert(configDir, { notBefore: new Date("2090-01-01T00:00:00Z"), days: 30000 }),
      ),
      /^TLS to 127\.0\.0\.1:PORT: device certificate is not valid before 2090-01-01T00:00:00\.000Z$/,
    );
    // A certificate of our CA for clientAuth only (a host's profile) served by a device.
    const ca = await loadCa(testStore(configDir), CA_PASS);
    const keys = await generateKeyPair();
    const clientOnly = await issueLeafCertificate(ca, {
      kind: "host",
      subject: [["CN", "esp_test"]],
      publicKey: keys.publicKey,
      validity: validityFor("host"),
      altNames: [{ type: "ip", value: "127.0.0.1" }],
    });
    assertEquals(
      await hostErrorAgainst(host, {
        certPem: clientOnly.toString("pem"),
        keyPem: encodePem("EC PRIVATE KEY", await sec1Der(keys)),
      }),
      "TLS to 127.0.0.1:PORT: device certificate is not for TLS server authentication",
    );
  });
});

Deno.test("TLS: an empty or damaged local ROOT_CA_cert.pem is named, not blamed on the device", async () => {
  await withTempDir(async (dir) => {
    const configDir = `${dir}/config`;
    await makeHost(configDir);
    const path = `${configDir}/pki/${CA_CERT}`;
    const io = recordingIo({ env: { USER: "carlo", UPYDEV_PASSPHRASE: HOST_PASS } });
    await Deno.writeTextFile(path, "");
    await assertRejects(
      () => loadHostTlsCredentials(configDir, io),
      UserError,
      `your CA certificate ${path} is empty; restore it, or make a new CA with \`upydev kg ssl CA\``,
    );
    await Deno.writeTextFile(path, "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n");
    await assertRejects(
      () => loadHostTlsCredentials(configDir, io),
      UserError,
      `your CA certificate ${path} is not a certificate`,
    );
  });
});
