/**
 * An emulated ESP32 running real MicroPython v1.27.0 (the npm wasm port) behind a WebREPL server that behaves
 * like the device byte for byte. For `upydev emu`, the tests, the bench and the demo.
 *
 * API
 *   const emu = await startEmulator({ password: "secret", port: 0 });   // port 0: OS-chosen
 *   emu.hostname, emu.port                 where ws:// clients connect
 *   await emu.runPython("print(1)")        → { output: "1\r\n", error?: traceback }; output not sent to clients
 *   emu.core                               the device (lib/emulator/device.ts): terminal slot, resets, flash image,
 *                                          fileRequest, sendInput, setHostCallHandler, postToWorker, onReboot
 *   await emu.close()                      stops the server, the Worker, and flushes the flash directory
 *
 * Options: password (≤ 9 chars, as the device's webrepl_passwd[10]; at each boot /webrepl_cfg.py's PASS wins, as
 * webrepl.start() reads it, and `_webrepl.password(p)` changes it for the next login); hostname ("127.0.0.1"); port (8266);
 * flashSize (4 MiB; Python writes past it raise OSError 28, WA/WB PUTs are cut silently as on the device);
 * flashDir (a host directory that keeps the flash between runs); uniqueId (6 bytes; default derived from
 * flashDir); heapSize (2 MiB); execTimeoutMs (20 s without progress → Worker restarted, client told);
 * stdinBufferBytes (260: REPL input beyond ESP32's stdin ring buffer is dropped silently, as on the device);
 * workerModules + hostCalls (plugins for the TLS shims, see below); log (the device console's lines).
 *
 * Plugins (how the wss mode's Python shims reach the host): every module URL in `workerModules` is imported
 * into the device's Worker at each boot and its `install(context: WorkerPluginContext)` (worker.ts) runs
 * before boot.py. `context.callHost(op, payload)` blocks Python until `hostCalls[op](payload, core)` on the
 * main thread settles (SharedArrayBuffer + Atomics.wait; bridge.ts); `context.addPythonModule(name, source)`
 * makes a module importable; `core.postToWorker(data)` reaches `context.onHostMessage` handlers.
 * `serveWebReplTerminal(core, stream, {})` (webrepl_server.ts) turns an upgraded stream into the
 * WebREPL terminal, as `_webrepl._webrepl(ws)` + `os.dupterm(ws)` do.
 *
 * Known differences from a real ESP32: KeyboardInterrupt reaches only code that calls out to JS (sleep,
 * ticks, print); a loop that never does cannot be stopped, so a Ctrl-C that does not take effect within 1 s, or
 * 20 s without progress, restarts the device and drops the connection; files written by code that is then
 * killed that way are lost; tracebacks through os/open show one extra frame (the errno-mapping wrapper);
 * `errno.X` constants are folded by the wasm compiler to Linux numbers (ETIMEDOUT 110, ESP32 says 116);
 * os.ilistdir sizes come from os.stat; no LittleFS block rounding in statvfs.
 */
import { UserError } from "../cli/errors.ts";
import { DEFAULT_FLASH_SIZE, DEFAULT_WEBREPL_PORT } from "./defaults.ts";
import { EmulatedDeviceCore, type HostCallHandler } from "./device.ts";
import { flashBytes, freshFlash, loadFlashDir } from "./flash.ts";
import { listenWebRepl, PASSWORD_MAX_CHARS, type WebReplServer } from "./webrepl_server.ts";

export interface EmulatorOptions {
  password: string;
  hostname?: string;
  port?: number;
  flashSize?: number;
  flashDir?: string;
  uniqueId?: Uint8Array;
  heapSize?: number;
  execTimeoutMs?: number;
  /** ESP32's 260-byte stdin ring buffer: REPL input beyond it is dropped silently; 0 disables. */
  stdinBufferBytes?: number;
  workerModules?: (string | URL)[];
  hostCalls?: Record<string, HostCallHandler>;
  log?: (line: string) => void;
}

export interface EmulatedDevice {
  readonly hostname: string;
  readonly port: number;
  /** The WebREPL password now (webrepl_cfg.py's PASS after a boot, or what _webrepl.password() set). */
  readonly password: string;
  readonly core: EmulatedDeviceCore;
  runPython(code: string): Promise<{ output: string; error?: string }>;
  close(): Promise<void>;
}

export { DEFAULT_FLASH_SIZE, DEFAULT_WEBREPL_PORT };
const DEFAULT_HEAP_SIZE = 2 * 1024 * 1024;
const DEFAULT_EXEC_TIMEOUT_MS = 20_000;
/** ports/esp32/mphalport.c: `stdin_ringbuf` of 260 bytes. */
const ESP32_STDIN_BUFFER_BYTES = 260;
/** Espressif's OUI: ESP32 unique ids are the base MAC address. */
const ESPRESSIF_OUI = [0x24, 0x0a, 0xc4];

export async function startEmulator(options: EmulatorOptions): Promise<EmulatedDevice> {
  const { password } = options;
  if (password.length === 0 || password.length > PASSWORD_MAX_CHARS) {
    throw new UserError(
      `emulator password must be 1 to ${PASSWORD_MAX_CHARS} characters (the device's limit)`,
    );
  }
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? DEFAULT_WEBREPL_PORT;
  const flashSize = options.flashSize ?? DEFAULT_FLASH_SIZE;
  if (!Number.isInteger(flashSize) || flashSize < 4096) {
    throw new UserError(`flash size must be a whole number of bytes, at least 4096 (got ${flashSize})`);
  }
  const uniqueId = options.uniqueId ?? await defaultUniqueId(options.flashDir);
  if (uniqueId.length !== 6) throw new UserError("unique id must be 6 bytes");
  const log = options.log ?? (() => {});
  const flash = options.flashDir ? await loadFlashDir(options.flashDir) : freshFlash();
  if (flashBytes(flash) > flashSize) {
    log(
      `flash directory holds ${flashBytes(flash)} bytes, more than the ${flashSize}-byte flash: it is full`,
    );
  }
  const core = new EmulatedDeviceCore({
    flash,
    flashSize,
    heapSize: options.heapSize ?? DEFAULT_HEAP_SIZE,
    uniqueId,
    ipAddress: hostname,
    flashDir: options.flashDir,
    execTimeoutMs: options.execTimeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
    stdinBufferBytes: options.stdinBufferBytes ?? ESP32_STDIN_BUFFER_BYTES,
    workerModules: (options.workerModules ?? []).map((url) => url.toString()),
    webreplPassword: password,
    log,
  });
  for (const [op, handler] of Object.entries(options.hostCalls ?? {})) core.setHostCallHandler(op, handler);
  try {
    await core.start();
  } catch (error) {
    await core.close();
    throw error;
  }
  let server: WebReplServer;
  try {
    server = listenWebRepl(core, { hostname, port, log });
  } catch (error) {
    await core.close();
    throw new UserError(`cannot listen on ${hostname}:${port}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    hostname: server.hostname,
    port: server.port,
    get password() {
      return core.webreplPassword;
    },
    core,
    runPython: (code) => core.runPython(code),
    async close() {
      await server.close();
      await core.close();
    },
  };
}

async function defaultUniqueId(flashDir: string | undefined): Promise<Uint8Array> {
  const seed = new TextEncoder().encode(flashDir ?? "upydev-emulator");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", seed));
  return new Uint8Array([...ESPRESSIF_OUI, ...digest.subarray(0, 3)]);
}
