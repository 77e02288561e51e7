/**
 * Where a shell command's output goes: the raw terminal (which needs "\r\n"), or the local file of a `>` /
 * `>>` redirection (bytes as the device sent them, no colour, no columns).
 */
import type { ActionOutput } from "../actions/action.ts";
import { terminalWidth } from "../actions/action.ts";
import type { Painter } from "../ui/colour.ts";
import type { Io } from "../ui/io.ts";

const encoder = new TextEncoder();

export function terminalOutput(io: Io, paint: Painter): ActionOutput {
  return {
    text: (text) => io.out(toTerminalText(text)),
    bytes: (bytes) => io.outBytes(toTerminalLineEnds(bytes)),
    terminal: true,
    width: terminalWidth(),
    paint,
  };
}

/** Text with "\n" line ends as the raw terminal needs it. */
export function toTerminalText(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

/** A `>` / `>>` file: bytes as the device sent them, text without colour or columns. */
export function fileOutput(file: Deno.FsFile): ActionOutput {
  const write = (bytes: Uint8Array) => {
    for (let offset = 0; offset < bytes.length;) offset += file.writeSync(bytes.subarray(offset));
  };
  return {
    text: (text) => write(encoder.encode(text)),
    bytes: write,
    terminal: false,
    width: 80,
    paint: (_style, text) => text,
  };
}

/** Lone "\n" become "\r\n": the terminal is raw, and device files usually have Unix line ends. */
function toTerminalLineEnds(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a && (i === 0 || bytes[i - 1] !== 0x0d)) out.push(0x0d);
    out.push(bytes[i]);
  }
  return Uint8Array.from(out);
}
