/** `upydev emu`: serve an emulated ESP32 over plain WebREPL until Ctrl-C. */
import { type CommandSpec, optionString, type ParsedArgs } from "../cli/command.ts";
import type { Io } from "../ui/io.ts";
import { UsageError } from "../cli/errors.ts";
import { DEFAULT_FLASH_SIZE, DEFAULT_WEBREPL_PORT } from "./defaults.ts";
import { WSS_PORT as WSS_DEVICE_PORT } from "../device/target.ts";

function parseWholeNumber(text: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${what} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return Number(text);
}

export const emuCommand: CommandSpec = {
  name: "emu",
  summary: "run an emulated ESP32 (real MicroPython) serving WebREPL (and wss once wss_repl starts)",
  usage:
    "emu --password PASS [--port PORT] [--wss-port PORT] [--host ADDR] [--flash-size BYTES] [--flash-dir DIR]",
  description:
    "Starts an emulated ESP32 running MicroPython v1.27.0 (WebAssembly) that serves WebREPL over\n" +
    "ws:// like a real board, until Ctrl-C. Connect with e.g. `upydev repl -t 127.0.0.1:8266 -p PASS`.\n" +
    "Like a board, it serves WebSecureREPL once its own wss_repl.py starts (from boot.py or the REPL,\n" +
    "after update_upyutils and kg ssl -tfkey); the device's port 8833 is served on 127.0.0.1:--wss-port.\n" +
    "With --flash-dir the flash is kept in that directory between runs; otherwise it starts fresh\n" +
    "(boot.py and webrepl_cfg.py).",
  options: [
    {
      names: ["--password"],
      kind: "value",
      valueName: "PASS",
      help: "WebREPL password, 1 to 9 characters (a flash with webrepl_cfg.py keeps its own)",
    },
    {
      names: ["--port"],
      kind: "value",
      valueName: "PORT",
      help: `TCP port (default ${DEFAULT_WEBREPL_PORT})`,
    },
    {
      names: ["--wss-port"],
      kind: "value",
      valueName: "PORT",
      help: `port serving the device's wss port ${WSS_DEVICE_PORT} (default ${WSS_DEVICE_PORT}; 0: any)`,
    },
    { names: ["--host"], kind: "value", valueName: "ADDR", help: "address to listen on (default 127.0.0.1)" },
    {
      names: ["--flash-size"],
      kind: "value",
      valueName: "BYTES",
      help: `flash filesystem size (default ${DEFAULT_FLASH_SIZE})`,
    },
    { names: ["--flash-dir"], kind: "value", valueName: "DIR", help: "keep the flash in DIR between runs" },
  ],
  positionals: { min: 0, max: 0 },
  device: false,
  run({ args, io }) {
    return serveEmulator(args, io, sigint);
  },
};

function sigint(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      Deno.removeSignalListener("SIGINT", stop);
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
  });
}

/** The body of `upydev emu`; once serving, it stops when `waitForStop()` settles (SIGINT in the CLI). */
export async function serveEmulator(
  args: ParsedArgs,
  io: Io,
  waitForStop: () => Promise<void>,
): Promise<void> {
  const password = optionString(args, "--password");
  if (!password) throw new UsageError("emu needs --password PASS (1 to 9 characters)");
  const portText = optionString(args, "--port");
  const wssPortText = optionString(args, "--wss-port");
  const sizeText = optionString(args, "--flash-size");
  // The TLS shims load node:tls and friends: only `emu` pays for them, not every command's start-up.
  const { startWssEmulator } = await import("./shims/wss.ts");
  const emu = await startWssEmulator({
    password,
    port: portText === undefined ? DEFAULT_WEBREPL_PORT : parseWholeNumber(portText, "--port", 0, 65535),
    wssPort: wssPortText === undefined
      ? WSS_DEVICE_PORT
      : parseWholeNumber(wssPortText, "--wss-port", 0, 65535),
    hostname: optionString(args, "--host") ?? "127.0.0.1",
    flashSize: sizeText === undefined ? undefined : parseWholeNumber(sizeText, "--flash-size", 4096, 2 ** 31),
    flashDir: optionString(args, "--flash-dir"),
    log: (line) => io.err(`emu: ${line}\n`),
  });
  io.out(`Emulated ESP32 serving WebREPL on ws://${emu.hostname}:${emu.port} (Ctrl-C to stop)\n`);
  if (emu.password !== password) {
    // As on a device, webrepl_cfg.py (e.g. from rf_wrkey) decides; --password only seeds a fresh flash.
    io.err("emu: the flash's webrepl_cfg.py sets the WebREPL password, not --password\n");
  }
  const stopped = waitForStop();
  const listening = await Promise.race([emu.whenListening(), stopped.then(() => undefined)]);
  if (listening !== undefined) {
    io.out(`The device's wss_repl serves WebSecureREPL on wss://127.0.0.1:${listening}\n`);
    await stopped;
  }
  await emu.close();
}

export const emulatorCommands: CommandSpec[] = [emuCommand];
