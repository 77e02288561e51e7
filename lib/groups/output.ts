/**
 * What a group run shows: each device's lines behind its name (`esp1 | …`), names padded to one width and
 * coloured on a terminal so interleaved parallel output stays readable; then one summary table.
 */
import { DEVICE_STYLES, type Painter } from "../ui/colour.ts";
import { printable } from "../ui/terminal_text.ts";
import type { DeviceReport } from "./report.ts";

/** Splits a stream of text and bytes into whole lines, each written with `prefix` in front. */
export class PrefixedLines {
  #pending = "";
  readonly #decoder = new TextDecoder();

  constructor(readonly write: (text: string) => void, readonly prefix: string) {}

  text(text: string): void {
    const lines = (this.#pending + text).split("\n");
    this.#pending = lines.pop()!;
    if (lines.length > 0) this.write(lines.map((line) => `${this.prefix}${line}\n`).join(""));
  }

  bytes(bytes: Uint8Array): void {
    this.text(this.#decoder.decode(bytes, { stream: true }));
  }

  /** Ends an unfinished last line (the device printed no final newline). */
  flush(): void {
    const rest = this.#pending + this.#decoder.decode();
    this.#pending = "";
    if (rest !== "") this.write(`${this.prefix}${rest}\n`);
  }
}

/** `name | `, padded to the longest name; coloured per device on a terminal. */
export function devicePrefixes(names: string[], paint: Painter): string[] {
  const width = Math.max(...names.map((name) => name.length));
  return names.map((name, i) =>
    `${paint(DEVICE_STYLES[i % DEVICE_STYLES.length], printable(name).padEnd(width))} | `
  );
}

/** The table that ends a text-mode group run. */
export function summaryTable(reports: DeviceReport[], paint: Painter): string {
  const rows = reports.map((report) => ({
    device: printable(report.device),
    status: report.status,
    time: report.ms === undefined ? "-" : `${(report.ms / 1000).toFixed(2)} s`,
    error: report.error === undefined ? "" : printable(report.error),
  }));
  const header = { device: "device", status: "status", time: "time", error: "error" };
  const width = (key: "device" | "status" | "time") =>
    Math.max(header[key].length, ...rows.map((row) => row[key].length));
  const [device, status, time] = [width("device"), width("status"), width("time")];
  const line = (row: typeof header, statusText = row.status) =>
    `${row.device.padEnd(device)}  ${statusText}${" ".repeat(status - row.status.length)}  ` +
    `${row.time.padStart(time)}  ${row.error}`.trimEnd() + "\n";
  const ok = reports.filter((report) => report.status === "ok").length;
  return line(header) +
    rows.map((row) => line(row, paint(row.status === "ok" ? "ok" : "error", row.status))).join("") +
    `${ok} of ${reports.length} devices succeeded\n`;
}
