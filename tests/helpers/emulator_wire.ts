/**
 * A deliberately independent WebSocket client for the emulator tests: frames are built and parsed by hand
 * here (not with lib/ws), so the emulator is checked against the protocol itself.
 */

import { type EmulatedDevice, type EmulatorOptions, startEmulator } from "../../lib/emulator/emulator.ts";

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

export const UPGRADE_REQUEST =
  "GET / HTTP/1.1\r\nHost: device\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

export interface ServerFrame {
  fin: boolean;
  masked: boolean;
  opcode: number;
  payload: Uint8Array;
}

export class WireClient {
  readonly conn: Deno.TcpConn;
  #buffer: Uint8Array = new Uint8Array(0);
  #eof = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  static async connect(port: number): Promise<WireClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new WireClient(conn);
  }

  /** Connects, upgrades, and returns the client once the 101 has been read. */
  static async open(port: number): Promise<WireClient> {
    const client = await WireClient.connect(port);
    await client.write(encoder.encode(UPGRADE_REQUEST));
    const head = await client.readHttpHead();
    if (!head.startsWith("HTTP/1.1 101 ")) throw new Error(`upgrade failed: ${head}`);
    return client;
  }

  /** Opens and logs in; returns the text received up to and including the first prompt. */
  static async login(port: number, password: string): Promise<WireClient> {
    const client = await WireClient.open(port);
    await client.readText("Password: ");
    client.sendText(`${password}\r`);
    await client.readText("WebREPL connected\r\n>>> ");
    return client;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.conn.write(bytes.subarray(offset));
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(65536);
    let count: number | null;
    try {
      count = await this.conn.read(chunk);
    } catch {
      count = null;
    }
    if (count === null) {
      this.#eof = true;
      return false;
    }
    const merged = new Uint8Array(this.#buffer.length + count);
    merged.set(this.#buffer);
    merged.set(chunk.subarray(0, count), this.#buffer.length);
    this.#buffer = merged;
    return true;
  }

  async #take(count: number): Promise<Uint8Array | null> {
    while (this.#buffer.length < count) if (!(await this.#fill())) return null;
    const out = this.#buffer.slice(0, count);
    this.#buffer = this.#buffer.slice(count);
    return out;
  }

  /** Reads the HTTP response head (through the blank line). */
  async readHttpHead(): Promise<string> {
    for (;;) {
      const text = decoder.decode(this.#buffer);
      const end = text.indexOf("\r\n\r\n");
      if (end !== -1) {
        this.#buffer = this.#buffer.slice(end + 4);
        return text.slice(0, end + 4);
      }
      if (!(await this.#fill())) return text;
    }
  }

  /** Everything until the server closes the connection. */
  async readAll(): Promise<Uint8Array> {
    while (await this.#fill()) { /* keep reading */ }
    const out = this.#buffer;
    this.#buffer = new Uint8Array(0);
    return out;
  }

  /** Next frame from the server, or null at EOF. */
  async readFrame(): Promise<ServerFrame | null> {
    const head = await this.#take(2);
    if (!head) return null;
    let length = head[1] & 0x7f;
    if (length === 126) {
      const ext = await this.#take(2);
      if (!ext) return null;
      length = (ext[0] << 8) | ext[1];
    }
    const payload = await this.#take(length);
    if (!payload) return null;
    return { fin: (head[0] & 0x80) !== 0, masked: (head[1] & 0x80) !== 0, opcode: head[0] & 0x0f, payload };
  }

  /** Reads text frames until the collected text ends with `suffix`; returns the text. */
  async readText(suffix: string): Promise<string> {
    let text = "";
    while (!text.endsWith(suffix)) {
      const frame = await this.readFrame();
      if (!frame) throw new Error(`connection closed; got ${JSON.stringify(text)}`);
      if (frame.opcode !== 1) throw new Error(`expected text, got opcode ${frame.opcode}`);
      text += latin1(frame.payload);
    }
    return text;
  }

  /** Reads frames (any opcode) until EOF and returns them. */
  async readFramesToEnd(): Promise<ServerFrame[]> {
    const frames: ServerFrame[] = [];
    for (;;) {
      const frame = await this.readFrame();
      if (!frame) return frames;
      frames.push(frame);
    }
  }

  async readBinary(): Promise<Uint8Array> {
    for (;;) {
      const frame = await this.readFrame();
      if (!frame) throw new Error("connection closed while waiting for a binary frame");
      if (frame.opcode === 2) return frame.payload;
    }
  }

  sendFrame(opcode: number, payload: Uint8Array, options: { mask?: boolean } = {}): Promise<void> {
    return this.write(buildFrame(opcode, payload, options.mask ?? true));
  }

  sendText(text: string): Promise<void> {
    return this.sendFrame(1, encoder.encode(text));
  }

  sendBinary(bytes: Uint8Array): Promise<void> {
    return this.sendFrame(2, bytes);
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed by the server
    }
  }
}

export function buildFrame(opcode: number, payload: Uint8Array, mask: boolean): Uint8Array {
  const extended = payload.length < 126 ? 0 : 2;
  const head = new Uint8Array(2 + extended + (mask ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (mask ? 0x80 : 0) | (extended ? 126 : payload.length);
  if (extended) {
    head[2] = payload.length >> 8;
    head[3] = payload.length & 0xff;
  }
  const body = payload.slice();
  if (mask) {
    const key = [0x12, 0x34, 0x56, 0x78];
    head.set(key, 2 + extended);
    for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  }
  const frame = new Uint8Array(head.length + body.length);
  frame.set(head);
  frame.set(body, head.length);
  return frame;
}

/** The 82-byte WA request: `<2sBBQLH64s`. */
export function fileHeader(type: number, name: string, size = 0): Uint8Array {
  const header = new Uint8Array(82);
  const view = new DataView(header.buffer);
  header.set([0x57, 0x41, type, 0]);
  view.setUint32(12, size, true);
  const nameBytes = encoder.encode(name);
  view.setUint16(16, nameBytes.length, true);
  header.set(nameBytes.subarray(0, 64), 18);
  return header;
}

export const WB_OK = new Uint8Array([0x57, 0x42, 0, 0]);

export function latin1(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

/** PUT over WA/WB; returns the two replies. */
export async function put(client: WireClient, name: string, data: Uint8Array): Promise<Uint8Array[]> {
  const header = fileHeader(1, name, data.length);
  // Split like webrepl_cli.py: 10 + 72, then 1024-byte data frames.
  await client.sendBinary(header.subarray(0, 10));
  await client.sendBinary(header.subarray(10));
  const first = await client.readBinary();
  for (let offset = 0; offset < data.length; offset += 1024) {
    await client.sendBinary(data.subarray(offset, offset + 1024));
  }
  const second = await client.readBinary();
  return [first, second];
}

/** GET over WA/WB, one `\x00` pull per chunk; returns the file and the chunk sizes seen. */
export async function get(client: WireClient, name: string): Promise<{ data: Uint8Array; chunks: number[] }> {
  await client.sendBinary(fileHeader(2, name));
  const reply = await client.readBinary();
  if (reply.join() !== WB_OK.join()) throw new Error(`GET refused: ${reply}`);
  const parts: Uint8Array[] = [];
  const chunks: number[] = [];
  for (;;) {
    await client.sendBinary(new Uint8Array([0]));
    const chunk = await client.readBinary();
    const size = chunk[0] | (chunk[1] << 8);
    chunks.push(size);
    if (chunk.length !== size + 2) throw new Error(`chunk length ${chunk.length} does not match ${size}`);
    if (size === 0) break;
    parts.push(chunk.subarray(2));
  }
  const end = await client.readBinary();
  if (end.join() !== WB_OK.join()) throw new Error(`GET did not end with WB 0: ${end}`);
  const data = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    data.set(part, offset);
    offset += part.length;
  }
  return { data, chunks };
}

export const PASSWORD = "secret";

/** An emulator with one logged-in wire client, both closed afterwards. */
export async function withSession(
  body: (client: WireClient, emu: EmulatedDevice) => Promise<void>,
  options: Partial<EmulatorOptions> = {},
): Promise<void> {
  const emu = await startEmulator({ password: PASSWORD, port: 0, ...options });
  const client = await WireClient.login(emu.port, PASSWORD);
  try {
    await body(client, emu);
  } finally {
    client.close();
    await emu.close();
  }
}
