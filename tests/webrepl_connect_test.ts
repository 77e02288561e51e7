import tls from "node:tls";
import type { Socket } from "node:net";
import { UserError } from "../lib/cli/errors.ts";
import type { ByteStream } from "../lib/transport/stream.ts";
import { openDevice } from "../lib/device/connect.ts";
import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";
import { fakeDeviceServer } from "./helpers/fake_server.ts";
import { ScriptedDevice } from "./helpers/memory_stream.ts";
import { makeTestPki } from "./helpers/test_certs.ts";

const target = (port: number, password = "secret") => ({ host: "127.0.0.1", port, password, secure: false });

Deno.test("openDevice: logs in over TCP and reports the transport", async () => {
  const server = fakeDeviceServer(async (peer) => {
    await peer.upgrade();
    await peer.sendText("Password: ");
    await peer.textUntil("\r");
    await peer.sendText("\r\nWebREPL connected\r\n>>> ");
    await peer.frame();
    await peer.sendRaw(Uint8Array.of(0x88, 0x00));
  });
  const device = await openDevice(target(server.port));
  assertEquals(device.info, { kind: "tcp", host: "127.0.0.1", port: server.port });
  await device.close();
  await server.finish();
});

Deno.test("openDevice: wrong password, busy device, rejected upgrade", async () => {
  const denied = fakeDeviceServer(async (peer) => {
    await peer.upgrade();
    await peer.sendText("Password: ");
    await peer.textUntil("\r");
    await peer.sendText("\r\nAccess denied\r\n");
  });
  await assertRejects(
    () => openDevice(target(denied.port)),
    UserError,
    "wrong WebREPL password",
  );
  await denied.finish();

  const busy = fakeDeviceServer(async (peer) => {
    await peer.upgrade();
  });
  await assertRejects(
    () => openDevice(target(busy.port)),
    UserError,
    "device busy: another WebREPL session is active",
  );
  await busy.finish();

  const rejected = fakeDeviceServer(async (peer) => {
    await peer.readRequest();
    await peer.sendRaw(new TextEncoder().encode("HTTP/1.0 200 OK\r\n\r\n<html></html>"));
  });
  await assertRejects(
    () => openDevice(target(rejected.port)),
    UserError,
    `ws://127.0.0.1:${rejected.port} rejected the WebSocket upgrade`,
  );
  await rejected.finish();
});

Deno.test("openDevice: refused port and a silent device end within the bound, naming host:port", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = listener.addr.port;
  listener.close();
  await assertRejects(
    () => openDevice(target(closedPort), { connectTimeoutMs: 500 }),
    UserError,
    `127.0.0.1:${closedPort}: connection refused`,
  );

  const silent = fakeDeviceServer(async (peer) => {
    await peer.readRequest();
    await peer.frame(); // the client gives up and closes
  });
  const error = await assertRejects(
    () => openDevice(target(silent.port), { connectTimeoutMs: 200 }),
    UserError,
    `ws://127.0.0.1:${silent.port} accepted the connection but did not answer the upgrade`,
  );
  assert(!error.message.includes("\n"));
  await silent.finish();
});

Deno.test("openDevice: a password over 9 characters never connects", async () => {
  let connected = false;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = listener.accept().then((conn) => {
    connected = true;
    conn.close();
  }, () => {});
  await assertRejects(
    () => openDevice(target(listener.addr.port, "0123456789")),
    UserError,
    "1 to 9 bytes in UTF-8",
  );
  listener.close();
  await accepting;
  assertEquals(connected, false);
});

Deno.test("openDevice: wss without credentials is a clear error", async () => {
  await assertRejects(
    () => openDevice({ host: "127.0.0.1", port: 1, password: "x", secure: true }),
    UserError,
    "needs the host's TLS certificate and key",
  );
});

Deno.test("openDevice over wss: mutual TLS 1.2, upgrade and login; info carries the cipher", async () => {
  const pki = await makeTestPki();
  const served: Promise<void>[] = [];
  const server = tls.createServer({
    key: pki.serverKeyPem,
    cert: pki.serverCertPem,
    ca: [pki.caPem],
    requestCert: true,
    rejectUnauthorized: true,
    maxVersion: "TLSv1.2",
  }, (socket) => {
    const peer = new ScriptedDevice(nodeSocketStream(socket));
    served.push((async () => {
      await peer.upgrade();
      await peer.sendText("Password: ");
      assertEquals(await peer.textUntil("\r"), "secret\r");
      await peer.sendText("\r\nWebREPL connected\r\n>>> ");
      await peer.frame();
      socket.destroy(); // no close_notify, like MicroPython
    })());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const device = await openDevice(
      { host: "127.0.0.1", port, password: "secret", secure: true },
      {
        tlsCredentials: () =>
          Promise.resolve({ caPem: pki.caPem, certPem: pki.clientCertPem, keyPem: pki.clientKeyPem }),
      },
    );
    assertEquals(device.info.kind, "tls");
    assertEquals(device.info.tlsProtocol, "TLSv1.2");
    assert(device.info.tlsCipher?.includes("GCM"), device.info.tlsCipher);
    await device.close();
    await Promise.all(served);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pki.remove();
  }
});

/** A node socket as a ByteStream for the scripted device. */
function nodeSocketStream(socket: Socket): ByteStream {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  socket.on("data", (data: Uint8Array) => {
    chunks.push(new Uint8Array(data));
    wake?.();
  });
  const end = () => {
    ended = true;
    wake?.();
  };
  socket.on("end", end);
  socket.on("close", end);
  socket.on("error", end);
  return {
    info: { kind: "tls", host: "127.0.0.1", port: 0 },
    async read() {
      while (chunks.length === 0) {
        if (ended) return null;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return chunks.shift()!;
    },
    write: (bytes) =>
      new Promise((resolve, reject) => socket.write(bytes, (e) => (e ? reject(e) : resolve()))),
    close: () => void socket.destroy(),
  };
}
