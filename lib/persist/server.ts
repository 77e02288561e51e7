/**
 * The background process of a kept session (see kept.ts). It logs in to the device once, then serves one
 * local client at a time on a Unix socket: it answers the client's WebSocket upgrade and WebREPL login itself
 * (the client's own code runs unchanged) and relays frames both ways. It ends when idle for the asked seconds,
 * when the device closes or resets the connection, when the host key files change, when a client's target no
 * longer matches, or on `upydev disconnect`.
 *
 * Started by `startKept` with UPYDEV_KEPT_SERVE=1; reads its request (JSON) from stdin, prints "ready" once
 * serving, or one error line on stderr and a non-zero exit.
 */
import { UserError } from "../cli/errors.ts";
import { connectTarget } from "../device/use_device.ts";
import type { DeviceConnection } from "../device/connect.ts";
import type { DeviceTarget } from "../device/target.ts";
import { connStream } from "../transport/tcp.ts";
import type { ByteStream } from "../transport/stream.ts";
import { type Io, recordingIo } from "../ui/io.ts";
import { acceptKey } from "../ws/client.ts";
import { encodeFrame, FrameParser, Opcode } from "../ws/frame.ts";
import {
  addressOf,
  DISCONNECT_PATH,
  type KeptInfo,
  keptPaths,
  removeQuietly,
  targetFingerprint,
} from "./kept.ts";

export interface KeptRequest {
  configDir: string;
  /** The target as the client resolved it: what its fingerprint is computed from. */
  target: DeviceTarget;
  /** The host key's passphrase for wss, resolved (registry, environment or prompt) by the client. */
  passphrase?: string;
  /** The user the key store is named after, as the client sees it. */
  user: string;
  idleSeconds: number;
  fingerprint: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CHECK_EVERY_MS = 500;
const MAX_REQUEST_HEAD = 8192;

/** The background process's body; returns its exit code. */
export async function serveKept(): Promise<number> {
  const request = JSON.parse(await new Response(Deno.stdin.readable).text()) as KeptRequest;
  // No terminal: the client resolved the passphrase, and stdout/stderr are the client's pipes until "ready".
  const io = recordingIo({ env: { USER: request.user } });
  const { configDir, target } = request;
  let device: DeviceConnection;
  try {
    device = await connectTarget({ io, configDir }, { ...target, passphrase: request.passphrase }, {
      persist: false,
    });
  } catch (error) {
    const message = error instanceof UserError ? error.message : String(error);
    await Deno.stderr.write(encoder.encode(`${message}\n`));
    return 1;
  }
  const paths = await keptPaths(configDir, addressOf(target));
  await Deno.mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await removeQuietly(paths.socket);
  const listener = Deno.listen({ transport: "unix", path: paths.socket });
  await Deno.chmod(paths.socket, 0o600);
  const info: KeptInfo = {
    pid: Deno.pid,
    name: target.name,
    address: addressOf(target),
    scheme: target.secure ? "wss" : "ws",
    idleSeconds: request.idleSeconds,
    link: device.info,
  };
  await Deno.writeTextFile(paths.info, JSON.stringify(info), { mode: 0o600 });

  const server = new KeptServer(device, request, listener, io);
  await Deno.stdout.write(encoder.encode("ready\n"));
  Deno.stdout.close();
  await server.done;
  listener.close();
  await removeQuietly(paths.socket, paths.info);
  await device.close();
  return 0;
}

class KeptServer {
  readonly done: Promise<void>;
  #finish!: () => void;
  #client: ByteStream | undefined;
  /** The client once it has logged in: device output goes there, and is dropped between clients. */
  #relayTo: ByteStream | undefined;
  /** The current client's turn; commands are served one after another, as WebREPL serves one client. */
  #turn: Promise<void> = Promise.resolve();
  #lastUse = Date.now();
  #ended = false;

  constructor(
    private readonly device: DeviceConnection,
    private readonly request: KeptRequest,
    private readonly listener: Deno.Listener,
    private readonly io: Io,
  ) {
    this.done = new Promise((resolve) => (this.#finish = resolve));
    this.#pumpDevice();
    this.#accept();
    this.#watch();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#client?.close();
    this.#finish();
  }

  /** Device → client; with no client, output is dropped, but a closed or reset link still ends the session. */
  async #pumpDevice(): Promise<void> {
    try {
      while (!this.#ended) {
        const message = await this.device.session.ws.receive();
        if (message === null) break;
        const client = this.#relayTo;
        if (client) {
          await client.write(encodeFrame(message.opcode, message.payload, { mask: false })).catch(() => {});
        }
      }
    } catch {
      // a broken link ends the kept session like a closed one
    }
    this.#end();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.listener) {
        const client = connStream(conn, this.device.info);
        this.#turn = this.#turn.then(async () => {
          if (this.#ended) return client.close();
          this.#client = client;
          try {
            await this.#serve(client);
          } catch {
            // a client that breaks the protocol or goes away only ends its own turn
          } finally {
            client.close();
            if (this.#client === client) this.#client = this.#relayTo = undefined;
            this.#lastUse = Date.now();
          }
        });
      }
    } catch {
      // the listener closed: the session is ending
    }
  }

  /** Idle expiry and host key changes. */
  async #watch(): Promise<void> {
    const { configDir, target, fingerprint, idleSeconds } = this.request;
    while (!this.#ended) {
      await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS));
      const idle = this.#client === undefined && Date.now() - this.#lastUse >= idleSeconds * 1000;
      if (idle || await targetFingerprint(configDir, this.io, target) !== fingerprint) this.#end();
    }
  }

  async #serve(client: ByteStream): Promise<void> {
    const head = await readRequestHead(client);
    if (head === undefined) return;
    const path = /^GET (\S+) HTTP/.exec(head.text)?.[1] ?? "";
    const key = /^Sec-WebSocket-Key: *(\S+)/m.exec(head.text)?.[1] ?? "";
    if (path === DISCONNECT_PATH || path !== `/${this.request.fingerprint}`) {
      // A changed target is never served by the old connection; release the device before answering, so
      // the client's own connection finds it free.
      this.#client = undefined;
      this.#end();
      await this.device.close();
      await client.write(encoder.encode("HTTP/1.1 410 Gone\r\n\r\n")).catch(() => {});
      return;
    }
    await client.write(encoder.encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${await acceptKey(key)}\r\n\r\n`,
    ));
    const send = (text: string) =>
      client.write(encodeFrame(Opcode.Text, encoder.encode(text), { mask: false }));
    await send("Password: ");
    const parser = new FrameParser({ masking: "required" });
    let typed = "";
    let loggedIn = false;
    let pending: Uint8Array | null = head.surplus;
    while (!this.#ended) {
      const chunk = pending ?? await client.read();
      pending = null;
      if (chunk === null) return;
      for (const frame of parser.push(chunk)) {
        if (frame.opcode === Opcode.Close) {
          await client.write(encodeFrame(Opcode.Close, new Uint8Array(0), { mask: false })).catch(() => {});
          return;
        }
        if (frame.opcode === Opcode.Ping || frame.opcode === Opcode.Pong) continue;
        if (!loggedIn) {
          typed += decoder.decode(frame.payload);
          if (!typed.includes("\r")) continue;
          if (typed.slice(0, typed.indexOf("\r")) !== this.request.target.password) {
            await send("\r\nAccess denied\r\n");
            return;
          }
          loggedIn = true;
          await send("\r\nWebREPL connected\r\n>>> ");
          this.#relayTo = client;
          continue;
        }
        if (frame.opcode === Opcode.Binary) await this.device.session.ws.sendBinary(frame.payload);
        else await this.device.session.ws.sendText(frame.payload);
      }
    }
  }
}

async function readRequestHead(
  client: ByteStream,
): Promise<{ text: string; surplus: Uint8Array } | undefined> {
  let bytes = new Uint8Array(0);
  while (bytes.length < MAX_REQUEST_HEAD) {
    const chunk = await client.read();
    if (chunk === null) return undefined;
    const grown = new Uint8Array(bytes.length + chunk.length);
    grown.set(bytes);
    grown.set(chunk, bytes.length);
    bytes = grown;
    const end = decoder.decode(bytes).indexOf("\r\n\r\n");
    if (end >= 0) return { text: decoder.decode(bytes.subarray(0, end)), surplus: bytes.subarray(end + 4) };
  }
  return undefined;
}
