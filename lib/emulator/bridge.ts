/**
 * A synchronous call from Python (in the emulator's Worker) to async code on the main thread.
 *
 * MicroPython's wasm port calls JS functions synchronously, and Python code such as `sock.readline()` must
 * block until the host has the data. The Worker posts the request, then sleeps in `Atomics.wait` on a
 * SharedArrayBuffer until the main thread has written the reply there. Replies larger than the buffer go in
 * chunks: after each chunk the Worker posts `hostCallNext` (postMessage still works while it blocks).
 *
 * Layout: Int32 [0] state, [1] chunk length, [2] reply kind; data from byte 16.
 */
import type { HostValue } from "./protocol.ts";
import { concatBytes } from "../bytes/bytes.ts";

const enum State {
  Idle = 0,
  Waiting = 1,
  Chunk = 2,
  Final = 3,
}

const enum Kind {
  Json = 0,
  Bytes = 1,
  Error = 2,
}

const DATA_OFFSET = 16;

export const DEFAULT_BRIDGE_BYTES = 1 << 20;

export function createBridgeBuffer(bytes = DEFAULT_BRIDGE_BYTES): SharedArrayBuffer {
  return new SharedArrayBuffer(DATA_OFFSET + bytes);
}

/** Raised in the Worker when the host handler failed; the message is the handler's. */
export class HostCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostCallError";
  }
}

/** Worker side. */
export class BridgeClient {
  readonly #control: Int32Array;
  readonly #data: Uint8Array;
  readonly #post: (
    message: { type: "hostCall"; op: string; payload: HostValue } | { type: "hostCallNext" },
  ) => void;

  constructor(
    buffer: SharedArrayBuffer,
    post: (message: { type: "hostCall"; op: string; payload: HostValue } | { type: "hostCallNext" }) => void,
  ) {
    this.#control = new Int32Array(buffer, 0, 4);
    this.#data = new Uint8Array(buffer, DATA_OFFSET);
    this.#post = post;
  }

  /** Blocks the Worker until the main thread's handler for `op` has answered. */
  call(op: string, payload: HostValue): HostValue {
    const control = this.#control;
    Atomics.store(control, 0, State.Waiting);
    this.#post({ type: "hostCall", op, payload });
    const parts: Uint8Array[] = [];
    let kind: Kind;
    for (;;) {
      Atomics.wait(control, 0, State.Waiting);
      const state = Atomics.load(control, 0);
      parts.push(this.#data.slice(0, control[1]));
      if (state === State.Final) {
        kind = control[2] as Kind;
        Atomics.store(control, 0, State.Idle);
        break;
      }
      Atomics.store(control, 0, State.Waiting);
      this.#post({ type: "hostCallNext" });
    }
    const bytes = concatBytes(parts);
    if (kind === Kind.Bytes) return bytes;
    const text = new TextDecoder().decode(bytes);
    if (kind === Kind.Error) throw new HostCallError(text);
    return decodeJson(text);
  }
}

/** Main-thread side: delivers one reply at a time into the shared buffer. */
export class BridgeServer {
  readonly #control: Int32Array;
  readonly #data: Uint8Array;
  #remaining: Uint8Array = new Uint8Array(0);
  #kind = Kind.Json;

  constructor(buffer: SharedArrayBuffer) {
    this.#control = new Int32Array(buffer, 0, 4);
    this.#data = new Uint8Array(buffer, DATA_OFFSET);
  }

  reply(value: HostValue): void {
    if (value instanceof Uint8Array) {
      this.#start(Kind.Bytes, value);
    } else {
      this.#start(Kind.Json, new TextEncoder().encode(encodeJson(value)));
    }
  }

  fail(message: string): void {
    this.#start(Kind.Error, new TextEncoder().encode(message));
  }

  /** The Worker took the previous chunk. */
  next(): void {
    this.#sendChunk();
  }

  #start(kind: Kind, bytes: Uint8Array): void {
    this.#kind = kind;
    this.#remaining = bytes;
    this.#sendChunk();
  }

  #sendChunk(): void {
    const chunk = this.#remaining.subarray(0, this.#data.length);
    this.#remaining = this.#remaining.subarray(chunk.length);
    this.#data.set(chunk);
    const control = this.#control;
    control[1] = chunk.length;
    control[2] = this.#kind;
    Atomics.store(control, 0, this.#remaining.length > 0 ? State.Chunk : State.Final);
    Atomics.notify(control, 0);
  }
}

const BYTES_TAG = "$bytes";

function encodeJson(value: HostValue): string {
  return JSON.stringify(
    value,
    (_key, item) => item instanceof Uint8Array ? { [BYTES_TAG]: item.toBase64() } : item,
  );
}

function decodeJson(text: string): HostValue {
  return JSON.parse(text, (_key, item) => {
    if (item && typeof item === "object" && !Array.isArray(item) && typeof item[BYTES_TAG] === "string") {
      return Uint8Array.fromBase64(item[BYTES_TAG]);
    }
    return item;
  });
}
