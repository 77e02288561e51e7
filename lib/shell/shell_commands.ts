/**
 * What a shell command runs: the device actions of lib/actions (the same definitions as the CLI's, with the
 * shell's working directories) and the commands that only make sense inside the shell (cd, pwd and the local
 * lcd, lpwd, lls, ldu).
 */
import { HELP_OPTION, parseActionArguments } from "../cli/parse.ts";
import { optionFlag, type OptionSpec, type ParsedArgs } from "../cli/command.ts";
import { UserError } from "../cli/errors.ts";
import { type ActionOutput, type Device, devicePath, interruptible, localPath } from "../actions/action.ts";
import { DEVICE_ACTIONS } from "../actions/table.ts";
import { columns, formatBytes } from "../actions/format.ts";
import { expandLocalPaths } from "../glob/local.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import type { Io } from "../ui/io.ts";
import { printable } from "../ui/terminal_text.ts";
import { join } from "node:path";

export interface ShellState {
  /** Device working directory (absolute). */
  cwd: string;
  /** Host working directory for put/get. */
  localCwd: string;
}

export interface ShellCommandContext {
  device: Device;
  io: Io;
  state: ShellState;
  /** The terminal (with "\r\n" line ends), or the local file of a `>` redirection. */
  out: ActionOutput;
}

/** Parsed like an action (same options, arity and `-h`), but it runs in the shell, not on a device alone. */
interface ShellOnlyCommand {
  usage: string;
  summary: string;
  options?: OptionSpec[];
  positionals: { min: number; max: number };
  /** The positionals are paths on this computer (completion lists local files for them). */
  localPaths?: boolean;
  run(args: ParsedArgs, context: ShellCommandContext): Promise<void>;
}

const SHELL_ONLY: Record<string, ShellOnlyCommand> = {
  cd: {
    usage: "cd [DIR]",
    summary: "change the device directory (default /)",
    positionals: { min: 0, max: 1 },
    async run({ positionals }, { device, state }) {
      const target = devicePath(state, positionals[0] ?? "/");
      const stat = await device.files.stat(target);
      if (stat === null) throw new UserError(`no such directory: ${printable(target)}`);
      if (!stat.isDir) throw new UserError(`not a directory: ${printable(target)}`);
      await changeDeviceDirectory(device, target);
      state.cwd = target;
    },
  },
  pwd: {
    usage: "pwd",
    summary: "print the device directory",
    positionals: { min: 0, max: 0 },
    run(_args, { state, out }) {
      out.text(`${printable(state.cwd)}\n`);
      return Promise.resolve();
    },
  },
  lpwd: {
    usage: "lpwd",
    summary: "print the local directory",
    positionals: { min: 0, max: 0 },
    run(_args, { state, out }) {
      out.text(`${printable(state.localCwd)}\n`);
      return Promise.resolve();
    },
  },
  lcd: {
    usage: "lcd [DIR]",
    summary: "change the local directory (default $HOME)",
    positionals: { min: 0, max: 1 },
    localPaths: true,
    async run({ positionals }, { state, io }) {
      const [word] = await expandLocalPaths(state.localCwd, positionals);
      const target = localPath(state, word ?? io.env("HOME") ?? state.localCwd);
      const stat = await Deno.stat(target).catch(() => null);
      if (!stat?.isDirectory) throw new UserError(`no such local directory: ${target}`);
      state.localCwd = await Deno.realPath(target);
    },
  },
  lls: {
    usage: "lls [-a] [PATH...]",
    summary: "list local directories (patterns: lls *.py)",
    options: [{ names: ["-a"], kind: "flag", help: "also names starting with '.'" }],
    positionals: { min: 0, max: Infinity },
    localPaths: true,
    async run(args, context) {
      const all = optionFlag(args, "-a");
      const patterns = args.positionals;
      const paths = patterns.length > 0
        ? await expandLocalPaths(context.state.localCwd, patterns, { dot: all })
        : ["."];
      const files: LocalEntry[] = [];
      const directories: { path: string; entries: LocalEntry[] }[] = [];
      for (const path of paths) {
        const full = localPath(context.state, path);
        const stat = await Deno.stat(full).catch(() => null);
        if (stat === null) throw new UserError(`no such local file or directory: ${path}`);
        if (stat.isDirectory) directories.push({ path, entries: await localEntries(full, all) });
        else files.push({ name: path, isDir: false, size: stat.size });
      }
      showLocal(context.out, files);
      for (const { path, entries } of directories) {
        if (paths.length > 1) context.out.text(`\n${printable(path)}:\n`);
        showLocal(context.out, entries);
      }
    },
  },
  ldu: {
    usage: "ldu [DIR]",
    summary: "disk usage of a local directory: each entry's recursive size, then the total",
    positionals: { min: 0, max: 1 },
    localPaths: true,
    async run({ positionals }, { state, out }) {
      const [word = "."] = await expandLocalPaths(state.localCwd, positionals);
      const directory = localPath(state, word);
      let total = 0;
      for (const entry of await localEntries(directory, true)) {
        const size = entry.isDir ? await treeSize(join(directory, entry.name)) : entry.size;
        total += size;
        out.text(`${formatBytes(size).padStart(10)}  ${printable(entry.name)}${entry.isDir ? "/" : ""}\n`);
      }
      out.text(`${formatBytes(total).padStart(10)}  ${printable(word)}\n`);
    },
  },
};

interface LocalEntry {
  name: string;
  isDir: boolean;
  size: number;
}

async function localEntries(directory: string, all: boolean): Promise<LocalEntry[]> {
  const entries: LocalEntry[] = [];
  try {
    for await (const entry of Deno.readDir(directory)) {
      if (!all && entry.name.startsWith(".")) continue;
      const stat = await Deno.stat(join(directory, entry.name)).catch(() => null);
      entries.push({ name: entry.name, isDir: stat?.isDirectory ?? false, size: stat?.size ?? 0 });
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UserError(`no such local directory: ${directory}`);
    throw error;
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function treeSize(directory: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(directory)) {
    const path = join(directory, entry.name);
    // Symlinks are not followed: a loop must not hang ldu.
    if (entry.isDirectory) total += await treeSize(path);
    else if (entry.isFile) total += (await Deno.stat(path)).size;
  }
  return total;
}

function showLocal(out: ActionOutput, entries: LocalEntry[]): void {
  const names = entries.map((entry) => {
    const name = printable(entry.name) + (entry.isDir ? "/" : "");
    return { width: name.length, text: entry.isDir ? out.paint("directory", name) : name };
  });
  if (out.terminal) out.text(columns(names, out.width));
  else for (const { text } of names) out.text(`${text}\n`);
}

/** Keeps the device's own cwd in step with the shell's, so REPL mode and `exec` see the same directory. */
export async function changeDeviceDirectory(device: Device, directory: string): Promise<void> {
  await device.session.exec(`import os\nos.chdir(${pyStr(directory)})`);
}

const SHELL_ACTIONS = DEVICE_ACTIONS.filter((action) => action.inShell !== false);

function shellAction(name: string) {
  return SHELL_ACTIONS.find((action) => action.name === name || action.aliases?.includes(name));
}

/** Built into the shell itself (lib/shell/shell.ts runs them). */
export const BUILTINS: Record<string, string> = {
  help: "this list (COMMAND -h: one command)",
  exit: "leave the shell (-r: soft reset first; -hr: hard reset first)",
  repl: "switch to the device's REPL (as CTRL-s)",
};

const READ_ONLY = new Set([
  "ls",
  "cat",
  "head",
  "tree",
  "du",
  "df",
  "shasum",
  "info",
  "id",
  "mem",
  "modules",
  "uptime",
  "datetime",
  "net",
  "ifconfig",
  "log",
  "cd",
  "pwd",
  "lcd",
  "lpwd",
  "lls",
  "ldu",
  "help",
]);

/** True for the actions that end the link on purpose (reset, rf_wrkey): the shell reconnects without asking. */
export function endsLink(name: string): boolean {
  return shellAction(name)?.endsLink === true;
}

/** False for commands that never change files (completion keeps its directory listings after them). */
export function mayChangeFiles(name: string): boolean {
  return !READ_ONLY.has(name);
}

/** True when `name` is a command runShellCommand knows (a device action or a shell-only one). */
export function isShellCommand(name: string): boolean {
  return name in SHELL_ONLY || shellAction(name) !== undefined;
}

/** Every name the shell accepts, for completion. */
export function shellCommandNames(): string[] {
  return [
    ...SHELL_ACTIONS.flatMap((action) => [action.name, ...(action.aliases ?? [])]),
    ...Object.keys(SHELL_ONLY),
    ...Object.keys(BUILTINS),
  ].sort();
}

/** A command's option spellings, for completion. */
export function shellCommandOptions(name: string): string[] {
  const options = SHELL_ONLY[name]?.options ?? shellAction(name)?.options ?? [];
  return [...options, HELP_OPTION].flatMap((option) => option.names);
}

const TAKE_DIRECTORIES = new Set(["cd", "lcd", "ldu", "mkdir", "rmdir"]);

/** Commands whose every path is a directory: completion offers no files for them. */
export function takesDirectories(name: string): boolean {
  return TAKE_DIRECTORIES.has(name);
}

/** Positionals that are paths on this computer: put's and run's source, get's destination, lcd/lls/ldu. */
export function isLocalPathWord(name: string, positional: number): boolean {
  if (SHELL_ONLY[name]) return SHELL_ONLY[name].localPaths === true;
  if (name === "put" || name === "run") return positional === 0;
  if (name === "get") return positional === 1;
  return false;
}

/** Runs one command's words; `-h` shows its usage. Throws UserError for the user's and the device's faults. */
export async function runShellCommand(
  name: string,
  words: string[],
  context: ShellCommandContext,
): Promise<void> {
  const { io, state, device, out } = context;
  const shellOnly = SHELL_ONLY[name];
  const action = shellOnly ? undefined : shellAction(name);
  const command = shellOnly ?? action;
  if (!command) throw new UserError(`${name}: command not found`);
  const options = [...(command.options ?? []), HELP_OPTION];
  const { args, help } = parseActionArguments({ ...command, name: action?.name ?? name }, words, options, "");
  if (help) {
    const description = action?.description ? `${action.description}\n` : "";
    return out.text(`usage: ${command.usage}\n  ${command.summary}\n${description}${optionRows(options)}`);
  }
  if (shellOnly) return await shellOnly.run(args, context);
  const prepared = await action!.prepare?.({ args, io, localCwd: state.localCwd });
  await interruptible(
    io,
    device,
    (watched) =>
      action!.run({ args, io, device: watched, prepared, cwd: state.cwd, localCwd: state.localCwd, out }),
  );
}

function optionRows(options: OptionSpec[]): string {
  return options.map((option) => `  ${option.names.join(", ").padEnd(16)}${option.help}\n`).join("");
}

export function shellHelp(): string {
  const rows = [
    ...SHELL_ACTIONS.map((action) => [[action.name, ...(action.aliases ?? [])].join(", "), action.summary]),
    ...Object.entries(SHELL_ONLY).map(([name, command]) => [name, command.summary]),
    ...Object.entries(BUILTINS),
    ["!CMD", "run CMD in the local shell ($SHELL)"],
  ];
  return [
    "shell commands:",
    ...rows.map(([name, summary]) => `  ${name.padEnd(16)}${summary}`),
    "",
    "syntax: a && b (b after a succeeded), CMD > FILE and CMD >> FILE (output to a local file),",
    "  'quotes' or \\ for names with spaces, patterns (* ? [..] **) on device paths and put's sources.",
    "Python code runs in REPL mode: CTRL-s toggles shell/REPL.",
    "",
  ].join("\n");
}
