/**
 * One command over many devices: at most `jobs` at a time, each with its own output and its own report. A
 * device that fails or cannot be reached never stops the others; the run ends with a summary table (or one
 * `--json` document) and exits 0 only when every device succeeded.
 *
 * Ctrl-C goes through the run's `Io.onInterrupt`: devices not started yet are skipped, running ones get their
 * own `onInterrupt` handlers called (they close their connections), and the run ends with InterruptedError
 * once they have settled, after its summary.
 */
import type { DeviceTarget } from "../device/target.ts";
import { painter } from "../ui/colour.ts";
import { InterruptedError, type Io } from "../ui/io.ts";
import { devicePrefixes, PrefixedLines, summaryTable } from "./output.ts";
import {
  describeFailure,
  deviceAddress,
  deviceLabel,
  type DeviceReport,
  groupDocument,
  jsonDocument,
} from "./report.ts";

/** What a device's task gets: its own Io (its output, its Ctrl-C handlers) and the run's Io for prompts. */
export interface GroupDevice {
  target: DeviceTarget;
  /** Output and Ctrl-C of this device: lines go out prefixed (or into the JSON document). */
  io: Io;
  /** The output width left after the name prefix. */
  width: number;
}

export interface GroupRunOptions {
  /** The run's Io: prompts (passphrases, asked once) and the final document or table. */
  io: Io;
  targets: DeviceTarget[];
  jobs: number;
  json: boolean;
  /** The terminal's width, for listings in columns. */
  width: number;
  /** Runs the command on one device and returns its result as data. */
  task(device: GroupDevice): Promise<unknown>;
}

/** After Ctrl-C, how long devices may take to close before the run reports without them. */
const INTERRUPT_GRACE_MS = 2_000;

/** Runs the task on every device; returns the exit code (0: all succeeded). */
export async function runGroup(options: GroupRunOptions): Promise<number> {
  const { io, targets, json } = options;
  const names = targets.map(deviceLabel);
  const colour = painter(io, io.stdoutIsTerminal);
  const prefixes = devicePrefixes(names, colour);
  const prefixWidth = Math.max(...names.map((name) => name.length)) + 3;
  const reports: DeviceReport[] = targets.map((target, i) => ({
    device: names[i],
    address: deviceAddress(target),
    status: "interrupted",
  }));
  const running = new Set<() => void>();
  let interrupted = false;
  let wakeOnInterrupt: () => void = () => {};
  const interruption = new Promise<void>((resolve) => (wakeOnInterrupt = resolve));
  const stopListening = io.onInterrupt(() => {
    interrupted = true;
    for (const handler of [...running]) handler();
    wakeOnInterrupt();
  });

  const runOne = async (index: number) => {
    const target = targets[index];
    const report = reports[index];
    const stdout = new PrefixedLines((text) => io.out(text), prefixes[index]);
    const stderr = new PrefixedLines((text) => io.err(text), prefixes[index]);
    const capture = capturingIo(io);
    const deviceIo: Io = Object.assign(
      Object.create(json ? capture.io : io),
      {
        ...(json ? {} : {
          out: (text: string) => stdout.text(text),
          outBytes: (bytes: Uint8Array) => stdout.bytes(bytes),
        }),
        err: (text: string) => stderr.text(text),
        // Progress bars of several devices would overwrite each other's line.
        stdoutIsTerminal: false,
        onInterrupt(handler: () => void) {
          running.add(handler);
          return () => running.delete(handler);
        },
      } satisfies Partial<Io>,
    );
    const start = io.now();
    try {
      report.result = await options.task({ target, io: deviceIo, width: options.width - prefixWidth });
      report.status = "ok";
    } catch (error) {
      const failure = describeFailure(interrupted ? new InterruptedError() : error);
      Object.assign(report, { status: interrupted ? "interrupted" : "failed", ...failure });
      if (!json) stderr.text(`${colour("error", "error:")} ${failure.error}\n`);
    } finally {
      report.ms = io.now() - start;
      stdout.flush();
      stderr.flush();
      if (json) report.output = capture.output();
    }
  };

  let next = 0;
  const worker = async () => {
    while (!interrupted && next < targets.length) await runOne(next++);
  };
  try {
    const workers = Promise.all(
      Array.from({ length: Math.min(options.jobs, targets.length) }, worker),
    );
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      workers,
      interruption.then(() => new Promise((resolve) => (grace = setTimeout(resolve, INTERRUPT_GRACE_MS)))),
    ]);
    clearTimeout(grace);
  } finally {
    stopListening();
  }
  if (json) io.out(jsonDocument(groupDocument(reports)));
  else io.err(summaryTable(reports, colour));
  if (interrupted) throw new InterruptedError();
  return reports.every((report) => report.status === "ok") ? 0 : 1;
}

/** An Io whose stdout is kept as text (for `--json`, where stdout carries only the document). */
export function capturingIo(io: Io): { io: Io; output(): string } {
  let output = "";
  const decoder = new TextDecoder();
  return {
    io: Object.assign(
      Object.create(io),
      {
        out: (text: string) => void (output += text),
        outBytes: (bytes: Uint8Array) => void (output += decoder.decode(bytes, { stream: true })),
        stdoutIsTerminal: false,
      } satisfies Partial<Io>,
    ),
    output: () => output + decoder.decode(),
  };
}
