import tls from "node:tls";
import { UserError } from "../lib/cli/errors.ts";
import { cipherBits, connectTls } from "../lib/transport/tls.ts";
import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";
import { makeTestPki } from "./helpers/test_certs.ts";

/** A node:tls server like the device's: TLS 1.2 only, ECDSA AES-GCM, client certificate required. */
async function deviceLikeServer(certPem: string, keyPem: string, caPem: string) {
  const authorized: boolean[] = [];
  const server = tls.createServer({
    key: keyPem,
    cert: certPem,
    ca: [caPem],
    requestCert: true,
    rejectUnauthorized: true,
    maxVersion: "TLSv1.2",
    ciphers: "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256",
  }, (socket) => {
    authorized.push(socket.authorized);
    socket.on("data", (data) => socket.write(data));
    socket.on("error", () => {});
    socket.on("end", () => socket.end());
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { port, authorized, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

Deno.test("tls transport: mutual TLS 1.2 against a device-like server", async (t) => {
  const pki = await makeTestPki();
  const server = await deviceLikeServer(pki.serverCertPem, pki.serverKeyPem, pki.caPem);
  const dnsOnly = await deviceLikeServer(pki.dnsOnlyServerCertPem, pki.dnsOnlyServerKeyPem, pki.caPem);
  const client = { caPem: pki.caPem, certPem: pki.clientCertPem, keyPem: pki.clientKeyPem, timeoutMs: 5000 };
  try {
    await t.step("IP SAN verified, AES-GCM negotiated, bytes echo, server end reads as EOF", async () => {
      const stream = await connectTls({ host: "127.0.0.1", port: server.port, ...client });
      assertEquals(stream.info.kind, "tls");
      assertEquals(stream.info.tlsProtocol, "TLSv1.2");
      assert(
        /^ECDHE-ECDSA-AES(128|256)-GCM-SHA(256|384)$/.test(stream.info.tlsCipher ?? ""),
        stream.info.tlsCipher,
      );
      assertEquals(stream.info.tlsBits, cipherBits(stream.info.tlsCipher!));
      await stream.write(Uint8Array.of(1, 2, 3, 0xff));
      assertEquals(await stream.read(), Uint8Array.of(1, 2, 3, 0xff));
      stream.close();
      assertEquals(await stream.read(), null);
      assertEquals(server.authorized, [true]);
    });

    await t.step("servername: a DNS SAN is verified while connecting by IP", async () => {
      const stream = await connectTls({
        host: "127.0.0.1",
        port: dnsOnly.port,
        servername: "esp.local",
        ...client,
      });
      assertEquals(stream.info.tlsProtocol, "TLSv1.2");
      stream.close();
    });

    await t.step("a certificate without the IP in its SAN is refused", async () => {
      await assertRejects(
        () => connectTls({ host: "127.0.0.1", port: dnsOnly.port, ...client }),
        UserError,
        `TLS to 127.0.0.1:${dnsOnly.port}: device certificate does not match the address`,
      );
    });

    await t.step("a wrong servername is refused", async () => {
      await assertRejects(
        () => connectTls({ host: "127.0.0.1", port: server.port, servername: "other.local", ...client }),
        UserError,
        "does not match",
      );
    });

    await t.step("a device certificate from another CA is refused", async () => {
      const other = Deno.readTextFileSync(`${pki.dir}/other-ca.pem`);
      await assertRejects(
        () => connectTls({ host: "127.0.0.1", port: server.port, ...client, caPem: other }),
        UserError,
        `TLS to 127.0.0.1:${server.port}: device certificate is not signed by your CA`,
      );
    });

    await t.step("a client certificate the device does not trust fails with a one-line error", async () => {
      const error = await assertRejects(async () => {
        const stream = await connectTls({
          host: "127.0.0.1",
          port: server.port,
          ...client,
          certPem: pki.strangerCertPem,
          keyPem: pki.strangerKeyPem,
        });
        // TLS 1.2 rejects in the handshake; if it ever resolves, the first read must not yield data.
        await stream.write(Uint8Array.of(1));
        const reply = await stream.read();
        stream.close();
        if (reply === null) throw new UserError("closed");
      }, UserError);
      assert(!error.message.includes("\n"));
    });

    await t.step("refused port names the address", async () => {
      await assertRejects(
        () => connectTls({ host: "127.0.0.1", port: 1, ...client }),
        UserError,
        "cannot connect to 127.0.0.1:1: connection refused",
      );
    });
  } finally {
    await server.close();
    await dnsOnly.close();
    await pki.remove();
  }
});

Deno.test("cipherBits from suite names", () => {
  assertEquals(cipherBits("ECDHE-ECDSA-AES256-GCM-SHA384"), 256);
  assertEquals(cipherBits("ECDHE-ECDSA-AES128-GCM-SHA256"), 128);
  assertEquals(cipherBits("TLS_CHACHA20_POLY1305_SHA256"), 256);
  assertEquals(cipherBits("unknown"), undefined);
});
