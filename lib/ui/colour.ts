/**
 * Colour on a terminal, never in a pipe or a file, and never when NO_COLOR is set (no-color.org).
 */
import type { Io } from "./io.ts";

const CODES = {
  directory: "1;34",
  error: "31",
  warning: "1;31",
  prompt: "1;32",
  path: "1;34",
  ok: "32",
  // Device names in group runs, one colour each in turn.
  device1: "36",
  device2: "35",
  device3: "33",
  device4: "34",
  device5: "32",
  device6: "91",
} as const;

/** Styles that tell the devices of a group run apart. */
export const DEVICE_STYLES = ["device1", "device2", "device3", "device4", "device5", "device6"] as const;

export type Style = keyof typeof CODES;

export type Painter = (style: Style, text: string) => string;

export function painter(io: Io, isTerminal: boolean): Painter {
  if (!isTerminal || io.env("NO_COLOR") !== undefined) return (_style, text) => text;
  return (style, text) => `\x1b[${CODES[style]}m${text}\x1b[0m`;
}
