/**
 * Device actions, each defined once. The CLI (`upydev ls /lib`), the shell (`ls lib` inside `shl`), group runs
 * (`-@ a b c`, `-G`, `-GP`: lib/groups) and `--json` all run the same definition against an open device, the way
 * mpremote writes each operation once on top of exec. An action never opens a connection itself: its front end
 * hands it one, and its result as data is what `--json` prints.
 */
import { type CommandSpec, optionFlag, type OptionSpec, type ParsedArgs } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { JSON_OPTION } from "../cli/parse.ts";
import type { DeviceConnection, OpenDeviceOptions } from "../device/connect.ts";
import type { DeviceTarget } from "../device/target.ts";
import { connectTarget, requestedPersist } from "../device/use_device.ts";
import { capturingIo, runGroup } from "../groups/run.ts";
import {
  describeFailure,
  deviceAddress,
  deviceLabel,
  type DeviceReport,
  jsonDocument,
  jsonReport,
} from "../groups/report.ts";
import { DeviceFiles, type DeviceFilesOptions } from "../ops/files.ts";
import { normalizeRemotePath, remoteJoin } from "../ops/paths.ts";
import type { TransportInfo } from "../transport/stream.ts";
import { type Painter, painter } from "../ui/colour.ts";
import { InterruptedError, type Io } from "../ui/io.ts";
import type { WebReplSession } from "../webrepl/session.ts";
import { isAbsolute, resolve } from "../local/paths.ts";

/** An open device as actions see it. */
export interface Device {
  /** Registry name, when the device has one. */
  name?: string;
  /**
   * Where the device is and how to log in: for actions that must reconnect. An action that changes how to log
   * in (rf_wrkey) replaces it, so that the shell's reconnection uses the new password.
   */
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
  /**
   * The action ends the link on purpose (reset reboots the device; rf_wrkey logs in again with the new
   * password): the shell reconnects at once, to `device.target` as the action left it.
   */
  endsLink?: boolean;
  /** The action is the terminal (`repl`): one device only, no `--json`. */
  terminal?: boolean;
  /**
   * True when, in a group run, each device's local files go to a folder named after it (`get`; `dsync -d`), so
   * that copies from several devices do not overwrite one another.
   */
  localFilesPerDevice?(args: ParsedArgs): boolean;
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

/**
 * The CLI's form of an action: resolve the devices, prepare once, then on each device connect, run, close.
 * One device runs as before; a selection of several (or a group) runs through lib/groups.
 */
export function actionCommand(action: DeviceAction<unknown>, deps: ActionCommandDeps = {}): CommandSpec {
  return {
    name: action.name,
    aliases: action.aliases,
    summary: action.summary,
    usage: action.usage,
    description: action.description,
    options: action.terminal ? action.options : [...(action.options ?? []), JSON_OPTION],
    positionals: action.positionals,
    device: true,
    async run(context) {
      const { args, io } = context;
      const json = optionFlag(args, "--json");
      const localCwd = io.cwd();
      const selection = await context.resolveSelection();
      if (action.terminal && selection.kind === "group") {
        throw new UsageError(`'${action.name}' takes over the terminal: it works on one device`);
      }
      const prepared = await action.prepare?.({ args, io, localCwd });
      /** One device, end to end; `deviceIo` carries its output and its Ctrl-C. */
      const runOn = async (target: DeviceTarget, deviceIo: Io, width: number, group: boolean) => {
        const connection = await connectTarget(context, target, {
          ...deps.connect,
          persist: requestedPersist(context, target),
        });
        const opened = openedDevice(connection, target, deps.files);
        try {
          return await interruptible(
            deviceIo,
            opened,
            async (device) =>
              await action.run({
                args,
                io: deviceIo,
                localCwd: group && action.localFilesPerDevice?.(args)
                  ? await deviceFolder(localCwd, deviceLabel(target))
                  : localCwd,
                cwd: "/",
                prepared,
                device,
                out: {
                  text: (text) => deviceIo.out(text),
                  bytes: (bytes) => deviceIo.outBytes(bytes),
                  terminal: io.stdoutIsTerminal && !json,
                  width,
                  paint: painter(io, io.stdoutIsTerminal && !json),
                },
              }),
          );
        } finally {
          await connection.close();
        }
      };
      if (selection.kind === "group") {
        return await runGroup({
          io,
          targets: selection.targets,
          jobs: selection.jobs,
          json,
          width: terminalWidth(),
          task: (device) => runOn(device.target, device.io, device.width, true),
        });
      }
      const [target] = selection.targets;
      if (!json) {
        await runOn(target, io, terminalWidth(), false);
        return;
      }
      const capture = capturingIo(io);
      const report: DeviceReport = {
        device: deviceLabel(target),
        address: deviceAddress(target),
        status: "ok",
      };
      const start = io.now();
      try {
        report.result = await runOn(target, capture.io, terminalWidth(), false);
      } catch (error) {
        const status = error instanceof InterruptedError ? "interrupted" : "failed";
        Object.assign(report, { status, ...describeFailure(error) });
        throw error;
      } finally {
        report.ms = io.now() - start;
        report.output = capture.output();
        io.out(jsonDocument(jsonReport(report)));
      }
    },
  };
}

/** How long the device gets to stop after Ctrl-C before the link is dropped. */
const INTERRUPT_GRACE_MS = 3000;

/**
 * Ctrl-C (`io.onInterrupt`) while an action runs, the one way for the CLI, groups and the shell. The device's
 * program gets a Ctrl-C of its own (KeyboardInterrupt ends exec and run), except during a WA/WB transfer, where it
 * would land in the file: transfers watch a signal instead and stop at the next frame, removing their temporary
 * files as far as the link allows. The action then ends with `interrupted` (exit 130). A second Ctrl-C, or a
 * device still busy after INTERRUPT_GRACE_MS, drops the link.
 */
export async function interruptible<T>(
  io: Io,
  opened: Device,
  run: (device: Device) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const device = { ...opened, files: opened.files.withSignal(controller.signal) };
  let grace: ReturnType<typeof setTimeout> | undefined;
  const dropLink = () => void device.session.close().catch(() => {});
  const stopListening = io.onInterrupt(() => {
    if (controller.signal.aborted) return dropLink();
    controller.abort();
    // Sent only while an exec's code runs: not into a file being transferred, nor into code being pasted.
    void device.session.interrupt().catch(() => false);
    grace = setTimeout(dropLink, INTERRUPT_GRACE_MS);
  });
  try {
    return await run(device);
  } catch (error) {
    if (controller.signal.aborted) throw new InterruptedError();
    throw error;
  } finally {
    stopListening();
    clearTimeout(grace);
    // A new way to log in (rf_wrkey's password) is the caller's too: the shell reconnects with it.
    opened.target = device.target;
  }
}

/**
 * `get` over a group: each device's files land in a folder named after it. The name comes from a config file,
 * so it is made a plain folder name: never a path out of the current directory.
 */
async function deviceFolder(localCwd: string, name: string): Promise<string> {
  const plain = name.replace(/[^\w.-]/g, "_").replace(/^\.+$/, "_");
  const folder = resolve(localCwd, plain);
  await Deno.mkdir(folder, { recursive: true });
  return folder;
}

/** Columns of the terminal on stdout; 80 when there is none. */
export function terminalWidth(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}
