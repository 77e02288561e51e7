/**
 * The emulated device's WebREPL server, reproducing MicroPython v1.27 on ESP32 byte for byte
 * (shared notes webrepl-protocol.md): webrepl.py's accept + HTTP upgrade, then modwebsocket.c framing and
 * modwebrepl.c's password state and WA/WB file protocol, with the REPL in the device's Worker.
 *
 * Two separate entry points, because the TLS mode runs the upgrade in the device's own Python (wss_repl.py):
 * - `listenWebRepl`: TCP accept + HTTP upgrade + the one-client rule (plain ws:// mode);
 * - `serveWebReplTerminal`: an already-upgraded byte stream becomes the WebREPL terminal (what
 *   `_webrepl._webrepl(websocket.websocket(sock))` + `os.dupterm(ws)` do on the device).
 *
 * Device writes are faithful to the latency trap (notes §10): one frame per device write, its header and payload
 * in two separate writes, through the ESP32's modelled send buffer and Nagle (tcp_model.ts).
 */
import { encodeFrameHeader, type Frame, FrameParser, Opcode, WsProtocolError } from "../ws/frame.ts";
import type { ByteStream } from "../transport/stream.ts";
import type { EmulatedDeviceCore, TerminalSink } from "./device.ts";
import { concatBytes, latin1 } from "../bytes/bytes.ts";
import { connStream } from "../transport/tcp.ts";
import { type SendModelOptions, TcpSendModel } from "./tcp_model.ts";

const encoder = new TextEncoder();
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** webrepl.py's default `static_host`, served in the HTML stub to non-WebSocket requests. */
const STATIC_HOST = "https://micropython.org/webrepl/";
/** `char webrepl_passwd[10]`: the typed password is cut at 10 bytes. */
const PASSWORD_INPUT_MAX = 10;
export const PASSWORD_MAX_CHARS = 9;
const FILE_HEADER_BYTES = 82;
const FILE_NAME_MAX = 63;
const GET_CHUNK_BYTES = 256;
const GET_READ_AHEAD_BYTES = 16 * GET_CHUNK_BYTES;
const MICROPYTHON_VERSION = [1, 27, 0];
const WB_OK = new Uint8Array([0x57, 0x42, 0, 0]);
const CLOSE_REPLY = new Uint8Array([0x88, 0x00]);

export interface WebReplTerminalOptions {
  /** Bytes that arrived after the HTTP upgrade request (the first WebSocket frames). */
  initialBytes?: Uint8Array;
  /** The device's console (UART) lines, e.g. "dupterm: EOF received, deactivating". */
  log?: (line: string) => void;
  /** The device's TCP sending side (tcp_model.ts): ESP32's 5,744-byte buffer and Nagle, unless given. */
  tcp?: SendModelOptions;
}

/**
 * Runs one WebREPL session on an upgraded stream until the peer or the device ends it, then closes the stream.
 * Throws at once if another terminal holds the device's single dupterm slot.
 */
export async function serveWebReplTerminal(
  device: EmulatedDeviceCore,
  stream: ByteStream,
  options: WebReplTerminalOptions,
): Promise<void> {
  await new WebReplTerminal(device, stream, options).run();
}

type FileMode = "header" | "put" | "get" | "stuck";

class WebReplTerminal {
  readonly #device: EmulatedDeviceCore;
  readonly #stream: ByteStream;
  readonly #options: WebReplTerminalOptions;
  readonly #sink: TerminalSink;
  #loggedIn = false;
  #typed: number[] = [];
  #ended = false;
  #sending: Promise<void> = Promise.resolve();
  /** modwebsocket keeps the last frame's opcode; continuation frames keep the data type. */
  #lastOpcode: number = Opcode.Text;
  #header = new Uint8Array(FILE_HEADER_BYTES);
  #headerFilled = 0;
  #fileMode: FileMode = "header";
  #putRemaining = 0;
  #fileOpen = false;
  readonly #tcp: TcpSendModel;
  /**
   * File bytes read ahead for GET replies. The device reads 256 B from flash per pull; reading 4 KiB per trip
   * to the Worker keeps the emulator's own overhead from hiding the link's speed (the replies are the same).
   */
  #getAhead: Uint8Array = new Uint8Array(0);

  constructor(device: EmulatedDeviceCore, stream: ByteStream, options: WebReplTerminalOptions) {
    this.#device = device;
    this.#stream = stream;
    this.#options = options;
    this.#tcp = new TcpSendModel((bytes) => this.#write(bytes), options.tcp);
    this.#sink = {
      // modwebrepl drops output until the password is accepted.
      write: (bytes) => {
        if (this.#loggedIn && !this.#ended) this.#send(Opcode.Text, bytes);
      },
      drop: () => this.#end(),
    };
  }

  async run(): Promise<void> {
    this.#device.attachTerminal(this.#sink);
    try {
      this.#send(Opcode.Text, encoder.encode("Password: "));
      const parser = new FrameParser({ masking: "either", reject64BitLength: true });
      let chunk: Uint8Array | null = this.#options.initialBytes ?? new Uint8Array(0);
      while (chunk && !this.#ended) {
        let frames: Frame[];
        try {
          frames = parser.push(chunk);
        } catch (error) {
          if (!(error instanceof WsProtocolError)) throw error;
          this.#log(`dupterm: Exception in read() method, deactivating: OSError(5) (${error.code})`);
          break;
        }
        for (const frame of frames) {
          await this.#frame(frame);
          if (this.#ended) break;
        }
        if (!this.#ended) chunk = await this.#stream.read().catch(() => null);
        if (chunk) this.#tcp.peerSent();
      }
    } finally {
      this.#ended = true;
      this.#tcp.close();
      this.#device.detachTerminal(this.#sink);
      if (this.#fileOpen) await this.#device.fileRequest({ op: "close" }).catch(() => undefined);
      await this.#sending;
      this.#stream.close();
    }
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }

  /** Ends the session after everything queued has been written. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#tcp.close();
    this.#sending = this.#sending.then(() => this.#stream.close());
  }

  /** One device write: one frame, header and payload written separately as the C code does. */
  #send(opcode: number, payload: Uint8Array): void {
    const header = encodeFrameHeader(opcode, payload.length);
    this.#queueWrite(header);
    if (payload.length > 0) this.#queueWrite(payload);
  }

  /** One non-blocking send: the TCP model drops what does not fit and decides when the rest leaves. */
  #queueWrite(bytes: Uint8Array): void {
    this.#tcp.write(bytes);
  }

  /** Bytes the TCP model puts on the wire, in order. */
  #write(bytes: Uint8Array): void {
    this.#sending = this.#sending.then(() => this.#stream.write(bytes)).catch(() => {
      this.#ended = true;
    });
  }

  async #frame(frame: Frame): Promise<void> {
    switch (frame.opcode) {
      case Opcode.Close:
        this.#queueWrite(CLOSE_REPLY);
        if (frame.payload.length === 0) {
          this.#log("dupterm: EOF received, deactivating");
          this.#end();
          return;
        }
        // A control frame overwrites the stored frame type, so its payload reaches the binary path.
        this.#lastOpcode = frame.opcode;
        return await this.#data(frame.payload);
      case Opcode.Ping:
      case Opcode.Pong:
        this.#lastOpcode = frame.opcode;
        return await this.#data(frame.payload);
      case Opcode.Continuation:
        return await this.#data(frame.payload);
      default:
        this.#lastOpcode = frame.opcode;
        return await this.#data(frame.payload);
    }
  }

  async #data(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (!this.#loggedIn && offset < bytes.length && !this.#ended) {
      const byte = bytes[offset++];
      if (byte === 0x0d || byte === 0x0a) this.#checkPassword();
      else if (this.#typed.length < PASSWORD_INPUT_MAX) this.#typed.push(byte);
    }
    const rest = bytes.subarray(offset);
    if (rest.length === 0 || this.#ended) return;
    if (this.#lastOpcode === Opcode.Text) this.#device.sendInput(rest.slice());
    else await this.#fileBytes(rest);
  }

  #checkPassword(): void {
    // strcmp: the typed password ends at its first NUL.
    const nul = this.#typed.indexOf(0);
    const typed = new Uint8Array(nul === -1 ? this.#typed : this.#typed.slice(0, nul));
    const expected = encoder.encode(this.#device.webreplPassword);
    this.#typed = [];
    if (typed.length === expected.length && typed.every((byte, i) => byte === expected[i])) {
      this.#loggedIn = true;
      this.#send(Opcode.Text, encoder.encode("\r\nWebREPL connected\r\n>>> "));
      return;
    }
    this.#send(Opcode.Text, encoder.encode("\r\nAccess denied\r\n"));
    this.#log("dupterm: EOF received, deactivating");
    this.#end();
  }

  async #fileBytes(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length && !this.#ended) {
      switch (this.#fileMode) {
        case "header": {
          const take = Math.min(FILE_HEADER_BYTES - this.#headerFilled, bytes.length - offset);
          this.#header.set(bytes.subarray(offset, offset + take), this.#headerFilled);
          this.#headerFilled += take;
          offset += take;
          if (this.#headerFilled === FILE_HEADER_BYTES) {
            this.#headerFilled = 0;
            await this.#fileOperation();
          }
          break;
        }
        case "put": {
          const take = Math.min(this.#putRemaining, bytes.length - offset);
          // Not awaited: the device acknowledges nothing per chunk, and the Worker keeps the order.
          this.#device.fileRequest({ op: "write", bytes: bytes.slice(offset, offset + take) }).catch(
            () => {},
          );
          offset += take;
          this.#putRemaining -= take;
          if (this.#putRemaining === 0) await this.#finishFile();
          break;
        }
        case "get":
          // Every byte received during a GET asks for the next chunk.
          offset++;
          await this.#sendChunk();
          break;
        case "stuck":
          // An unknown request type leaves the binary path waiting for a transfer that never ends.
          offset = bytes.length;
          break;
      }
    }
  }

  async #fileOperation(): Promise<void> {
    const header = this.#header;
    const type = header[2];
    if (type === 3) {
      this.#send(Opcode.Binary, new Uint8Array(MICROPYTHON_VERSION));
      return;
    }
    const nameField = header.subarray(18, 18 + FILE_NAME_MAX);
    const nul = nameField.indexOf(0);
    const name = new TextDecoder().decode(nul === -1 ? nameField : nameField.subarray(0, nul));
    const size = new DataView(header.buffer).getUint32(12, true);
    const reply = await this.#device.fileRequest({ op: "open", name, mode: type === 1 ? "wb" : "rb" });
    if (!reply.ok) {
      // On ESP32 the OSError escapes the dupterm read(): the console logs it and the connection closes.
      this.#log(`dupterm: Exception in read() method, deactivating: OSError ${reply.error} (${name})`);
      this.#end();
      return;
    }
    this.#fileOpen = true;
    this.#send(Opcode.Binary, WB_OK);
    if (type === 1) {
      this.#fileMode = "put";
      this.#putRemaining = size;
      if (size === 0) await this.#finishFile();
    } else {
      this.#fileMode = type === 2 ? "get" : "stuck";
    }
  }

  async #sendChunk(): Promise<void> {
    if (this.#getAhead.length === 0) {
      const reply = await this.#device.fileRequest({ op: "read", max: GET_READ_AHEAD_BYTES });
      this.#getAhead = reply.ok ? reply.bytes ?? new Uint8Array(0) : new Uint8Array(0);
    }
    const data = this.#getAhead.subarray(0, GET_CHUNK_BYTES);
    this.#getAhead = this.#getAhead.subarray(data.length);
    const frame = new Uint8Array(2 + data.length);
    new DataView(frame.buffer).setUint16(0, data.length, true);
    frame.set(data, 2);
    this.#send(Opcode.Binary, frame);
    if (data.length === 0) await this.#finishFile();
  }

  async #finishFile(): Promise<void> {
    this.#getAhead = new Uint8Array(0);
    await this.#device.fileRequest({ op: "close" });
    this.#fileOpen = false;
    this.#fileMode = "header";
    this.#send(Opcode.Binary, WB_OK);
  }
}

// ---- plain mode: accept + HTTP upgrade (webrepl.py) ----

export interface WebReplServerOptions {
  hostname: string;
  port: number;
  log?: (line: string) => void;
}

export interface WebReplServer {
  readonly hostname: string;
  readonly port: number;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/** Listens for WebREPL clients the way webrepl.py does on the device (`listen(1)`, one client at a time). */
export function listenWebRepl(device: EmulatedDeviceCore, options: WebReplServerOptions): WebReplServer {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  const streams = new Set<ByteStream>();
  const sessions = new Set<Promise<void>>();
  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) {
        // Nagle is modelled (tcp_model.ts): the host kernel's own would stall pipelined GETs as no board does.
        conn.setNoDelay(true);
        const remote = conn.remoteAddr as Deno.NetAddr;
        const stream = connStream(conn, { kind: "tcp", host: remote.hostname, port: remote.port });
        streams.add(stream);
        const session = acceptConnection(device, stream, options)
          .catch((error) => options.log?.(`webrepl: ${(error as Error).message}`))
          .finally(() => {
            stream.close();
            streams.delete(stream);
            sessions.delete(session);
          });
        sessions.add(session);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  })();
  const address = listener.addr as Deno.NetAddr;
  return {
    hostname: address.hostname,
    port: address.port,
    async close() {
      listener.close();
      await acceptLoop;
      for (const stream of streams) stream.close();
      await Promise.all([...sessions]);
    },
  };
}

async function acceptConnection(
  device: EmulatedDeviceCore,
  stream: ByteStream,
  options: WebReplServerOptions,
): Promise<void> {
  // While the device (re)boots its network is down: the connection waits in the backlog.
  await device.ready;
  const upgrade = await readUpgradeRequest(stream);
  if (upgrade === "malformed") return;
  if (!upgrade.key) {
    await stream.write(encoder.encode('HTTP/1.0 200 OK\r\n\r\n<base href="'));
    await stream.write(encoder.encode(STATIC_HOST));
    await stream.write(encoder.encode('"></base>\r\n<script src="webrepl_content.js"></script>\r\n'));
    return;
  }
  const digest = await crypto.subtle.digest(
    "SHA-1",
    concatBytes([upgrade.key, encoder.encode(WEBSOCKET_GUID)]),
  );
  await stream.write(
    encoder.encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
    ),
  );
  await stream.write(encoder.encode(new Uint8Array(digest).toBase64()));
  await stream.write(encoder.encode("\r\n\r\n"));
  const peer = `('${stream.info.host}', ${stream.info.port})`;
  if (device.terminalAttached) {
    // webrepl.py prints this while the first client is the dupterm, so it lands in that client's REPL.
    for (const piece of ["\r\n", "Concurrent WebREPL connection from", " ", peer, " ", "rejected", "\r\n"]) {
      device.writeToTerminal(encoder.encode(piece));
    }
    return;
  }
  options.log?.(`WebREPL connection from: ${peer}`);
  await serveWebReplTerminal(device, stream, {
    initialBytes: upgrade.rest,
    log: options.log,
  });
}

/**
 * webrepl.py's server_handshake: lines up to an exact "\r\n" line, each split at its first ':' and stripped,
 * names compared case-sensitively. A line without ':' raises on the device and the connection just drops.
 */
async function readUpgradeRequest(
  stream: ByteStream,
): Promise<{ key: Uint8Array | null; rest: Uint8Array } | "malformed"> {
  let buffered: Uint8Array = new Uint8Array(0);
  let lineIndex = 0;
  let key: Uint8Array | null = null;
  let upgrade = false;
  let websocket = false;
  for (;;) {
    const newline = buffered.indexOf(0x0a);
    if (newline === -1) {
      const chunk = await stream.read().catch(() => null);
      if (!chunk) return { key: null, rest: new Uint8Array(0) };
      buffered = concatBytes([buffered, chunk]);
      continue;
    }
    const line = buffered.subarray(0, newline + 1);
    buffered = buffered.subarray(newline + 1);
    if (lineIndex++ === 0) continue;
    if (line.length === 2 && line[0] === 0x0d) break;
    const colon = line.indexOf(0x3a);
    if (colon === -1) return "malformed";
    const name = latin1(stripBytes(line.subarray(0, colon)));
    const value = stripBytes(line.subarray(colon + 1));
    const valueText = latin1(value);
    if (name === "Sec-WebSocket-Key") key = value.slice();
    else if (name === "Connection" && valueText.includes("Upgrade")) upgrade = true;
    else if (name === "Upgrade" && valueText === "websocket") websocket = true;
  }
  const accepted = upgrade && websocket && key !== null && key.length > 0;
  return { key: accepted ? key : null, rest: buffered.slice() };
}

/** Python's bytes.strip(): ASCII whitespace only. */
function stripBytes(bytes: Uint8Array): Uint8Array {
  const isSpace = (byte: number) => byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
  let start = 0;
  let end = bytes.length;
  while (start < end && isSpace(bytes[start])) start++;
  while (end > start && isSpace(bytes[end - 1])) end--;
  return bytes.subarray(start, end);
}
