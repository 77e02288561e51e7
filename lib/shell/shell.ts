/**
 * `upydev shl`: the interactive shell-repl. Shell mode edits a line locally and runs commands (the device
 * actions, the shell's own, `!cmd` on this computer); REPL mode passes keystrokes to the device's friendly REPL
 * and prints what it sends. The terminal is in raw mode throughout, so the shell writes \r\n line ends itself.
 *
 * One loop reads the keyboard; the REPL-mode output pump and a lost link wake it, so a question such as
 * "reconnect?" is answered by the next key like any other input and no keystroke is read twice.
 */
import { oneLine, UserError } from "../cli/errors.ts";
import type { ActionOutput, Device } from "../actions/action.ts";
import type { DeviceTarget } from "../device/target.ts";
import { terminalWidth } from "../actions/action.ts";
import { columns } from "../actions/format.ts";
import { listDeviceTrees } from "../glob/device.ts";
import { listLocalTree } from "../glob/local.ts";
import { resolve } from "node:path";
import { type Painter, painter } from "../ui/colour.ts";
import { interruptHandlers, type Io } from "../ui/io.ts";
import { printable } from "../ui/terminal_text.ts";
import { complete, type CompletionSources, type DirectoryEntry, ListingCache } from "./completion.ts";
import { CTRL, type EditorEvent, LineEditor, type ShellKey, shellKeyOf } from "./line_editor.ts";
import { editorCommand, localShell, runOnTerminal } from "./local_process.ts";
import { banner, connectionHeader, type DeviceIdentity, identify, KEYBINDINGS } from "./header.ts";
import { fileOutput, terminalOutput, toTerminalText } from "./output.ts";
import { type CommandStep, parseLine } from "./parse.ts";
import {
  changeDeviceDirectory,
  endsLink,
  isLocalPathWord,
  isShellCommand,
  mayChangeFiles,
  runShellCommand,
  shellCommandNames,
  shellCommandOptions,
  shellHelp,
  type ShellState,
  takesDirectories,
} from "./shell_commands.ts";

export interface ShellOptions {
  /** Registry name of the device; the unique id stands in when there is none. */
  name?: string;
  /** Previous command lines, oldest first; the shell appends to it. */
  history?: string[];
  /**
   * A fresh connection to the device at `target` (the one in use, or as an action left it: rf_wrkey's new
   * password), after a reset or a dropped link; without it the shell ends.
   */
  reconnect?: (target: DeviceTarget) => Promise<Device>;
  /** Pause between reconnection attempts while the device reboots. */
  reconnectDelayMs?: number;
}

/** Polling interval of the REPL-mode output pump; bounds how long a switch back to shell mode waits. */
const PUMP_POLL_MS = 50;
/** A link that drops this soon after CTRL-d in REPL mode was a soft reset: reconnect without asking. */
const SOFT_RESET_WINDOW_MS = 10_000;
/** A rebooting ESP32 takes a second or two to serve WebREPL again. */
const RECONNECT_ATTEMPTS = 20;
const encoder = new TextEncoder();

export class Shell {
  #device: Device;
  readonly #io: Io;
  readonly #options: ShellOptions;
  readonly #editor: LineEditor;
  readonly #history: string[];
  readonly #paint: Painter;
  readonly #listings: ListingCache;
  #mode: "shell" | "repl" = "shell";
  #pump: Promise<void> | undefined;
  #pumping = false;
  #identity: DeviceIdentity | undefined;
  readonly #state: ShellState;
  #ended: { message?: string } | undefined;
  /** The pending keyboard read, kept across wake-ups so no keystroke is lost. */
  #input: Promise<Uint8Array | null> | undefined;
  /** Keys typed while a command ran, for the next prompt. */
  readonly #typeAhead: (Uint8Array | null)[] = [];
  /** CTRL-c while a command runs: the terminal is raw, so the key stands in for SIGINT. */
  readonly #interrupts = interruptHandlers(() => {});
  /** Actions waiting for a key (dsync -rf's question): the shell's reader hands them the next one. */
  readonly #keyWaiters: ((chunk: Uint8Array | null) => void)[] = [];
  #wakeup = Promise.withResolvers<void>();
  /** Set when the link dropped; `endedBy` names what ended it on purpose (CTRL-d's soft reset, rf_wrkey). */
  #linkLost: { endedBy?: string } | undefined;
  /** Waiting for the answer to "reconnect? [Y/n]". */
  #askingReconnect = false;
  #softResetAt: number | undefined;
  /** Tab pressed with nothing to add: the next Tab at the same place lists the candidates. */
  #idleTab: string | undefined;
  #script: string | undefined;

  constructor(device: Device, io: Io, options: ShellOptions = {}) {
    this.#device = device;
    this.#io = io;
    this.#options = options;
    this.#history = options.history ?? [];
    this.#editor = new LineEditor((text) => io.out(text), this.#history);
    this.#paint = painter(io, io.stdoutIsTerminal);
    this.#state = { cwd: "/", localCwd: io.cwd() };
    this.#listings = new ListingCache((directory) => this.#listDevice(directory));
  }

  /** The connection in use now (a reconnection replaces the one given); the caller closes it. */
  get device(): Device {
    return this.#device;
  }

  /** Header lines as upydev prints them, then the interactive loop. Resolves when the user leaves. */
  async run(): Promise<void> {
    this.#identity = await identify(this.#device.session);
    const header = connectionHeader(this.#device.info, this.#identity)
      .map((line) => line.startsWith("WARNING") ? this.#paint("warning", line) : line);
    this.#io.out(header.join("\n") + "\n");
    this.#io.setRaw(true);
    try {
      this.#showPrompt();
      while (!this.#ended) {
        this.#input ??= this.#nextInput();
        const chunk = await Promise.race([this.#input, this.#wakeup.promise.then(() => "wake" as const)]);
        if (chunk === "wake") {
          this.#wakeup = Promise.withResolvers();
          if (this.#linkLost && !this.#ended) await this.#onLinkLost();
          continue;
        }
        this.#input = undefined;
        if (chunk === null) {
          this.#end();
          break;
        }
        await this.#onInput(chunk);
      }
    } finally {
      await this.#stopPump();
      this.#io.setRaw(false);
      if (this.#script) await Deno.remove(this.#script).catch(() => {});
    }
    if (this.#ended?.message) throw new UserError(this.#ended.message);
  }

  get prompt(): string {
    const name = printable(this.#options.name ?? this.#identity?.uid ?? "device");
    const path = this.#state.cwd === "/" ? "" : printable(this.#state.cwd);
    return this.#paint("prompt", `${this.#identity?.platform ?? "upy"}@${name}:~${path} $ `);
  }

  /** A method, not a field test: TypeScript would keep a narrowed mode across the awaits that change it. */
  #inRepl(): boolean {
    return this.#mode === "repl";
  }

  #showPrompt(): void {
    this.#editor.prompt(this.prompt);
  }

  async #onInput(chunk: Uint8Array): Promise<void> {
    if (this.#askingReconnect) {
      this.#askingReconnect = false;
      const answer = String.fromCharCode(chunk[0]);
      this.#io.out(`${/[\r\n]/.test(answer) ? "" : printable(answer)}\r\n`);
      if (/[yY\r\n]/.test(answer)) return await this.#reconnect();
      return this.#end(`connection to ${this.#device.session.address} lost`);
    }
    if (this.#mode === "repl") return await this.#onReplInput(chunk);
    const events = this.#editor.feed(chunk);
    for (const event of events) {
      await this.#onShellEvent(event);
      // Keys after a switch to REPL mode in the same chunk are dropped: they were typed for the line editor.
      if (this.#ended || this.#linkLost || this.#inRepl()) return;
    }
  }

  async #onShellEvent(event: EditorEvent): Promise<void> {
    if (event.kind === "complete") return await this.#complete(event.list);
    this.#idleTab = undefined;
    if (event.kind === "key") return await this.#onShellKey(event.key);
    const done = await this.#runLine(event.text);
    if (!done) this.#showPrompt();
  }

  async #onShellKey(key: ShellKey): Promise<void> {
    switch (key) {
      case "exit":
      case "eof":
        return this.#end();
      case "toggle-mode":
        return await this.#enterRepl();
      case "repeat": {
        const last = this.#history.at(-1);
        if (last === undefined) return;
        this.#io.out(`${last}\r\n`);
        if (!await this.#runLine(last)) this.#showPrompt();
        return;
      }
    }
    // The other keys show something under the line and then give the line back as it was.
    this.#io.out("\r\n");
    await this.#guarded("", () => this.#keyAction(key));
    if (!this.#ended && !this.#linkLost) this.#editor.redraw();
  }

  async #keyAction(key: ShellKey): Promise<void> {
    const out = this.#terminalOutput();
    switch (key) {
      case "show-keys":
        return out.text(KEYBINDINGS.join("\n") + "\n");
      case "banner":
        return out.text(banner(this.#identity!).join("\n") + "\n");
      case "memory":
        return await this.#command("mem", [], out);
      case "device-info":
        return await this.#command("info", [], out);
      case "gc": {
        const freed = await this.#device.session.execText(
          "import gc\n_f=gc.mem_free()\ngc.collect()\nprint(gc.mem_free()-_f)\ndel _f",
        );
        return out.text(`gc.collect(): ${Number(freed.trim()) || 0} bytes freed\n`);
      }
      case "edit-script":
        return await this.#editScript();
      case "rerun-script":
        return await this.#runScript();
    }
  }

  /** Runs one shell line; true when something else shows the next prompt (REPL mode, a lost link, the end). */
  async #runLine(line: string): Promise<boolean> {
    let parsed;
    try {
      parsed = parseLine(line);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      this.#error(error.message);
      return false;
    }
    if (parsed.kind === "local") {
      const code = await this.#guarded(
        "!",
        () => runOnTerminal(this.#io, localShell(this.#io, parsed.command), this.#state.localCwd),
      );
      // 130: the user's CTRL-c ended it, and the terminal already shows ^C.
      if (code === 130) this.#io.out("\r\n");
      else if (code) this.#error(`!: exit status ${code}`);
      return false;
    }
    for (const step of parsed.steps) {
      const ok = await this.#runStep(step);
      if (mayChangeFiles(step.words[0])) this.#listings.clear();
      if (this.#ended || this.#linkLost) return true;
      if (!ok || this.#inRepl()) break;
    }
    return this.#inRepl();
  }

  /** One command of a line; false when it failed (the rest of an `a && b` is skipped). */
  async #runStep({ words: [name, ...rest], redirect }: CommandStep): Promise<boolean> {
    if (name === "exit") return await this.#exit(rest);
    if (name === "help" || name === "-h") {
      this.#print(shellHelp() + KEYBINDINGS.join("\n") + "\n");
      return true;
    }
    if (name === "repl") {
      await this.#enterRepl();
      return true;
    }
    if (!isShellCommand(name)) {
      this.#error(`${name}: command not found (help lists the commands; !${name} runs it on this computer)`);
      return false;
    }
    return await this.#guarded(name, async () => {
      if (!redirect) return await this.#command(name, rest, this.#terminalOutput());
      const path = resolve(this.#state.localCwd, redirect.path);
      const file = await Deno.open(path, {
        write: true,
        create: true,
        append: redirect.append,
        truncate: !redirect.append,
      }).catch((error) => {
        throw new UserError(`cannot write ${redirect.path}: ${(error as Error).message}`);
      });
      try {
        await this.#command(name, rest, fileOutput(file));
      } finally {
        file.close();
      }
    }) !== false;
  }

  #nextInput(): Promise<Uint8Array | null> {
    return this.#typeAhead.length > 0 ? Promise.resolve(this.#typeAhead.shift()!) : this.#io.readStdin();
  }

  /**
   * The keyboard as an action sees it. The shell keeps reading while a command runs (to catch CTRL-c), so an
   * action that asks something must get its answer from that reader, not race it for standard input.
   */
  #actionIo(): Io {
    return Object.assign(
      Object.create(this.#io),
      {
        readStdin: (): Promise<Uint8Array | null> =>
          this.#typeAhead.length > 0
            ? Promise.resolve(this.#typeAhead.shift()!)
            : new Promise((resolve) => this.#keyWaiters.push(resolve)),
        onInterrupt: this.#interrupts.onInterrupt,
      } satisfies Partial<Io>,
    );
  }

  async #command(name: string, words: string[], out: ActionOutput): Promise<void> {
    const context = { device: this.#device, io: this.#actionIo(), state: this.#state, out };
    await this.#interruptible(runShellCommand(name, words, context));
    // reset and rf_wrkey end the link on purpose: reconnect, as after CTRL-d.
    if (this.#linkDown()) this.#linkDropped(endsLink(name) ? name : undefined);
  }

  /**
   * Runs `work`, showing a UserError as one line after `label`. A link that went down on the way is reported
   * by the main loop instead (with the reconnect offer). Resolves with work's value, or false when it failed.
   */
  async #guarded<T>(label: string, work: () => Promise<T>): Promise<T | false> {
    try {
      return await work();
    } catch (error) {
      if (this.#linkDown(error)) {
        // The main loop takes it from here (reconnect offer), once this input is handled.
        this.#linkDropped();
        return false;
      }
      if (!(error instanceof UserError)) throw error;
      this.#error(`${label ? `${label}: ` : ""}${oneLine(error.message)}`);
      return false;
    }
  }

  /**
   * Waits for `work` while reading the keyboard: CTRL-c is the command's Ctrl-C (`onInterrupt` of #actionIo,
   * handled as for any action: lib/actions/action.ts), so a script that never ends, or a long transfer, does not
   * take the shell with it; other keys wait for the next prompt.
   */
  async #interruptible<T>(work: Promise<T>): Promise<T> {
    let finished = false;
    const done = work.then(() => {}, () => {}).finally(() => (finished = true));
    while (!finished) {
      this.#input ??= this.#nextInput();
      const chunk = await Promise.race([this.#input, done.then(() => "done" as const)]);
      if (chunk === "done") break;
      this.#input = undefined;
      if (chunk === null || !chunk.includes(CTRL.C)) {
        const waiter = this.#keyWaiters.shift();
        if (waiter) waiter(chunk);
        else this.#typeAhead.push(chunk);
        if (chunk === null) break;
      } else {
        this.#io.out("^C");
        this.#interrupts.trigger();
      }
    }
    return await work;
  }

  #linkDown(error?: unknown): boolean {
    const session = this.#device.session;
    return session.ws.end !== undefined || session.state !== "open" ||
      (error instanceof UserError && error.message.startsWith(`connection to ${session.address} lost`));
  }

  async #exit(words: string[]): Promise<boolean> {
    if (words.includes("--help") || words.includes("-h") && !words.includes("-hr")) {
      this.#print(
        "usage: exit [-r | -hr]\n  leave the shell; -r: soft-reset the device first, -hr: hard-reset\n",
      );
      return true;
    }
    const unknown = words.find((word) => word !== "-r" && word !== "-hr");
    if (unknown !== undefined) {
      this.#error(`exit: unknown option '${unknown}' (exit -r: soft reset, exit -hr: hard reset)`);
      return false;
    }
    if (words.length > 0) {
      const reset = () =>
        runShellCommand("reset", words.includes("-hr") ? ["--hard"] : [], {
          device: this.#device,
          io: this.#io,
          state: this.#state,
          out: this.#terminalOutput(),
        });
      if (await this.#guarded("exit", reset) === false) return false;
    }
    this.#end();
    return true;
  }

  // ---- completion ------------------------------------------------------------------------------------------

  async #complete(list: boolean): Promise<void> {
    const text = this.#editor.text;
    const cursor = this.#editor.cursor;
    const place = `${cursor}\0${text}`;
    const completion = await complete(text, cursor, this.#completionSources()).catch((error) => {
      if (this.#linkDown(error)) this.#linkDropped();
      return undefined;
    });
    if (!completion) return this.#io.out("\x07");
    const typed = text.slice(completion.from, cursor);
    if (completion.replacement !== typed && !list) {
      this.#editor.replaceBeforeCursor(completion.from, completion.replacement);
      this.#idleTab = undefined;
      return;
    }
    if (list || this.#idleTab === place) {
      const items = completion.candidates.map((name) => ({ width: name.length, text: name }));
      this.#editor.showBelow(toTerminalText(columns(items, terminalWidth())));
      this.#idleTab = undefined;
    } else {
      this.#idleTab = place;
      this.#io.out("\x07");
    }
  }

  #completionSources(): CompletionSources {
    return {
      commands: shellCommandNames(),
      optionsOf: shellCommandOptions,
      localWord: isLocalPathWord,
      takesDirectories,
      device: (directory) => this.#listings.get(directory),
      local: async (directory) => entriesOf(await listLocalTree(directory, 1)),
      cwd: this.#state.cwd,
      localCwd: this.#state.localCwd,
    };
  }

  async #listDevice(directory: string): Promise<DirectoryEntry[] | null> {
    const [listing] = await listDeviceTrees(this.#device.session, "/", [{ base: directory, depth: 1 }]);
    return entriesOf(listing);
  }

  // ---- CTRL-e / CTRL-t -------------------------------------------------------------------------------------

  async #editScript(): Promise<void> {
    this.#script ??= await Deno.makeTempFile({ prefix: "upydev_script_", suffix: ".py" });
    const code = await runOnTerminal(this.#io, editorCommand(this.#io, this.#script), this.#state.localCwd);
    if (code !== 0) throw new UserError(`the editor exited with status ${code}: the script did not run`);
    await this.#runScript();
  }

  async #runScript(): Promise<void> {
    if (!this.#script) throw new UserError("no script yet: CTRL-e writes one");
    if ((await Deno.readTextFile(this.#script)).trim() === "") {
      throw new UserError("the script is empty: nothing to run");
    }
    await this.#command("run", [this.#script], this.#terminalOutput());
  }

  // ---- REPL mode -------------------------------------------------------------------------------------------

  async #enterRepl(): Promise<void> {
    this.#mode = "repl";
    this.#io.out("\r\n");
    this.#startPump();
    // A carriage return makes the device print a fresh `>>> ` prompt (and leaves the raw REPL if needed).
    await this.#device.session.writeInput(encoder.encode("\r"));
  }

  async #onReplInput(chunk: Uint8Array): Promise<void> {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] === 0x04) this.#softResetAt = this.#io.now();
      const key = shellKeyOf(chunk[i], "repl");
      if (!key) continue;
      if (i > start) await this.#device.session.writeInput(chunk.subarray(start, i));
      start = i + 1;
      if (key === "exit") return this.#end();
      if (key === "show-keys") this.#io.out("\r\n" + KEYBINDINGS.join("\r\n") + "\r\n");
      if (key === "edit-script" || key === "rerun-script") {
        await this.#stopPump();
        this.#io.out("\r\n");
        await this.#guarded("", () => this.#keyAction(key));
        if (this.#ended || this.#linkLost) return;
        this.#startPump();
        await this.#device.session.writeInput(encoder.encode("\r"));
      }
      if (key === "toggle-mode") {
        await this.#stopPump();
        this.#mode = "shell";
        this.#io.out("\r\n");
        this.#showPrompt();
        // Keys typed after the toggle in the same chunk belong to the line editor.
        return await this.#onInput(chunk.subarray(i + 1));
      }
    }
    if (start < chunk.length) await this.#device.session.writeInput(chunk.subarray(start));
  }

  #startPump(): void {
    this.#pumping = true;
    this.#pump = this.#pumpOutput();
  }

  async #pumpOutput(): Promise<void> {
    const session = this.#device.session;
    try {
      while (this.#pumping && !this.#ended) {
        const bytes = await session.readOutput(PUMP_POLL_MS);
        if (bytes === null) {
          const resetAt = this.#softResetAt;
          const softReset = resetAt !== undefined && this.#io.now() - resetAt < SOFT_RESET_WINDOW_MS;
          return this.#linkDropped(softReset ? "reset" : undefined);
        }
        if (bytes.length > 0) this.#io.outBytes(bytes);
      }
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      this.#linkDropped();
    }
  }

  async #stopPump(): Promise<void> {
    this.#pumping = false;
    const pump = this.#pump;
    this.#pump = undefined;
    await pump;
  }

  // ---- lost links and reconnection -------------------------------------------------------------------------

  #linkDropped(endedBy?: string): void {
    this.#pumping = false;
    this.#linkLost ??= { endedBy };
    this.#wakeup.resolve();
  }

  async #onLinkLost(): Promise<void> {
    const lost = this.#linkLost;
    if (!lost) return;
    await this.#stopPump();
    this.#linkLost = undefined;
    this.#softResetAt = undefined;
    const address = this.#device.session.address;
    await this.#device.session.close().catch(() => {});
    if (!this.#options.reconnect) return this.#end(`connection to ${address} lost`);
    if (lost.endedBy) {
      this.#io.out(`\r\n${lost.endedBy}: reconnecting to ${address} ...\r\n`);
      return await this.#reconnect();
    }
    this.#io.out(`\r\n${this.#paint("error", `connection to ${address} lost`)}; reconnect? [Y/n] `);
    this.#askingReconnect = true;
  }

  async #reconnect(): Promise<void> {
    const address = this.#device.session.address;
    let failure: unknown;
    for (let attempt = 0; attempt < RECONNECT_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((done) => setTimeout(done, this.#options.reconnectDelayMs ?? 500));
      try {
        this.#device = await this.#options.reconnect!(this.#device.target);
        failure = undefined;
        break;
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        failure = error;
      }
    }
    if (failure) {
      return this.#end(`could not reconnect to ${address}: ${oneLine((failure as Error).message)}`);
    }
    this.#listings.clear();
    const restored = await this.#restoreDirectory();
    this.#io.out(
      `reconnected to ${address}${restored ? "" : `; ${printable(this.#state.cwd)} is gone, now in /`}\r\n`,
    );
    if (!restored) this.#state.cwd = "/";
    if (this.#mode === "repl") {
      this.#startPump();
      await this.#device.session.writeInput(encoder.encode("\r"));
    } else {
      this.#showPrompt();
    }
  }

  /** The working directory on the fresh link; false when it no longer exists. */
  async #restoreDirectory(): Promise<boolean> {
    if (this.#state.cwd === "/") return true;
    if (!(await this.#device.files.stat(this.#state.cwd))?.isDir) return false;
    await changeDeviceDirectory(this.#device, this.#state.cwd);
    return true;
  }

  // ---- output ----------------------------------------------------------------------------------------------

  #terminalOutput(): ActionOutput {
    return terminalOutput(this.#io, this.#paint);
  }

  /** Text with "\n" line ends onto the raw terminal. */
  #print(text: string): void {
    this.#io.out(toTerminalText(text));
  }

  #error(message: string): void {
    this.#io.out(`${this.#paint("error", printable(message))}\r\n`);
  }

  #end(message?: string): void {
    if (this.#ended) return;
    this.#ended = { message };
    this.#wakeup.resolve();
    if (!message) {
      const name = printable(this.#options.name ?? this.#identity?.uid ?? "device");
      this.#io.out(`\r\nlogout\r\nConnection to ${name} closed.\r\n`);
    }
  }
}

function entriesOf(listing: { path: string; isDir: boolean }[] | null): DirectoryEntry[] | null {
  return listing?.map((entry) => ({ name: entry.path, isDir: entry.isDir })) ?? null;
}
