/**
 * Shell-mode commands: file management on the device through lib/ops (no device-side helpers needed) and a
 * few local commands. Each command parses its own words; `-h` works on every one.
 */
import { UserError } from "../cli/errors.ts";
import type { DeviceFiles } from "../ops/files.ts";
import { normalizeRemotePath, remoteBasename, remoteJoin } from "../ops/paths.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import type { Io } from "../ui/io.ts";
import { describeTransfer, downloadFile, readLocalFile, uploadFile } from "../ops/transfers.ts";

export interface ShellState {
  /** Device working directory (absolute). */
  cwd: string;
  /** Host working directory for put/get. */
  localCwd: string;
}

export interface ShellCommandContext {
  files: DeviceFiles;
  io: Io;
  state: ShellState;
  /** Writes terminal text (the shell is in raw mode: lines end with \r\n). */
  print(text: string): void;
}

interface ShellCommand {
  usage: string;
  help: string;
  run(words: string[], context: ShellCommandContext): Promise<void>;
}

const decoder = new TextDecoder();

function devicePath(state: ShellState, path: string): string {
  return path.startsWith("/") ? normalizeRemotePath(path) : remoteJoin(state.cwd, path);
}

function localPath(state: ShellState, path: string): string {
  return path.startsWith("/") ? path : `${state.localCwd}/${path}`;
}

function flags(words: string[], allowed: string[]): { args: string[]; set: Set<string> } {
  const set = new Set<string>();
  const args: string[] = [];
  for (const word of words) {
    if (word.startsWith("-") && word.length > 1) {
      if (!allowed.includes(word)) throw new UserError(`unknown option '${word}'`);
      set.add(word);
    } else args.push(word);
  }
  return { args, set };
}

export const SHELL_COMMANDS: Record<string, ShellCommand> = {
  ls: {
    usage: "ls [PATH] [-a]",
    help: "list a directory of the device (-a: also names starting with '.')",
    async run(words, { files, state, print }) {
      const { args, set } = flags(words, ["-a"]);
      const target = devicePath(state, args[0] ?? ".");
      const stat = await files.stat(target);
      if (stat === null) throw new UserError(`no such file or directory: ${target}`);
      if (!stat.isDir) return print(`${remoteBasename(target)}\r\n`);
      const entries = (await files.list(target))
        .filter((entry) => set.has("-a") || !remoteBasename(entry.path).startsWith("."))
        .map((entry) => remoteBasename(entry.path) + (entry.isDir ? "/" : ""))
        .sort();
      if (entries.length > 0) print(entries.join("  ") + "\r\n");
    },
  },
  cd: {
    usage: "cd [DIR]",
    help: "change the device directory (default /)",
    async run(words, { files, state }) {
      const target = devicePath(state, words[0] ?? "/");
      const stat = await files.stat(target);
      if (stat === null) throw new UserError(`no such directory: ${target}`);
      if (!stat.isDir) throw new UserError(`not a directory: ${target}`);
      // Keep the device's cwd in step, so REPL mode sees the same directory.
      await files.session.exec(`import os\nos.chdir(${pyStr(target)})`);
      state.cwd = target;
    },
  },
  pwd: {
    usage: "pwd",
    help: "print the device directory",
    run(_words, { state, print }) {
      print(`${state.cwd}\r\n`);
      return Promise.resolve();
    },
  },
  cat: {
    usage: "cat FILE...",
    help: "print device files",
    async run(words, { files, state, print }) {
      if (words.length === 0) throw new UserError("usage: cat FILE...");
      for (const word of words) {
        const text = decoder.decode(await files.get(devicePath(state, word)));
        print(text.replace(/\r?\n/g, "\r\n"));
        if (text.length > 0 && !text.endsWith("\n")) print("\r\n");
      }
    },
  },
  put: {
    usage: "put SRC [DST]",
    help: "upload a local file into the device directory (or to DST)",
    async run(words, { files, io, state, print }) {
      if (words.length < 1 || words.length > 2) throw new UserError("usage: put SRC [DST]");
      const local = await readLocalFile(io, localPath(state, words[0]));
      const target = words[1] === undefined ? `${state.cwd}/` : devicePath(state, words[1]);
      const report = await uploadFile(files, io, local, target);
      print(`\r${describeTransfer(report)}\r\n`);
    },
  },
  get: {
    usage: "get SRC [DST]",
    help: "download a device file into the local directory (or to DST)",
    async run(words, { files, io, state, print }) {
      if (words.length < 1 || words.length > 2) throw new UserError("usage: get SRC [DST]");
      const report = await downloadFile(
        files,
        io,
        devicePath(state, words[0]),
        localPath(state, words[1] ?? "."),
      );
      print(`\r${describeTransfer(report)}\r\n`);
    },
  },
  rm: {
    usage: "rm [-r] PATH...",
    help: "remove device files (-r: directories with their contents)",
    async run(words, { files, state }) {
      const { args, set } = flags(words, ["-r", "-rf"]);
      if (args.length === 0) throw new UserError("usage: rm [-r] PATH...");
      for (const path of args) await files.rm(devicePath(state, path), { recursive: set.size > 0 });
    },
  },
  mkdir: {
    usage: "mkdir DIR...",
    help: "create device directories (with their parents)",
    async run(words, { files, state }) {
      if (words.length === 0) throw new UserError("usage: mkdir DIR...");
      for (const path of words) await files.mkdir(devicePath(state, path));
    },
  },
  lpwd: {
    usage: "lpwd",
    help: "print the local directory",
    run(_words, { state, print }) {
      print(`${state.localCwd}\r\n`);
      return Promise.resolve();
    },
  },
  lcd: {
    usage: "lcd DIR",
    help: "change the local directory",
    async run(words, { state, io }) {
      const target = localPath(state, words[0] ?? io.env("HOME") ?? state.localCwd);
      const stat = await Deno.stat(target).catch(() => null);
      if (!stat?.isDirectory) throw new UserError(`no such local directory: ${target}`);
      state.localCwd = await Deno.realPath(target);
    },
  },
};

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
  const rows = Object.values(SHELL_COMMANDS).map((command) => `  ${command.usage.padEnd(18)}${command.help}`);
  return [
    "shell commands:",
    ...rows,
    `  ${"help".padEnd(18)}this list (COMMAND -h: one command)`,
    `  ${"exit".padEnd(18)}leave the shell`,
    "Python code runs in REPL mode: CTRL-s toggles shell/REPL.",
    "",
  ].join("\r\n");
}
