/**
 * What a shell line runs: the device actions of lib/actions (the same definitions as the CLI's, with the
 * shell's working directories) and the commands that only make sense inside the shell (cd, pwd, lcd, lpwd).
 */
import { HELP_OPTION, parseActionArguments } from "../cli/parse.ts";
import { UserError } from "../cli/errors.ts";
import { type ActionOutput, type Device, devicePath, localPath, terminalWidth } from "../actions/action.ts";
import { DEVICE_ACTIONS } from "../actions/table.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import { painter } from "../ui/colour.ts";
import type { Io } from "../ui/io.ts";

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
  /** Writes terminal text with "\n" line ends (the shell is in raw mode and needs "\r\n"). */
  print(text: string): void;
}

interface LocalCommand {
  usage: string;
  summary: string;
  run(words: string[], context: ShellCommandContext): Promise<void>;
}

const LOCAL_COMMANDS: Record<string, LocalCommand> = {
  cd: {
    usage: "cd [DIR]",
    summary: "change the device directory (default /)",
    async run(words, { device, state }) {
      const target = devicePath(state, words[0] ?? "/");
      const stat = await device.files.stat(target);
      if (stat === null) throw new UserError(`no such directory: ${target}`);
      if (!stat.isDir) throw new UserError(`not a directory: ${target}`);
      // Keep the device's cwd in step, so REPL mode sees the same directory.
      await device.session.exec(`import os\nos.chdir(${pyStr(target)})`);
      state.cwd = target;
    },
  },
  pwd: {
    usage: "pwd",
    summary: "print the device directory",
    run(_words, { state, print }) {
      print(`${state.cwd}\n`);
      return Promise.resolve();
    },
  },
  lpwd: {
    usage: "lpwd",
    summary: "print the local directory",
    run(_words, { state, print }) {
      print(`${state.localCwd}\n`);
      return Promise.resolve();
    },
  },
  lcd: {
    usage: "lcd DIR",
    summary: "change the local directory",
    async run(words, { state, io }) {
      const target = localPath(state, words[0] ?? io.env("HOME") ?? state.localCwd);
      const stat = await Deno.stat(target).catch(() => null);
      if (!stat?.isDirectory) throw new UserError(`no such local directory: ${target}`);
      state.localCwd = await Deno.realPath(target);
    },
  },
};

const SHELL_ACTIONS = DEVICE_ACTIONS.filter((action) => action.inShell !== false);

function shellAction(name: string) {
  return SHELL_ACTIONS.find((action) => action.name === name || action.aliases?.includes(name));
}

/** True when `name` is a shell command (a device action or a local one). */
export function isShellCommand(name: string): boolean {
  return name in LOCAL_COMMANDS || shellAction(name) !== undefined;
}

/** Runs one command's words; `-h` shows its usage. Throws UserError for the user's and the device's faults. */
export async function runShellCommand(
  name: string,
  words: string[],
  context: ShellCommandContext,
): Promise<void> {
  const local = LOCAL_COMMANDS[name];
  if (local) {
    if (words.includes("-h") || words.includes("--help")) {
      return context.print(`usage: ${local.usage}\n  ${local.summary}\n`);
    }
    return await local.run(words, context);
  }
  const action = shellAction(name)!;
  const options = [...(action.options ?? []), HELP_OPTION];
  const { args, help } = parseActionArguments(action, words, options, "");
  if (help) {
    const rows = options.map((option) => `  ${option.names.join(", ").padEnd(16)}${option.help}`);
    return context.print(`usage: ${action.usage}\n  ${action.summary}\n${rows.join("\n")}\n`);
  }
  const { io, state, device } = context;
  const prepared = await action.prepare?.({ args, io, localCwd: state.localCwd });
  await action.run({
    args,
    io,
    device,
    prepared,
    cwd: state.cwd,
    localCwd: state.localCwd,
    out: shellOutput(io, context.print),
  });
}

function shellOutput(io: Io, print: (text: string) => void): ActionOutput {
  return {
    text: print,
    bytes: (bytes) => io.outBytes(toTerminalLineEnds(bytes)),
    terminal: true,
    width: terminalWidth(),
    paint: painter(io, true),
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

/** Splits a command line into words, honouring '…' and "…" quotes and backslash escapes. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let current = "";
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"' && i + 1 < line.length) current += line[++i];
      else current += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === "\\" && i + 1 < line.length) {
      current += line[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quote) throw new UserError("unterminated quote");
  if (inWord) words.push(current);
  return words;
}

export function shellHelp(): string {
  const rows = [
    ...SHELL_ACTIONS.map((action) => [action.name, action.summary]),
    ...Object.entries(LOCAL_COMMANDS).map(([name, command]) => [name, command.summary]),
    ["help", "this list (COMMAND -h: one command)"],
    ["exit", "leave the shell"],
  ];
  return [
    "shell commands:",
    ...rows.map(([name, summary]) => `  ${name.padEnd(10)}${summary}`),
    "Python code runs in REPL mode: CTRL-s toggles shell/REPL.",
    "",
  ].join("\n");
}
