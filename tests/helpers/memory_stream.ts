/** In-memory ByteStream pairs and a scripted device peer, for protocol tests without sockets. */
import type { ByteStream, TransportInfo } from "../../lib/transport/stream.ts";
import { acceptKey } from "../../lib/ws/client.ts";
import { encodeFrame, type Frame, FrameParser, Opcode } from "../../lib/ws/frame.ts";

class Pipe {
  #chunks: Uint8Array[] = [];
  #ended = false;
  #wake: (() => void) | undefined;
  push(bytes: Uint8Array): void {
    if (this.#ended) throw new Deno.errors.BrokenPipe("pipe closed");
    this.#chunks.push(bytes.slice());
    this.#wake?.();
  }
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }
  async read(): Promise<Uint8Array | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    return this.#chunks.shift()!;
  }
}

/** An empty masked ping: what the client sends over TCP to carry its ACK (lib/ws/client.ts). */
export const isAckPoke = (bytes: Uint8Array) => bytes.length === 6 && bytes[0] === 0x89 && bytes[1] === 0x80;

/**
 * Two connected ends; `writes` on the first end records each write call (one write per frame) except the
 * client's ACK pokes, which `pokes` counts.
 */
export function memoryPair(
  info: TransportInfo = { kind: "tcp", host: "192.168.4.1", port: 8266 },
): { client: ByteStream & { writes: Uint8Array[]; pokes: () => number }; device: ByteStream } {
  const toDevice = new Pipe();
  const toClient = new Pipe();
  const writes: Uint8Array[] = [];
  let pokes = 0;
  const end = (incoming: Pipe, outgoing: Pipe, record?: Uint8Array[]) => ({
    info,
    read: () => incoming.read(),
    write: (bytes: Uint8Array) => {
      if (record && isAckPoke(bytes)) pokes++;
      else record?.push(bytes.slice());
      outgoing.push(bytes);
      return Promise.resolve();
    },
    close: () => {
      outgoing.end();
      incoming.end();
    },
  });
  return {
    client: { ...end(toClient, toDevice, writes), writes, pokes: () => pokes },
    device: end(toDevice, toClient),
  };
}

/** The device side of a scripted exchange. */
export class ScriptedDevice {
  readonly stream: ByteStream;
  #buffer = new Uint8Array(0);
  readonly #parser = new FrameParser({ masking: "required" });
  readonly #frames: Frame[] = [];
  requestHead = "";

  constructor(stream: ByteStream) {
    this.stream = stream;
  }

  async #more(): Promise<boolean> {
    const chunk = await this.stream.read();
    if (chunk === null) return false;
    const grown = new Uint8Array(this.#buffer.length + chunk.length);
    grown.set(this.#buffer);
    grown.set(chunk, this.#buffer.length);
    this.#buffer = grown;
    return true;
  }

  /** Reads the HTTP upgrade request and answers 101 with the right accept key (plus optional extra bytes). */
  async upgrade(extra: Uint8Array = new Uint8Array(0)): Promise<void> {
    const key = await this.readRequest();
    const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${await acceptKey(key)}\r\n\r\n`;
    const reply = new TextEncoder().encode(head);
    const all = new Uint8Array(reply.length + extra.length);
    all.set(reply);
    all.set(extra, reply.length);
    await this.stream.write(all);
  }

  /** Reads the request head; returns its Sec-WebSocket-Key. */
  async readRequest(): Promise<string> {
    while (true) {
      const text = new TextDecoder().decode(this.#buffer);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        this.requestHead = text.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 4);
        return /^Sec-WebSocket-Key: (.*)$/m.exec(this.requestHead)?.[1] ?? "";
      }
      if (!(await this.#more())) throw new Error("client closed before the request head");
    }
  }

  /** Next frame from the client (masked, as a device would receive it); null at EOF. Pings are dropped, as
   * MicroPython's WebSocket layer drops them. */
  async frame(): Promise<Frame | null> {
    while (true) {
      while (this.#frames.length === 0) {
        if (this.#buffer.length > 0) {
          this.#frames.push(...this.#parser.push(this.#buffer));
          this.#buffer = new Uint8Array(0);
          continue;
        }
        if (!(await this.#more())) return null;
      }
      const frame = this.#frames.shift()!;
      if (frame.opcode !== Opcode.Ping) return frame;
    }
  }

  /** Collects client text frames until their concatenation ends with `suffix`. */
  async textUntil(suffix: string): Promise<string> {
    let text = "";
    while (!text.endsWith(suffix)) {
      const frame = await this.frame();
      if (frame === null) {
        throw new Error(`EOF while waiting for ${JSON.stringify(suffix)}, got ${JSON.stringify(text)}`);
      }
      if (frame.opcode !== Opcode.Text) throw new Error(`expected text, got opcode ${frame.opcode}`);
      text += new TextDecoder().decode(frame.payload);
    }
    return text;
  }

  sendText(text: string | Uint8Array): Promise<void> {
    const payload = typeof text === "string" ? new TextEncoder().encode(text) : text;
    return this.stream.write(encodeFrame(Opcode.Text, payload, { mask: false }));
  }

  sendBinary(payload: Uint8Array): Promise<void> {
    return this.stream.write(encodeFrame(Opcode.Binary, payload, { mask: false }));
  }

  sendRaw(bytes: Uint8Array): Promise<void> {
    return this.stream.write(bytes);
  }

  close(): void {
    this.stream.close();
  }
}
