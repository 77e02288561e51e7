/**
 * One emulated ESP32: the real MicroPython v1.27.0 (wasm port) in its own Worker, because an interpreter owns
 * its JS realm (a second instance breaks the first) and Python code can busy-wait; the main thread terminates
 * the Worker when code overruns its time limit.
 *
 * What this file reproduces on top of the wasm port (see shared notes micropython-wasm.md):
 * - device writes: the Emscripten stdout device gets one call per byte, so the stdout stream's `write` is
 *   wrapped to turn each C-level write() into one message (one WebSocket frame on a real device);
 * - ESP32 output: print's line end `\n` becomes `\r\n`, and the banner names the ESP32 board;
 * - raw-paste (`\x05A\x01`), which hangs the wasm port, is done here with the device's flow control;
 * - the flash: a MEMFS directory mounted as `/`, with a byte quota (ENOSPC for Python writes, silent
 *   truncation for WA/WB PUT, as on the device);
 * - identity modules (identity.ts), plus Python/JS modules from Worker plugins (the TLS shims).
 */
import { loadMicroPython } from "npm:@micropython/micropython-webassembly-pyscript@1.27.0";
import { BridgeClient } from "./bridge.ts";
import { ESP32_BANNER_SUFFIX, IDENTITY_MODULES, WASM_BANNER_SUFFIX } from "./identity.ts";
import type {
  FileReply,
  FileRequest,
  FlashImage,
  HostValue,
  MainToWorker,
  WorkerBootConfig,
  WorkerToMain,
} from "./protocol.ts";

/** What a Worker plugin (a module listed in `workerModules`) receives in its `install(context)`. */
export interface WorkerPluginContext {
  /** The loaded MicroPython instance (untyped npm API: runPython, registerJsModule, pyimport, FS, ...). */
  readonly mp: MicroPython;
  /** Synchronous call to the main thread's host-call handler for `op`; throws HostCallError on failure. */
  callHost(op: string, payload: HostValue): HostValue;
  /** A Python module importable by name on this device, installed at every boot (not on the flash). */
  addPythonModule(name: string, source: string): void;
  /** Receives `device.postToWorker(data)` messages from the main thread. */
  onHostMessage(handler: (data: unknown) => void): void;
  /** Writes bytes to the device terminal (one device write: one frame to the attached WebREPL client). */
  deviceWrite(bytes: Uint8Array): void;
}

export interface MicroPython {
  runPython(code: string): unknown;
  registerJsModule(name: string, module: object): void;
  // deno-lint-ignore no-explicit-any
  pyimport(name: string): any;
  replInit(): void;
  replProcessChar(char: number): number;
  FS: EmscriptenFs;
  _module: { _mp_sched_keyboard_interrupt(): void; _mp_hal_get_interrupt_char(): number };
}

interface FsNode {
  mode: number;
  usedBytes: number;
  mtime: number;
  contents: Record<string, FsNode> | Uint8Array | null;
}

interface FsStream {
  node: FsNode;
  stream_ops: { write: (...args: unknown[]) => number };
}

interface EmscriptenFs {
  mkdir(path: string): void;
  rename(oldPath: string, newPath: string): void;
  mkdirTree(path: string): void;
  writeFile(path: string, data: Uint8Array | string): void;
  readFile(path: string): Uint8Array;
  open(path: string, flags: string): FsStream;
  close(stream: FsStream): void;
  read(stream: FsStream, buffer: Uint8Array, offset: number, length: number): number;
  write(stream: FsStream, buffer: Uint8Array, offset: number, length: number): number;
  getStream(fd: number): FsStream;
  lookupPath(path: string): { node: FsNode };
  getPath(node: FsNode): string;
  isDir(mode: number): boolean;
  isFile(mode: number): boolean;
  ErrnoError: new (errno: number) => Error;
  filesystems: { MEMFS: { ops_table: { file: { stream: { write: (...args: unknown[]) => number } } } } };
}

const FLASH_ROOT = "/flash";
const FROZEN_ROOT = "/frozen";
const FROZEN_MOUNT = "/_emu_frozen";
const ENOSPC = 28;
/** MICROPY_REPL_STDIN_BUFFER_MAX (256) / 2, what an ESP32 announces as its raw-paste window. */
const RAW_PASTE_WINDOW = 128;

const CTRL_A = 0x01;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_E = 0x05;

const scope = globalThis as unknown as {
  postMessage(message: WorkerToMain): void;
  onmessage: ((event: MessageEvent<MainToWorker>) => void) | null;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRLF = encoder.encode("\r\n");

let mp: MicroPython;
let config: WorkerBootConfig;
let bridge: BridgeClient;
const hostMessageHandlers: ((data: unknown) => void)[] = [];
const pluginModules: { name: string; source: string }[] = [];

/** Bytes of the C-level write() in progress (the stdout device is called once per byte). */
let pendingWrite: number[] = [];
/** While runPython() runs for the host, output is returned to it instead of the terminal. */
let capture: number[] | null = null;

// REPL state tracked around the C REPL, which keeps its own state out of reach.
let rawMode = false;
let rawLineEmpty = true;
let heldCtrlE: number[] | null = null;
let rawPaste: { code: number[]; received: number; granted: number; sinceCredit: number } | null = null;
let suppressOk = false;
let softResetRequested = false;

/** Set to 1 by the main thread on Ctrl-C while code runs (WorkerBootConfig.interruptBuffer). */
let interruptFlag: Int32Array;
/** Ctrl-C bytes already delivered as KeyboardInterrupt: the device catches them on arrival, not as input. */
let interruptsDelivered = 0;

/**
 * The port's interrupt character. Python running in wasm cannot be stopped from outside, but every call it makes
 * out to JS (the clock behind time.sleep and ticks, print) looks here and schedules KeyboardInterrupt, which
 * the VM raises at its next backward jump, as ESP32 firmware does. Only while code runs: pyexec arms the
 * interrupt character for that time; at the REPL's line editing a Ctrl-C is input.
 */
function deliverInterrupt(): void {
  if (Atomics.load(interruptFlag, 0) === 0 || mp._module._mp_hal_get_interrupt_char() !== CTRL_C) return;
  Atomics.store(interruptFlag, 0, 0);
  interruptsDelivered++;
  mp._module._mp_sched_keyboard_interrupt();
}

let openFile: FsStream | null = null;
let openFileWritable = false;
let flashWritten = false;
let flashSignature = "";

function post(message: WorkerToMain): void {
  scope.postMessage(message);
}

function asciiEquals(bytes: Uint8Array, text: string): boolean {
  if (bytes.length !== text.length) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * One device write, as the C code issued it. ESP32 "cooks" text output (print, sys.stdout.write): every `\n`
 * becomes a separate `\r\n` write (shared/runtime/stdout_helpers.c), while the wasm port writes it raw. So a
 * lone `\n` is cooked here; `\r\n` already in a write comes from C strings the device writes raw too.
 * `raw` writes (sys.stdout.buffer) are never cooked, as on the device.
 */
function deviceWrite(bytes: Uint8Array, raw = false): void {
  if (raw) return emitWrite(bytes);
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a || (i > 0 && bytes[i - 1] === 0x0d)) continue;
    emitWrite(bytes.subarray(start, i));
    emitWrite(CRLF);
    start = i + 1;
  }
  emitWrite(start === 0 ? bytes : bytes.subarray(start));
}

function emitWrite(bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  const out = asciiEquals(bytes, WASM_BANNER_SUFFIX) ? encoder.encode(ESP32_BANNER_SUFFIX) : bytes.slice();
  if (capture) {
    for (const byte of out) capture.push(byte);
    return;
  }
  reportStdinRead();
  if (out.length > 20) {
    const text = decoder.decode(out);
    if (text.includes("raw REPL; CTRL-B to exit")) {
      rawMode = true;
      rawLineEmpty = true;
    } else if (text.includes('Type "help()" for more information.')) {
      rawMode = false;
    }
  }
  if (suppressOk && asciiEquals(out, "OK")) {
    suppressOk = false;
    return;
  }
  post({ type: "write", bytes: out });
}

function writeAscii(text: string): void {
  deviceWrite(encoder.encode(text));
}

function feedRepl(char: number): void {
  if (rawMode) rawLineEmpty = char === CTRL_A || char === CTRL_C || char === CTRL_D;
  if (mp.replProcessChar(char) === 256) softResetRequested = true;
}

/**
 * Bytes of the current input message the REPL has read but the main thread has not yet been told about. The
 * device frees stdin ring-buffer slots as the REPL reads them, so before anything it writes (a raw-paste
 * credit, a prompt, program output) reaches the client, the bytes read so far must count as free; the rest
 * of the message is accounted for by its ack.
 */
let stdinUnreported = 0;

function reportStdinRead(): void {
  if (stdinUnreported === 0) return;
  post({ type: "stdinRead", count: stdinUnreported });
  stdinUnreported = 0;
}

function processInput(bytes: Uint8Array): void {
  try {
    feedInput(bytes);
  } finally {
    stdinUnreported = 0;
  }
}

function feedInput(bytes: Uint8Array): void {
  for (const char of bytes) {
    if (softResetRequested) return;
    if (char === CTRL_C) {
      if (interruptsDelivered > 0) {
        interruptsDelivered--;
        stdinUnreported++;
        continue;
      }
      // The code it was sent to ended first: it is REPL input now, and its flag is stale.
      Atomics.store(interruptFlag, 0, 0);
    }
    stdinUnreported++;
    if (rawPaste) {
      rawPasteByte(char);
      continue;
    }
    if (rawMode && heldCtrlE) {
      // The device checks for "\x05A" in the raw line when \x01 arrives.
      if (heldCtrlE.length === 1) {
        heldCtrlE.push(char);
        continue;
      }
      const mode = heldCtrlE[1];
      const held = heldCtrlE;
      heldCtrlE = null;
      if (char === CTRL_A) {
        if (mode === 0x41) startRawPaste();
        else {
          writeAscii("R\x00");
          writeAscii(">");
        }
        continue;
      }
      for (const byte of [...held, char]) feedRepl(byte);
      continue;
    }
    if (rawMode && rawLineEmpty && char === CTRL_E) {
      heldCtrlE = [char];
      continue;
    }
    feedRepl(char);
  }
}

function startRawPaste(): void {
  writeAscii("R\x01");
  deviceWrite(new Uint8Array([RAW_PASTE_WINDOW & 0xff, RAW_PASTE_WINDOW >> 8, CTRL_A]));
  rawPaste = { code: [], received: 0, granted: 2 * RAW_PASTE_WINDOW, sinceCredit: 0 };
}

function rawPasteByte(char: number): void {
  const paste = rawPaste!;
  if (char === CTRL_D || char === CTRL_C) {
    rawPaste = null;
    writeAscii("\x04");
    if (char === CTRL_D && paste.code.length === 0) {
      // Nothing to run: the device's empty compile gives the two end markers and the prompt. (Feeding an empty
      // line to the C raw REPL would mean a soft reset instead.)
      writeAscii("\x04");
      writeAscii("\x04");
      writeAscii(">");
      return;
    }
    const code = char === CTRL_D ? paste.code : [...encoder.encode("raise KeyboardInterrupt")];
    // The raw REPL runs the code exactly as after a raw-mode Ctrl-D, minus the "OK" raw-paste does not send.
    suppressOk = true;
    for (const byte of code) feedRepl(byte);
    feedRepl(CTRL_D);
    return;
  }
  if (paste.received >= paste.granted) {
    // The device's 260-byte stdin buffer would overflow: bytes past the granted window are lost.
    post({ type: "log", line: "raw-paste: host sent past its flow-control window; byte dropped" });
    return;
  }
  paste.code.push(char);
  paste.received++;
  if (++paste.sinceCredit === RAW_PASTE_WINDOW) {
    paste.sinceCredit = 0;
    paste.granted += RAW_PASTE_WINDOW;
    deviceWrite(new Uint8Array([CTRL_A]));
  }
}

// ---- flash ----

function flashNode(): FsNode {
  return mp.FS.lookupPath(FLASH_ROOT).node;
}

function walkFlash(visit: (path: string, node: FsNode) => void): void {
  const walk = (node: FsNode, prefix: string) => {
    const children = node.contents as Record<string, FsNode>;
    for (const name of Object.keys(children).sort()) {
      const child = children[name];
      const path = prefix ? `${prefix}/${name}` : name;
      visit(path, child);
      if (mp.FS.isDir(child.mode)) walk(child, path);
    }
  };
  walk(flashNode(), "");
}

function flashUsed(): number {
  let used = 0;
  walkFlash((_path, node) => {
    if (mp.FS.isFile(node.mode)) used += node.usedBytes;
  });
  return used;
}

function computeSignature(): string {
  const parts: string[] = [];
  walkFlash((path, node) => parts.push(`${path}:${node.usedBytes ?? "d"}:${node.mtime}`));
  return parts.join("\n");
}

function snapshotFlash(): FlashImage {
  const image: FlashImage = { dirs: [], files: [] };
  walkFlash((path, node) => {
    if (mp.FS.isDir(node.mode)) image.dirs.push(path);
    else if (mp.FS.isFile(node.mode)) image.files.push([path, mp.FS.readFile(`${FLASH_ROOT}/${path}`)]);
  });
  return image;
}

function postFlashIfChanged(): void {
  // A WA/WB PUT in progress is snapshotted once, when the file closes, not after every chunk.
  if (openFileWritable) return;
  const signature = computeSignature();
  if (!flashWritten && signature === flashSignature) return;
  flashWritten = false;
  flashSignature = signature;
  post({ type: "flash", image: snapshotFlash() });
}

/** Python writes past the flash size fail with ENOSPC, like LittleFS on a full partition. */
function installFlashQuota(): void {
  const fs = mp.FS;
  const fileStreamOps = fs.filesystems.MEMFS.ops_table.file.stream;
  const originalWrite = fileStreamOps.write;
  fileStreamOps.write = function (this: unknown, ...args: unknown[]) {
    const [stream, , , length, position] = args as [FsStream, unknown, number, number, number];
    if (length > 0 && fs.getPath(stream.node).startsWith(`${FLASH_ROOT}/`)) {
      const growth = position + length - stream.node.usedBytes;
      if (growth > 0 && flashUsed() + growth > config.flashSize) throw new fs.ErrnoError(ENOSPC);
      flashWritten = true;
    }
    return originalWrite.apply(this, args);
  };
}

/** A WA/WB name is relative to the Python cwd, as the device's open() sees it. */
function flashPath(name: string): string {
  const cwd: string = mp.pyimport("os").getcwd();
  const parts: string[] = [];
  for (const part of (name.startsWith("/") ? name : `${cwd}/${name}`).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `${FLASH_ROOT}/${parts.join("/")}`;
}

function fileRequest(request: FileRequest): FileReply {
  const fs = mp.FS;
  try {
    switch (request.op) {
      case "open": {
        if (openFile) fs.close(openFile);
        openFile = null;
        openFileWritable = false;
        const stream = fs.open(flashPath(request.name), request.mode === "wb" ? "w" : "r");
        if (fs.isDir(stream.node.mode)) {
          fs.close(stream);
          return { ok: false, error: `[Errno 21] EISDIR: ${request.name}` };
        }
        if (request.mode === "wb") flashWritten = true;
        openFile = stream;
        openFileWritable = request.mode === "wb";
        return { ok: true };
      }
      case "write": {
        // The device ignores write errors (a compiled-out assert): what does not fit is dropped silently.
        const room = Math.max(0, config.flashSize - flashUsed());
        const length = Math.min(room, request.bytes.length);
        if (length > 0) fs.write(requireOpen(), request.bytes, 0, length);
        return { ok: true };
      }
      case "read": {
        const buffer = new Uint8Array(request.max);
        const count = fs.read(requireOpen(), buffer, 0, request.max);
        return { ok: true, bytes: buffer.slice(0, count) };
      }
      case "close":
        if (openFile) fs.close(openFile);
        openFile = null;
        openFileWritable = false;
        return { ok: true };
    }
  } catch (error) {
    const errno = (error as { errno?: number }).errno;
    return { ok: false, error: errno === undefined ? String(error) : `[Errno ${errno}]` };
  }
}

function requireOpen(): FsStream {
  if (!openFile) throw new Error("no file open");
  return openFile;
}

function runForHost(code: string): { output: string; error?: string } {
  capture = [];
  try {
    mp.runPython(code);
    return { output: decoder.decode(new Uint8Array(capture)) };
  } catch (error) {
    return { output: decoder.decode(new Uint8Array(capture)), error: (error as Error).message };
  } finally {
    capture = null;
  }
}

// ---- boot ----

/**
 * The flash is a VfsPosix on the Emscripten directory, seen through a Python object with the same methods. As a
 * native VFS, VfsPosix answers the importer's stat through its own import_stat, which puts its root in front of
 * a relative path and ignores the cwd (`cd /app` then `import helper` looked in / and failed with OSError 44).
 * A Python VFS is asked through stat(), which resolves relative paths against the cwd, as LittleFS does on ESP32.
 */
const SETUP_PY = (modules: { file: string; replaces?: string[] }[]) => `
class _EmuFlash:
    def __init__(self, inner):
        self._inner = inner


def _emu_delegate(name):
    return lambda self, *args: getattr(self._inner, name)(*args)


for _name in ("mount", "umount", "ilistdir", "chdir", "getcwd", "mkdir", "remove", "rename", "rmdir", "stat",
              "statvfs", "open"):
    setattr(_EmuFlash, _name, _emu_delegate(_name))


def _emu_setup():
    import os, vfs, sys
    os.umount("/")
    os.mount(_EmuFlash(vfs.VfsPosix("${FLASH_ROOT}")), "/")
    os.mount(vfs.VfsPosix("${FROZEN_ROOT}"), "${FROZEN_MOUNT}")
    sys.path.insert(0, "${FROZEN_MOUNT}")
    try:
${modules.map((module) => `        __import__("${module.file}")`).join("\n")}
    finally:
        sys.path.pop(0)
        os.umount("${FROZEN_MOUNT}")
    modules = sys.modules
${
  modules.flatMap((module) =>
    (module.replaces ?? []).map((name) => `    modules["${name}"] = modules["${module.file}"]`)
  ).join("\n")
}
${
  modules.filter((module) => module.replaces).map((module) => `    del modules["${module.file}"]`).join(
    "\n",
  )
}
    import builtins
    builtins.open = modules["os"].open
    os.chdir("/")


_emu_setup()
del _emu_setup, _EmuFlash, _emu_delegate, _name
`;

/**
 * What webrepl.start() does at each boot on a device set up with webrepl_setup: the password comes from
 * /webrepl_cfg.py when it has one (otherwise the emulator's --password stands), so a changed file takes
 * effect at the next reset, as on the device. Before boot.py, whose own _webrepl.password() calls win.
 */
const WEBREPL_START_PY = `
try:
    import webrepl_cfg
    __import__("_webrepl").password(webrepl_cfg.PASS)
except Exception:
    pass
`;

const BOOT_PY = `
try:
    exec(open("boot.py").read())
except Exception as _emu_error:
    import sys
    sys.print_exception(_emu_error)
    del _emu_error
`;

async function boot(bootConfig: WorkerBootConfig): Promise<void> {
  config = bootConfig;
  bridge = new BridgeClient(config.bridgeBuffer, post);
  interruptFlag = new Int32Array(config.interruptBuffer);
  const now = Date.now;
  Date.now = () => {
    deliverInterrupt();
    return now();
  };
  mp = await loadMicroPython({
    linebuffer: false,
    heapsize: config.heapSize,
    stdout: (bytes: Uint8Array) => {
      for (const byte of bytes) pendingWrite.push(byte);
    },
  });
  const stdoutOps = mp.FS.getStream(1).stream_ops;
  const originalStdoutWrite = stdoutOps.write;
  stdoutOps.write = function (this: unknown, ...args: unknown[]) {
    deliverInterrupt();
    const result = originalStdoutWrite.apply(this, args);
    const bytes = new Uint8Array(pendingWrite);
    pendingWrite = [];
    deviceWrite(bytes);
    return result;
  };
  const fs = mp.FS;
  fs.mkdir(FLASH_ROOT);
  for (const dir of config.flash.dirs) fs.mkdirTree(`${FLASH_ROOT}/${dir}`);
  for (const [path, data] of config.flash.files) fs.writeFile(`${FLASH_ROOT}/${path}`, data);
  installFlashQuota();

  const uniqueId = Uint8Array.fromHex(config.uniqueIdHex);
  mp.registerJsModule("_emu", {
    flash_size: config.flashSize,
    heap_size: config.heapSize,
    ip_address: config.ipAddress,
    flash_used: () => flashUsed(),
    // VfsPosix's rename builds both paths in one buffer when the mount has a root directory, so it renames
    // the new name onto itself (ENOENT). Done here instead; returns 0 or the Emscripten errno.
    rename: (oldPath: string, newPath: string) => {
      try {
        mp.FS.rename(flashPath(oldPath), flashPath(newPath));
        return 0;
      } catch (error) {
        return (error as { errno?: number }).errno ?? 29;
      }
    },
    unique_id: () => uniqueId,
    raw_write: (data: Iterable<number>) => deviceWrite(Uint8Array.from(data), true),
    // A hard reset never returns: the main thread replaces this Worker. Files closed before it stay, as
    // LittleFS commits them on close, so the flash goes out first (messages arrive in order).
    hard_reset: () => {
      postFlashIfChanged();
      return bridge.call("$reset", null);
    },
    webrepl_password: (password: string) => bridge.call("$webrepl_password", password),
  });

  const context: WorkerPluginContext = {
    mp,
    callHost: (op, payload) => bridge.call(op, payload),
    addPythonModule: (name, source) => pluginModules.push({ name, source }),
    onHostMessage: (handler) => hostMessageHandlers.push(handler),
    deviceWrite,
  };
  for (const url of config.workerModules) {
    const plugin = await import(url);
    plugin.install(context);
  }

  fs.mkdir(FROZEN_ROOT);
  const modules = [
    ...IDENTITY_MODULES,
    ...pluginModules.map((module) => ({ file: module.name, source: module.source })),
  ];
  for (const module of modules) fs.writeFile(`${FROZEN_ROOT}/${module.file}.py`, module.source);
  mp.runPython(SETUP_PY(modules));
  flashSignature = computeSignature();

  mp.runPython(WEBREPL_START_PY);
  if (config.runBootPy && config.flash.files.some(([path]) => path === "boot.py")) mp.runPython(BOOT_PY);
  mp.replInit();
}

/** Messages that arrive while boot() awaits (loading the wasm, importing plugins) wait for it. */
let booted = false;
const early: MainToWorker[] = [];

function handle(message: MainToWorker): void {
  try {
    switch (message.type) {
      case "boot":
        return;
      case "input":
        processInput(message.bytes);
        if (softResetRequested) post({ type: "softReset" });
        break;
      // The flash snapshot goes out before the reply, so a caller that acts on the reply (e.g. closes the
      // emulator) never loses the change.
      case "file": {
        const reply = fileRequest(message.request);
        postFlashIfChanged();
        post({ type: "fileReply", id: message.id, reply });
        break;
      }
      case "run": {
        const result = runForHost(message.code);
        postFlashIfChanged();
        post({ type: "runReply", id: message.id, ...result });
        break;
      }
      case "plugin":
        for (const handler of hostMessageHandlers) handler(message.data);
        break;
    }
    postFlashIfChanged();
  } catch (error) {
    post({ type: "fatal", message: `emulator worker failed: ${(error as Error).stack ?? error}` });
  }
  post({ type: "ack" });
}

scope.onmessage = (event: MessageEvent<MainToWorker>) => {
  const message = event.data;
  if (message.type !== "boot") {
    if (booted) handle(message);
    else early.push(message);
    return;
  }
  boot(message.config).then(
    () => {
      booted = true;
      postFlashIfChanged();
      post({ type: "ready" });
      post({ type: "ack" });
      for (const queued of early.splice(0)) handle(queued);
    },
    (error) => post({ type: "fatal", message: `emulator boot failed: ${(error as Error).message}` }),
  );
};
