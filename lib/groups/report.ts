/**
 * The result of a command on one device, and the `--json` documents built from it. The keys are part of the
 * interface scripts rely on (README, "--json"): add keys, never rename or remove them.
 */
import type { DeviceTarget } from "../device/target.ts";
import { targetPort } from "../device/target.ts";
import { oneLine, UserError } from "../cli/errors.ts";

export type DeviceStatus = "ok" | "failed" | "interrupted";

export interface DeviceReport {
  /** Registry name; the address for a device given with -t. */
  device: string;
  /** ws://HOST:PORT or wss://HOST:PORT. */
  address: string;
  status: DeviceStatus;
  /** Wall time on this device (connect included); absent when it never started. */
  ms?: number;
  /** The action's result as data (null when it has none). */
  result?: unknown;
  /** What the action printed (device output for exec and run), as text. */
  output?: string;
  /** One line, as the CLI prints it for a single device. */
  error?: string;
  /** The error's exit code (2 usage, 130 interrupted, 1 otherwise). */
  exitCode?: number;
}

export function deviceLabel(target: DeviceTarget): string {
  return target.name ?? target.host;
}

export function deviceAddress(target: DeviceTarget): string {
  return `${target.secure ? "wss" : "ws"}://${target.host}:${targetPort(target)}`;
}

/** A device's failure as the report shows it; anything but a UserError is a bug and says so. */
export function describeFailure(error: unknown): { error: string; exitCode: number } {
  if (error instanceof UserError) return { error: oneLine(error.message), exitCode: error.exitCode };
  return {
    error: `internal error (please report it): ${oneLine(String((error as Error)?.message ?? error))}`,
    exitCode: 70,
  };
}

/** The document of a group run: `ok` only when every device succeeded. */
export function groupDocument(reports: DeviceReport[]): { ok: boolean; devices: JsonReport[] } {
  return { ok: reports.every((report) => report.status === "ok"), devices: reports.map(jsonReport) };
}

/** A device's `--json` entry: every key always present, null when empty, so scripts need no existence checks. */
export interface JsonReport {
  device: string;
  address: string;
  ok: boolean;
  status: DeviceStatus;
  ms: number | null;
  result: unknown;
  output: string | null;
  error: string | null;
}

export function jsonReport(report: DeviceReport): JsonReport {
  return {
    device: report.device,
    address: report.address,
    ok: report.status === "ok",
    status: report.status,
    ms: report.ms === undefined ? null : Math.round(report.ms),
    result: report.result ?? null,
    output: report.output ?? null,
    error: report.error ?? null,
  };
}

/** The one JSON document a `--json` command writes to stdout. */
export function jsonDocument(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
