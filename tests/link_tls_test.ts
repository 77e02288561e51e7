/**
 * The TLS link under faults (issue 9, items 1 and 2): a device that ends the connection while a write waits
 * (a wrong WebREPL password over wss: node:tls then never calls the write back, and a CLI process ended in
 * "Top-level await promise never resolved"), and a device that sends far more than anyone reads.
 */
import tls from "node:tls";
import { openDevice } from "../lib/device/connect.ts";
import { UserError } from "../lib/cli/errors.ts";
import { LinkError } from "../lib/transport/link_error.ts";
import { connectTls } from "../lib/transport/tls.ts";
import type { ByteStream } from "../lib/transport/stream.ts";
import { assertEquals, assertRejects } from "./helpers/assert.ts";
import { fakeDevice, within } from "./helpers/fake_device.ts";
import { makeTestPki } from "./helpers/test_certs.ts";
import { HOST_PASS, hostWithCa, wssDeviceFor } from "./helpers/wss.ts";

Deno.test("wss: a wrong WebREPL password is reported as over ws, never a silent hang", async () => {
  const pki = await makeTestPki();
  // As wss_repl.py: refuse, then close at once, while the client is still writing its close frame.
  const device = fakeDevice(async (peer) => {
    await peer.upgrade();
    await peer.sendText("Password: ");
    await peer.textUntil("\r");
    await peer.sendText("\r\nAccess denied\r\n");
  }, { tls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem } });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      await assertRejects(
        () =>
          within(
            openDevice({ host: "127.0.0.1", port: device.port, password: "wrong", secure: true }, {
              tlsCredentials: () =>
                Promise.resolve({ caPem: pki.caPem, certPem: pki.clientCertPem, keyPem: pki.clientKeyPem }),
            }),
            5000,
            "login",
          ),
        UserError,
        `wrong WebREPL password for 127.0.0.1:${device.port}`,
      );
    }
  } finally {
    await device.finish();
    await pki.remove();
  }
});

/**
 * A node:tls server with the test PKI's device certificate, answering each connection with `serve`; `use` gets
 * a `connect` that opens our TLS transport to it with the host's credentials.
 */
async function withTlsServer(
  serve: (socket: tls.TLSSocket) => void,
  use: (connect: (maxUnreadBytes?: number) => Promise<ByteStream>, port: number) => Promise<void>,
): Promise<void> {
  const pki = await makeTestPki();
  const server = tls.createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem }, (socket) => {
    socket.on("error", () => {});
    serve(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    await use((maxUnreadBytes) =>
      connectTls({
        host: "127.0.0.1",
        port,
        caPem: pki.caPem,
        certPem: pki.clientCertPem,
        keyPem: pki.clientKeyPem,
        timeoutMs: 5000,
        maxUnreadBytes,
      }), port);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pki.remove();
  }
}

Deno.test("tls transport: a write waiting when the peer ends settles instead of hanging", async () => {
  await withTlsServer((socket) => socket.once("data", () => socket.end("bye")), async (connect) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const stream = await connect();
      await stream.write(Uint8Array.of(1));
      assertEquals(await stream.read(), new TextEncoder().encode("bye"));
      // Resolving (written before the end) and rejecting (after) are both fine; never settling is not.
      await within(stream.write(Uint8Array.of(2)).catch(() => {}), 5000, "write after the peer ended");
      stream.close();
    }
  });
});

Deno.test("tls transport: what nobody reads is bounded: past the bound the link ends with a clear error", async () => {
  const bound = 256 << 10;
  let flushed: () => void;
  const allSent = new Promise<void>((resolve) => (flushed = resolve));
  const flood = (socket: tls.TLSSocket) => {
    const block = new Uint8Array(64 << 10).fill(0x61);
    for (let sent = 0; sent < 4 * bound; sent += block.length) socket.write(block);
    socket.end(() => flushed());
  };
  await withTlsServer(flood, async (connect, port) => {
    const stream = await connect(bound);
    await allSent;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const error = await assertRejects(async () => {
      while ((await stream.read()) !== null);
    }, LinkError);
    assertEquals(
      [error.code, error.message],
      [
        "LINK_TOO_MUCH_DATA",
        `127.0.0.1:${port} sent more than 262144 bytes that was not read; connection closed`,
      ],
    );
    stream.close();
  });
});

Deno.test("wss CLI: a wrong WebREPL password ends exec, info and shl with the one-line error, as over ws", async () => {
  const box = await hostWithCa();
  const { device: emu, port } = await wssDeviceFor(box);
  try {
    for (const command of [["exec", "print(1)"], ["info"], ["shl"]]) {
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../main.ts", import.meta.url).pathname,
          command[0],
          "-t",
          `127.0.0.1:${port}`,
          "-p",
          `wrong:${HOST_PASS}`,
          ...command.slice(1),
        ],
        cwd: box.cwd,
        env: box.env,
        stdin: "null",
      }).output();
      assertEquals(
        [code, new TextDecoder().decode(stdout), new TextDecoder().decode(stderr)],
        [1, "", `upydev: wrong WebREPL password for 127.0.0.1:${port}\n`],
      );
    }
  } finally {
    await emu.close();
    await box.cleanup();
  }
});
