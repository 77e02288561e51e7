/**
 * Injected input/output, so commands, prompts and progress bars are tested byte for byte.
 */
import { UserError } from "../cli/errors.ts";

export interface Io {
  /** Writes text to standard output as is. */
  out(text: string): void;
  /** Writes text to standard error as is. */
  err(text: string): void;
  /** Raw bytes to standard output (terminal passthrough in `repl`/`shl`). */
  outBytes(bytes: Uint8Array): void;
  /** True when standard output is a terminal (progress bars, colour). */
  readonly stdoutIsTerminal: boolean;
  /** True when standard input is a terminal (hidden prompts, raw mode). */
  readonly stdinIsTerminal: boolean;
  /** Reads a chunk of standard input; null at end of input. */
  readStdin(): Promise<Uint8Array | null>;
  /** Switches the terminal's raw mode; a no-op when stdin is not a terminal. */
  setRaw(raw: boolean): void;
  /** Monotonic milliseconds. */
  now(): number;
  /** Environment lookup (injected so tests never touch the real environment); an empty value counts as unset. */
  env(name: string): string | undefined;
  /** Current working directory. */
  cwd(): string;
  /**
   * Calls `handler` on Ctrl-C (SIGINT) until the returned function is called. While any handler is registered,
   * Ctrl-C no longer kills the process: the command cleans up what it started and ends with `InterruptedError`.
   * With none registered, Ctrl-C ends the process at once, as usual.
   */
  onInterrupt(handler: () => void): () => void;
}

/** A command stopped by Ctrl-C after cleaning up: one line, exit 130 like a shell's SIGINT status. */
export class InterruptedError extends UserError {
  constructor() {
    super("interrupted", { exitCode: 130 });
    this.name = "InterruptedError";
  }
}

/**
 * Handlers of `onInterrupt`; `trigger` runs them all (SIGINT in the process, `interrupt()` in tests, CTRL-c in
 * the shell's raw terminal).
 */
export function interruptHandlers(listen: (on: boolean, trigger: () => void) => void) {
  const handlers = new Set<() => void>();
  const trigger = () => [...handlers].forEach((handler) => handler());
  return {
    trigger,
    onInterrupt(handler: () => void): () => void {
      handlers.add(handler);
      if (handlers.size === 1) listen(true, trigger);
      return () => {
        if (handlers.delete(handler) && handlers.size === 0) listen(false, trigger);
      };
    },
  };
}

const encoder = new TextEncoder();

/** The real process's streams. */
export function processIo(): Io {
  const stdinReader = Deno.stdin.readable.getReader();
  const interrupts = interruptHandlers((on, trigger) => {
    if (on) Deno.addSignalListener("SIGINT", trigger);
    else Deno.removeSignalListener("SIGINT", trigger);
  });
  return {
    out: (text) => writeAllSync(Deno.stdout, encoder.encode(text)),
    err: (text) => writeAllSync(Deno.stderr, encoder.encode(text)),
    outBytes: (bytes) => writeAllSync(Deno.stdout, bytes),
    stdoutIsTerminal: Deno.stdout.isTerminal(),
    stdinIsTerminal: Deno.stdin.isTerminal(),
    readStdin: async () => {
      const { value, done } = await stdinReader.read();
      return done ? null : value;
    },
    setRaw: (raw) => {
      if (Deno.stdin.isTerminal()) Deno.stdin.setRaw(raw, { cbreak: false });
    },
    now: () => performance.now(),
    env: (name) => Deno.env.get(name) || undefined,
    cwd: () => Deno.cwd(),
    onInterrupt: interrupts.onInterrupt,
  };
}

/** Exit status of a process killed by SIGPIPE (128 + 13), as `upydev ls | head -1` ends for Unix tools. */
export const BROKEN_PIPE_EXIT = 141;

function writeAllSync(target: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let offset = 0;
  try {
    while (offset < bytes.length) offset += target.writeSync(bytes.subarray(offset));
  } catch (error) {
    // The reader went away (`| head`): stop quietly, as SIGPIPE stops other tools; the OS closes the link.
    if (error instanceof Deno.errors.BrokenPipe) Deno.exit(BROKEN_PIPE_EXIT);
    throw error;
  }
}

/** An Io that records everything, for tests. */
export interface RecordingIo extends Io {
  readonly stdout: string;
  readonly stderr: string;
  /** Queues bytes or text as standard input. */
  feed(input: string | Uint8Array): void;
  /** Ends standard input. */
  endInput(): void;
  /** Plays a Ctrl-C: runs the `onInterrupt` handlers. */
  interrupt(): void;
}

export function recordingIo(
  options: {
    env?: Record<string, string>;
    cwd?: string;
    stdoutIsTerminal?: boolean;
    stdinIsTerminal?: boolean;
    now?: () => number;
  } = {},
): RecordingIo {
  let stdout = "";
  let stderr = "";
  const decoder = new TextDecoder();
  const queue: (Uint8Array | null)[] = [];
  let wake: (() => void) | undefined;
  const env = options.env ?? {};
  const interrupts = interruptHandlers(() => {});
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    out: (text) => void (stdout += text),
    err: (text) => void (stderr += text),
    outBytes: (bytes) => void (stdout += decoder.decode(bytes, { stream: true })),
    stdoutIsTerminal: options.stdoutIsTerminal ?? false,
    stdinIsTerminal: options.stdinIsTerminal ?? false,
    async readStdin() {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return queue.shift()!;
    },
    feed(input) {
      queue.push(typeof input === "string" ? encoder.encode(input) : input);
      wake?.();
    },
    endInput() {
      queue.push(null);
      wake?.();
    },
    setRaw: () => {},
    now: options.now ?? (() => performance.now()),
    env: (name) => env[name] || undefined,
    cwd: () => options.cwd ?? Deno.cwd(),
    onInterrupt: interrupts.onInterrupt,
    interrupt: interrupts.trigger,
  };
}
