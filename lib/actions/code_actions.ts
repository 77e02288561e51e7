/**
 * Code actions: exec a line, run a local script, re-import a module, and the plain terminal (`repl`).
 */
import { UsageError, UserError } from "../cli/errors.ts";
import { type LocalFile, readLocalFile } from "../ops/transfers.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import { DeviceExecError } from "../webrepl/session.ts";
import { type ActionContext, type DeviceAction, localPath } from "./action.ts";
import { plainLineEnds } from "./format.ts";

/** User code may stay silent for long: a script that sleeps or waits for a sensor is not a dead link. */
const USER_CODE_INACTIVITY_MS = 24 * 3600 * 1000;

export const exec: DeviceAction = {
  name: "exec",
  summary: "run a line of Python on the device and print its output",
  usage: "exec CODE",
  description:
    'Example: upydev exec "import os; print(os.listdir())". A device exception exits 1 with its last line.',
  positionals: { min: 1, max: 1 },
  async run({ args, device, out }) {
    await device.session.exec(args.positionals[0], {
      inactivityMs: 60_000,
      timeoutMs: Infinity,
      onStdout: plainLineEnds(out.bytes),
    });
  },
};

export const run: DeviceAction<LocalFile> = {
  name: "run",
  summary: "run a local Python script on the device, its output streamed",
  usage: "run FILE.py",
  description:
    "The script runs in the device's global namespace, as if typed at its REPL. An exception prints " +
    "its traceback and exits 1.",
  positionals: { min: 1, max: 1 },
  prepare: async (context) => ({
    ...await readLocalFile(context.io, localPath(context, context.args.positionals[0])),
    path: context.args.positionals[0],
  }),
  async run({ device, out, prepared }) {
    try {
      await device.session.exec(prepared.data, {
        inactivityMs: USER_CODE_INACTIVITY_MS,
        timeoutMs: Infinity,
        onStdout: plainLineEnds(out.bytes),
      });
    } catch (error) {
      if (!(error instanceof DeviceExecError)) throw error;
      out.text(error.traceback.replace(/\r\n/g, "\n"));
      throw new UserError(`${prepared.path}: ${error.message.replace(/^device: /, "")}`, { cause: error });
    }
  },
};

export const reload: DeviceAction = {
  name: "reload",
  summary: "re-import a device module (after uploading a new version of it)",
  usage: "reload MODULE",
  positionals: { min: 1, max: 1 },
  async run({ args, device, out }) {
    const name = args.positionals[0];
    if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(name)) {
      throw new UsageError(`not a module name: '${name}'`);
    }
    await device.session.exec(
      `import sys\nsys.modules.pop(${pyStr(name)},None)\n__import__(${pyStr(name)})`,
      { onStdout: plainLineEnds(out.bytes) },
    );
    out.text(`${name} reloaded\n`);
  },
};

/** Ctrl-] ends `repl`, as in telnet. */
const REPL_QUIT = 0x1d;
const encoder = new TextEncoder();

export const repl: DeviceAction = {
  name: "repl",
  summary: "interactive MicroPython prompt (Ctrl-] to quit)",
  usage: "repl",
  positionals: { min: 0, max: 0 },
  inShell: false,
  terminal: true,
  run: terminal,
};

/** Plain terminal: stdin bytes go to the REPL as typed, device output goes to stdout, Ctrl-] quits. */
async function terminal({ device, io, out }: ActionContext): Promise<void> {
  const { session } = device;
  io.err(`connected to ${session.address} (Ctrl-] to quit)\r\n`);
  let quit = false;
  const output = (async () => {
    for (let bytes = await session.readOutput(); bytes !== null; bytes = await session.readOutput()) {
      out.bytes(bytes);
    }
    if (!quit) io.err("\r\nconnection closed by the device\r\n");
  })();
  io.setRaw(true);
  try {
    // Ask for a fresh prompt: the login consumed the first one.
    await session.writeInput(encoder.encode("\r"));
    const ended = output.then(() => null);
    while (true) {
      const input = await Promise.race([io.readStdin(), ended]);
      if (input === null) break;
      const quitAt = input.indexOf(REPL_QUIT);
      if (quitAt >= 0) {
        if (quitAt > 0) await session.writeInput(input.subarray(0, quitAt));
        break;
      }
      await session.writeInput(input);
    }
  } finally {
    quit = true;
    io.setRaw(false);
    io.err("\r\n");
  }
  await session.close();
  await output;
}

export const CODE_ACTIONS: DeviceAction<unknown>[] = [exec, run, reload, repl];
