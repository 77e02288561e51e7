/**
 * A hand-written RFC 6455 client for MicroPython's WebREPL, over any ByteStream (TCP or TLS).
 *
 * Hand-written because MicroPython compares header names case-sensitively and every stock client
 * (Deno's WebSocket included) lowercases them. Client frames are masked, FIN, at most 65535 bytes and go out
 * in one write each. Text frames are delivered as bytes: the device puts raw, possibly invalid UTF-8 into them.
 *
 * Over plain TCP the client sends an empty ping after each read that brings data while it waits for more:
 * stock WebREPL writes each frame as header then payload with Nagle on, so the payload waits for the ACK of
 * the header, which the host delays by up to 40 ms (200 ms on Windows). Any bytes the host sends carry that
 * ACK at once; MicroPython's WebSocket layer drops pings without replying (notes/real-firmware.md). Our
 * wss_repl turns Nagle off, so TLS links do without.
 */
import type { ByteStream } from "../transport/stream.ts";
import { formatAddress } from "../transport/tcp.ts";
import { encodeFrame, FrameParser, MAX_WEBREPL_PAYLOAD, Opcode } from "./frame.ts";
import { concatBytes } from "../bytes/bytes.ts";

export type WsHandshakeErrorCode =
  | "WS_ERR_REQUEST_REJECTED"
  | "WS_ERR_BAD_STATUS"
  | "WS_ERR_BAD_ACCEPT"
  | "WS_ERR_HANDSHAKE_EOF"
  | "WS_ERR_HANDSHAKE_TOO_BIG"
  | "WS_ERR_HANDSHAKE_TIMEOUT";

export class WsHandshakeError extends Error {
  readonly code: WsHandshakeErrorCode;
  constructor(code: WsHandshakeErrorCode, message: string) {
    super(message);
    this.name = "WsHandshakeError";
    this.code = code;
  }
}

/** No frame arrived within the inactivity timeout. The pending read is kept, so receiving again is safe. */
export class WsTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no data for ${timeoutMs} ms`);
    this.name = "WsTimeoutError";
  }
}

export interface WsMessage {
  /** Opcode.Text or Opcode.Binary (a continuation carries its message's opcode). */
  opcode: number;
  payload: Uint8Array;
}

/** How the connection ended, so "101 then close before any data" (WebREPL busy) can be told apart. */
export interface WsEnd {
  /** "eof-mid-frame": the stream ended inside a frame, so the device (or the network) cut it off. */
  reason: "close-frame" | "eof" | "eof-mid-frame";
  /** Data frames received before the end. */
  dataFrames: number;
}

export interface WsConnectOptions {
  /** Value of the Host header; defaults to the stream's host:port. */
  host?: string;
  path?: string;
  /** Bound on the whole handshake. */
  timeoutMs?: number;
  /** Ping once per read that brings data (see the module comment); default: over plain TCP only. */
  ackPokes?: boolean;
}

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_HANDSHAKE_BYTES = 16 * 1024;
const CLOSE_REPLY_WAIT_MS = 250;
const encoder = new TextEncoder();
const ACK_POKE = encodeFrame(Opcode.Ping, new Uint8Array(0), { mask: true });

export class WsClient {
  readonly #stream: ByteStream;
  readonly #parser = new FrameParser({ masking: "forbidden", maxPayload: MAX_WEBREPL_PAYLOAD });
  readonly #queue: WsMessage[] = [];
  #pendingRead: Promise<Uint8Array | null> | undefined;
  /**
   * Bytes that came with the 101 reply. They are parsed by the first receive, so a violation in them is
   * reported like any later one, not as a failed upgrade.
   */
  #surplus: Uint8Array | undefined;
  #messageOpcode = Opcode.Text as number;
  #dataFrames = 0;
  #end: WsEnd | undefined;
  #closed = false;
  /** A protocol violation was seen: nothing more from the peer can be trusted or parsed. */
  #broken = false;
  /** Every write, in order: a poke must never land inside a frame that is being written in parts. */
  #writes: Promise<unknown> = Promise.resolve();
  readonly #pokeAcks: boolean;

  private constructor(stream: ByteStream, surplus: Uint8Array, pokeAcks: boolean) {
    this.#stream = stream;
    this.#pokeAcks = pokeAcks;
    if (surplus.length > 0) this.#surplus = surplus;
  }

  /** Performs the upgrade on `stream`. On failure the stream is closed and a WsHandshakeError thrown. */
  static async connect(stream: ByteStream, options: WsConnectOptions = {}): Promise<WsClient> {
    try {
      const surplus = await handshake(stream, options);
      return new WsClient(stream, surplus, options.ackPokes ?? stream.info.kind === "tcp");
    } catch (error) {
      stream.close();
      throw error;
    }
  }

  get stream(): ByteStream {
    return this.#stream;
  }

  /** Set once the peer closed or the stream ended. */
  get end(): WsEnd | undefined {
    return this.#end;
  }

  /** Data frames received so far. */
  get dataFrames(): number {
    return this.#dataFrames;
  }

  sendText(payload: Uint8Array | string): Promise<void> {
    return this.#send(Opcode.Text, [typeof payload === "string" ? encoder.encode(payload) : payload]);
  }

  /** One binary message per payload, all in one write. */
  sendBinary(...payloads: Uint8Array[]): Promise<void> {
    return this.#send(Opcode.Binary, payloads);
  }

  /** Data messages received and parsed that `receive` has not returned yet. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * The next data message; null once the peer sent a close frame or the stream ended (see `end`).
   * Throws WsProtocolError on a malformed frame, WsTimeoutError after `inactivityMs` without a frame.
   */
  async receive(inactivityMs?: number): Promise<WsMessage | null> {
    while (this.#queue.length === 0) {
      if (this.#end) return null;
      const surplus = this.#surplus;
      this.#surplus = undefined;
      const chunk = surplus ?? await this.#read(inactivityMs);
      if (chunk === null) {
        const reason = this.#parser.midFrame ? "eof-mid-frame" : "eof";
        this.#end ??= { reason, dataFrames: this.#dataFrames };
        return null;
      }
      this.#accept(chunk);
      this.#pokeAck();
    }
    return this.#queue.shift()!;
  }

  /** Sends an empty close frame, waits briefly for the device's reply, and closes the stream. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (!this.#end && !this.#broken) {
        await this.#write(encodeFrame(Opcode.Close, new Uint8Array(0), { mask: true }));
        const deadline = Date.now() + CLOSE_REPLY_WAIT_MS;
        while (!this.#end && Date.now() < deadline) {
          this.#queue.length = 0;
          await this.receive(Math.max(1, deadline - Date.now()));
        }
      }
    } catch {
      // The peer may already be gone; closing is best effort and the stream is closed below anyway.
    } finally {
      this.#stream.close();
    }
  }

  async #send(opcode: number, payloads: Uint8Array[]): Promise<void> {
    const tooBig = payloads.find((payload) => payload.length > MAX_WEBREPL_PAYLOAD);
    if (tooBig) {
      throw new RangeError(`frame payload of ${tooBig.length} bytes exceeds ${MAX_WEBREPL_PAYLOAD}`);
    }
    if (this.#closed) throw new Error("WebSocket already closed");
    const frames = payloads.map((payload) => encodeFrame(opcode, payload, { mask: true }));
    await this.#write(frames.length === 1 ? frames[0] : concatBytes(frames));
  }

  #write(frame: Uint8Array): Promise<void> {
    const write = this.#writes.then(() => this.#stream.write(frame));
    this.#writes = write.catch(() => {});
    return write;
  }

  /**
   * One per read that brought data (never while idle): the device may hold the rest of this reply, or the
   * next frame, until it sees our ACK. A failed poke shows up on the next real write.
   */
  #pokeAck(): void {
    if (!this.#pokeAcks || this.#closed || this.#end || this.#broken) return;
    this.#write(ACK_POKE).catch(() => {});
  }

  async #read(timeoutMs?: number): Promise<Uint8Array | null> {
    this.#pendingRead ??= this.#stream.read();
    const read = this.#pendingRead;
    if (timeoutMs === undefined) {
      this.#pendingRead = undefined;
      return await read;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((
      resolve,
    ) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    try {
      const result = await Promise.race([read, timeout]);
      if (result === "timeout") throw new WsTimeoutError(timeoutMs);
      this.#pendingRead = undefined;
      return result;
    } catch (error) {
      if (!(error instanceof WsTimeoutError)) this.#pendingRead = undefined;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #accept(chunk: Uint8Array): void {
    let frames;
    try {
      frames = this.#parser.push(chunk);
    } catch (error) {
      this.#broken = true;
      throw error;
    }
    for (const frame of frames) {
      if (this.#end) return;
      switch (frame.opcode) {
        case Opcode.Close:
          this.#end = { reason: "close-frame", dataFrames: this.#dataFrames };
          return;
        case Opcode.Ping:
        case Opcode.Pong:
          // MicroPython never pings; answering would send a control payload the device mis-parses.
          break;
        default:
          if (frame.opcode !== Opcode.Continuation) this.#messageOpcode = frame.opcode;
          this.#dataFrames++;
          this.#queue.push({ opcode: this.#messageOpcode, payload: frame.payload });
      }
    }
  }
}

async function handshake(stream: ByteStream, options: WsConnectOptions): Promise<Uint8Array> {
  const key = crypto.getRandomValues(new Uint8Array(16)).toBase64();
  const host = options.host ?? formatAddress(stream.info.host, stream.info.port);
  const request = `GET ${options.path ?? "/"} HTTP/1.1\r\n` +
    `Host: ${host}\r\n` +
    "Upgrade: websocket\r\n" +
    "Connection: Upgrade\r\n" +
    `Sec-WebSocket-Key: ${key}\r\n` +
    "Sec-WebSocket-Version: 13\r\n\r\n";
  await stream.write(encoder.encode(request));

  const { head, surplus } = await readHead(stream, options.timeoutMs);
  const lines = head.split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!status) {
    throw new WsHandshakeError("WS_ERR_BAD_STATUS", `not an HTTP reply: ${JSON.stringify(lines[0])}`);
  }
  if (status[1] === "200") {
    throw new WsHandshakeError(
      "WS_ERR_REQUEST_REJECTED",
      "WebSocket upgrade request rejected (HTTP 200: not a WebREPL endpoint, or headers not accepted)",
    );
  }
  if (status[1] !== "101") {
    throw new WsHandshakeError("WS_ERR_BAD_STATUS", `unexpected HTTP status ${lines[0]}`);
  }
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const expected = await acceptKey(key);
  if (headers.get("sec-websocket-accept") !== expected) {
    throw new WsHandshakeError("WS_ERR_BAD_ACCEPT", "Sec-WebSocket-Accept does not match the key sent");
  }
  return surplus;
}

/** base64(SHA-1(key + GUID)), RFC 6455 §4.2.2. */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + WS_GUID));
  return new Uint8Array(digest).toBase64();
}

/** Reads up to the blank line; returns the head as text and whatever bytes followed it. */
async function readHead(
  stream: ByteStream,
  timeoutMs: number | undefined,
): Promise<{ head: string; surplus: Uint8Array }> {
  let buffer = new Uint8Array(0);
  const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  while (true) {
    const end = indexOfBlankLine(buffer);
    if (end >= 0) {
      return {
        head: new TextDecoder().decode(buffer.subarray(0, end)),
        surplus: buffer.slice(end + 4),
      };
    }
    if (buffer.length > MAX_HANDSHAKE_BYTES) {
      throw new WsHandshakeError(
        "WS_ERR_HANDSHAKE_TOO_BIG",
        `HTTP reply head over ${MAX_HANDSHAKE_BYTES} bytes`,
      );
    }
    const chunk = await readBefore(stream, deadline);
    if (chunk === null) {
      throw new WsHandshakeError("WS_ERR_HANDSHAKE_EOF", "connection closed during the WebSocket handshake");
    }
    const grown = new Uint8Array(buffer.length + chunk.length);
    grown.set(buffer);
    grown.set(chunk, buffer.length);
    buffer = grown;
  }
}

async function readBefore(stream: ByteStream, deadline: number | undefined): Promise<Uint8Array | null> {
  if (deadline === undefined) return await stream.read();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WsHandshakeError("WS_ERR_HANDSHAKE_TIMEOUT", "no WebSocket handshake reply in time")),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([stream.read(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function indexOfBlankLine(buffer: Uint8Array): number {
  for (let i = 0; i + 3 < buffer.length; i++) {
    if (buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 && buffer[i + 3] === 10) return i;
  }
  return -1;
}
