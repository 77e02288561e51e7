/**
 * Device state actions: info, id, mem, modules, uptime, datetime, net, ping, log and reset. Each reads one
 * lib/ops query (or runs one device script) and shows it; the result is the query's data.
 */
import { UsageError, UserError } from "../cli/errors.ts";
import { optionFlag, optionString } from "../cli/command.ts";
import {
  deviceClock,
  deviceFacts,
  firmwareModules,
  heap,
  networkStatus,
  setDeviceClock,
  uptimeMs,
} from "../ops/system.ts";
import { scriptExec } from "../ops/upyutils.ts";
import { printable } from "../ui/terminal_text.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import { DeviceExecError } from "../webrepl/session.ts";
import type { DeviceAction } from "./action.ts";
import { columns, formatBytes, plainLineEnds } from "./format.ts";

export const info: DeviceAction = {
  name: "info",
  summary: "show platform, MicroPython version, unique id, free RAM and flash",
  usage: "info",
  positionals: { min: 0, max: 0 },
  async run({ device, out }) {
    const facts = await deviceFacts(device.session);
    const link = device.info.kind === "tls"
      ? `wss ${device.info.tlsProtocol ?? ""} ${device.info.tlsCipher ?? ""}`.trim()
      : "ws";
    out.text(
      `platform:    ${printable(facts.platform)}${facts.machine ? ` (${printable(facts.machine)})` : ""}\n` +
        `micropython: ${facts.version.join(".")}\n` +
        `unique id:   ${printable(facts.uid)}\n` +
        `RAM:         ${kb(facts.memFree)} free of ${kb(facts.memFree + facts.memAlloc)}\n` +
        `flash:       ${kb(facts.fsFree)} free of ${kb(facts.fsTotal)}\n` +
        `connection:  ${link} ${device.session.address}\n`,
    );
    return { ...facts, link, address: device.session.address };
  },
};

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

export const id: DeviceAction = {
  name: "id",
  summary: "show the device's unique id (machine.unique_id())",
  usage: "id",
  positionals: { min: 0, max: 0 },
  async run({ device, out }) {
    const { uid } = await deviceFacts(device.session);
    if (uid === "") throw new UserError("the device has no machine.unique_id()");
    out.text(`${printable(uid)}\n`);
    return { uid };
  },
};

export const mem: DeviceAction = {
  name: "mem",
  summary: "show the device's free and used heap (after gc.collect())",
  usage: "mem",
  positionals: { min: 0, max: 0 },
  async run({ device, out }) {
    const usage = await heap(device.session);
    const total = usage.free + usage.used;
    const percent = total > 0 ? Math.round((usage.used / total) * 100) : 0;
    out.text(
      `${"Memory".padEnd(8)}${"Size".padStart(10)}${"Used".padStart(10)}${"Free".padStart(10)}  Use%\n` +
        `${"heap".padEnd(8)}${formatBytes(total).padStart(10)}${formatBytes(usage.used).padStart(10)}${
          formatBytes(usage.free).padStart(10)
        }  ${String(percent).padStart(3)}%\n`,
    );
    return { total, ...usage };
  },
};

export const modules: DeviceAction = {
  name: "modules",
  summary: "list the modules built into the firmware (help('modules'))",
  usage: "modules",
  positionals: { min: 0, max: 0 },
  async run({ device, out }) {
    const names = await firmwareModules(device.session);
    const shown = names.map(printable);
    if (out.terminal) out.text(columns(shown.map((name) => ({ width: name.length, text: name })), out.width));
    else for (const name of shown) out.text(`${name}\n`);
    return names;
  },
};

export const uptime: DeviceAction = {
  name: "uptime",
  summary: "time since the device booted",
  usage: "uptime",
  positionals: { min: 0, max: 0 },
  async run({ device, out }) {
    const ms = await uptimeMs(device.session);
    out.text(`up ${formatDuration(ms)}\n`);
    return { ms };
  },
};

export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86400);
  const clock = [Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, seconds % 60]
    .map((part) => String(part).padStart(2, "0"))
    .join(":");
  return days > 0 ? `${days} day${days === 1 ? "" : "s"}, ${clock}` : clock;
}

export const datetime: DeviceAction = {
  name: "datetime",
  summary: "show the device's clock; --set sets it from this computer's UTC clock",
  usage: "datetime [--set]",
  description:
    "Certificate checks on the device depend on its clock: an ESP32 starts in 2000 after power-up.",
  options: [{ names: ["--set"], kind: "flag", help: "set the device RTC to this computer's time (UTC)" }],
  positionals: { min: 0, max: 0 },
  async run({ args, device, out }) {
    if (optionFlag(args, "--set")) await setDeviceClock(device.session, new Date());
    const [year, month, day, hour, minute, second] = await deviceClock(device.session);
    const pad = (value: number, width = 2) => String(value).padStart(width, "0");
    const iso = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}`;
    out.text(`${iso}\n`);
    return { datetime: iso };
  },
};

export const net: DeviceAction = {
  name: "net",
  aliases: ["ifconfig"],
  summary: "show the WLAN station: link, IP, mask, gateway, DNS, signal (RSSI)",
  usage: "net",
  positionals: { min: 0, max: 0 },
  async run({ device, out }) {
    const status = await networkStatus(device.session);
    const state = !status.active ? "inactive" : status.connected ? "connected" : "not connected";
    const rows: [string, string | number | null][] = [
      ["station", state],
      ["ssid", status.ssid],
      ["ip", status.ip],
      ["mask", status.mask],
      ["gateway", status.gateway],
      ["dns", status.dns],
      ["rssi", status.rssi === null ? null : `${status.rssi} dBm`],
      ["mac", status.mac],
    ];
    for (const [label, value] of rows) {
      if (value !== null) out.text(`${`${label}:`.padEnd(10)}${printable(String(value))}\n`);
    }
    return status;
  },
};

/** A number of seconds as the user typed it ("1", "0.2"), in whole milliseconds of at least `minMs`. */
function secondsOption(text: string | undefined, option: string, fallbackMs: number, minMs: number): number {
  if (text === undefined) return fallbackMs;
  const ms = /^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * 1000) : NaN;
  if (!(ms >= minMs)) {
    throw new UsageError(`${option} takes seconds, at least ${minMs / 1000}, not '${text}'`);
  }
  return ms;
}

/** What a device's lwip/newlib say when it cannot reach an address: EHOSTUNREACH and ENETUNREACH (ESP32 numbers). */
const NO_ROUTE = new Set(["EHOSTUNREACH", "ENETUNREACH"]);
const NO_ROUTE_ESP32_ERRNOS = new Set([118, 114]);

export interface PingResult {
  host: string;
  transmitted: number;
  received: number;
  /** min/avg/max round trip in ms, when any reply came. */
  roundTripMs: [number, number, number] | null;
}

interface PingOptions {
  count: number;
  intervalMs: number;
  timeoutMs: number;
}

export const ping: DeviceAction<PingOptions> = {
  name: "ping",
  summary: "ICMP echo from the device to HOST (count, interval, timeout, then a summary)",
  usage: "ping HOST [-c N] [-i SECONDS] [-W SECONDS]",
  description:
    "The device sends the echo requests (device/uping.py, sent with the command: nothing needs to be\n" +
    "installed). Exits 1 when no reply came. The wait per reply is -W, as in Linux ping (-t is the device).",
  options: [
    { names: ["-c"], kind: "value", valueName: "N", help: "echo requests to send (default 4)" },
    { names: ["-i"], kind: "value", valueName: "SECONDS", help: "wait between requests (default 1)" },
    { names: ["-W"], kind: "value", valueName: "SECONDS", help: "wait for each reply (default 5)" },
  ],
  positionals: { min: 1, max: 1 },
  prepare({ args }) {
    const count = optionString(args, "-c") ?? "4";
    if (!/^\d+$/.test(count) || Number(count) < 1) {
      throw new UsageError(`-c takes a whole number from 1 up, not '${count}'`);
    }
    return Promise.resolve({
      count: Number(count),
      intervalMs: secondsOption(optionString(args, "-i"), "-i", 1000, 10),
      timeoutMs: secondsOption(optionString(args, "-W"), "-W", 5000, 10),
    });
  },
  async run({ args, device, out, prepared: { count, intervalMs, timeoutMs } }) {
    const host = args.positionals[0];
    let text = "";
    const decoder = new TextDecoder();
    const show = plainLineEnds(out.bytes);
    try {
      await device.session.exec(
        scriptExec(
          "uping.py",
          `ping(${pyStr(host)},count=${count},interval=${intervalMs},timeout=${timeoutMs})`,
        ),
        {
          // A line comes at least once per request: after the interval and the wait for its reply.
          inactivityMs: intervalMs + timeoutMs + 10_000,
          onStdout: (bytes) => {
            text += decoder.decode(bytes, { stream: true });
            show(bytes);
          },
        },
      );
    } catch (error) {
      if (!(error instanceof DeviceExecError)) throw error;
      // lwip's getaddrinfo fails with a negative EAI code (ESP32: OSError: -202).
      if (/OSError: -\d+$/.test(error.message)) {
        throw new UserError(`unknown host ${printable(host)}: the device cannot resolve it`, {
          cause: error,
        });
      }
      if (NO_ROUTE.has(error.errnoName ?? "") || NO_ROUTE_ESP32_ERRNOS.has(error.errno ?? 0)) {
        throw new UserError(
          `the device has no route to ${printable(host)}: is its network up? (see 'upydev net')`,
          { cause: error },
        );
      }
      throw error;
    }
    const counts = /(\d+) packets transmitted, (\d+) packets received/.exec(text);
    const times = /round-trip min\/avg\/max = ([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(text);
    if (!counts) throw new UserError("unexpected answer from the device for ping (no statistics line)");
    const result: PingResult = {
      host,
      transmitted: Number(counts[1]),
      received: Number(counts[2]),
      roundTripMs: times ? [Number(times[1]), Number(times[2]), Number(times[3])] : null,
    };
    if (result.received === 0) throw new UserError(`no reply from ${printable(host)}`);
    return result;
  },
};

const encoder = new TextEncoder();
/** How long a resetting device may take to drop the connection. */
const RESET_DROP_WAIT_MS = 5_000;

export const reset: DeviceAction = {
  name: "reset",
  summary: "reset the device (soft; --hard: machine.reset()); it runs boot.py again and drops the link",
  usage: "reset [--hard]",
  description: "A reset always ends the WebREPL connection; the device is reachable again after boot.py ran.",
  options: [{ names: ["--hard"], kind: "flag", help: "machine.reset() instead of a soft reset (Ctrl-D)" }],
  endsLink: true,
  positionals: { min: 0, max: 0 },
  async run({ args, device, io, out }) {
    const hard = optionFlag(args, "--hard");
    // Ctrl-C clears the line; Ctrl-D on an empty friendly-REPL line is the soft reset.
    const keys = hard ? "\x03import machine; machine.reset()\r" : "\x03\x04";
    await device.session.writeInput(encoder.encode(keys));
    const deadline = io.now() + RESET_DROP_WAIT_MS;
    while (io.now() < deadline) {
      if (await device.session.readOutput(RESET_DROP_WAIT_MS) === null) {
        out.text(`${hard ? "hard" : "soft"} reset: ${device.session.address} closed the connection\n`);
        return { reset: hard ? "hard" : "soft" };
      }
    }
    throw new UserError(`${device.session.address} did not reset (the connection stayed open)`);
  },
};

/** Where device/upylog.py writes: the current file, and the one it rotated out. */
export const UPYLOG_FILES = ["/upy.log.1", "/upy.log"];

export const log: DeviceAction = {
  name: "log",
  summary: "show the device's upylog file (/upy.log, after the rotated /upy.log.1)",
  usage: "log [-n N]",
  description:
    "upylog (installed by update_upyutils) writes 'YYYY-MM-DD HH:MM:SS LEVEL NAME: MESSAGE' lines.",
  options: [{ names: ["-n"], kind: "value", valueName: "N", help: "only the last N lines" }],
  positionals: { min: 0, max: 0 },
  async run({ args, device, out }) {
    const count = optionString(args, "-n");
    if (count !== undefined && !/^\d+$/.test(count)) {
      throw new UsageError(`-n takes a whole number, not '${count}'`);
    }
    const present = (await device.files.statAll(UPYLOG_FILES)).filter((stat) => stat !== null && !stat.isDir);
    if (present.length === 0) {
      throw new UserError("no log on the device (/upy.log): upylog writes it, see 'upydev update_upyutils'");
    }
    let text = "";
    for (const stat of present) text += new TextDecoder().decode(await device.files.get(stat!.path));
    const lines = text.split("\n").filter((line, i, all) => line !== "" || i < all.length - 1);
    const shown = count === undefined ? lines : lines.slice(-Number(count));
    for (const line of shown) out.text(`${printable(line)}\n`);
    return { lines: shown };
  },
};

export const DEVICE_STATE_ACTIONS: DeviceAction<unknown>[] = [
  info,
  id,
  mem,
  modules,
  uptime,
  datetime,
  net,
  ping,
  log,
  reset,
];
