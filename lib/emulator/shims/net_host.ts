/**
 * Main-thread side of the emulated device's socket and tls shims (python/socket.py, python/tls.py).
 *
 * The device's MicroPython runs in a Worker and calls `handle()` synchronously through the emulator's bridge,
 * so the device code (wss_repl.py, wss_helper.py) runs unchanged: it listens, gets its accept callback,
 * wraps the accepted socket in TLS and does the HTTP upgrade itself. The TLS handshake is a real node:tls
 * server handshake; the client certificate is requested only when the script set a verify_mode that asks
 * for it, so a script that forgets CERT_REQUIRED serves clients without certificates, as the port would.
 * When the script attaches the connection with os.dupterm, the upgraded stream goes to the TypeScript
 * WebREPL session, the same one plain mode uses.
 */
import { Buffer } from "node:buffer";
import crypto from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import type { ByteStream, TransportInfo } from "../../transport/stream.ts";
import { concatBytes } from "../../bytes/bytes.ts";

export interface NetHostHooks {
  /**
   * A client is waiting on a listener whose script set an accept callback: have the device's interpreter call
   * `socket._dispatch(listener)` once idle, as the port schedules the callback.
   */
  acceptReady(listener: number): void;
  /**
   * Serves the WebREPL session (login, framing, WA/WB, REPL) over an already-upgraded stream; `nagle` tells
   * whether the device code left Nagle on (the TCP model applies it; the host socket itself never delays).
   */
  attachWebRepl(stream: ByteStream, nagle: () => boolean): void;
  /** The 127.0.0.1 port to listen on for a device port; 0 (the default) lets the OS choose. */
  hostPort?(devicePort: number): number;
}

const CERT_NONE = 0;
const CERT_REQUIRED = 2;
const ETIMEDOUT = 116;
const EAGAIN = 11;
const EBADF = 9;
const NO_CLIENT_CERTIFICATE = -29824;

/** An exception the device's Python raises: the port's exception type and its arguments. */
class DeviceError extends Error {
  constructor(readonly type: "OSError" | "ValueError", readonly args: unknown[]) {
    super(`${type}${JSON.stringify(args)}`);
  }
}

interface TlsContext {
  certPem?: string;
  keyPem?: string;
  caPems: string[];
}

/** A blocking wait the way the port's socket timeout bounds it: null waits forever, 0 never waits. */
function bounded<T>(promise: Promise<T>, timeoutMs: number | null, onTimeout: () => void): Promise<T> {
  if (timeoutMs === null) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new DeviceError("OSError", [timeoutMs === 0 ? EAGAIN : ETIMEDOUT]));
    }, timeoutMs);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

class Connection {
  secure?: tls.TLSSocket;
  attached = false;
  /** Set by the device code (setsockopt TCP_NODELAY), as lwIP's default leaves it off. */
  noDelay = false;
  closed = false;
  timeoutMs: number | null = null;
  private chunks: Uint8Array[] = [];
  private ended = false;
  private reading = false;
  private wake?: () => void;

  constructor(readonly id: number, readonly raw: net.Socket, private readonly onClose: () => void) {
    // Nagle is the TCP model's business (lib/emulator/tcp_model.ts), not the host kernel's.
    raw.setNoDelay(true);
    raw.on("close", () => this.close());
    raw.on("error", () => this.close());
  }

  /** Starts taking bytes from the socket; before this the raw socket stays paused so TLS can still wrap it. */
  private startReading(): void {
    if (this.reading) return;
    this.reading = true;
    const source = this.secure ?? this.raw;
    source.on("data", (data: Buffer) => {
      this.chunks.push(new Uint8Array(data));
      this.notify();
    });
    source.on("end", () => {
      this.ended = true;
      this.notify();
    });
    source.on("error", () => this.close());
    source.resume();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async more(): Promise<boolean> {
    this.startReading();
    if (this.ended || this.closed) return false;
    await new Promise<void>((resolve) => this.wake = resolve);
    return true;
  }

  async readline(): Promise<Uint8Array> {
    const line = () => {
      const all = concatBytes(this.chunks);
      const end = all.indexOf(0x0a);
      if (end < 0 && !this.ended && !this.closed) return undefined;
      const taken = end < 0 ? all : all.subarray(0, end + 1);
      this.chunks = taken.length < all.length ? [all.subarray(taken.length)] : [];
      return taken;
    };
    let expired = false;
    const wait = async () => {
      // After a timeout the loop must stop, or it would swallow the next line the device never asked for.
      while (!expired) {
        const found = line();
        if (found) return found;
        await this.more();
      }
      return new Uint8Array(0);
    };
    return await bounded(wait(), this.timeoutMs, () => {
      expired = true;
      this.notify();
    });
  }

  async read(): Promise<Uint8Array | null> {
    while (this.chunks.length === 0) {
      if (!(await this.more())) return null;
    }
    return this.chunks.shift()!;
  }

  write(bytes: Uint8Array): Promise<void> {
    const socket = this.secure ?? this.raw;
    if (this.closed) return Promise.reject(new DeviceError("OSError", [EBADF]));
    return new Promise((resolve, reject) =>
      socket.write(bytes, (error) => error ? reject(error) : resolve())
    );
  }

  async wrap(context: TlsContext, verifyMode: number): Promise<void> {
    if (!context.certPem || !context.keyPem) {
      throw new DeviceError("OSError", ["no certificate and key loaded into the SSLContext"]);
    }
    // Without a CA mbedtls verifies nobody; node:tls would fall back to its public roots instead.
    if (verifyMode !== CERT_NONE && context.caPems.length === 0) {
      this.close();
      throw new DeviceError("ValueError", ["\nThe certificate is not correctly signed by the trusted CA\n"]);
    }
    const server = tls.createServer({
      cert: context.certPem,
      key: context.keyPem,
      ca: context.caPems.length ? context.caPems : undefined,
      requestCert: verifyMode !== CERT_NONE,
      rejectUnauthorized: verifyMode === CERT_REQUIRED,
      maxVersion: "TLSv1.2", // mbedtls as MicroPython builds it has no TLS 1.3
    });
    const handshake = new Promise<tls.TLSSocket>((resolve, reject) => {
      server.once("secureConnection", resolve);
      server.once("tlsClientError", (error) => reject(tlsFailure(error)));
    });
    server.emit("connection", this.raw);
    try {
      this.secure = await bounded(handshake, this.timeoutMs, () => this.close());
    } catch (error) {
      this.close();
      throw error;
    }
  }

  stream(): ByteStream {
    const info: TransportInfo = {
      kind: this.secure ? "tls" : "tcp",
      host: this.raw.remoteAddress ?? "",
      port: this.raw.remotePort ?? 0,
    };
    if (this.secure) {
      const cipher = this.secure.getCipher();
      info.tlsProtocol = this.secure.getProtocol() ?? undefined;
      info.tlsCipher = cipher.name;
      info.tlsBits = cipherBits(cipher.standardName ?? cipher.name);
    }
    return { read: () => this.read(), write: (bytes) => this.write(bytes), close: () => this.close(), info };
  }

  /** Like the port's SSLSocket.close(): the context is freed without a close_notify. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.attached = false;
    this.secure?.destroy();
    this.raw.destroy();
    this.notify();
    this.onClose();
  }
}

interface Listener {
  server: net.Server;
  devicePort: number;
  pending: Connection[];
  callback: boolean;
  timeoutMs: number | null;
  wake?: () => void;
}

export class NetHost {
  private nextId = 1;
  private readonly listeners = new Map<number, Listener>();
  private readonly connections = new Map<number, Connection>();
  private readonly contexts = new Map<number, TlsContext>();
  private readonly portWaiters: { devicePort: number; resolve: (port: number) => void }[] = [];
  /** Host port per device port, so a client can reconnect after a device reset. */
  private readonly hostPorts = new Map<number, number>();
  private closing: Promise<void> = Promise.resolve();

  constructor(private readonly hooks: NetHostHooks) {}

  /** The host port serving a device port, once the device code listens on it. */
  listeningPort(devicePort: number): number | undefined {
    for (const listener of this.listeners.values()) {
      if (listener.devicePort === devicePort) return (listener.server.address() as net.AddressInfo).port;
    }
    return undefined;
  }

  whenListening(devicePort: number): Promise<number> {
    const port = this.listeningPort(devicePort);
    if (port !== undefined) return Promise.resolve(port);
    return new Promise((resolve) => this.portWaiters.push({ devicePort, resolve }));
  }

  /** One request from python/_emu_host.py: JSON in, JSON out (`{result}` or `{error, args}`). */
  async handle(requestJson: string): Promise<string> {
    const request = JSON.parse(requestJson) as Record<string, unknown> & { op: string };
    try {
      return JSON.stringify({ result: await this.dispatch(request) ?? null });
    } catch (error) {
      if (error instanceof DeviceError) return JSON.stringify({ error: error.type, args: error.args });
      throw error;
    }
  }

  /** A device reset: the sockets close; listening again later reuses the same host ports. */
  reset(): void {
    this.closing = this.close();
  }

  /** Stops every listener and connection (the emulator shutting down). */
  async close(): Promise<void> {
    for (const connection of [...this.connections.values()]) connection.close();
    await Promise.all([...this.listeners.keys()].map((id) => this.closeListener(id)));
  }

  private async dispatch(request: Record<string, unknown> & { op: string }): Promise<unknown> {
    const id = request.id as number;
    switch (request.op) {
      case "listen":
        return await this.listen(request.port as number);
      case "accept_callback": {
        const listener = this.listener(id);
        listener.callback = request.enabled as boolean;
        // Clients that connected between listen() and this call would otherwise wait forever.
        if (listener.callback) { for (const _ of listener.pending) this.hooks.acceptReady(id); }
        return;
      }
      case "accept":
        return await this.accept(this.listener(id));
      case "settimeout": {
        const seconds = request.seconds as number | null;
        const target = this.listeners.get(id) ?? this.connection(id);
        target.timeoutMs = seconds === null ? null : seconds * 1000;
        return;
      }
      case "nodelay":
        this.connection(id).noDelay = request.enabled as boolean;
        return;
      case "readline":
        return (await this.connection(id).readline()).toHex();
      case "write":
        return await this.connection(id).write(Uint8Array.fromHex(request.data as string));
      case "close":
        if (this.listeners.has(id)) return await this.closeListener(id);
        return this.connections.get(id)?.close();
      case "tls_context":
        this.contexts.set(this.nextId, { caPems: [] });
        return this.nextId++;
      case "tls_load_cert_chain": {
        const context = this.context(id);
        context.certPem = certificatePem(Uint8Array.fromHex(request.cert as string));
        context.keyPem = privateKeyPem(Uint8Array.fromHex(request.key as string));
        return;
      }
      case "tls_load_verify_locations":
        this.context(id).caPems.push(certificatePem(Uint8Array.fromHex(request.cadata as string)));
        return;
      case "tls_wrap":
        return await this.connection(request.conn as number).wrap(
          this.context(id),
          request.verify_mode as number,
        );
      case "tls_cipher": {
        const secure = this.connection(id).secure;
        if (!secure) throw new DeviceError("OSError", [EBADF]);
        return [secure.getCipher().standardName.replaceAll("_", "-"), secure.getProtocol()];
      }
      case "attached":
        return this.connections.get(id)?.attached ?? false;
      case "attach": {
        const connection = this.connection(id);
        if (!connection.attached) {
          connection.attached = true;
          this.hooks.attachWebRepl(connection.stream(), () => !connection.noDelay);
        }
        return;
      }
      default:
        throw new Error(`emulator socket shim: unknown operation ${request.op}`);
    }
  }

  private async listen(devicePort: number): Promise<number> {
    await this.closing;
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => {
        reject(error.code === "EADDRINUSE" ? new DeviceError("OSError", [112]) : error);
      });
      server.listen(
        this.hostPorts.get(devicePort) ?? this.hooks.hostPort?.(devicePort) ?? 0,
        "127.0.0.1",
        resolve,
      );
    });
    const id = this.nextId++;
    const listener: Listener = { server, devicePort, pending: [], callback: false, timeoutMs: null };
    this.listeners.set(id, listener);
    server.on("connection", (socket: net.Socket) => {
      const connectionId = this.nextId++;
      const connection = new Connection(connectionId, socket, () => this.connections.delete(connectionId));
      this.connections.set(connectionId, connection);
      listener.pending.push(connection);
      if (listener.wake) {
        listener.wake();
      } else if (listener.callback) {
        this.hooks.acceptReady(id);
      }
    });
    const port = (server.address() as net.AddressInfo).port;
    this.hostPorts.set(devicePort, port);
    for (const waiter of this.portWaiters.filter((w) => w.devicePort === devicePort)) waiter.resolve(port);
    this.portWaiters.splice(
      0,
      this.portWaiters.length,
      ...this.portWaiters.filter((w) => w.devicePort !== devicePort),
    );
    return id;
  }

  private async accept(listener: Listener): Promise<{ id: number; addr: [string, number] }> {
    const next = async () => {
      while (listener.pending.length === 0) await new Promise<void>((resolve) => listener.wake = resolve);
      listener.wake = undefined;
      return listener.pending.shift()!;
    };
    const connection = await bounded(next(), listener.timeoutMs, () => listener.wake = undefined);
    return { id: connection.id, addr: [connection.raw.remoteAddress ?? "", connection.raw.remotePort ?? 0] };
  }

  private async closeListener(id: number): Promise<void> {
    const listener = this.listeners.get(id);
    if (!listener) return;
    this.listeners.delete(id);
    for (const connection of listener.pending) connection.close();
    await new Promise<void>((resolve) => listener.server.close(() => resolve()));
  }

  private listener(id: number): Listener {
    const listener = this.listeners.get(id);
    if (!listener) throw new DeviceError("OSError", [EBADF]);
    return listener;
  }

  private connection(id: number): Connection {
    const connection = this.connections.get(id);
    if (!connection) throw new DeviceError("OSError", [EBADF]);
    return connection;
  }

  private context(id: number): TlsContext {
    const context = this.contexts.get(id);
    if (!context) throw new DeviceError("OSError", [EBADF]);
    return context;
  }
}

/** DER (what the device stores) or PEM (which ESP32's mbedtls also parses) → PEM for node:tls. */
function certificatePem(bytes: Uint8Array): string {
  try {
    return new crypto.X509Certificate(Buffer.from(bytes)).toString();
  } catch {
    throw new DeviceError("ValueError", ["invalid cert"]);
  }
}

function privateKeyPem(bytes: Uint8Array): string {
  const pem = new TextDecoder().decode(bytes).startsWith("-----BEGIN");
  for (const type of ["pkcs8", "sec1"] as const) {
    try {
      const key = pem
        ? crypto.createPrivateKey(Buffer.from(bytes))
        : crypto.createPrivateKey({ key: Buffer.from(bytes), format: "der", type });
      return key.export({ format: "pem", type: "pkcs8" }) as string;
    } catch {
      // try the next encoding
    }
  }
  throw new DeviceError("ValueError", ["invalid key"]);
}

/** The device-side exception for a failed handshake, worded as MicroPython's mbedtls port words it. */
function tlsFailure(error: Error): DeviceError {
  const message = error.message.toLowerCase();
  if (message.includes("no certificate") || message.includes("did not return a certificate")) {
    return new DeviceError("OSError", [NO_CLIENT_CERTIFICATE, "MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE"]);
  }
  if (/unknown ca|local issuer|verify|self.signed|unable to get/.test(message)) {
    return new DeviceError("ValueError", ["\nThe certificate is not correctly signed by the trusted CA\n"]);
  }
  return new DeviceError("OSError", [`TLS handshake failed: ${error.message}`]);
}

function cipherBits(name: string): number | undefined {
  const bits = /AES_?(\d+)/i.exec(name)?.[1];
  return bits ? Number(bits) : undefined;
}
