/**
 * Moving whole files between host and device. `FileTransfer` is the seam: WA/WB (the `_webrepl` C module's
 * binary protocol) today, an exec-based route for long names and for firmware that drops WA/WB
 * (micropython#13540 would remove it).
 *
 * Neither route checks anything: callers (lib/ops) verify existence before a GET and size + SHA-256 after a PUT,
 * because the device reports write failures as success and a GET of a missing file kills its session.
 */
import { UserError } from "../cli/errors.ts";
import { LinkError } from "../transport/link_error.ts";
import { InterruptedError } from "../ui/io.ts";
import type { WebReplSession } from "./session.ts";

export type ProgressCallback = (doneBytes: number, totalBytes: number) => void;

export interface FileTransfer {
  /** Writes `data` to `remotePath` (creating or truncating it); the parent directory must exist. */
  put(remotePath: string, data: Uint8Array, onProgress?: ProgressCallback): Promise<void>;
  /** Reads `remotePath`, whose size the caller checked (`expectedSize`, used for progress and pipelining). */
  get(remotePath: string, expectedSize: number, onProgress?: ProgressCallback): Promise<Uint8Array>;
}

const encoder = new TextEncoder();

/** Usable bytes of the 64-byte NUL-terminated name field. */
export const WAWB_MAX_NAME_BYTES = 63;
/** Frame size of PUT data: the reference client's, the only one proven on hardware. */
const PUT_FRAME_BYTES = 1024;
/** The device answers each GET pull with at most this many bytes. */
export const GET_CHUNK_BYTES = 256;
const enum RequestType {
  Put = 1,
  Get = 2,
  GetVersion = 3,
}

export function wawbNameFits(remotePath: string): boolean {
  return encoder.encode(remotePath).length <= WAWB_MAX_NAME_BYTES;
}

/** The 82-byte request `<2sBBQLH64s`. */
export function wawbRequest(type: number, remotePath: string, size: number): Uint8Array {
  const name = encoder.encode(remotePath);
  if (name.length > WAWB_MAX_NAME_BYTES) {
    throw new Error(`WA/WB name of ${name.length} bytes exceeds ${WAWB_MAX_NAME_BYTES}`);
  }
  const request = new Uint8Array(82);
  const view = new DataView(request.buffer);
  request[0] = 0x57; // W
  request[1] = 0x41; // A
  request[2] = type;
  view.setUint32(12, size, true);
  view.setUint16(16, name.length, true);
  request.set(name, 18);
  return request;
}

export interface WaWbOptions {
  /** GET pulls kept in flight, so the device always has a request queued and a reply on its way. */
  getPipeline?: number;
  /** Ctrl-C: the transfer stops at the next frame and throws InterruptedError. */
  signal?: AbortSignal;
}

/**
 * A PUT interrupted with at most this much left is completed with zeros, so the session stays usable and the
 * caller can remove the temporary file at once; with more left the link is closed (the device knows no way to
 * abort a PUT) and the next put in that directory removes the leftover.
 */
const PUT_PADDING_LIMIT = 64 * 1024;

/**
 * Default pulls in flight. The device's socket is non-blocking and the firmware ignores partial writes, so
 * every reply in flight must fit its TCP send buffer (ESP-IDF's default is 5,744 B) until the host's ACK frees
 * it: 16 replies of 266 B (with the frame header) are 4.3 KB, while 64 would be 17 KB. The emulator models that
 * buffer (lib/emulator/tcp_model.ts). Measured on real MicroPython 1.27 (unix port, loopback, without our ACK
 * pings): 1 / 16 / 64 pulls → 5.7 / 3,901 / 4,710 KB/s; depth, not the 44 ms ACK stall, is what 16 buys back.
 */
const DEFAULT_GET_PIPELINE = 16;

export class WaWbTransfer implements FileTransfer {
  readonly #session: WebReplSession;
  readonly #getPipeline: number;
  readonly #signal: AbortSignal | undefined;

  constructor(session: WebReplSession, options: WaWbOptions = {}) {
    this.#session = session;
    this.#getPipeline = Math.max(1, options.getPipeline ?? DEFAULT_GET_PIPELINE);
    this.#signal = options.signal;
  }

  async put(remotePath: string, data: Uint8Array, onProgress?: ProgressCallback): Promise<void> {
    const what = `PUT of ${remotePath}`;
    await this.#session.sendBinary(wawbRequest(RequestType.Put, remotePath, data.length), what);
    await this.#expectReply(what);
    for (let offset = 0; offset < data.length; offset += PUT_FRAME_BYTES) {
      if (this.#signal?.aborted) return await this.#abandonPut(what, data.length - offset);
      const end = Math.min(offset + PUT_FRAME_BYTES, data.length);
      await this.#session.sendBinary(data.subarray(offset, end), what);
      onProgress?.(end, data.length);
    }
    await this.#expectReply(what);
    if (data.length === 0) onProgress?.(0, 0);
  }

  async #abandonPut(what: string, remaining: number): Promise<never> {
    if (remaining > PUT_PADDING_LIMIT) {
      await this.#session.close();
      throw new InterruptedError();
    }
    const zeros = new Uint8Array(PUT_FRAME_BYTES);
    for (let left = remaining; left > 0; left -= PUT_FRAME_BYTES) {
      await this.#session.sendBinary(zeros.subarray(0, Math.min(left, PUT_FRAME_BYTES)), what);
    }
    await this.#expectReply(what);
    throw new InterruptedError();
  }

  async get(remotePath: string, expectedSize: number, onProgress?: ProgressCallback): Promise<Uint8Array> {
    const what = `GET of ${remotePath}`;
    await this.#session.sendBinary(wawbRequest(RequestType.Get, remotePath, 0), what);
    await this.#expectReply(what);
    // Pulls beyond the EOF chunk would be read by the device as the start of the next request header, so
    // never have more in flight than the known size needs: one per 256-byte chunk plus one for EOF.
    const pullsNeeded = Math.ceil(expectedSize / GET_CHUNK_BYTES) + 1;
    const pull = Uint8Array.of(0);
    let sent = 0;
    /**
     * Pulls decided but not written: replies that arrived together are answered together, in one write (over
     * TLS one record instead of one per pull), once every reply already received has been handled.
     */
    let owed = Math.min(this.#getPipeline, pullsNeeded);
    const sendOwed = async () => {
      const pulls = new Array<Uint8Array>(owed).fill(pull);
      sent += owed;
      owed = 0;
      await this.#session.sendBinary(pulls, what);
    };
    await sendOwed();
    const chunks: Uint8Array[] = [];
    let received = 0;
    let replies = 0;
    while (true) {
      const reply = await this.#session.receiveBinary(what);
      if (reply === null) throw this.#lost(what);
      replies++;
      if (reply.length < 2) throw this.#bad(what, `chunk of ${reply.length} bytes`);
      const length = reply[0] | (reply[1] << 8);
      if (length > GET_CHUNK_BYTES || reply.length !== 2 + length) {
        throw this.#bad(what, `chunk header says ${length} bytes, frame has ${reply.length - 2}`);
      }
      if (length === 0) break;
      if (this.#signal?.aborted) {
        // Only pulling to the end would finish the GET; nothing was written yet, so dropping the link is clean.
        await this.#session.close();
        throw new InterruptedError();
      }
      chunks.push(reply.slice(2));
      received += length;
      // Pulled no further than the size announced: a device that keeps answering is not pulled forever.
      if (received > expectedSize) throw this.#changedSize(remotePath);
      onProgress?.(received, Math.max(expectedSize, received));
      // Short chunks (each still carries at least one byte) need pulls beyond those the size asked for.
      if (sent + owed === replies || sent + owed < pullsNeeded) owed++;
      if (owed > 0 && this.#session.ws.queued === 0) await sendOwed();
    }
    // The file shrank: extra pulls are queued on the device and would corrupt the next request.
    if (sent !== replies) throw this.#changedSize(remotePath);
    await this.#expectReply(what);
    if (expectedSize === 0) onProgress?.(0, 0);
    return concatChunks(chunks, received);
  }

  /** The firmware version `[major, minor, micro]` (needs no REPL). */
  async version(): Promise<[number, number, number]> {
    await this.#session.sendBinary(wawbRequest(RequestType.GetVersion, "", 0), "GET_VER");
    const reply = await this.#session.receiveBinary("GET_VER reply");
    if (reply === null) throw this.#lost("GET_VER");
    if (reply.length !== 3) throw this.#bad("GET_VER", `${reply.length}-byte reply`);
    return [reply[0], reply[1], reply[2]];
  }

  async #expectReply(what: string): Promise<void> {
    const reply = await this.#session.receiveBinary(what);
    if (reply === null) throw this.#lost(what);
    if (reply.length !== 4 || reply[0] !== 0x57 || reply[1] !== 0x42) {
      throw this.#bad(what, `expected WB reply, got ${reply.slice(0, 8).toHex()}`);
    }
    const code = reply[2] | (reply[3] << 8);
    if (code !== 0) throw new UserError(`${what} failed on ${this.#session.address}: WB error ${code}`);
  }

  // The errors below leave the device in the middle of a request, so the session is marked failed.

  #changedSize(remotePath: string): LinkError {
    return this.#session.fail(
      new LinkError(
        "LINK_UNEXPECTED_REPLY",
        `${remotePath} changed size during the transfer from ${this.#session.address}; reconnect and retry`,
      ),
    );
  }

  #lost(what: string): LinkError {
    const midFrame = this.#session.ws.end?.reason === "eof-mid-frame";
    return this.#session.fail(
      new LinkError(
        midFrame ? "LINK_LOST_MID_FRAME" : "LINK_LOST",
        `connection to ${this.#session.address} lost ${midFrame ? "mid-frame " : ""}during ${what}`,
      ),
    );
  }

  #bad(what: string, detail: string): LinkError {
    return this.#session.fail(
      new LinkError(
        "LINK_UNEXPECTED_REPLY",
        `${this.#session.address}: invalid file-protocol reply during ${what}: ${detail}`,
      ),
    );
  }
}

function concatChunks(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
