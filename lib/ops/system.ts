/**
 * Device state written once on top of exec: platform facts, heap, clock, network. Each query is one small
 * Python program answering in JSON, and every answer is checked against the shape asked for: a device (or
 * something pretending to be one) that answers otherwise gets a one-line error, never a TypeError.
 */
import { UserError } from "../cli/errors.ts";
import type { WebReplSession } from "../webrepl/session.ts";

type Kind = "string" | "number" | "boolean" | "number[]" | "string|null" | "number|null";
type Shape = Record<string, Kind>;
type Typed<S extends Shape> = {
  [K in keyof S]: S[K] extends "string" ? string
    : S[K] extends "number" ? number
    : S[K] extends "boolean" ? boolean
    : S[K] extends "number[]" ? number[]
    : S[K] extends "string|null" ? string | null
    : number | null;
};

/**
 * Checks a parsed reply against the form asked for: undefined when it fits, else what does not (a key, an
 * index, "not an object"), for the message. `T` is the type the check guarantees.
 */
export type Check<T> = ((value: unknown) => string | undefined) & { readonly __type?: T };

const typeCheck = <T>(name: string, test: (value: unknown) => boolean): Check<T> => (value: unknown) =>
  test(value) ? undefined : `not ${name}`;

export const isString: Check<string> = typeCheck("a string", (value) => typeof value === "string");
export const isNumber: Check<number> = typeCheck("a number", (value) => typeof value === "number");
export const isBoolean: Check<boolean> = typeCheck("a boolean", (value) => typeof value === "boolean");

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value) => (value === null ? undefined : check(value));
}

export function listOf<T>(item: Check<T>): Check<T[]> {
  return (value) => {
    if (!Array.isArray(value)) return "not a list";
    const index = value.findIndex((element) => item(element) !== undefined);
    return index < 0 ? undefined : at(index, item(value[index])!);
  };
}

export function tupleOf<T extends unknown[]>(...items: { [K in keyof T]: Check<T[K]> }): Check<T> {
  return (value) => {
    if (!Array.isArray(value) || value.length !== items.length) return `not a list of ${items.length}`;
    const index = items.findIndex((item, i) => item(value[i]) !== undefined);
    return index < 0 ? undefined : at(index, items[index](value[index])!);
  };
}

/** "[2] not a number", "[0][1] not a string": where in a list the reply went wrong. */
function at(index: number, wrong: string): string {
  return `[${index}]${wrong.startsWith("[") ? "" : " "}${wrong}`;
}

const KIND_CHECKS: Record<Kind, Check<unknown>> = {
  "string": isString,
  "number": isNumber,
  "boolean": isBoolean,
  "number[]": listOf(isNumber),
  "string|null": nullable(isString),
  "number|null": nullable(isNumber),
};

function objectOf<S extends Shape>(shape: S): Check<Typed<S>> {
  return (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return "not an object";
    const record = value as Record<string, unknown>;
    const wrong = Object.entries(shape).find(([key, kind]) => KIND_CHECKS[kind](record[key]) !== undefined);
    return wrong === undefined ? undefined : `'${wrong[0]}'`;
  };
}

/**
 * The one reader of the device's JSON replies: parses `text` and checks it, so a device (or something
 * pretending to be one) that answers otherwise gets a one-line error, never a TypeError further on.
 */
export function parseDeviceReply<T>(text: string, what: string, check: Check<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch {
    throw new UserError(
      `unexpected answer from the device for ${what}: ${JSON.stringify(text.trim().slice(0, 60))}`,
    );
  }
  const wrong = check(value);
  if (wrong !== undefined) throw new UserError(`unexpected answer from the device for ${what} (${wrong})`);
  return value as T;
}

/** Runs `code` (which prints one JSON object) and checks the object against `shape`. */
export async function queryDevice<S extends Shape>(
  session: WebReplSession,
  what: string,
  code: string,
  shape: S,
): Promise<Typed<S>> {
  return parseDeviceReply(await session.execText(`import json\n${code}`), what, objectOf(shape));
}

export const FACTS_SHAPE = {
  platform: "string",
  machine: "string",
  release: "string",
  version: "number[]",
  uid: "string",
  memFree: "number",
  memAlloc: "number",
  fsTotal: "number",
  fsFree: "number",
} as const;

export type DeviceFacts = Typed<typeof FACTS_SHAPE>;

/** Platform, firmware, unique id, heap and flash in one round trip. */
export function deviceFacts(session: WebReplSession): Promise<DeviceFacts> {
  return queryDevice(
    session,
    "info",
    "import sys,os,gc,binascii\ntry:\n import machine\n u=binascii.hexlify(machine.unique_id()).decode()\n" +
      "except Exception:\n u=''\ngc.collect()\ns=os.statvfs('/')\n" +
      "try:\n r=os.uname().release\nexcept Exception:\n r=''\n" +
      "print(json.dumps({'platform':sys.platform,'machine':getattr(sys.implementation,'_machine',''),'release':r," +
      "'version':list(sys.implementation.version)[:3],'uid':u,'memFree':gc.mem_free(),'memAlloc':gc.mem_alloc()," +
      "'fsTotal':s[0]*s[2],'fsFree':s[0]*s[3]}))",
    FACTS_SHAPE,
  );
}

/** Heap after a collection. */
export function heap(session: WebReplSession): Promise<{ free: number; used: number }> {
  return queryDevice(
    session,
    "mem",
    "import gc\ngc.collect()\nprint(json.dumps({'free':gc.mem_free(),'used':gc.mem_alloc()}))",
    { free: "number", used: "number" },
  );
}

/**
 * Milliseconds since boot. ticks_ms wraps after 2^30 ms (12.4 days) on MicroPython, so the device's
 * time.time() minus a boot stamp is not available either; the figure is exact below that.
 */
export async function uptimeMs(session: WebReplSession): Promise<number> {
  return (await queryDevice(session, "uptime", "import time\nprint(json.dumps({'ms':time.ticks_ms()}))", {
    ms: "number",
  })).ms;
}

/** The device's clock as a calendar tuple (year, month, day, hour, minute, second), read from time.localtime(). */
export async function deviceClock(session: WebReplSession): Promise<number[]> {
  const { t } = await queryDevice(
    session,
    "datetime",
    "import time\nprint(json.dumps({'t':list(time.localtime())[:6]}))",
    { t: "number[]" },
  );
  if (t.length !== 6) throw new UserError("unexpected answer from the device for datetime ('t')");
  return t;
}

/** Sets the device RTC to `date` in UTC (machine.RTC weekday: Monday is 0). */
export async function setDeviceClock(session: WebReplSession, date: Date): Promise<void> {
  const weekday = (date.getUTCDay() + 6) % 7;
  const fields = [
    date.getUTCFullYear(),
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    weekday,
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    date.getUTCMilliseconds() * 1000,
  ];
  await session.exec(`import machine\nmachine.RTC().datetime((${fields.join(",")}))`);
}

export const NETWORK_SHAPE = {
  active: "boolean",
  connected: "boolean",
  ssid: "string|null",
  ip: "string|null",
  mask: "string|null",
  gateway: "string|null",
  dns: "string|null",
  rssi: "number|null",
  mac: "string|null",
} as const;

export type NetworkStatus = Typed<typeof NETWORK_SHAPE>;

/** The station interface (WLAN STA_IF): link, addresses and signal. */
export function networkStatus(session: WebReplSession): Promise<NetworkStatus> {
  return queryDevice(
    session,
    "net",
    "import network,binascii\nw=network.WLAN(network.STA_IF)\na=w.active()\nc=a and w.isconnected()\n" +
      "def _g(f):\n try:\n  return f()\n except Exception:\n  return None\n" +
      "i=_g(w.ifconfig) if c else None\nm=_g(lambda:w.config('mac'))\n" +
      "print(json.dumps({'active':a,'connected':c,'ssid':_g(lambda:w.config('essid')) if c else None," +
      "'ip':i[0] if i else None,'mask':i[1] if i else None,'gateway':i[2] if i else None," +
      "'dns':i[3] if i else None,'rssi':_g(lambda:w.status('rssi')) if c else None," +
      "'mac':binascii.hexlify(m,':').decode() if m else None}))",
    NETWORK_SHAPE,
  );
}

/** Names of the modules the firmware has built in or frozen, from help('modules'). */
export async function firmwareModules(session: WebReplSession): Promise<string[]> {
  const text = await session.execText("help('modules')");
  return text.split(/\r?\n/)
    .filter((line) => !/^Plus any modules/.test(line))
    .flatMap((line) => line.trim().split(/\s+/))
    .filter((name, i, names) => /^[\w./]+$/.test(name) && names.indexOf(name) === i)
    .sort();
}
