/**
 * A logged-in WebREPL session over a WebSocket: the terminal byte stream, and code execution through the raw
 * REPL (raw-paste with flow control when the device offers it).
 *
 * Everything the device says arrives as text frames whose boundaries mean nothing (one device write = one
 * frame), so the session keeps one byte buffer and matches on bytes, never on frames.
 */
import { UserError } from "../cli/errors.ts";
import { formatAddress } from "../transport/tcp.ts";
import { type WsClient, type WsMessage, WsTimeoutError } from "../ws/client.ts";
import { Opcode, WsProtocolError } from "../ws/frame.ts";
import { concatBytes, fromLatin1, latin1 } from "../bytes/bytes.ts";

/** Longest password the device stores (`char webrepl_passwd[10]` with its terminator). */
export const MAX_PASSWORD_LENGTH = 9;
/** The ESP32's stdin ring buffer is 260 bytes and drops overflow; plain raw REPL input is paced in these. */
export const RAW_CHUNK_BYTES = 256;
export const RAW_CHUNK_PAUSE_MS = 10;

export interface SessionOptions {
  /** Longest silence tolerated while waiting for the device (not a bound on the whole operation). */
  inactivityMs?: number;
}

export interface ExecOptions {
  /** Overrides the session's inactivity timeout for this run (user code may be silent for long). */
  inactivityMs?: number;
  /** Receives stdout as it arrives. */
  onStdout?: (bytes: Uint8Array) => void;
}

export interface ExecResult {
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

/** Printed by webrepl.py into the active session when another client is refused; not part of any reply. */
const CONCURRENT_NOTICE = /\r?\nConcurrent WebREPL connection from [^\n]*? rejected\r?\n/g;
const NOTICE_HEAD = "\nConcurrent WebREPL connection from ";
/** Longer than any notice (the address is at most "('255.255.255.255', 65535)"). */
const NOTICE_MAX_BYTES = 120;

/** Could `text` be the beginning of a concurrent-connection notice that has not fully arrived yet? */
function mayStartNotice(text: string): boolean {
  if (text === "\r") return true;
  const body = text.startsWith("\r") ? text.slice(1) : text;
  if (!body.startsWith("\n")) return false;
  if (body.length <= NOTICE_HEAD.length) return NOTICE_HEAD.startsWith(body);
  return body.startsWith(NOTICE_HEAD) && body.length < NOTICE_MAX_BYTES;
}

const CTRL_A = 0x01;
const CTRL_B = 0x02;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_E = 0x05;
/** Ctrl-E A Ctrl-A: ask for raw-paste mode. */
const ENTER_RAW_PASTE = Uint8Array.of(CTRL_E, 0x41, CTRL_A);

export function checkPassword(password: string): void {
  if ([...password].length > MAX_PASSWORD_LENGTH || encoder.encode(password).length > MAX_PASSWORD_LENGTH) {
    throw new UserError(
      `WebREPL password too long: the device keeps at most ${MAX_PASSWORD_LENGTH} characters (got ${password.length})`,
    );
  }
}

export class WebReplSession {
  readonly ws: WsClient;
  readonly address: string;
  readonly #inactivityMs: number;
  #buffer: Uint8Array = new Uint8Array(0);
  #mode: "friendly" | "raw" = "friendly";
  #rawPasteSupported: boolean | undefined;
  /** The device's raw-paste window, once raw-paste has worked in this session. */
  #rawPasteWindow: number | undefined;
  #busy = false;
  /** The device is running exec'd code: the one phase in which a Ctrl-C interrupts it and corrupts nothing. */
  #running = false;

  private constructor(ws: WsClient, options: SessionOptions) {
    this.ws = ws;
    this.address = formatAddress(ws.stream.info.host, ws.stream.info.port);
    this.#inactivityMs = options.inactivityMs ?? 10_000;
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
    const prompt = await this.#readUntilAny([PASSWORD_PROMPT], this.#inactivityMs, "the password prompt");
    if (prompt === null) {
      if (this.ws.end && this.ws.end.dataFrames === 0) {
        throw new UserError(`device busy: another WebREPL session is active on ${this.address}`);
      }
      throw new UserError(`${this.address} closed the connection before asking for the password`);
    }
    await this.#sendText(`${password}\r`);
    const answer = await this.#readUntilAny([CONNECTED, DENIED], this.#inactivityMs, "the login reply");
    if (answer === null || answer.match === DENIED) {
      throw new UserError(`wrong WebREPL password for ${this.address}`);
    }
    this.#mode = "friendly";
  }

  // ---- terminal ----------------------------------------------------------------------------------------

  /** Bytes typed by the user, sent as REPL input (text frames). */
  async writeInput(bytes: Uint8Array): Promise<void> {
    await this.#ensureFriendly();
    for (let offset = 0; offset < bytes.length; offset += RAW_CHUNK_BYTES) {
      if (offset > 0) await delay(RAW_CHUNK_PAUSE_MS);
      await this.#sendText(bytes.subarray(offset, offset + RAW_CHUNK_BYTES));
    }
  }

  /**
   * The next bytes of REPL output; null when the connection ended. With `waitMs`, an empty array when nothing
   * arrived in that time (the pending read is kept), so a caller can stop reading without losing bytes.
   */
  async readOutput(waitMs?: number): Promise<Uint8Array | null> {
    if (this.#buffer.length > 0) {
      const pending = this.#buffer;
      this.#buffer = new Uint8Array(0);
      return pending;
    }
    while (true) {
      const message = await this.#receive(waitMs, "REPL output", { quietTimeout: true });
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
    this.#busy = true;
    try {
      const source = typeof code === "string" ? encoder.encode(code) : code;
      const inactivityMs = options.inactivityMs ?? this.#inactivityMs;
      await this.#enterRaw();
      await this.#sendCode(source);
      this.#running = true;
      const stdout = await this.#readUntilByte(CTRL_D, inactivityMs, "program output", options.onStdout)
        .finally(() => (this.#running = false));
      const error = await this.#readUntilByte(CTRL_D, inactivityMs, "the error report");
      await this.#expect(encoder.encode(">"), this.#inactivityMs, "the raw REPL prompt");
      return { stdout, error: decoder.decode(error) };
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
    await this.#expect(RAW_BANNER, this.#inactivityMs, "the raw REPL banner", true);
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
    await this.#expect(encoder.encode("OK"), this.#inactivityMs, "the raw REPL OK");
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
      while (credit <= 0 || this.#bufferedAfterNotice() > 0) {
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
    while (true) {
      const [byte] = await this.#readBytes(1, "the raw-paste end acknowledgement");
      if (byte === CTRL_D) return;
      if (byte !== CTRL_A) {
        throw this.#protocolError(`unexpected byte 0x${byte.toString(16)} ending raw-paste`);
      }
    }
  }

  #bufferedAfterNotice(): number {
    this.#stripNotices();
    return this.#buffer.length;
  }

  // ---- binary messages for the file protocol -------------------------------------------------------------

  /** Next binary message; stray text (e.g. a concurrent-connection notice) is kept for the terminal. */
  async receiveBinary(what: string, inactivityMs = this.#inactivityMs): Promise<Uint8Array | null> {
    while (true) {
      const message = await this.#receive(inactivityMs, what);
      if (message === null) return null;
      if (message.opcode === Opcode.Binary) return message.payload;
    }
  }

  /** Sends a binary frame; `what` names the operation in the error when the connection is gone. */
  async sendBinary(payload: Uint8Array, what = "a binary message"): Promise<void> {
    try {
      await this.ws.sendBinary(payload);
    } catch (error) {
      throw this.#writeFailed(error, what);
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
    return new UserError(`connection to ${this.address} lost during ${what}`, { cause: error });
  }

  /** Leaves the raw REPL and closes the WebSocket. */
  async close(): Promise<void> {
    try {
      if (this.#mode === "raw" && !this.ws.end) await this.ws.sendText(Uint8Array.of(CTRL_B));
    } catch {
      // The connection may already be gone; closing continues below.
    }
    await this.ws.close();
  }

  // ---- byte buffer ---------------------------------------------------------------------------------------

  /** The next message; a silence of `inactivityMs` is an error, or "timeout" with `quietTimeout`. */
  async #receive(inactivityMs: number | undefined, what: string): Promise<WsMessage | null>;
  async #receive(
    inactivityMs: number | undefined,
    what: string,
    options: { quietTimeout: true },
  ): Promise<WsMessage | null | "timeout">;
  async #receive(
    inactivityMs: number | undefined,
    what: string,
    options: { quietTimeout?: boolean } = {},
  ): Promise<WsMessage | null | "timeout"> {
    try {
      return await this.ws.receive(inactivityMs);
    } catch (error) {
      if (error instanceof WsTimeoutError && options.quietTimeout) return "timeout";
      if (error instanceof WsTimeoutError) {
        throw new UserError(
          `${this.address} did not answer for ${error.timeoutMs / 1000} s (waiting for ${what})`,
        );
      }
      if (error instanceof WsProtocolError) {
        throw new UserError(`${this.address} sent an invalid WebSocket frame: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Appends the next text frame to the buffer; false at end of connection. */
  async #fill(inactivityMs: number | undefined, what: string): Promise<boolean> {
    while (true) {
      const message = await this.#receive(inactivityMs, what);
      if (message === null) return false;
      if (message.opcode !== Opcode.Text) continue;
      const grown = new Uint8Array(this.#buffer.length + message.payload.length);
      grown.set(this.#buffer);
      grown.set(message.payload, this.#buffer.length);
      this.#buffer = grown;
      return true;
    }
  }

  #stripNotices(): void {
    if (!this.#buffer.includes(0x43)) return; // 'C' of "Concurrent"
    const text = latin1(this.#buffer);
    const stripped = text.replace(CONCURRENT_NOTICE, "");
    if (stripped.length !== text.length) this.#buffer = fromLatin1(stripped);
  }

  #lost(what: string): UserError {
    return new UserError(`connection to ${this.address} lost while waiting for ${what}`);
  }

  #protocolError(detail: string): UserError {
    return new UserError(`${this.address}: unexpected REPL reply: ${detail}`);
  }

  async #readBytes(count: number, what: string): Promise<Uint8Array> {
    while (true) {
      this.#stripNotices();
      if (
        this.#buffer.length >= count && !mayStartNotice(latin1(this.#buffer.subarray(0, NOTICE_MAX_BYTES)))
      ) {
        const bytes = this.#buffer.slice(0, count);
        this.#buffer = this.#buffer.slice(count);
        return bytes;
      }
      if (!(await this.#fill(this.#inactivityMs, what))) throw this.#lost(what);
    }
  }

  /** Reads until `byte`; returns what came before it (the byte is consumed). */
  async #readUntilByte(
    byte: number,
    inactivityMs: number,
    what: string,
    onChunk?: (bytes: Uint8Array) => void,
  ): Promise<Uint8Array> {
    const collected: Uint8Array[] = [];
    while (true) {
      this.#stripNotices();
      const index = this.#buffer.indexOf(byte);
      // Hold back a possible partial notice at the end so it can still be stripped once complete.
      const safe = index >= 0 ? index : this.#safePrefixLength();
      if (safe > 0) {
        const chunk = this.#buffer.slice(0, safe);
        collected.push(chunk);
        onChunk?.(chunk);
        this.#buffer = this.#buffer.slice(safe);
      }
      if (index >= 0) {
        this.#buffer = this.#buffer.slice(1);
        return concatBytes(collected);
      }
      if (!(await this.#fill(inactivityMs, what))) throw this.#lost(what);
    }
  }

  /** How much of the buffer can be handed out without cutting a notice that is still arriving. */
  #safePrefixLength(): number {
    let start = Math.max(this.#buffer.lastIndexOf(0x0a), this.#buffer.lastIndexOf(0x0d));
    if (start < 0) return this.#buffer.length;
    if (start > 0 && this.#buffer[start] === 0x0a && this.#buffer[start - 1] === 0x0d) start--;
    return mayStartNotice(latin1(this.#buffer.subarray(start))) ? start : this.#buffer.length;
  }

  async #expect(
    pattern: Uint8Array,
    inactivityMs: number,
    what: string,
    discardBefore = false,
  ): Promise<void> {
    const found = await this.#readUntilAny([pattern], inactivityMs, what);
    if (found === null) throw this.#lost(what);
    if (!discardBefore && found.skipped.length > 0) {
      throw this.#protocolError(
        `expected ${JSON.stringify(decoder.decode(pattern))}, got ${
          JSON.stringify(decoder.decode(found.skipped).slice(0, 80))
        }`,
      );
    }
  }

  /** Reads until one of `patterns` appears; returns which one and what preceded it, or null at EOF. */
  async #readUntilAny(
    patterns: Uint8Array[],
    inactivityMs: number,
    what: string,
  ): Promise<{ match: Uint8Array; skipped: Uint8Array } | null> {
    while (true) {
      this.#stripNotices();
      let best: { match: Uint8Array; index: number } | undefined;
      for (const pattern of patterns) {
        const index = indexOf(this.#buffer, pattern);
        if (index >= 0 && (best === undefined || index < best.index)) best = { match: pattern, index };
      }
      if (best) {
        const skipped = this.#buffer.slice(0, best.index);
        this.#buffer = this.#buffer.slice(best.index + best.match.length);
        return { match: best.match, skipped };
      }
      if (!(await this.#fill(inactivityMs, what))) return null;
    }
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
