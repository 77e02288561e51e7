/**
 * One-shot device commands: put, get, ls, cat, rm, mkdir, exec, info, repl. Each opens the device, does one
 * thing through DeviceFiles / the session, and always closes the connection.
 */
import { type CommandContext, type CommandSpec, optionFlag } from "../cli/command.ts";
import { UserError } from "../cli/errors.ts";
import type { DeviceConnection, OpenDeviceOptions } from "../device/connect.ts";
import { withDevice as withTargetDevice } from "../device/use_device.ts";
import { normalizeRemotePath, remoteBasename } from "./paths.ts";
import { describeTransfer, downloadFile, readLocalFile, uploadFile } from "./transfers.ts";

export interface OpsCommandDeps {
  /** Connection options (timeouts) for tests. */
  connect?: Omit<OpenDeviceOptions, "tlsCredentials">;
}

/** Ctrl-] ends `repl`, as in telnet. */
const REPL_QUIT = 0x1d;
const encoder = new TextEncoder();

export function makeOpsCommands(deps: OpsCommandDeps = {}): CommandSpec[] {
  const withDevice = <T>(context: CommandContext, use: (device: DeviceConnection) => Promise<T>) =>
    withTargetDevice(context, use, deps.connect);

  const put: CommandSpec = {
    name: "put",
    summary: "upload a file to the device (verified by size and SHA-256)",
    usage: "put SRC [DST]",
    description: "DST defaults to /BASENAME; a DST that is a directory on the device receives SRC's name.",
    positionals: { min: 1, max: 2 },
    device: true,
    async run(context) {
      const [source, destination] = context.args.positionals;
      const local = await readLocalFile(context.io, source);
      await withDevice(context, async (device) => {
        const report = await uploadFile(device.files, context.io, local, destination ?? "/");
        context.io.out(`${describeTransfer(report)}\n`);
      });
    },
  };

  const get: CommandSpec = {
    name: "get",
    summary: "download a file from the device",
    usage: "get SRC [DST]",
    description:
      "DST defaults to SRC's name in the current directory; a local directory receives SRC's name.",
    positionals: { min: 1, max: 2 },
    device: true,
    async run(context) {
      const [source, destination] = context.args.positionals;
      await withDevice(context, async (device) => {
        const report = await downloadFile(
          device.files,
          context.io,
          source,
          destination ?? remoteBasename(source),
        );
        context.io.out(`${describeTransfer(report)}\n`);
      });
    },
  };

  const ls: CommandSpec = {
    name: "ls",
    summary: "list a directory on the device",
    usage: "ls [PATH]",
    options: [{ names: ["-r"], kind: "flag", help: "list subdirectories recursively" }],
    positionals: { min: 0, max: 1 },
    device: true,
    async run(context) {
      const path = normalizeRemotePath(context.args.positionals[0] ?? "/");
      await withDevice(context, async (device) => {
        const entries = await device.files.list(path, { recursive: optionFlag(context.args, "-r") });
        const prefix = path === "/" ? "/" : `${path}/`;
        for (const entry of entries) {
          const name = entry.path.startsWith(prefix) ? entry.path.slice(prefix.length) : entry.path;
          context.io.out(
            `${entry.isDir ? "<dir>".padStart(10) : String(entry.size).padStart(10)}  ${name}${
              entry.isDir ? "/" : ""
            }\n`,
          );
        }
      });
    },
  };

  const cat: CommandSpec = {
    name: "cat",
    summary: "print a file from the device",
    usage: "cat FILE",
    positionals: { min: 1, max: 1 },
    device: true,
    async run(context) {
      await withDevice(context, async (device) => {
        context.io.outBytes(await device.files.get(context.args.positionals[0]));
      });
    },
  };

  const rm: CommandSpec = {
    name: "rm",
    summary: "remove a file or directory on the device",
    usage: "rm [-r] PATH",
    options: [{ names: ["-r"], kind: "flag", help: "remove a directory and everything in it" }],
    positionals: { min: 1, max: 1 },
    device: true,
    async run(context) {
      await withDevice(
        context,
        (device) =>
          device.files.rm(context.args.positionals[0], { recursive: optionFlag(context.args, "-r") }),
      );
    },
  };

  const mkdir: CommandSpec = {
    name: "mkdir",
    summary: "create a directory on the device (with missing parents)",
    usage: "mkdir PATH",
    positionals: { min: 1, max: 1 },
    device: true,
    async run(context) {
      await withDevice(context, (device) => device.files.mkdir(context.args.positionals[0]));
    },
  };

  const exec: CommandSpec = {
    name: "exec",
    summary: "run a line of Python on the device and print its output",
    usage: "exec CODE",
    description:
      'Example: upydev exec "import os; print(os.listdir())". A device exception exits 1 with its last line.',
    positionals: { min: 1, max: 1 },
    device: true,
    async run(context) {
      await withDevice(context, async (device) => {
        await device.session.exec(context.args.positionals[0], {
          inactivityMs: 60_000,
          onStdout: (bytes) => context.io.outBytes(bytes),
        });
      });
    },
  };

  const info: CommandSpec = {
    name: "info",
    summary: "show platform, MicroPython version, unique id, free RAM and flash",
    usage: "info",
    positionals: { min: 0, max: 0 },
    device: true,
    async run(context) {
      await withDevice(context, async (device) => {
        const facts = JSON.parse(await device.session.execText(INFO_CODE)) as DeviceFacts;
        const transport = device.info.kind === "tls"
          ? `wss ${device.info.tlsProtocol ?? ""} ${device.info.tlsCipher ?? ""}`.trim()
          : "ws";
        context.io.out(
          `platform:    ${facts.platform}${facts.machine ? ` (${facts.machine})` : ""}\n` +
            `micropython: ${facts.version.join(".")}\n` +
            `unique id:   ${facts.uid}\n` +
            `RAM:         ${kb(facts.memFree)} free of ${kb(facts.memFree + facts.memAlloc)}\n` +
            `flash:       ${kb(facts.fsFree)} free of ${kb(facts.fsTotal)}\n` +
            `connection:  ${transport} ${device.session.address}\n`,
        );
      });
    },
  };

  const repl: CommandSpec = {
    name: "repl",
    summary: "interactive MicroPython prompt (Ctrl-] to quit)",
    usage: "repl",
    positionals: { min: 0, max: 0 },
    device: true,
    async run(context) {
      await withDevice(context, (device) => terminal(context, device));
    },
  };

  const reset: CommandSpec = {
    name: "reset",
    summary: "reset the device (soft; --hard: machine.reset()); it runs boot.py again and drops the link",
    usage: "reset [--hard]",
    description:
      "A reset always ends the WebREPL connection; the device is reachable again after boot.py ran.",
    options: [{ names: ["--hard"], kind: "flag", help: "machine.reset() instead of a soft reset (Ctrl-D)" }],
    positionals: { min: 0, max: 0 },
    device: true,
    async run(context) {
      const hard = optionFlag(context.args, "--hard");
      await withDevice(context, async (device) => {
        // Ctrl-C clears the line; Ctrl-D on an empty friendly-REPL line is the soft reset.
        const keys = hard ? "\x03import machine; machine.reset()\r" : "\x03\x04";
        await device.session.writeInput(encoder.encode(keys));
        const deadline = context.io.now() + RESET_DROP_WAIT_MS;
        while (context.io.now() < deadline) {
          if (await device.session.readOutput(RESET_DROP_WAIT_MS) === null) {
            context.io.out(
              `${hard ? "hard" : "soft"} reset: ${device.session.address} closed the connection\n`,
            );
            return;
          }
        }
        throw new UserError(`${device.session.address} did not reset (the connection stayed open)`);
      });
    },
  };

  return [put, get, ls, cat, rm, mkdir, exec, info, repl, reset];
}

/** How long a resetting device may take to drop the connection. */
const RESET_DROP_WAIT_MS = 5_000;

export const opsCommands: CommandSpec[] = makeOpsCommands();

interface DeviceFacts {
  platform: string;
  machine: string;
  version: number[];
  uid: string;
  memFree: number;
  memAlloc: number;
  fsTotal: number;
  fsFree: number;
}

const INFO_CODE =
  "import sys,os,gc,json,binascii\ntry:\n import machine\n u=binascii.hexlify(machine.unique_id()).decode()\n" +
  "except Exception:\n u='?'\ngc.collect()\ns=os.statvfs('/')\n" +
  "print(json.dumps({'platform':sys.platform,'machine':getattr(sys.implementation,'_machine',''),'version':" +
  "list(sys.implementation.version)[:3],'uid':u,'memFree':gc.mem_free(),'memAlloc':gc.mem_alloc()," +
  "'fsTotal':s[0]*s[2],'fsFree':s[0]*s[3]}))";

/** Plain terminal: stdin bytes go to the REPL as typed, device output goes to stdout, Ctrl-] quits. */
async function terminal(context: CommandContext, device: DeviceConnection): Promise<void> {
  const { io } = context;
  io.err(`connected to ${device.session.address} (Ctrl-] to quit)\r\n`);
  let quit = false;
  const output = (async () => {
    for (
      let bytes = await device.session.readOutput();
      bytes !== null;
      bytes = await device.session.readOutput()
    ) {
      io.outBytes(bytes);
    }
    if (!quit) io.err("\r\nconnection closed by the device\r\n");
  })();
  io.setRaw(true);
  try {
    // Ask for a fresh prompt: the login consumed the first one.
    await device.session.writeInput(encoder.encode("\r"));
    const ended = output.then(() => null);
    while (true) {
      const input = await Promise.race([io.readStdin(), ended]);
      if (input === null) break;
      const quitAt = input.indexOf(REPL_QUIT);
      if (quitAt >= 0) {
        if (quitAt > 0) await device.session.writeInput(input.subarray(0, quitAt));
        break;
      }
      await device.session.writeInput(input);
    }
  } finally {
    quit = true;
    io.setRaw(false);
    io.err("\r\n");
  }
  await device.close();
  await output;
}

/** Reads a local file; errors name it as the user typed it. */
function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}
