/**
 * Messages between the emulator's main thread (lib/emulator/device.ts) and the Worker running MicroPython
 * (lib/emulator/worker.ts). Everything crosses as structured clones; bytes stay Uint8Array.
 */

/** The flash contents, paths relative to the device root ("boot.py", "lib", "lib/x.py"). */
export interface FlashImage {
  dirs: string[];
  files: [path: string, data: Uint8Array][];
}

/** A value passed through the synchronous Python→host bridge (JSON-compatible, or raw bytes). */
export type HostValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | HostValue[]
  | { [key: string]: HostValue };

export interface WorkerBootConfig {
  flash: FlashImage;
  flashSize: number;
  heapSize: number;
  /** 6 bytes, hex. */
  uniqueIdHex: string;
  /** The address the device reports from network.WLAN().ifconfig(). */
  ipAddress: string;
  /** False after boot.py overran the time limit, so the device comes up without it (a "safe boot"). */
  runBootPy: boolean;
  /** Module URLs imported into the Worker; each exports `install(context: WorkerPluginContext)`. */
  workerModules: string[];
  /** Shared memory for the synchronous bridge (see bridge.ts). */
  bridgeBuffer: SharedArrayBuffer;
  /** One Int32 the main thread sets to 1 on Ctrl-C while code runs (see worker.ts, deliverInterrupt). */
  interruptBuffer: SharedArrayBuffer;
}

export type FileRequest =
  | { op: "open"; name: string; mode: "rb" | "wb" }
  | { op: "write"; bytes: Uint8Array }
  | { op: "read"; max: number }
  | { op: "close" };

export type FileReply = { ok: true; bytes?: Uint8Array } | { ok: false; error: string };

export type MainToWorker =
  | { type: "boot"; config: WorkerBootConfig }
  /** REPL input, as if read from the dupterm stream. */
  | { type: "input"; bytes: Uint8Array }
  | { type: "file"; id: number; request: FileRequest }
  | { type: "run"; id: number; code: string }
  /** Opaque data for Worker plugins (e.g. "a TLS client connected: run the accept callback"). */
  | { type: "plugin"; data: unknown };

export type WorkerToMain =
  /** Booted: boot.py ran and the REPL is waiting. */
  | { type: "ready" }
  /** The Worker finished handling one MainToWorker message (the watchdog counts these). */
  | { type: "ack" }
  /** The REPL took `count` more bytes of the current input message out of the stdin ring buffer. */
  | { type: "stdinRead"; count: number }
  /** One device write to the terminal (one WebSocket frame on a real device). */
  | { type: "write"; bytes: Uint8Array }
  | { type: "softReset" }
  | { type: "flash"; image: FlashImage }
  | { type: "fileReply"; id: number; reply: FileReply }
  | { type: "runReply"; id: number; output: string; error?: string }
  /** A synchronous call from Python; the Worker blocks until the reply lands in the bridge buffer. */
  | { type: "hostCall"; op: string; payload: HostValue }
  /** The Worker consumed one chunk of a large host-call reply and waits for the next. */
  | { type: "hostCallNext" }
  /** A log line for the device's console (what a real ESP32 prints on its UART). */
  | { type: "log"; line: string }
  | { type: "fatal"; message: string };
