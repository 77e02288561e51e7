/**
 * File transfer through exec (mpremote style): for names longer than WA/WB's 63 bytes, and for firmware
 * without `_webrepl`'s file protocol. PUT writes base64 chunks into a file kept open across runs; GET streams
 * the whole file as base64 lines from one run, so it pays no per-chunk round trip.
 */
import { LinkError } from "../transport/link_error.ts";
import { InterruptedError } from "../ui/io.ts";
import type { WebReplSession } from "./session.ts";
import type { FileTransfer, ProgressCallback } from "./transfer.ts";
import { pyStr } from "./python_literal.ts";

/** Raw bytes per PUT run: 4 KiB of base64, well inside one raw-paste exchange. */
const PUT_CHUNK_BYTES = 3072;
/** Raw bytes per base64 line printed by GET (a multiple of 3, so lines decode independently). */
const GET_LINE_BYTES = 768;

export class ExecTransfer implements FileTransfer {
  readonly #session: WebReplSession;
  /** Ctrl-C: PUT stops between chunks (GET is one exec, which the device's own Ctrl-C ends). */
  readonly #signal: AbortSignal | undefined;

  constructor(session: WebReplSession, options: { signal?: AbortSignal } = {}) {
    this.#session = session;
    this.#signal = options.signal;
  }

  async put(remotePath: string, data: Uint8Array, onProgress?: ProgressCallback): Promise<void> {
    await this.#session.exec(`import binascii\n_upy_f=open(${pyStr(remotePath)},'wb')`);
    const closeFile = "_upy_f.close()\ndel _upy_f";
    try {
      for (let offset = 0; offset < data.length; offset += PUT_CHUNK_BYTES) {
        if (this.#signal?.aborted) throw new InterruptedError();
        const chunk = data.subarray(offset, offset + PUT_CHUNK_BYTES);
        await this.#session.exec(`_upy_f.write(binascii.a2b_base64(b'${chunk.toBase64()}'))`);
        onProgress?.(offset + chunk.length, data.length);
      }
    } catch (error) {
      // Close the file if the link still allows it, but report the first error, not the clean-up's.
      await this.#session.exec(closeFile).catch(() => {});
      throw error;
    }
    await this.#session.exec(closeFile);
    if (data.length === 0) onProgress?.(0, 0);
  }

  async get(remotePath: string, expectedSize: number, onProgress?: ProgressCallback): Promise<Uint8Array> {
    const buffer = new Uint8Array(expectedSize);
    let filled = 0;
    let pending = "";
    const grow = (more: Uint8Array) => {
      // Never more than the size announced: a device that keeps sending is not read forever.
      if (filled + more.length > buffer.length) {
        throw new LinkError(
          "LINK_UNEXPECTED_REPLY",
          `${remotePath} changed size during the transfer from ${this.#session.address}; reconnect and retry`,
        );
      }
      buffer.set(more, filled);
      filled += more.length;
    };
    const decoder = new TextDecoder();
    await this.#session.exec(
      `import binascii\nwith open(${
        pyStr(remotePath)
      },'rb') as f:\n while 1:\n  b=f.read(${GET_LINE_BYTES})\n` +
        "  if not b:break\n  print(binascii.b2a_base64(b).decode().strip())",
      {
        onStdout: (bytes) => {
          pending += decoder.decode(bytes, { stream: true });
          const lines = pending.split("\n");
          pending = lines.pop()!;
          for (const line of lines) {
            const text = line.trim();
            if (text) grow(Uint8Array.fromBase64(text));
          }
          onProgress?.(filled, Math.max(expectedSize, filled));
        },
      },
    );
    if (pending.trim()) grow(Uint8Array.fromBase64(pending.trim()));
    if (expectedSize === 0) onProgress?.(0, 0);
    return buffer.slice(0, filled);
  }
}
