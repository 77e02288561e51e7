/**
 * A logged-in WebREPL session over a WebSocket: the terminal byte stream, and code execution through the raw
 * REPL (raw-paste with flow control when the device offers it).
 *
 * Everything the device says arrives as text frames whose boundaries mean nothing (one device write = one
 * frame), so the session keeps one byte buffer and matches on bytes, never on frames.
 */
import { UserError } from "../cli/errors.ts";
import { LinkError } from "../transport/link_error.ts";
import { formatAddress } from "../transport/tcp.ts";
import { type WsClient, type WsMessage, WsTimeoutError } from "../ws/client.ts";
import { Opcode, WsProtocolError } from "../ws/frame.ts";
import { concatBytes, exactSize } from "../bytes/bytes.ts";
import { ByteQueue } from "./byte_queue.ts";
import { NoticeFilter } from "./notice_filter.ts";
import { checkPassword } from "../config/password.ts";

/** The ESP32's stdin ring buffer is 260 bytes and drops overflow; plain raw REPL input is paced in these. */
export const RAW_CHUNK_BYTES = 256;
export const RAW_CHUNK_PAUSE_MS = 10;

export interface SessionOptions {
  /** Longest silence tolerated while waiting for the device (not a bound on the whole operation). */
  inactivityMs?: number;
  /**
   * Bound on each awaited answer as a whole (the whole login, one exec's output, one file-protocol reply),
   * however often the device sends something else meanwhile: every frame resets the inactivity timer.
   */
  answerMs?: number;
  /** Most bytes of one answer kept in memory (exec output without `onStdout`, a traceback). */
  maxAnswerBytes?: number;
}

export interface ExecOptions {
  /** Overrides the session's inactivity timeout for this run (user code may be silent for long). */
  inactivityMs?: number;
  /**
   * Bound on the program's run as a whole; default the larger of the session's `answerMs` and `inactivityMs`.
   * Infinity for user code, which runs until it ends or the user stops it.
   */
  timeoutMs?: number;
  /** Receives stdout as it arrives; stdout is then not kept, and the result's `stdout` is empty. */
  onStdout?: (bytes: Uint8Array) => void;
}

export interface ExecResult {
  /** Empty when `onStdout` received it. */
  stdout: Uint8Array;
  /** Traceback text; empty when the code ran without an exception. */
  error: string;
}

/** A Python exception raised on the device. The message is the traceback's last line. */
export class DeviceExecError extends UserError {
  readonly traceback: string;
  /** errno of an OSError, e.g. 2 for ENOENT. */
  readonly errno: number | undefined;
  /** Symbolic errno, e.g. "ENOENT": printed by the device, or derived from the ESP32 (newlib) number. */
  readonly errnoName: string | undefined;
  constructor(traceback: string) {
    const lines = traceback.trim().split(/\r?\n/);
    const last = lines[lines.length - 1] ?? "";
    super(`device: ${last || "exception"}`);
    this.name = "DeviceExecError";
    this.traceback = traceback;
    const match = /^OSError: (?:\[Errno )?(\d+)\]?(?: (E[A-Z]+))?/.exec(last);
    this.errno = match ? Number(match[1]) : undefined;
    this.errnoName = match?.[2] ?? (this.errno === undefined ? undefined : ESP32_ERRNO_NAMES[this.errno]);
  }
}

/** The errno numbers MicroPython on ESP32 uses (newlib), for tracebacks that print only the number. */
const ESP32_ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  5: "EIO",
  13: "EACCES",
  17: "EEXIST",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  28: "ENOSPC",
  30: "EROFS",
  90: "ENOTEMPTY",
  91: "ENAMETOOLONG",
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PASSWORD_PROMPT = encoder.encode("Password: ");
const CONNECTED = encoder.encode("\r\nWebREPL connected\r\n>>> ");
const DENIED = encoder.encode("Access denied");
const RAW_BANNER = encoder.encode("raw REPL; CTRL-B to exit\r\n>");

const CTRL_A = 0x01;
const CTRL_B = 0x02;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_E = 0x05;
/** Ctrl-E A Ctrl-A: ask for raw-paste mode. */
const ENTER_RAW_PASTE = Uint8Array.of(CTRL_E, 0x41, CTRL_A);

export type SessionState = "open" | "closed" | "failed";

const DEFAULT_INACTIVITY_MS = 10_000;
const DEFAULT_ANSWER_MS = 60_000;
const DEFAULT_MAX_ANSWER_BYTES = 32 << 20;

/** One awaited answer: what it is (for messages), and its bounds. */
interface Wait {
  what: string;
  inactivityMs: number;
  /** Date.now() by which the answer must be complete. */
  until: number;
  answerMs: number;
}

export class WebReplSession {
  readonly ws: WsClient;
  readonly address: string;
  readonly #inactivityMs: number;
  readonly #answerMs: number;
  readonly #maxAnswerBytes: number;
  /** Device text not consumed yet, concurrent-connection notices already removed. */
  readonly #queue = new ByteQueue();
  readonly #notices = new NoticeFilter();
  #mode: "friendly" | "raw" = "friendly";
  #rawPasteSupported: boolean | undefined;
  /** The device's raw-paste window, once raw-paste has worked in this session. */
  #rawPasteWindow: number | undefined;
  #busy = false;
  #state: SessionState = "open";
  #failure: Error | undefined;
  /** The device is running exec'd code: the one phase in which a Ctrl-C interrupts it and corrupts nothing. */
  #running = false;

  private constructor(ws: WsClient, options: SessionOptions) {
    this.ws = ws;
    this.address = formatAddress(ws.stream.info.host, ws.stream.info.port);
    this.#inactivityMs = options.inactivityMs ?? DEFAULT_INACTIVITY_MS;
    this.#answerMs = options.answerMs ?? DEFAULT_ANSWER_MS;
    this.#maxAnswerBytes = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  }

  /**
   * "failed" once an exchange broke off midway (link lost, silent, malformed, out of step): the device's state
   * is then unknown, so every later operation refuses with the first failure instead of misreading the rest.
   */
  get state(): SessionState {
    return this.#state;
  }

  /**
   * Logs in on a freshly upgraded WebSocket. Closes it and throws a UserError for a wrong password, a busy
   * device (101 then close with no prompt), or a device that never prompts.
   */
  static async login(ws: WsClient, password: string, options: SessionOptions = {}): Promise<WebReplSession> {
    checkPassword(password);
    const session = new WebReplSession(ws, options);
    try {
      await session.#login(password);
      return session;
    } catch (error) {
      await ws.close();
      throw error;
    }
  }

  async #login(password: string): Promise<void> {
    // One bound for the whole login: a device dribbling bytes must not hold the client forever.
    const wait = this.#wait("the password prompt");
    const prompt = await this.#readUntilAny([PASSWORD_PROMPT], wait);
    if (prompt === null) {
      if (this.ws.end?.reason === "eof-mid-frame") throw this.#lost(wait.what);
      if (this.ws.end && this.ws.end.dataFrames === 0) {
        throw new UserError(`device busy: another WebREPL session is active on ${this.address}`);
      }
      throw new UserError(`${this.address} closed the connection before asking for the password`);
    }
    await this.#sendText(`${password}\r`);
    wait.what = "the login reply";
    const answer = await this.#readUntilAny([CONNECTED, DENIED], wait);
    if (answer === null && this.ws.end?.reason === "eof-mid-frame") throw this.#lost(wait.what);
    if (answer === null || answer === DENIED) {
      throw new UserError(`wrong WebREPL password for ${this.address}`);
    }
    this.#mode = "friendly";
  }

  // ---- terminal ----------------------------------------------------------------------------------------

  /** Bytes typed by the user, sent as REPL input (text frames). */
  async writeInput(bytes: Uint8Array): Promise<void> {
    this.#checkUsable();
    await this.#ensureFriendly();
    for (let offset = 0; offset < bytes.length; offset += RAW_CHUNK_BYTES) {
      if (offset > 0) await delay(RAW_CHUNK_PAUSE_MS);
      await this.#sendText(bytes.subarray(offset, offset + RAW_CHUNK_BYTES));
    }
  }

  /**
   * The next bytes of REPL output; null when the connection ended. With `waitMs`, an empty array when nothing
   * arrived in that time (the pending read is kept), so a caller can stop reading without losing bytes.
   * The terminal shows the device's text as it is, notices included.
   */
  async readOutput(waitMs?: number): Promise<Uint8Array | null> {
    const pending = concatBytes([this.#queue.take(this.#queue.length), this.#notices.release()]);
    if (pending.length > 0) return pending;
    while (true) {
      const message = await this.#receive(waitMs, { what: "REPL output", quietTimeout: true });
      if (message === "timeout") return new Uint8Array(0);
      if (message === null) return null;
      if (message.opcode === Opcode.Text) return message.payload;
    }
  }

  /** Leaves the raw REPL (if an exec left the session there) so the user gets the friendly prompt. */
  async #ensureFriendly(): Promise<void> {
    if (this.#mode === "friendly") return;
    this.#mode = "friendly";
    await this.#sendText(Uint8Array.of(CTRL_B));
  }

  // ---- exec ----------------------------------------------------------------------------------------------

  /** Runs code through the raw REPL; returns stdout and the traceback text (empty when none). */
  async execRaw(code: string | Uint8Array, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.#busy) throw new Error("WebREPL session used concurrently");
    this.#checkUsable();
    this.#busy = true;
    try {
      const source = typeof code === "string" ? encoder.encode(code) : code;
      const inactivityMs = options.inactivityMs ?? this.#inactivityMs;
      await this.#enterRaw();
      await this.#sendCode(source);
      const run = this.#wait(
        "program output",
        inactivityMs,
        options.timeoutMs ?? Math.max(this.#answerMs, inactivityMs),
      );
      this.#running = true;
      const stdout = await this.#readUntilByte(CTRL_D, run, options.onStdout)
        .finally(() => (this.#running = false));
      run.what = "the error report";
      const error = await this.#readUntilByte(CTRL_D, run);
      await this.#expect(encoder.encode(">"), this.#wait("the raw REPL prompt"));
      return { stdout, error: decoder.decode(error) };
    } catch (error) {
      this.fail(error);
      throw error;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Interrupts the code an exec is running (KeyboardInterrupt on the device; the exec then reports it). False,
   * and nothing sent, outside that phase: a Ctrl-C in the middle of sending code would corrupt the exchange.
   */
  async interrupt(): Promise<boolean> {
    if (!this.#running) return false;
    await this.#sendText(Uint8Array.of(CTRL_C));
    return true;
  }

  /** Runs code; a device exception becomes a DeviceExecError carrying the traceback's last line. */
  async exec(code: string | Uint8Array, options: ExecOptions = {}): Promise<Uint8Array> {
    const result = await this.execRaw(code, options);
    if (result.error.trim()) throw new DeviceExecError(result.error);
    return result.stdout;
  }

  /** Runs code and decodes its stdout as UTF-8 text. */
  async execText(code: string, options: ExecOptions = {}): Promise<string> {
    return decoder.decode(await this.exec(code, options));
  }

  async #enterRaw(): Promise<void> {
    if (this.#mode === "raw") return;
    // Ctrl-C twice interrupts a running program and clears the line; Ctrl-A then switches to raw mode.
    await this.#sendText(Uint8Array.of(13, CTRL_C, CTRL_C, CTRL_A));
    const found = await this.#readUntilAny([RAW_BANNER], this.#wait("the raw REPL banner"));
    if (found === null) throw this.#lost("the raw REPL banner");
    this.#mode = "raw";
  }

  async #sendCode(source: Uint8Array): Promise<void> {
    if (this.#rawPasteWindow !== undefined) {
      // Raw-paste is known to work here, so the entry sequence, the first code bytes (and the end marker when
      // the code fits) go in one frame: every request/response turn costs a delayed ACK on the device (§10).
      // The device grants two windows at the start (the window, then a \x01), i.e. its whole input buffer
      // (2 × 128 on ESP32, whose ring buffer holds 259); the entry and end bytes sit there too, so 4 less.
      const window = this.#rawPasteWindow;
      const first = source.subarray(0, Math.min(2 * window, RAW_CHUNK_BYTES) - 4);
      const complete = first.length === source.length;
      await this.#sendText(
        concatBytes([ENTER_RAW_PASTE, first, complete ? Uint8Array.of(CTRL_D) : new Uint8Array(0)]),
      );
      const answer = await this.#readBytes(4, "the raw-paste answer");
      if (answer[0] !== 0x52 || answer[1] !== 0x01 || (answer[2] | (answer[3] << 8)) !== window) {
        throw this.#protocolError(`unexpected raw-paste answer ${answer.toHex()}`);
      }
      await this.#rawPasteWrite(source, window, first.length, complete);
      return;
    }
    if (this.#rawPasteSupported !== false) {
      await this.#sendText(ENTER_RAW_PASTE);
      const answer = await this.#readBytes(2, "the raw-paste answer");
      if (answer[0] === 0x52 && answer[1] === 0x01) {
        const increment = await this.#readBytes(2, "the raw-paste window size");
        const window = increment[0] | (increment[1] << 8);
        if (window === 0) throw this.#protocolError("raw-paste window of 0 bytes");
        this.#rawPasteSupported = true;
        this.#rawPasteWindow = window;
        await this.#rawPasteWrite(source, window, 0, false);
        return;
      }
      if (answer[0] !== 0x52 || answer[1] !== 0x00) {
        throw this.#protocolError(`unexpected raw-paste answer ${answer.toHex()}`);
      }
      // R\x00: no raw-paste; the device stays in the raw REPL with an empty line.
      this.#rawPasteSupported = false;
    }
    for (let offset = 0; offset < source.length; offset += RAW_CHUNK_BYTES) {
      if (offset > 0) await delay(RAW_CHUNK_PAUSE_MS);
      await this.#sendText(source.subarray(offset, offset + RAW_CHUNK_BYTES));
    }
    await this.#sendText(Uint8Array.of(CTRL_D));
    await this.#expect(encoder.encode("OK"), this.#wait("the raw REPL OK"));
  }

  /**
   * Raw-paste flow control as mpremote does it: one window of credit, one more per \x01 received.
   * `sent` bytes (and the end marker when `endSent`) already went out with the entry sequence.
   */
  async #rawPasteWrite(source: Uint8Array, window: number, sent: number, endSent: boolean): Promise<void> {
    // Negative when bytes went out ahead of the initial \x01, which is then already on its way.
    let credit = window - sent;
    let offset = sent;
    while (offset < source.length) {
      while (credit <= 0 || this.#queue.length > 0) {
        const [control] = await this.#readBytes(1, "raw-paste flow control");
        if (control === CTRL_A) credit += window;
        else if (control === CTRL_D) {
          // The device ended the paste early; acknowledge it as mpremote does.
          await this.#sendText(Uint8Array.of(CTRL_D));
          return;
        } else throw this.#protocolError(`unexpected byte 0x${control.toString(16)} during raw-paste`);
      }
      const size = Math.min(credit, source.length - offset, RAW_CHUNK_BYTES);
      await this.#sendText(source.subarray(offset, offset + size));
      offset += size;
      credit -= size;
    }
    if (!endSent) await this.#sendText(Uint8Array.of(CTRL_D));
    await this.#skipCreditsUntilEndAck();
  }

  /** After the final Ctrl-D the device may still send \x01 credits before echoing \x04. */
  async #skipCreditsUntilEndAck(): Promise<void> {
    const wait = this.#wait("the raw-paste end acknowledgement");
    while (true) {
      const [byte] = await this.#readBytes(1, wait);
      if (byte === CTRL_D) return;
      if (byte !== CTRL_A) {
        throw this.#protocolError(`unexpected byte 0x${byte.toString(16)} ending raw-paste`);
      }
    }
  }

  // ---- binary messages for the file protocol -------------------------------------------------------------

  /** Next binary message, within one answer's bounds; text meanwhile is not part of the file protocol. */
  async receiveBinary(what: string, inactivityMs = this.#inactivityMs): Promise<Uint8Array | null> {
    this.#checkUsable();
    const wait = this.#wait(what, inactivityMs);
    try {
      while (true) {
        const message = await this.#receive(wait.inactivityMs, wait);
        if (message === null) return null;
        if (message.opcode === Opcode.Binary) return message.payload;
      }
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /**
   * Sends a binary message (or several, in one write); `what` names the operation in the error when the
   * connection is gone.
   */
  async sendBinary(payload: Uint8Array | Uint8Array[], what = "a binary message"): Promise<void> {
    this.#checkUsable();
    try {
      await this.ws.sendBinary(...(Array.isArray(payload) ? payload : [payload]));
    } catch (error) {
      throw this.fail(this.#writeFailed(error, what));
    }
  }

  /**
   * Marks the session failed (unless `error` is the device's own exception, after which it is still in step)
   * and returns `error`. The file protocol calls it when a transfer leaves the device out of step.
   */
  fail<E>(error: E): E {
    if (this.#state === "open" && !(error instanceof DeviceExecError)) {
      this.#state = "failed";
      this.#failure = error instanceof Error ? error : new Error(String(error));
    }
    return error;
  }

  #checkUsable(): void {
    if (this.#state === "closed") {
      throw new LinkError("LINK_UNUSABLE", `connection to ${this.address} is closed`);
    }
    if (this.#state === "failed") {
      throw new LinkError(
        "LINK_UNUSABLE",
        `connection to ${this.address} is unusable after an earlier failure (${this.#failure?.message}); reconnect`,
        { cause: this.#failure },
      );
    }
  }

  async #sendText(payload: Uint8Array | string): Promise<void> {
    try {
      await this.ws.sendText(payload);
    } catch (error) {
      throw this.#writeFailed(error, "REPL input");
    }
  }

  #writeFailed(error: unknown, what: string): unknown {
    if (error instanceof RangeError) return error;
    return new LinkError("LINK_LOST", `connection to ${this.address} lost during ${what}`, { cause: error });
  }

  /** Leaves the raw REPL and closes the WebSocket. */
  async close(): Promise<void> {
    const usable = this.#state === "open";
    this.#state = "closed";
    try {
      if (usable && this.#mode === "raw" && !this.ws.end) await this.ws.sendText(Uint8Array.of(CTRL_B));
    } catch {
      // The connection may already be gone; closing continues below.
    }
    await this.ws.close();
  }

  // ---- reading answers -----------------------------------------------------------------------------------

  #wait(what: string, inactivityMs = this.#inactivityMs, answerMs = this.#answerMs): Wait {
    return { what, inactivityMs, answerMs, until: Date.now() + answerMs };
  }

  /**
   * The next message within `wait`'s bounds. A silence past the inactivity bound, or the answer's overall
   * bound, is a LinkError; with `quietTimeout` the inactivity bound instead gives "timeout".
   */
  async #receive(inactivityMs: number | undefined, wait: Wait): Promise<WsMessage | null>;
  async #receive(
    inactivityMs: number | undefined,
    wait: { what: string; quietTimeout: true },
  ): Promise<WsMessage | null | "timeout">;
  async #receive(
    inactivityMs: number | undefined,
    wait: Partial<Wait> & { what: string; quietTimeout?: boolean },
  ): Promise<WsMessage | null | "timeout"> {
    const left = wait.until === undefined ? Infinity : wait.until - Date.now();
    const limit = Math.min(inactivityMs ?? Infinity, left);
    try {
      if (left <= 0) throw new WsTimeoutError(0);
      return await this.ws.receive(Number.isFinite(limit) ? Math.max(1, limit) : undefined);
    } catch (error) {
      if (error instanceof WsTimeoutError && wait.quietTimeout) return "timeout";
      if (error instanceof WsTimeoutError && wait.until !== undefined && Date.now() >= wait.until) {
        throw new LinkError(
          "LINK_DEADLINE",
          `${this.address} did not finish sending ${wait.what} within ${seconds(wait.answerMs!)}`,
        );
      }
      if (error instanceof WsTimeoutError) {
        throw new LinkError(
          "LINK_SILENT",
          `${this.address} did not answer for ${seconds(error.timeoutMs)} (waiting for ${wait.what})`,
        );
      }
      if (error instanceof WsProtocolError) {
        throw new LinkError(error.code, `${this.address} sent an invalid WebSocket frame: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Appends the next text message (notices removed) to the queue; false at end of connection. */
  async #fill(wait: Wait): Promise<boolean> {
    while (true) {
      const message = await this.#receive(wait.inactivityMs, wait);
      if (message === null) return false;
      if (message.opcode !== Opcode.Text) continue;
      this.#queue.push(this.#notices.push(message.payload));
      return true;
    }
  }

  #lost(what: string): LinkError {
    if (this.ws.end?.reason === "eof-mid-frame") {
      return new LinkError(
        "LINK_LOST_MID_FRAME",
        `connection to ${this.address} lost mid-frame while waiting for ${what}`,
      );
    }
    return new LinkError("LINK_LOST", `connection to ${this.address} lost while waiting for ${what}`);
  }

  #protocolError(detail: string): LinkError {
    return new LinkError("LINK_UNEXPECTED_REPLY", `${this.address}: unexpected REPL reply: ${detail}`);
  }

  async #readBytes(count: number, waitOrWhat: Wait | string): Promise<Uint8Array> {
    const wait = typeof waitOrWhat === "string" ? this.#wait(waitOrWhat) : waitOrWhat;
    while (this.#queue.length < count) {
      if (!(await this.#fill(wait))) throw this.#lost(wait.what);
    }
    return this.#queue.take(count);
  }

  /**
   * Reads until `byte` and consumes it. What came before it goes to `onChunk` as it arrives, or, without
   * `onChunk`, is returned (at most `maxAnswerBytes` of it).
   */
  async #readUntilByte(byte: number, wait: Wait, onChunk?: (bytes: Uint8Array) => void): Promise<Uint8Array> {
    const kept: Uint8Array[] = [];
    let keptBytes = 0;
    while (true) {
      const index = this.#queue.indexOf(byte);
      const count = index >= 0 ? index : this.#queue.length;
      if (count > 0) {
        const chunk = this.#queue.take(count);
        if (onChunk) onChunk(chunk);
        else {
          keptBytes += count;
          if (keptBytes > this.#maxAnswerBytes) {
            throw new LinkError(
              "LINK_TOO_MUCH_DATA",
              `${this.address} sent more than ${exactSize(this.#maxAnswerBytes)} of ${wait.what}`,
            );
          }
          kept.push(chunk);
        }
      }
      if (index >= 0) {
        this.#queue.drop(1);
        return concatBytes(kept);
      }
      if (!(await this.#fill(wait))) throw this.#lost(wait.what);
    }
  }

  /** Expects `pattern` next, failing at the first byte that differs. */
  async #expect(pattern: Uint8Array, wait: Wait): Promise<void> {
    while (this.#queue.length < pattern.length && this.#queue.agreesWith(pattern)) {
      if (!(await this.#fill(wait))) throw this.#lost(wait.what);
    }
    if (!this.#queue.agreesWith(pattern)) {
      throw this.#protocolError(
        `expected ${JSON.stringify(decoder.decode(pattern))}, got ${
          JSON.stringify(decoder.decode(this.#queue.peek(80)))
        }`,
      );
    }
    this.#queue.drop(pattern.length);
  }

  /**
   * Reads until one of `patterns` appears and consumes through it; returns which one, or null at EOF. What
   * precedes it is dropped as it is scanned, so a device talking at length costs neither memory nor rescans.
   */
  async #readUntilAny(patterns: Uint8Array[], wait: Wait): Promise<Uint8Array | null> {
    const overlap = Math.max(...patterns.map((pattern) => pattern.length)) - 1;
    while (true) {
      let best: { match: Uint8Array; index: number } | undefined;
      for (const pattern of patterns) {
        const index = this.#queue.indexOfBytes(pattern);
        if (index >= 0 && (best === undefined || index < best.index)) best = { match: pattern, index };
      }
      if (best) {
        this.#queue.drop(best.index + best.match.length);
        return best.match;
      }
      this.#queue.drop(Math.max(0, this.#queue.length - overlap));
      if (!(await this.#fill(wait))) return null;
    }
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
