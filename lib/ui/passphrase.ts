/**
 * Hidden passphrase input over the injected Io (notes/deno-platform.md §13): `prompt()` echoes, so a raw-mode
 * loop reads keys itself. When stdin is not a terminal (scripts, tests) one line is read instead.
 * Prompts go to stderr so that stdout stays clean for output that scripts parse.
 */
import { UserError } from "../cli/errors.ts";
import type { Io } from "./io.ts";

const CTRL_C = 0x03;
const CTRL_D = 0x04;
const BACKSPACE = 0x08;
const DELETE = 0x7f;
const MIN_LENGTH = 4;

/** Bytes read past the end of a line when stdin is a pipe: the next prompt's answer. */
const pending = new WeakMap<Io, Uint8Array>();

function cancelled(): UserError {
  return new UserError("passphrase entry cancelled", { exitCode: 130 });
}

/** Reads one passphrase without echo. */
export async function readPassphrase(io: Io, prompt: string): Promise<string> {
  io.err(prompt);
  const bytes = io.stdinIsTerminal ? await readHiddenKeys(io) : await readLine(io);
  return new TextDecoder().decode(bytes);
}

/** Asks twice for a new passphrase; they must match and have at least 4 characters (OpenSSL's minimum). */
export async function readNewPassphrase(io: Io, what: string): Promise<string> {
  const first = await readPassphrase(io, `Enter new passphrase for ${what}: `);
  if ([...first].length < MIN_LENGTH) {
    throw new UserError(`passphrase for ${what} is shorter than ${MIN_LENGTH}`);
  }
  const second = await readPassphrase(io, `Verify passphrase for ${what}: `);
  if (first !== second) throw new UserError(`passphrases for ${what} do not match; nothing written`);
  return first;
}

/** Checks a passphrase that came from the environment or the registry for a new key. */
export function checkNewPassphrase(passphrase: string, what: string): string {
  if ([...passphrase].length < MIN_LENGTH) {
    throw new UserError(`passphrase for ${what} is shorter than ${MIN_LENGTH}`);
  }
  return passphrase;
}

async function readHiddenKeys(io: Io): Promise<Uint8Array> {
  const typed: number[] = [];
  io.setRaw(true);
  try {
    while (true) {
      const chunk = await io.readStdin();
      if (chunk === null) break;
      for (const byte of chunk) {
        if (byte === 0x0d || byte === 0x0a) return Uint8Array.from(typed);
        if (byte === CTRL_C) throw cancelled();
        if (byte === CTRL_D) {
          if (typed.length === 0) throw cancelled();
          return Uint8Array.from(typed);
        }
        if (byte === BACKSPACE || byte === DELETE) {
          // Drop a whole UTF-8 character: continuation bytes are 10xxxxxx.
          while (typed.length && (typed.pop()! & 0xc0) === 0x80);
          continue;
        }
        if (byte >= 0x20) typed.push(byte);
      }
    }
    if (typed.length === 0) throw cancelled();
    return Uint8Array.from(typed);
  } finally {
    io.setRaw(false);
    io.err("\n");
  }
}

async function readLine(io: Io): Promise<Uint8Array> {
  let buffer = pending.get(io) ?? new Uint8Array(0);
  while (true) {
    const newline = buffer.indexOf(0x0a);
    if (newline >= 0) {
      pending.set(io, buffer.slice(newline + 1));
      const end = newline > 0 && buffer[newline - 1] === 0x0d ? newline - 1 : newline;
      return buffer.slice(0, end);
    }
    const chunk = await io.readStdin();
    if (chunk === null) {
      pending.set(io, new Uint8Array(0));
      if (buffer.length === 0) throw new UserError("no passphrase given: standard input ended");
      return buffer;
    }
    const joined = new Uint8Array(buffer.length + chunk.length);
    joined.set(buffer);
    joined.set(chunk, buffer.length);
    buffer = joined;
  }
}

/** A visible yes/no question; anything but y/yes is no. */
export async function readConfirmation(io: Io, prompt: string): Promise<boolean> {
  io.err(prompt);
  const answer = new TextDecoder().decode(await readLine(io)).trim().toLowerCase();
  return answer === "y" || answer === "yes";
}
