/**
 * The generated PKI in real TLS: a node:tls server that requires client certificates and speaks TLS 1.2 only
 * (like MicroPython's mbedtls), and the host's client `Deno.connectTls` with the credentials from the store.
 */
import "npm:reflect-metadata@0.2.2";
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import { assertEquals, assertMatch, assertRejects } from "./helpers/assert.ts";
import { FAST_KDF, testStore, withTempDir } from "./helpers/pki.ts";
import {
  createCa,
  createHost,
  type DeviceCertificateOptions,
  issueDeviceCertificate,
  loadHostTlsCredentials,
} from "../lib/pki/authority.ts";
import { encodePem } from "../lib/hostkey/pem.ts";
import { decryptPrivateKey } from "../lib/hostkey/key_file.ts";
import { CA_CERT, hostCertName, hostKeyName } from "../lib/pki/store.ts";
import { UserError } from "../lib/cli/errors.ts";
import { certificateProblem } from "../lib/pki/verify.ts";
import { recordingIo } from "../lib/ui/io.ts";

const CA_PASS = "ca-secret";
const HOST_PASS = "host-secret";

interface Pki {
  caPem: string;
  client: { certPem: string; keyPem: string };
  device(options?: Partial<DeviceCertificateOptions>): Promise<{ certPem: string; keyPem: string }>;
}

/** A CA, a host (client) and a way to issue device (server) certificates, in `configDir`. */
async function makePki(configDir: string, hostOptions: { now?: Date; days?: number } = {}): Promise<Pki> {
  const store = testStore(configDir);
  await createCa(store, { passphrase: CA_PASS, kdf: FAST_KDF });
  await createHost(store, { caPassphrase: CA_PASS, passphrase: HOST_PASS, kdf: FAST_KDF, ...hostOptions });
  // The host's files as they are: loadHostTlsCredentials would refuse an expired certificate before any TLS.
  const keyFile = await Deno.readTextFile(store.path(hostKeyName(store.hostId)));
  const { pkcs8 } = await decryptPrivateKey(keyFile, HOST_PASS, "host key");
  return {
    caPem: await Deno.readTextFile(store.path(CA_CERT)),
    client: {
      certPem: await Deno.readTextFile(store.path(hostCertName(store.hostId))),
      keyPem: encodePem("PRIVATE KEY", pkcs8),
    },
    async device(options = {}) {
      const device = await issueDeviceCertificate(store, {
        name: "esp_test",
        ips: ["127.0.0.1"],
        caPassphrase: CA_PASS,
        ...options,
      });
      return { certPem: device.certPem, keyPem: encodePem("EC PRIVATE KEY", device.keyDer) };
    },
  };
}

interface ServerOutcome {
  authorized: boolean;
  /** Our own check of the client certificate (lib/pki/verify.ts), in words. */
  problem: string | null;
  protocol?: string | null;
  cipher?: string;
}

/** The device stand-in: mutual TLS 1.2, answers "hello" to an authorized client and drops any other. */
async function withDeviceServer(
  server: { certPem: string; keyPem: string; caPem: string },
  body: (port: number, outcome: Promise<ServerOutcome>) => Promise<void>,
): Promise<void> {
  let settle!: (outcome: ServerOutcome) => void;
  const outcome = new Promise<ServerOutcome>((resolve) => (settle = resolve));
  const sockets = new Set<tls.TLSSocket>();
  const listener = tls.createServer({
    key: server.keyPem,
    cert: server.certPem,
    ca: [server.caPem],
    requestCert: true,
    // Checked by hand below, as the device does, so the test sees the verification error by name.
    rejectUnauthorized: false,
    maxVersion: "TLSv1.2",
  });
  listener.on("secureConnection", async (socket: tls.TLSSocket) => {
    sockets.add(socket);
    const peer = socket.getPeerCertificate(true) as { raw?: Uint8Array };
    const problem = await certificateProblem(peer.raw, server.caPem, "client");
    settle({
      authorized: socket.authorized,
      problem,
      protocol: socket.getProtocol(),
      cipher: socket.getCipher()?.name,
    });
    if (socket.authorized && problem === null) socket.end("hello");
    else socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  try {
    await body((listener.address() as AddressInfo).port, outcome);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
}

/** Connects like the host does and reads the greeting; returns it, or the error's message. */
async function connect(
  port: number,
  caPem: string,
  client?: { certPem: string; keyPem: string },
  hostname = "127.0.0.1",
): Promise<{ greeting?: string; error?: string }> {
  let conn: Deno.TlsConn | undefined;
  try {
    conn = await Deno.connectTls({
      hostname,
      port,
      caCerts: [caPem],
      ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
    });
    await conn.handshake();
    const buffer = new Uint8Array(64);
    const count = await conn.read(buffer);
    if (count === null) return { error: "connection closed before any data" };
    return { greeting: new TextDecoder().decode(buffer.subarray(0, count)) };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  } finally {
    try {
      conn?.close();
    } catch {
      // already closed by the failed handshake
    }
  }
}

Deno.test("mutual TLS 1.2 with the generated CA, host and device certificates succeeds", async () => {
  await withTempDir(async (dir) => {
    const pki = await makePki(`${dir}/config`);
    const device = await pki.device();
    await withDeviceServer({ ...device, caPem: pki.caPem }, async (port, outcome) => {
      const result = await connect(port, pki.caPem, pki.client);
      assertEquals(result, { greeting: "hello" });
      const server = await outcome;
      assertEquals(server.authorized, true);
      assertEquals(server.protocol, "TLSv1.2");
      assertMatch(server.cipher ?? "", /^ECDHE-ECDSA-AES(128|256)-GCM-SHA(256|384)$/);
    });
  });
});

Deno.test("the device's name SAN works too: connecting to localhost with a DNS:localhost certificate", async () => {
  await withTempDir(async (dir) => {
    const pki = await makePki(`${dir}/config`);
    const device = await pki.device({ ips: [], dnsNames: ["localhost"] });
    await withDeviceServer({ ...device, caPem: pki.caPem }, async (port) => {
      assertEquals(await connect(port, pki.caPem, pki.client, "localhost"), { greeting: "hello" });
    });
  });
});

Deno.test("a client certificate from another CA is rejected by the device", async () => {
  await withTempDir(async (dir) => {
    const pki = await makePki(`${dir}/config`);
    const stranger = await makePki(`${dir}/other`);
    const device = await pki.device();
    await withDeviceServer({ ...device, caPem: pki.caPem }, async (port, outcome) => {
      const result = await connect(port, pki.caPem, stranger.client);
      assertEquals(result.greeting, undefined);
      assertMatch(result.error ?? "", /^UnexpectedEof/, "the device closes, as mbedtls does");
      const server = await outcome;
      assertEquals(server.authorized, false);
      assertMatch(server.problem ?? "", /^certificate ".*carlo@testhost" is not signed by the trusted CA/);
    });
  });
});

Deno.test("an expired host certificate is rejected by the device", async () => {
  await withTempDir(async (dir) => {
    const pki = await makePki(`${dir}/config`, { now: new Date("2010-01-01T00:00:00Z"), days: 30 });
    await assertRejects(
      () => loadHostTlsCredentials(`${dir}/config`, recordingIo({ env: { USER: "carlo" } }), HOST_PASS),
      UserError,
      "host certificate HOST_cert@6361726c6f.pem expired on 2010-01-31; renew it with `upydev kg ssl host`",
    );
    const device = await pki.device();
    await withDeviceServer({ ...device, caPem: pki.caPem }, async (port, outcome) => {
      const result = await connect(port, pki.caPem, pki.client);
      assertEquals(result.greeting, undefined);
      assertMatch(result.error ?? "", /^UnexpectedEof/);
      assertEquals((await outcome).problem, "certificate expired on 2010-01-31T00:00:00.000Z");
    });
  });
});

Deno.test("no client certificate: the device refuses the handshake", async () => {
  await withTempDir(async (dir) => {
    const pki = await makePki(`${dir}/config`);
    const device = await pki.device();
    await withDeviceServer({ ...device, caPem: pki.caPem }, async (port, outcome) => {
      const result = await connect(port, pki.caPem);
      assertEquals(result.greeting, undefined);
      assertMatch(result.error ?? "", /^UnexpectedEof/);
      const server = await outcome;
      assertEquals(server.authorized, false);
      assertEquals(server.problem, "no certificate was presented");
    });
  });
});

Deno.test("a device certificate for another address is refused by the host", async () => {
  await withTempDir(async (dir) => {
    const pki = await makePki(`${dir}/config`);
    const device = await pki.device({ ips: ["192.168.1.40"], dnsNames: ["esp_test.local"] });
    await withDeviceServer({ ...device, caPem: pki.caPem }, async (port) => {
      const result = await connect(port, pki.caPem, pki.client);
      assertEquals(result.greeting, undefined);
      assertMatch(result.error ?? "", /certificate not valid for name "127\.0\.0\.1"/);
    });
  });
});

Deno.test("an expired device certificate is refused by the host", async () => {
  await withTempDir(async (dir) => {
    const pki = await makePki(`${dir}/config`);
    const device = await pki.device({ now: new Date("2010-01-01T00:00:00Z"), days: 30 });
    await withDeviceServer({ ...device, caPem: pki.caPem }, async (port) => {
      const result = await connect(port, pki.caPem, pki.client);
      assertEquals(result.greeting, undefined);
      assertMatch(result.error ?? "", /certificate expired/);
    });
  });
});
