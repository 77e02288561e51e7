/**
 * `upydev shl`: the interactive shell-repl. Shell mode edits a line locally and runs file commands through
 * lib/ops; REPL mode passes keystrokes to the device's friendly REPL and prints what it sends. CTRL-s
 * toggles, CTRL-x (or `exit`) leaves, CTRL-k lists the keys. The terminal is in raw mode throughout, so the
 * shell writes \r\n line ends itself.
 */
import { oneLine, UserError } from "../cli/errors.ts";
import type { Device } from "../actions/action.ts";
import type { TransportInfo } from "../transport/stream.ts";
import type { Io } from "../ui/io.ts";
import { printable } from "../ui/terminal_text.ts";
import type { WebReplSession } from "../webrepl/session.ts";
import { type EditorEvent, LineEditor, shellKeyOf } from "./line_editor.ts";
import {
  isShellCommand,
  runShellCommand,
  type ShellCommandContext,
  shellHelp,
  type ShellState,
  splitWords,
} from "./shell_commands.ts";

export interface ShellOptions {
  /** Registry name of the device; the unique id stands in when there is none. */
  name?: string;
  /** Previous command lines, oldest first; the shell appends to it. */
  history?: string[];
}

export interface DeviceIdentity {
  platform: string;
  version: string;
  machine: string;
  uid: string;
}

export const KEY_HINTS = [
  "- CTRL-k to see keybindings or -h to see help",
  "- CTRL-s to toggle shell/repl mode",
  '- CTRL-x or "exit" to exit',
];

export const KEYBINDINGS = [
  "Keybindings:",
  "  CTRL-s       toggle shell/REPL mode",
  "  CTRL-k       show these keybindings",
  '  CTRL-x       exit (also "exit" in shell mode)',
  "  CTRL-c       shell: clear the line; REPL: interrupt the running program",
  "  CTRL-d       shell: exit on an empty line; REPL: soft reset (the device drops the connection)",
  "  Up/Down      shell history",
  "  Left/Right   move in the line; CTRL-a / CTRL-e: start / end; CTRL-u: delete to the start",
];

/** Polling interval of the REPL-mode output pump; bounds how long a switch back to shell mode waits. */
const PUMP_POLL_MS = 50;
const encoder = new TextEncoder();

export class Shell {
  readonly #device: Device;
  readonly #io: Io;
  readonly #name: string | undefined;
  readonly #editor: LineEditor;
  #mode: "shell" | "repl" = "shell";
  #pump: Promise<void> | undefined;
  #pumping = false;
  #identity: DeviceIdentity | undefined;
  readonly #state: ShellState;
  #ended: { message?: string } | undefined;
  #endedSignal!: () => void;
  readonly #endedPromise = new Promise<void>((resolve) => (this.#endedSignal = resolve));

  constructor(device: Device, io: Io, options: ShellOptions = {}) {
    this.#device = device;
    this.#io = io;
    this.#name = options.name;
    this.#editor = new LineEditor((text) => io.out(text), options.history ?? []);
    this.#state = { cwd: "/", localCwd: io.cwd() };
  }

  /** Header lines as upydev prints them, then the interactive loop. Resolves when the user leaves. */
  async run(): Promise<void> {
    this.#identity = await identify(this.#device.session);
    this.#io.out(connectionHeader(this.#device.info, this.#identity).join("\n") + "\n");
    this.#io.setRaw(true);
    try {
      this.#showPrompt();
      while (!this.#ended) {
        const chunk = await Promise.race([this.#io.readStdin(), this.#endedPromise.then(() => undefined)]);
        if (chunk === undefined) break;
        if (chunk === null) {
          this.#end();
          break;
        }
        if (this.#mode === "shell") {
          for (const event of this.#editor.feed(chunk)) {
            await this.#onShellEvent(event);
            if (this.#ended) break;
          }
        } else {
          await this.#onReplInput(chunk);
        }
      }
    } finally {
      await this.#stopPump();
      this.#io.setRaw(false);
    }
    if (this.#ended?.message) throw new UserError(this.#ended.message);
  }

  get prompt(): string {
    const name = this.#name ?? this.#identity?.uid ?? "device";
    const path = this.#state.cwd === "/" ? "" : this.#state.cwd;
    return `${this.#identity?.platform ?? "upy"}@${name}:~${printable(path)} $ `;
  }

  #showPrompt(): void {
    this.#editor.prompt(this.prompt);
  }

  async #onShellEvent(event: EditorEvent): Promise<void> {
    if (event.kind === "key") {
      if (event.key === "exit" || event.key === "eof") return this.#end();
      if (event.key === "show-keys") {
        this.#io.out("\r\n" + KEYBINDINGS.join("\r\n") + "\r\n");
        return this.#showPrompt();
      }
      return this.#enterRepl();
    }
    const done = await this.#runLine(event.text);
    if (!done) this.#showPrompt();
  }

  /** Runs one shell line; true when the shell ended. */
  async #runLine(line: string): Promise<boolean> {
    let words: string[];
    try {
      words = splitWords(line);
    } catch (error) {
      this.#io.out(`${(error as Error).message}\r\n`);
      return false;
    }
    if (words.length === 0) return false;
    const [name, ...rest] = words;
    if (name === "exit") {
      this.#end();
      return true;
    }
    if (name === "help" || name === "-h") {
      this.#print(shellHelp() + KEYBINDINGS.join("\n") + "\n");
      return false;
    }
    if (!isShellCommand(name)) {
      this.#print(`${name}: command not found (help lists the commands; CTRL-s switches to the REPL)\n`);
      return false;
    }
    try {
      await runShellCommand(name, rest, this.#commandContext());
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      if (this.#device.session.state !== "open" || this.#device.session.ws.end) {
        this.#end(oneLine(error.message));
        return true;
      }
      this.#io.out(`${name}: ${printable(oneLine(error.message))}\r\n`);
    }
    return false;
  }

  #commandContext(): ShellCommandContext {
    return { device: this.#device, io: this.#io, state: this.#state, print: (text) => this.#print(text) };
  }

  /** Text with "\n" line ends onto the raw terminal. */
  #print(text: string): void {
    this.#io.out(text.replace(/\r?\n/g, "\r\n"));
  }

  async #enterRepl(): Promise<void> {
    this.#mode = "repl";
    this.#io.out("\r\n");
    this.#pumping = true;
    this.#pump = this.#pumpOutput();
    // A carriage return makes the device print a fresh `>>> ` prompt (and leaves the raw REPL if needed).
    await this.#device.session.writeInput(encoder.encode("\r"));
  }

  async #onReplInput(chunk: Uint8Array): Promise<void> {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const key = shellKeyOf(chunk[i]);
      if (!key) continue;
      if (i > start) await this.#device.session.writeInput(chunk.subarray(start, i));
      start = i + 1;
      if (key === "exit") return this.#end();
      if (key === "show-keys") this.#io.out("\r\n" + KEYBINDINGS.join("\r\n") + "\r\n");
      if (key === "toggle-mode") {
        await this.#stopPump();
        this.#mode = "shell";
        this.#io.out("\r\n");
        this.#showPrompt();
        // Keys typed after the toggle in the same chunk belong to the line editor.
        for (const event of this.#editor.feed(chunk.subarray(i + 1))) await this.#onShellEvent(event);
        return;
      }
    }
    if (start < chunk.length) await this.#device.session.writeInput(chunk.subarray(start));
  }

  async #pumpOutput(): Promise<void> {
    try {
      while (this.#pumping && !this.#ended) {
        const bytes = await this.#device.session.readOutput(PUMP_POLL_MS);
        if (bytes === null) {
          return this.#end(`connection to ${this.#device.session.address} lost`);
        }
        if (bytes.length > 0) this.#io.outBytes(bytes);
      }
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      this.#end(oneLine(error.message));
    }
  }

  async #stopPump(): Promise<void> {
    this.#pumping = false;
    const pump = this.#pump;
    this.#pump = undefined;
    await pump;
  }

  #end(message?: string): void {
    if (this.#ended) return;
    this.#ended = { message };
    this.#endedSignal();
    if (!message) {
      this.#io.out(
        `\r\nlogout\r\nConnection to ${this.#name ?? this.#identity?.uid ?? "device"} closed.\r\n`,
      );
    }
  }
}

/** Platform, firmware and unique id, read once at connect time. */
export async function identify(session: WebReplSession): Promise<DeviceIdentity> {
  const text = await session.execText(
    "import os,sys\nu=os.uname()\nprint(sys.platform)\nprint(u.version)\nprint(u.machine)\n" +
      "try:\n import machine,binascii\n print(binascii.hexlify(machine.unique_id()).decode())\n" +
      "except Exception:\n print('')",
  );
  const [platform = "", version = "", machine = "", uid = ""] = text.split(/\r?\n/).map((line) =>
    printable(line.trim())
  );
  return { platform, version, machine, uid };
}

/** The lines upydev prints on connecting: link, cipher, banner and the key hints. */
export function connectionHeader(info: TransportInfo, identity: DeviceIdentity): string[] {
  const link = info.kind === "tls"
    ? [
      `WebSecREPL with ${info.tlsProtocol ?? "TLS"} connected`,
      `${info.tlsProtocol ?? "TLS"} @ ${info.tlsCipher ?? "unknown cipher"} - ${
        info.tlsBits ?? "?"
      } bits Encryption`,
    ]
    : ["WebREPL connected", "WARNING: ENCRYPTION DISABLED IN THIS MODE"];
  return [
    ...link,
    "",
    `MicroPython ${identity.version}; ${identity.machine}`,
    'Type "help()" for more information.',
    "",
    ...KEY_HINTS,
  ];
}
