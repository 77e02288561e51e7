/**
 * The emulator's wss mode end to end, running the real device/wss_repl.py and device/wss_helper.py inside the
 * emulated device: a hand-written client does mutual TLS, the WebSocket upgrade and the WebREPL login with raw
 * bytes, so a mistake in the device scripts (file names, CERT_REQUIRED, the handshake) fails here.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { openDevice } from "../lib/device/connect.ts";
import { DeviceFiles } from "../lib/ops/files.ts";
import {
  installDevicePki,
  pemToDer,
  startWssDevice,
  startWssEmulator,
  writeDeviceFile,
} from "../lib/emulator/shims/wss.ts";
import type { WssEmulator } from "../lib/emulator/shims/wss.ts";
import { makeTestPki, type TestPki } from "./helpers/test_certs.ts";

const PASSWORD = "wsspass";
const UNIQUE_ID = Uint8Array.fromHex("240ac4a1b2c3");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function startDevice(pki: TestPki, options: { withCa?: boolean } = {}): Promise<WssEmulator> {
  const emu = await startWssEmulator({ password: PASSWORD, port: 0, uniqueId: UNIQUE_ID });
  try {
    // In /lib, as update_upyutils puts them; started from there, so relative key paths would not be found.
    await emu.runPython("import os\nos.mkdir('/lib')");
    for (const name of ["wss_repl.py", "wss_helper.py"]) {
      const source = await Deno.readFile(new URL(`../device/${name}`, import.meta.url));
      await writeDeviceFile(emu, `/lib/${name}`, source);
    }
    await installDevicePki(emu, {
      deviceKeyDer: pemToDer(pki.serverKeyPem),
      deviceCertDer: pemToDer(pki.serverCertPem),
      caPem: pki.caPem,
    });
    if (options.withCa === false) await emu.runPython("import os\nos.remove('/ROOT_CA_cert.pem')");
    return emu;
  } catch (error) {
    await emu.close();
    throw error;
  }
}

/**
 * Starts WebSecureREPL as a user would from the REPL. By default from another directory (with the password
 * given, since webrepl_cfg.py is then not importable, as on a device), so relative key paths would fail.
 */
async function startWss(
  emu: WssEmulator,
  code = `import os\nos.chdir('/lib')\nimport wss_repl\nwss_repl.start(password='${PASSWORD}', ssl=True)`,
): Promise<number> {
  const { output, error } = await emu.runPython(code);
  assert.equal(error, undefined);
  assert.match(output, /WebSecureREPL daemon started on wss:\/\/127\.0\.0\.1:8833/);
  return await emu.whenListening();
}

/** A raw client: bytes in, bytes out, with a buffer for what arrived but was not consumed yet. */
class RawClient {
  private buffer = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}

  async send(bytes: Uint8Array): Promise<void> {
    await this.conn.write(bytes);
  }

  private async fill(): Promise<boolean> {
    const chunk = new Uint8Array(4096);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    const joined = new Uint8Array(this.buffer.length + n);
    joined.set(this.buffer);
    joined.set(chunk.subarray(0, n), this.buffer.length);
    this.buffer = joined;
    return true;
  }

  async take(n: number): Promise<Uint8Array> {
    while (this.buffer.length < n) {
      if (!(await this.fill())) throw new Error(`EOF after ${decoder.decode(this.buffer)}`);
    }
    const out = this.buffer.slice(0, n);
    this.buffer = this.buffer.slice(n);
    return out;
  }

  async httpResponse(): Promise<string> {
    for (;;) {
      const end = decoder.decode(this.buffer).indexOf("\r\n\r\n");
      if (end >= 0) return decoder.decode(await this.take(end + 4));
      if (!(await this.fill())) throw new Error(`EOF in the HTTP response: ${decoder.decode(this.buffer)}`);
    }
  }

  /** One unmasked device frame (payloads are short here: 7-bit length). */
  async frame(): Promise<{ opcode: number; payload: string }> {
    const [b0, b1] = await this.take(2);
    return { opcode: b0 & 0x0f, payload: decoder.decode(await this.take(b1 & 0x7f)) };
  }

  /** Text frames until their payloads end with `suffix`; returns the joined text. */
  async textUntil(suffix: string): Promise<string> {
    let text = "";
    while (!text.endsWith(suffix)) text += (await this.frame()).payload;
    return text;
  }

  /** One masked text frame, as a client must send. */
  async sendText(text: string): Promise<void> {
    const payload = encoder.encode(text);
    const mask = crypto.getRandomValues(new Uint8Array(4));
    await this.send(
      new Uint8Array([0x81, 0x80 | payload.length, ...mask, ...payload.map((b, i) => b ^ mask[i % 4])]),
    );
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed by the peer */ }
  }
}

const UPGRADE = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

async function connect(pki: TestPki, port: number, client: { certPem: string; keyPem: string } | null) {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [pki.caPem],
    ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
  });
  await conn.handshake();
  return new RawClient(conn);
}

/** Mutual TLS, upgrade and login; returns the logged-in client. */
async function login(pki: TestPki, port: number): Promise<RawClient> {
  const client = await connect(pki, port, { certPem: pki.clientCertPem, keyPem: pki.clientKeyPem });
  await client.send(encoder.encode(UPGRADE));
  assert.equal(
    await client.httpResponse(),
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
  );
  assert.deepEqual(await client.frame(), { opcode: 1, payload: "Password: " });
  await client.sendText(`${PASSWORD}\r`);
  assert.equal(await client.textUntil(">>> "), "\r\nWebREPL connected\r\n>>> ");
  return client;
}

/** The client sees the connection fail: during the handshake, or at the first read after it. */
async function assertRejected(
  pki: TestPki,
  port: number,
  client: { certPem: string; keyPem: string } | null,
) {
  let failure: unknown;
  let raw: RawClient | undefined;
  try {
    raw = await connect(pki, port, client);
    await raw.send(encoder.encode(UPGRADE));
    await raw.httpResponse();
  } catch (error) {
    failure = error;
  } finally {
    raw?.close();
  }
  assert.ok(failure instanceof Error, "the device must not serve this client");
  return failure;
}

Deno.test("wss: the device's own wss_repl.py serves WebREPL over mutual TLS; login and print(1+1)", async () => {
  const pki = await makeTestPki();
  const emu = await startDevice(pki);
  try {
    const port = await startWss(emu);
    const client = await login(pki, port);
    await client.sendText("print(1+1)\r");
    assert.equal(await client.textUntil("\r\n>>> "), "print(1+1)\r\n2\r\n>>> ");
    client.close();
  } finally {
    await emu.close();
    await pki.remove();
  }
});

Deno.test("wss: a client without a certificate is refused, and the device keeps serving", async () => {
  const pki = await makeTestPki();
  const emu = await startDevice(pki);
  try {
    const port = await startWss(emu);
    await assertRejected(pki, port, null);
    const client = await login(pki, port);
    client.close();
  } finally {
    await emu.close();
    await pki.remove();
  }
});

Deno.test("wss: a client certificate from another CA is refused", async () => {
  const pki = await makeTestPki();
  const emu = await startDevice(pki);
  try {
    const port = await startWss(emu);
    const error = await assertRejected(pki, port, {
      certPem: pki.strangerCertPem,
      keyPem: pki.strangerKeyPem,
    });
    assert.match(String(error), /UnknownCA|unknown ca|BadCertificate|closed|EOF/i);
  } finally {
    await emu.close();
    await pki.remove();
  }
});

Deno.test("wss: the device refuses to start without ROOT_CA_cert.pem and listens on nothing", async () => {
  const pki = await makeTestPki();
  const emu = await startDevice(pki, { withCa: false });
  try {
    const { output } = await emu.runPython("import wss_repl\nwss_repl.start(ssl=True)");
    assert.match(output, /WebSecureREPL not started: OSError: cannot read \/ROOT_CA_cert\.pem/);
    assert.equal(emu.listeningPort(8833), undefined);
  } finally {
    await emu.close();
    await pki.remove();
  }
});

/** Waits until `condition` holds (the device noticing a closed connection happens asynchronously). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

Deno.test("wss: started from boot.py with webrepl_cfg's password; one client at a time, the next after it leaves", async () => {
  const pki = await makeTestPki();
  const { device: emu, port } = await startWssDevice({
    password: PASSWORD,
    port: 0,
    pki: {
      deviceKeyDer: pemToDer(pki.serverKeyPem),
      deviceCertDer: pemToDer(pki.serverCertPem),
      caPem: pki.caPem,
    },
  });
  try {
    const first = await login(pki, port);

    const second = await connect(pki, port, { certPem: pki.clientCertPem, keyPem: pki.clientKeyPem });
    await second.send(encoder.encode(UPGRADE));
    assert.match(await second.httpResponse(), /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    await assert.rejects(() => second.frame(), "the second client gets no Password: prompt");
    second.close();
    assert.match(
      await first.textUntil(" rejected\r\n"),
      /\nConcurrent WebREPL connection from \('127\.0\.0\.1', \d+\) rejected\r\n$/,
    );

    first.close();
    await until(() => !emu.core.terminalAttached);
    const third = await login(pki, port);
    await third.sendText("print(6*7)\r");
    assert.equal(await third.textUntil("\r\n>>> "), "print(6*7)\r\n42\r\n>>> ");
    third.close();
  } finally {
    await emu.close();
    await pki.remove();
  }
});

Deno.test("wss: the device negotiates TLS 1.2 with an AES-GCM suite, as mbedtls on ESP32 does", async () => {
  const pki = await makeTestPki();
  const emu = await startDevice(pki);
  try {
    const port = await startWss(emu);
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ca: [pki.caPem],
      cert: pki.clientCertPem,
      key: pki.clientKeyPem,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    assert.equal(socket.getProtocol(), "TLSv1.2");
    assert.match(socket.getCipher().name, /^ECDHE-ECDSA-AES(128|256)-GCM-SHA(256|384)$/);
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.destroy();
    await closed;
  } finally {
    await emu.close();
    await pki.remove();
  }
});

Deno.test("ws: wss_repl.start() without ssl serves plain WebREPL from the device's own script", async () => {
  const pki = await makeTestPki();
  const emu = await startDevice(pki);
  try {
    const { output } = await emu.runPython(`import wss_repl\nwss_repl.start(password='${PASSWORD}')`);
    assert.match(output, /WebREPL daemon started on ws:\/\/127\.0\.0\.1:8266/);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: await emu.whenListening(8266) });
    const client = new RawClient(conn);
    await client.send(encoder.encode(UPGRADE));
    assert.match(await client.httpResponse(), /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n\r\n$/);
    assert.deepEqual(await client.frame(), { opcode: 1, payload: "Password: " });
    await client.sendText(`${PASSWORD}\r`);
    assert.equal(await client.textUntil(">>> "), "\r\nWebREPL connected\r\n>>> ");
    client.close();
  } finally {
    await emu.close();
    await pki.remove();
  }
});

Deno.test("wss: the host client (openDevice) logs in, execs, and PUT/GET round-trip byte-exact", async () => {
  const pki = await makeTestPki();
  const emu = await startDevice(pki);
  try {
    const port = await startWss(emu);
    const device = await openDevice(
      { host: "127.0.0.1", port, password: PASSWORD, secure: true },
      {
        tlsCredentials: () =>
          Promise.resolve({ caPem: pki.caPem, certPem: pki.clientCertPem, keyPem: pki.clientKeyPem }),
      },
    );
    const files = new DeviceFiles(device.session);
    try {
      assert.equal(device.info.tlsProtocol, "TLSv1.2");
      assert.equal((await device.session.execText("print(1+1)")).trim(), "2");
      const data = crypto.getRandomValues(new Uint8Array(5000));
      data.set([0x00, 0x0d, 0x0a, 0x04, 0x03, 0xff], 100);
      await files.put(data, "/data.bin");
      assert.deepEqual(await files.get("/data.bin"), data);
      await files.put(new Uint8Array(0), "/empty.bin");
      assert.deepEqual(await files.get("/empty.bin"), new Uint8Array(0));
    } finally {
      await device.close();
    }
  } finally {
    await emu.close();
    await pki.remove();
  }
});

Deno.test("wss: a peer that never starts the TLS handshake is dropped after the handshake timeout", async () => {
  const pki = await makeTestPki();
  const emu = await startDevice(pki);
  try {
    const port = await startWss(
      emu,
      `import wss_repl\nwss_repl.HANDSHAKE_TIMEOUT_S = 1\nwss_repl.start(password='${PASSWORD}', ssl=True)`,
    );
    const silent = await Deno.connect({ hostname: "127.0.0.1", port });
    assert.equal(await silent.read(new Uint8Array(16)), null, "the device closes the silent connection");
    silent.close();
    const client = await login(pki, port);
    client.close();
  } finally {
    await emu.close();
    await pki.remove();
  }
});
