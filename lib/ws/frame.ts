/**
 * RFC 6455 framing, shared by the client (lib/ws/client.ts) and the emulated device's server.
 *
 * The parser is an explicit state machine (header → extended length → mask key → payload) so input may be split
 * at any byte: MicroPython writes a frame's header and payload with separate send() calls, and TLS records cut
 * streams anywhere. Violations throw `WsProtocolError` with a stable `code`.
 */

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

export interface Frame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  /** Unmasked payload. */
  payload: Uint8Array;
}

export type WsErrorCode =
  | "WS_ERR_RESERVED_BITS"
  | "WS_ERR_INVALID_OPCODE"
  | "WS_ERR_64BIT_LENGTH"
  | "WS_ERR_PAYLOAD_TOO_BIG"
  | "WS_ERR_CONTROL_FRAME_TOO_BIG"
  | "WS_ERR_FRAGMENTED_CONTROL"
  | "WS_ERR_UNEXPECTED_MASK"
  | "WS_ERR_EXPECTED_MASK"
  | "WS_ERR_NON_MINIMAL_LENGTH"
  | "WS_ERR_UNEXPECTED_CONTINUATION"
  | "WS_ERR_EXPECTED_CONTINUATION";

export class WsProtocolError extends Error {
  readonly code: WsErrorCode;
  constructor(code: WsErrorCode, message: string) {
    super(`${message} (${code})`);
    this.name = "WsProtocolError";
    this.code = code;
  }
}

/** The largest payload WebREPL handles in one message (device buffers are u16-sized). */
export const MAX_WEBREPL_PAYLOAD = 65535;

const CONTROL_PAYLOAD_MAX = 125;

/** Header for one FIN frame; with `maskKey` the MASK bit is set and the key appended. */
export function encodeFrameHeader(opcode: number, payloadLength: number, maskKey?: Uint8Array): Uint8Array {
  if (!Number.isInteger(payloadLength) || payloadLength < 0) {
    throw new RangeError(`invalid payload length ${payloadLength}`);
  }
  const lengthBytes = payloadLength < 126 ? 0 : payloadLength <= 0xffff ? 2 : 8;
  const header = new Uint8Array(2 + lengthBytes + (maskKey ? 4 : 0));
  header[0] = 0x80 | (opcode & 0x0f);
  const maskBit = maskKey ? 0x80 : 0;
  const view = new DataView(header.buffer);
  if (lengthBytes === 0) {
    header[1] = maskBit | payloadLength;
  } else if (lengthBytes === 2) {
    header[1] = maskBit | 126;
    view.setUint16(2, payloadLength);
  } else {
    header[1] = maskBit | 127;
    view.setBigUint64(2, BigInt(payloadLength));
  }
  if (maskKey) {
    if (maskKey.length !== 4) throw new RangeError("mask key must be 4 bytes");
    header.set(maskKey, 2 + lengthBytes);
  }
  return header;
}

/** A complete FIN frame in one buffer, so it goes out in one write (one TCP segment; see the Nagle trap). */
export function encodeFrame(opcode: number, payload: Uint8Array, options: { mask: boolean }): Uint8Array {
  const maskKey = options.mask ? crypto.getRandomValues(new Uint8Array(4)) : undefined;
  const header = encodeFrameHeader(opcode, payload.length, maskKey);
  const frame = new Uint8Array(header.length + payload.length);
  frame.set(header, 0);
  frame.set(payload, header.length);
  if (maskKey) applyMask(frame.subarray(header.length), maskKey, 0);
  return frame;
}

function applyMask(data: Uint8Array, maskKey: Uint8Array, startIndex: number): void {
  for (let i = 0; i < data.length; i++) data[i] ^= maskKey[(startIndex + i) & 3];
}

export interface FrameParserOptions {
  /** Largest accepted payload; default 65535 (WebREPL's limit). */
  maxPayload?: number;
  /** "required": a server parsing client frames; "forbidden": a client parsing server frames. Default "either". */
  masking?: "required" | "forbidden" | "either";
  /** Reject the 127 (64-bit) length form outright, as MicroPython v1.27 does. */
  reject64BitLength?: boolean;
}

const enum State {
  Header,
  ExtendedLength,
  MaskKey,
  Payload,
}

export class FrameParser {
  readonly #maxPayload: number;
  readonly #masking: "required" | "forbidden" | "either";
  readonly #reject64BitLength: boolean;

  #state = State.Header;
  /** Bytes collected for the current header field (2-byte header, 2/8-byte length, 4-byte mask key). */
  #field = new Uint8Array(8);
  #fieldFilled = 0;
  #fieldNeeded = 2;

  #fin = false;
  #opcode = 0;
  #masked = false;
  #maskKey = new Uint8Array(4);
  #payload = new Uint8Array(0);
  #payloadFilled = 0;
  #pendingLength = 0;
  /** Inside a fragmented data message (a non-FIN data frame was seen). */
  #inMessage = false;
  #failed: WsProtocolError | undefined;

  constructor(options: FrameParserOptions = {}) {
    this.#maxPayload = options.maxPayload ?? MAX_WEBREPL_PAYLOAD;
    this.#masking = options.masking ?? "either";
    this.#reject64BitLength = options.reject64BitLength ?? false;
  }

  /** Part of a frame has arrived but not all of it (an end of stream now cuts a frame). */
  get midFrame(): boolean {
    return this.#state !== State.Header || this.#fieldFilled > 0;
  }

  /** Consumes a chunk and returns every frame it completed. After an error the parser stays failed. */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) throw this.#failed;
    try {
      return this.#consume(chunk);
    } catch (error) {
      if (error instanceof WsProtocolError) this.#failed = error;
      throw error;
    }
  }

  #consume(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#state === State.Payload) {
        const take = Math.min(this.#payload.length - this.#payloadFilled, chunk.length - offset);
        this.#payload.set(chunk.subarray(offset, offset + take), this.#payloadFilled);
        this.#payloadFilled += take;
        offset += take;
        if (this.#payloadFilled === this.#payload.length) frames.push(this.#finishFrame());
        continue;
      }
      const take = Math.min(this.#fieldNeeded - this.#fieldFilled, chunk.length - offset);
      this.#field.set(chunk.subarray(offset, offset + take), this.#fieldFilled);
      this.#fieldFilled += take;
      offset += take;
      if (this.#fieldFilled < this.#fieldNeeded) break;
      const done = this.#fieldComplete();
      if (done) frames.push(done);
    }
    return frames;
  }

  #checkSequence(): void {
    const isContinuation = this.#opcode === Opcode.Continuation;
    if (isContinuation && !this.#inMessage) {
      throw new WsProtocolError(
        "WS_ERR_UNEXPECTED_CONTINUATION",
        "continuation frame without a message to continue",
      );
    }
    if (!isContinuation && this.#inMessage) {
      throw new WsProtocolError(
        "WS_ERR_EXPECTED_CONTINUATION",
        "new message before the fragmented one finished",
      );
    }
    this.#inMessage = !this.#fin;
  }

  #expectField(state: State, size: number): void {
    this.#state = state;
    this.#fieldFilled = 0;
    this.#fieldNeeded = size;
  }

  /** Advances after a header field is complete; returns a frame when its payload is empty. */
  #fieldComplete(): Frame | undefined {
    const field = this.#field;
    switch (this.#state) {
      case State.Header: {
        const first = field[0];
        const second = field[1];
        if (first & 0x70) {
          throw new WsProtocolError("WS_ERR_RESERVED_BITS", "reserved bits RSV1-3 must be clear");
        }
        this.#fin = (first & 0x80) !== 0;
        this.#opcode = first & 0x0f;
        const isControl = this.#opcode >= 0x8;
        if (!Object.values(Opcode).includes(this.#opcode as never)) {
          throw new WsProtocolError("WS_ERR_INVALID_OPCODE", `invalid opcode 0x${this.#opcode.toString(16)}`);
        }
        if (isControl && !this.#fin) {
          throw new WsProtocolError("WS_ERR_FRAGMENTED_CONTROL", "control frames must not be fragmented");
        }
        if (!isControl) this.#checkSequence();
        this.#masked = (second & 0x80) !== 0;
        if (this.#masked && this.#masking === "forbidden") {
          throw new WsProtocolError("WS_ERR_UNEXPECTED_MASK", "server frames must not be masked");
        }
        if (!this.#masked && this.#masking === "required") {
          throw new WsProtocolError("WS_ERR_EXPECTED_MASK", "client frames must be masked");
        }
        const length7 = second & 0x7f;
        if (isControl && length7 > CONTROL_PAYLOAD_MAX) {
          throw new WsProtocolError("WS_ERR_CONTROL_FRAME_TOO_BIG", "control frame payload over 125 bytes");
        }
        if (length7 === 126) {
          this.#expectField(State.ExtendedLength, 2);
          return undefined;
        }
        if (length7 === 127) {
          if (this.#reject64BitLength) {
            throw new WsProtocolError("WS_ERR_64BIT_LENGTH", "64-bit payload length not supported");
          }
          this.#expectField(State.ExtendedLength, 8);
          return undefined;
        }
        return this.#lengthKnown(length7);
      }
      case State.ExtendedLength: {
        const view = new DataView(field.buffer, 0, this.#fieldNeeded);
        if (this.#fieldNeeded === 2) {
          const length = view.getUint16(0);
          if (length < 126) {
            throw new WsProtocolError("WS_ERR_NON_MINIMAL_LENGTH", "16-bit length used for a short payload");
          }
          return this.#lengthKnown(length);
        }
        const length = view.getBigUint64(0);
        if (length > BigInt(Number.MAX_SAFE_INTEGER) || Number(length) > this.#maxPayload) {
          throw new WsProtocolError(
            "WS_ERR_PAYLOAD_TOO_BIG",
            `payload of ${length} bytes exceeds ${this.#maxPayload}`,
          );
        }
        if (length <= 0xffffn) {
          throw new WsProtocolError("WS_ERR_NON_MINIMAL_LENGTH", "64-bit length used for a short payload");
        }
        return this.#lengthKnown(Number(length));
      }
      case State.MaskKey:
        this.#maskKey = field.slice(0, 4);
        return this.#startPayload();
      case State.Payload:
        throw new Error("unreachable: payload is not a header field");
    }
  }

  #lengthKnown(length: number): Frame | undefined {
    if (length > this.#maxPayload) {
      throw new WsProtocolError(
        "WS_ERR_PAYLOAD_TOO_BIG",
        `payload of ${length} bytes exceeds ${this.#maxPayload}`,
      );
    }
    this.#pendingLength = length;
    if (this.#masked) {
      this.#expectField(State.MaskKey, 4);
      return undefined;
    }
    return this.#startPayload();
  }

  #startPayload(): Frame | undefined {
    this.#payload = new Uint8Array(this.#pendingLength);
    this.#payloadFilled = 0;
    this.#state = State.Payload;
    if (this.#pendingLength === 0) return this.#finishFrame();
    return undefined;
  }

  #finishFrame(): Frame {
    const payload = this.#payload;
    if (this.#masked) applyMask(payload, this.#maskKey, 0);
    const frame: Frame = { fin: this.#fin, opcode: this.#opcode, masked: this.#masked, payload };
    this.#payload = new Uint8Array(0);
    this.#payloadFilled = 0;
    this.#expectField(State.Header, 2);
    return frame;
  }
}
