/**
 * The main-thread half of one emulated ESP32: owns the MicroPython Worker (boot, soft/hard reset, the time
 * limit), the flash image, the terminal slot (ESP32 has one dupterm slot: one WebREPL client at a time) and the
 * host side of the synchronous bridge.
 *
 * Resets replace the Worker with a fresh interpreter booted from the current flash image, which is how the real
 * device loses all Python state on a soft reset. A Ctrl-C reaches running code as KeyboardInterrupt only when
 * the code calls out to JS (sleep, ticks, print: worker.ts, deliverInterrupt); a Worker that makes no progress
 * for `execTimeoutMs` (or for a second after a Ctrl-C) is replaced the same way, and the attached client is told
 * why before the connection drops.
 */
import { BridgeServer, createBridgeBuffer } from "./bridge.ts";
import { saveFlashDir } from "./flash.ts";
import type {
  FileReply,
  FileRequest,
  FlashImage,
  HostValue,
  MainToWorker,
  WorkerToMain,
} from "./protocol.ts";

/** Where the device's terminal output goes: the attached WebREPL connection. */
export interface TerminalSink {
  /** One device write (the WebREPL layer sends it as one frame). */
  write(bytes: Uint8Array): void;
  /** The device drops the connection (reset or time limit); called after the last write. */
  drop(): void;
}

export type HostCallHandler = (
  payload: HostValue,
  device: EmulatedDeviceCore,
) => Promise<HostValue> | HostValue;

export type RebootReason = "soft" | "hard" | "timeout" | "interrupt";

export interface DeviceCoreOptions {
  flash: FlashImage;
  flashSize: number;
  heapSize: number;
  uniqueId: Uint8Array;
  ipAddress: string;
  flashDir?: string;
  execTimeoutMs: number;
  /** The device's stdin ring buffer (ESP32: 260); 0 turns the overflow emulation off. */
  stdinBufferBytes: number;
  workerModules: string[];
  /** What webrepl.start() sets at every boot when /webrepl_cfg.py gives no PASS. */
  webreplPassword: string;
  log: (line: string) => void;
}

/** How long a Worker may stay busy after a Ctrl-C before it is treated as uninterruptible. */
const INTERRUPT_GRACE_MS = 1000;
/** How long close() waits for a busy Worker to post its last flash change. */
const CLOSE_SYNC_MS = 1000;

export class DeviceRebootedError extends Error {
  constructor(reason: RebootReason) {
    super(`emulated device rebooted (${reason}) before replying`);
    this.name = "DeviceRebootedError";
  }
}

export class EmulatedDeviceCore {
  readonly #options: DeviceCoreOptions;
  #flash: FlashImage;
  #worker: Worker | undefined;
  #bridge: BridgeServer | undefined;
  #ready: Promise<void> = Promise.resolve();
  #failBoot: (error: Error) => void = () => {};
  #booting = false;
  #outstanding = 0;
  /** Input bytes of each message in flight to the Worker, in dispatch order (0 for other messages). */
  #inputSizes: number[] = [];
  #stdinBuffered = 0;
  #hostCallPending = false;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #interruptTimer: ReturnType<typeof setTimeout> | undefined;
  #interruptFlag: Int32Array | undefined;
  #terminal: TerminalSink | null = null;
  #nextId = 1;
  #pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  #handlers = new Map<string, HostCallHandler>();
  #rebootListeners = new Set<(reason: RebootReason) => void>();
  #flashSaving: Promise<void> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  #webreplPassword: string;

  constructor(options: DeviceCoreOptions) {
    this.#options = options;
    this.#flash = options.flash;
    this.#webreplPassword = options.webreplPassword;
    // _webrepl.password(p): modwebrepl.c's global, checked at each login, so it applies to the next one.
    this.#handlers.set("$webrepl_password", (payload) => {
      this.#webreplPassword = payload as string;
      return null;
    });
  }

  /** The password the next WebREPL login is checked against (`char webrepl_passwd[10]`). */
  get webreplPassword(): string {
    return this.#webreplPassword;
  }

  /** Boots the first Worker; resolves once boot.py has run and the REPL waits. */
  start(): Promise<void> {
    this.#spawn(true);
    return this.ready;
  }

  /** Resolves when a Worker has booted, following reboots that happen meanwhile (e.g. boot.py overran). */
  get ready(): Promise<void> {
    return (async () => {
      for (;;) {
        const current = this.#ready;
        try {
          return await current;
        } catch (error) {
          if (current === this.#ready || this.#closed) throw error;
        }
      }
    })();
  }

  get flashSize(): number {
    return this.#options.flashSize;
  }

  /** The current flash contents (updated after every change the device makes). */
  get flash(): FlashImage {
    return this.#flash;
  }

  /** True while a terminal (WebREPL client) holds the dupterm slot. */
  get terminalAttached(): boolean {
    return this.#terminal !== null;
  }

  /** Takes the dupterm slot; throws when another terminal holds it. */
  attachTerminal(sink: TerminalSink): void {
    if (this.#terminal) throw new Error("the dupterm slot is taken by another WebREPL connection");
    this.#terminal = sink;
  }

  detachTerminal(sink: TerminalSink): void {
    if (this.#terminal === sink) this.#terminal = null;
  }

  /** Output the device prints while a terminal is attached (e.g. webrepl.py's "Concurrent ..." line). */
  writeToTerminal(bytes: Uint8Array): void {
    this.#terminal?.write(bytes);
  }

  /** REPL input, as the dupterm stream delivers it. */
  sendInput(bytes: Uint8Array): void {
    if (!this.#worker) return;
    if (bytes.includes(0x03) && this.#outstanding > 0) {
      // As the port's interrupt character: code that calls out (sleep, print) gets KeyboardInterrupt; a bare
      // loop that never does cannot be stopped in wasm and the device restarts.
      Atomics.store(this.#interruptFlag!, 0, 1);
      this.#interruptTimer ??= setTimeout(() => this.#reboot("interrupt"), INTERRUPT_GRACE_MS);
    }
    const accepted = this.#fillStdinBuffer(bytes);
    if (accepted.length > 0) this.#dispatch({ type: "input", bytes: accepted }, accepted.length);
  }

  /**
   * ESP32 drains the socket into a 260-byte stdin ring buffer and drops what does not fit, silently
   * (ports/esp32/mphalport.c). Bytes count as buffered until the Worker's REPL has read them.
   * Ctrl-C never enters the buffer on the device (it is caught on arrival), so it is never dropped.
   */
  #fillStdinBuffer(bytes: Uint8Array): Uint8Array {
    const capacity = this.#options.stdinBufferBytes;
    if (capacity === 0) return bytes;
    const kept: number[] = [];
    let dropped = 0;
    for (const byte of bytes) {
      if (byte !== 0x03 && this.#stdinBuffered + kept.length >= capacity) dropped++;
      else kept.push(byte);
    }
    if (dropped > 0) this.#options.log(`stdin buffer overflow: ${dropped} input bytes dropped`);
    return dropped === 0 ? bytes : new Uint8Array(kept);
  }

  /** A file operation of the WA/WB protocol, run by the device (cwd-relative names, flash quota). */
  fileRequest(request: FileRequest): Promise<FileReply> {
    return this.#request((id) => ({ type: "file", id, request }));
  }

  /** Runs Python in `__main__` and returns what it printed; `error` holds the traceback if it raised. */
  runPython(code: string): Promise<{ output: string; error?: string }> {
    return this.#request((id) => ({ type: "run", id, code }));
  }

  /** Handles `callHost(op, payload)` from Worker plugins (and `_emu` in Python) on the main thread. */
  setHostCallHandler(op: string, handler: HostCallHandler): void {
    this.#handlers.set(op, handler);
  }

  /** Delivers data to the Worker plugins' `onHostMessage` handlers. */
  postToWorker(data: unknown): void {
    this.#dispatch({ type: "plugin", data });
  }

  /** Called on every reboot (after the old Worker is gone, before the new one has booted). */
  onReboot(listener: (reason: RebootReason) => void): () => void {
    this.#rebootListeners.add(listener);
    return () => this.#rebootListeners.delete(listener);
  }

  /** Resets the device as machine.reset() would. */
  reset(): void {
    this.#reboot("hard");
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    // Let a running Worker post its last flash change (e.g. a file written from the REPL) before it goes.
    if (this.#worker && !this.#booting) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise((resolve) => timer = setTimeout(resolve, CLOSE_SYNC_MS));
      await Promise.race([this.runPython("").catch(() => undefined), timeout]);
      clearTimeout(timer);
    }
    this.#closed = true;
    this.#stopWorker(new DeviceRebootedError("hard"));
    this.#terminal?.drop();
    this.#terminal = null;
    await this.#flashSaving;
  }

  #spawn(runBootPy: boolean): void {
    const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    const bridgeBuffer = createBridgeBuffer();
    const interruptBuffer = new SharedArrayBuffer(4);
    this.#interruptFlag = new Int32Array(interruptBuffer);
    this.#worker = worker;
    this.#bridge = new BridgeServer(bridgeBuffer);
    // Until the booting device's webrepl.start() reads /webrepl_cfg.py.
    this.#webreplPassword = this.#options.webreplPassword;
    this.#booting = true;
    this.#outstanding = 0;
    this.#inputSizes = [];
    this.#stdinBuffered = 0;
    this.#hostCallPending = false;
    let markReady!: () => void;
    let failBoot!: (error: Error) => void;
    this.#ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failBoot = reject;
    });
    this.#failBoot = failBoot;
    this.#ready.catch(() => {});
    worker.onmessage = (event: MessageEvent<WorkerToMain>) => {
      if (worker !== this.#worker) return;
      const message = event.data;
      if (message.type === "ready") {
        this.#booting = false;
        markReady();
      } else if (message.type === "fatal") {
        this.#options.log(message.message);
        failBoot(new Error(message.message));
      } else {
        this.#onMessage(message);
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      if (worker !== this.#worker) return;
      this.#options.log(`emulator worker crashed: ${event.message}`);
      failBoot(new Error(event.message));
    };
    const { flashSize, heapSize, uniqueId, ipAddress, workerModules } = this.#options;
    this.#dispatch({
      type: "boot",
      config: {
        flash: this.#flash,
        flashSize,
        heapSize,
        uniqueIdHex: uniqueId.toHex(),
        ipAddress,
        runBootPy,
        workerModules,
        bridgeBuffer,
        interruptBuffer,
      },
    });
  }

  #onMessage(message: WorkerToMain): void {
    switch (message.type) {
      case "stdinRead":
        this.#stdinBuffered -= message.count;
        this.#inputSizes[0] -= message.count;
        break;
      case "ack":
        this.#outstanding--;
        this.#stdinBuffered -= this.#inputSizes.shift() ?? 0;
        clearTimeout(this.#interruptTimer);
        this.#interruptTimer = undefined;
        // A Ctrl-C not taken yet is for the code the next queued input runs: it gets its grace period too.
        if (this.#outstanding > 0 && Atomics.load(this.#interruptFlag!, 0) === 1) {
          this.#interruptTimer = setTimeout(() => this.#reboot("interrupt"), INTERRUPT_GRACE_MS);
        }
        this.#armWatchdog();
        break;
      case "write":
        // Until the REPL is up (boot.py, banner) output goes to the UART only, as on the device.
        if (!this.#booting) this.#terminal?.write(message.bytes);
        break;
      case "softReset":
        this.#reboot("soft");
        break;
      case "flash":
        this.#flash = message.image;
        this.#saveFlash();
        break;
      case "fileReply":
        this.#settle(message.id, message.reply);
        break;
      case "runReply":
        this.#settle(message.id, { output: message.output, error: message.error });
        break;
      case "hostCall":
        this.#hostCall(message.op, message.payload);
        break;
      case "hostCallNext":
        this.#bridge?.next();
        break;
      case "log":
        this.#options.log(message.line);
        break;
    }
  }

  #hostCall(op: string, payload: HostValue): void {
    if (op === "$reset") {
      this.#reboot("hard");
      return;
    }
    const worker = this.#worker;
    const bridge = this.#bridge!;
    this.#hostCallPending = true;
    this.#armWatchdog();
    const handler = this.#handlers.get(op);
    const done = () => {
      if (worker !== this.#worker) return false;
      this.#hostCallPending = false;
      this.#armWatchdog();
      return true;
    };
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`no host-call handler for "${op}"`);
        return handler(payload, this);
      })
      .then((value) => {
        if (!done()) return;
        try {
          bridge.reply(value);
        } catch (error) {
          // e.g. a value JSON cannot encode: the Worker must still be released.
          bridge.fail(`host-call "${op}" returned an unencodable value: ${(error as Error).message}`);
        }
      }, (error) => done() && bridge.fail((error as Error)?.message ?? String(error)));
  }

  #request<T>(build: (id: number) => MainToWorker): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.#worker) {
        reject(new Error("emulated device is closed"));
        return;
      }
      this.#pending.set(id, { resolve: resolve as (value: never) => void, reject });
      this.#dispatch(build(id));
    });
  }

  #settle(id: number, value: unknown): void {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    pending?.resolve(value as never);
  }

  #dispatch(message: MainToWorker, inputBytes = 0): void {
    if (!this.#worker) return;
    this.#outstanding++;
    this.#inputSizes.push(inputBytes);
    this.#stdinBuffered += inputBytes;
    this.#worker.postMessage(message);
    this.#armWatchdog();
  }

  #armWatchdog(): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    if (this.#outstanding > 0 && !this.#hostCallPending && this.#worker) {
      this.#watchdog = setTimeout(() => this.#reboot("timeout"), this.#options.execTimeoutMs);
    }
  }

  #stopWorker(error: Error): void {
    if (this.#booting) this.#failBoot(error);
    clearTimeout(this.#watchdog);
    clearTimeout(this.#interruptTimer);
    this.#watchdog = undefined;
    this.#interruptTimer = undefined;
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#bridge = undefined;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  #reboot(reason: RebootReason): void {
    if (this.#closing || !this.#worker) return;
    const bootOverran = this.#booting && reason === "timeout";
    this.#stopWorker(new DeviceRebootedError(reason));
    const terminal = this.#terminal;
    this.#terminal = null;
    const seconds = this.#options.execTimeoutMs / 1000;
    const notice = {
      soft: "MPY: soft reboot\r\n",
      hard: "",
      timeout:
        `\r\n[emulator] code ran over ${seconds} s and cannot be interrupted in wasm: device restarted\r\n`,
      interrupt: "\r\n[emulator] Ctrl-C cannot interrupt running code in wasm: device restarted\r\n",
    }[reason];
    if (reason === "timeout" || reason === "interrupt") this.#options.log(notice.trim());
    if (bootOverran) this.#options.log("boot.py overran the time limit: restarting without it (safe boot)");
    if (terminal) {
      if (notice) terminal.write(new TextEncoder().encode(notice));
      terminal.drop();
    }
    for (const listener of this.#rebootListeners) listener(reason);
    this.#spawn(!bootOverran);
  }

  #saveFlash(): void {
    const dir = this.#options.flashDir;
    if (!dir) return;
    const image = this.#flash;
    this.#flashSaving = this.#flashSaving.then(() => saveFlashDir(dir, image)).catch((error) =>
      this.#options.log(`cannot save flash to ${dir}: ${(error as Error).message}`)
    );
  }
}
