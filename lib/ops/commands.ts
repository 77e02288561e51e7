/**
 * One-shot device commands: put, get, ls, cat, rm, mkdir, exec, info, repl. Each opens the device, does one
 * thing through DeviceFiles / the session, and always closes the connection.
 */
import { basename, dirname, join, resolve } from "node:path";
import { type CommandContext, type CommandSpec, optionFlag } from "../cli/command.ts";
import { UserError } from "../cli/errors.ts";
import type { DeviceConnection, OpenDeviceOptions } from "../device/connect.ts";
import { withDevice as withTargetDevice } from "../device/use_device.ts";
import { ProgressBar } from "../ui/progress.ts";
import { normalizeRemotePath, remoteBasename, remoteJoin } from "./paths.ts";

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
      const data = await readLocal(resolve(context.io.cwd(), source), source);
      await withDevice(context, async (device) => {
        let target = normalizeRemotePath(destination ?? basename(source));
        if (destination?.endsWith("/") || (await device.files.stat(target))?.isDir) {
          target = remoteJoin(target, basename(source));
        }
        const bar = new ProgressBar(context.io, `put ${basename(source)}`);
        const start = context.io.now();
        await device.files.put(data, target, (done, total) => bar.update(done, total));
        bar.finish(data.length, data.length);
        context.io.out(
          `${source} -> ${target} (${data.length} bytes, ${rate(data.length, context.io.now() - start)})\n`,
        );
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
      const remote = normalizeRemotePath(source);
      let local = resolve(context.io.cwd(), destination ?? remoteBasename(remote));
      if (await isLocalDirectory(local)) local = join(local, remoteBasename(remote));
      await withDevice(context, async (device) => {
        const bar = new ProgressBar(context.io, `get ${remoteBasename(remote)}`);
        const start = context.io.now();
        const data = await device.files.get(remote, (done, total) => bar.update(done, total));
        bar.finish(data.length, data.length);
        await writeLocalAtomic(local, data);
        context.io.out(
          `${remote} -> ${local} (${data.length} bytes, ${rate(data.length, context.io.now() - start)})\n`,
        );
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

  return [put, get, ls, cat, rm, mkdir, exec, info, repl];
}

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
async function readLocal(path: string, shown: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UserError(`no such local file: ${shown}`);
    if (error instanceof Deno.errors.IsADirectory) throw new UserError(`${shown} is a directory`);
    throw new UserError(`cannot read ${shown}: ${(error as Error).message}`);
  }
}

async function isLocalDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** Writes to a temporary sibling, then renames: a failed download never leaves a partial file. */
export async function writeLocalAtomic(path: string, data: Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.upytmp-${crypto.randomUUID().slice(0, 8)}`);
  try {
    await Deno.writeFile(temporary, data);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    if (error instanceof Deno.errors.NotFound) {
      throw new UserError(`local directory ${dirname(path)} does not exist`);
    }
    throw new UserError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

function rate(bytes: number, ms: number): string {
  return `${(bytes / 1024 / Math.max(ms / 1000, 0.001)).toFixed(1)} KB/s`;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}
