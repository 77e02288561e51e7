/**
 * Device actions, each defined once. The CLI (`upydev ls /lib`), the shell (`ls lib` inside `shl`), group runs
 * and `--json` all run the same definition against an open device, the way mpremote writes each operation once
 * on top of exec. An action never opens a connection itself: its front end hands it one.
 */
import type { CommandSpec, OptionSpec, ParsedArgs } from "../cli/command.ts";
import type { DeviceConnection, OpenDeviceOptions } from "../device/connect.ts";
import type { DeviceTarget } from "../device/target.ts";
import { withDevice } from "../device/use_device.ts";
import { DeviceFiles, type DeviceFilesOptions } from "../ops/files.ts";
import { normalizeRemotePath, remoteJoin } from "../ops/paths.ts";
import type { TransportInfo } from "../transport/stream.ts";
import { type Painter, painter } from "../ui/colour.ts";
import type { Io } from "../ui/io.ts";
import type { WebReplSession } from "../webrepl/session.ts";
import { isAbsolute, resolve } from "../local/paths.ts";

/** An open device as actions see it. */
export interface Device {
  /** Registry name, when the device has one. */
  name?: string;
  /** Where the device is and how to log in: for actions that must reconnect (rf_wrkey, reset). */
  target: DeviceTarget;
  session: WebReplSession;
  files: DeviceFiles;
  info: TransportInfo;
}

/** Where an action writes what it shows: stdout for the CLI, the raw terminal (or a `>` file) in the shell. */
export interface ActionOutput {
  /** Text with "\n" line ends; the shell turns them into "\r\n". */
  text(text: string): void;
  /** Bytes exactly as the device sent them (cat, exec). */
  bytes(bytes: Uint8Array): void;
  /** True when a person reads it on a terminal: listings go in columns. */
  terminal: boolean;
  /** Terminal columns (80 when not a terminal). */
  width: number;
  /** Colours text when `terminal` is set and NO_COLOR is not. */
  paint: Painter;
}

/** What an action's local preparation sees: no device yet. */
export interface PrepareContext {
  args: ParsedArgs;
  io: Io;
  /** Local directory relative paths start from: the process's cwd, or the shell's `lcd`. */
  localCwd: string;
}

export interface ActionContext<Prepared = undefined> extends PrepareContext {
  device: Device;
  out: ActionOutput;
  /** Device directory relative paths start from: `/` for the CLI, the shell's `cd`. */
  cwd: string;
  prepared: Prepared;
}

export interface DeviceAction<Prepared = undefined> {
  name: string;
  aliases?: string[];
  /** One line for `upydev --help` and the shell's `help`. */
  summary: string;
  /** Usage without the program name: "put SRC... [DST]". */
  usage: string;
  description?: string;
  options?: OptionSpec[];
  positionals: { min: number; max: number };
  /** False for actions that take over the terminal themselves (`repl`: the shell has CTRL-s for it). */
  inShell?: boolean;
  /** Local work before any connection (reading files to upload), so a typo costs no device round trip. */
  prepare?(context: PrepareContext): Promise<Prepared>;
  /** Runs against the open device; returns the action's result as data. */
  run(context: ActionContext<Prepared>): Promise<unknown>;
}

/** A device path as the user typed it, against the action's working directory. */
export function devicePath(context: Pick<ActionContext<unknown>, "cwd">, path: string): string {
  return path.startsWith("/") ? normalizeRemotePath(path) : remoteJoin(context.cwd, path);
}

/** A local path as the user typed it, against the action's local directory. */
export function localPath(context: Pick<PrepareContext, "localCwd">, path: string): string {
  return isAbsolute(path) ? path : resolve(context.localCwd, path);
}

export function openedDevice(
  connection: DeviceConnection,
  target: DeviceTarget,
  files: DeviceFilesOptions = {},
): Device {
  return {
    name: target.name,
    target,
    session: connection.session,
    files: new DeviceFiles(connection.session, files),
    info: connection.info,
  };
}

export interface ActionCommandDeps {
  /** Connection options (timeouts) for tests. */
  connect?: Omit<OpenDeviceOptions, "tlsCredentials">;
  files?: DeviceFilesOptions;
}

/** The CLI's form of an action: resolve the device, connect, run once, close. */
export function actionCommand(action: DeviceAction<unknown>, deps: ActionCommandDeps = {}): CommandSpec {
  return {
    name: action.name,
    aliases: action.aliases,
    summary: action.summary,
    usage: action.usage,
    description: action.description,
    options: action.options,
    positionals: action.positionals,
    device: true,
    async run(context) {
      const { args, io } = context;
      const localCwd = io.cwd();
      const prepared = await action.prepare?.({ args, io, localCwd });
      await withDevice(context, async (connection, target) => {
        await action.run({
          args,
          io,
          localCwd,
          cwd: "/",
          prepared,
          device: openedDevice(connection, target, deps.files),
          out: {
            text: (text) => io.out(text),
            bytes: (bytes) => io.outBytes(bytes),
            terminal: io.stdoutIsTerminal,
            width: terminalWidth(),
            paint: painter(io, io.stdoutIsTerminal),
          },
        });
      }, deps.connect);
    },
  };
}

/** Columns of the terminal on stdout; 80 when there is none. */
export function terminalWidth(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}
