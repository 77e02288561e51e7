/**
 * Removes `\r\nConcurrent WebREPL connection from ADDRESS rejected\r\n` from the device's text stream.
 *
 * webrepl.py prints that line while the first client is the dupterm, so it lands in that client's output,
 * possibly inside a raw-REPL reply (webrepl-protocol.md §6). It is recognised by its form, whatever the address
 * text, and removed before any reply is parsed. A possible start of one at the end of what arrived is held back
 * until it is complete or disproven: a control byte other than the final \r\n, or more than
 * NOTICE_MAX_BYTES, disproves it, so a held byte never waits for more than the device is sending.
 */
import { concatBytes } from "../bytes/bytes.ts";

const HEAD = new TextEncoder().encode("\nConcurrent WebREPL connection from ");
const TAIL = new TextEncoder().encode(" rejected");
/** Far longer than any address text a device prints; beyond it the text is not a notice but data. */
const NOTICE_MAX_BYTES = 4096;
const LF = 0x0a;
const CR = 0x0d;

type Verdict = { kind: "notice"; end: number } | { kind: "partial" } | { kind: "not" };

export class NoticeFilter {
  #held = new Uint8Array(0);

  /** `chunk` after what was held, with notices removed; a possible notice start at its end is held back. */
  push(chunk: Uint8Array): Uint8Array {
    if (this.#held.length === 0 && chunk.indexOf(LF) < 0 && chunk[chunk.length - 1] !== CR) return chunk;
    const work = this.#held.length === 0 ? chunk : concatBytes([this.#held, chunk]);
    this.#held = new Uint8Array(0);
    const kept: Uint8Array[] = [];
    let from = 0;
    let search = 0;
    while (true) {
      const lf = work.indexOf(LF, search);
      if (lf < 0) break;
      const start = lf > 0 && work[lf - 1] === CR ? lf - 1 : lf;
      const verdict = judge(work, lf);
      if (verdict.kind === "not") {
        search = lf + 1;
        continue;
      }
      if (start > from) kept.push(work.subarray(from, start));
      if (verdict.kind === "partial") {
        this.#held = work.slice(start);
        return concatBytes(kept);
      }
      from = search = verdict.end;
    }
    let end = work.length;
    if (end > from && work[end - 1] === CR) {
      end--;
      this.#held = work.slice(end);
    }
    if (from === 0 && end === work.length) return work;
    kept.push(work.subarray(from, end));
    return concatBytes(kept);
  }

  /** Gives up what is held, for a reader that shows everything (the terminal). */
  release(): Uint8Array {
    const held = this.#held;
    this.#held = new Uint8Array(0);
    return held;
  }
}

/** Is there a notice at `lf` (the \n that starts it), the start of one, or not one? */
function judge(work: Uint8Array, lf: number): Verdict {
  for (let i = 0; i < HEAD.length; i++) {
    if (lf + i >= work.length) return { kind: "partial" };
    if (work[lf + i] !== HEAD[i]) return { kind: "not" };
  }
  for (let i = lf + HEAD.length; i < work.length; i++) {
    if (i - lf > NOTICE_MAX_BYTES) return { kind: "not" };
    const byte = work[i];
    if (byte === LF || byte === CR) {
      const lineEnd = byte === CR ? i + 1 : i;
      if (lineEnd >= work.length) return { kind: "partial" };
      if (work[lineEnd] !== LF || !endsWith(work, i, TAIL)) return { kind: "not" };
      return { kind: "notice", end: lineEnd + 1 };
    }
    if (byte < 0x20 || byte === 0x7f) return { kind: "not" };
  }
  return work.length - lf > NOTICE_MAX_BYTES ? { kind: "not" } : { kind: "partial" };
}

function endsWith(work: Uint8Array, end: number, tail: Uint8Array): boolean {
  if (end < tail.length) return false;
  for (let i = 0; i < tail.length; i++) if (work[end - tail.length + i] !== tail[i]) return false;
  return true;
}
