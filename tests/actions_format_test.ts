import { columns, formatBytes, plainLineEnds } from "../lib/actions/format.ts";
import { formatDuration } from "../lib/actions/device_actions.ts";
import { printable } from "../lib/ui/terminal_text.ts";
import { painter } from "../lib/ui/colour.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { assertEquals } from "./helpers/assert.ts";

Deno.test("printable escapes C0, DEL, C1 and bidi overrides and leaves other text alone", () => {
  assertEquals(
    printable("\x1b[2J\x1b]0;t\x07\n\t\x7f\x9b.py"),
    "\\x1b[2J\\x1b]0;t\\x07\\x0a\\x09\\x7f\\x9b.py",
  );
  assertEquals(printable("evil\u202etxt.py"), "evil\\u202etxt.py");
  assertEquals(printable("tést ✓ 日本.py"), "tést ✓ 日本.py");
});

Deno.test("columns fill down then across and fit the line", () => {
  const items = ["a", "bbb", "cc", "dddd", "e"].map((text) => ({ width: text.length, text }));
  assertEquals(columns(items, 80), "a     bbb   cc    dddd  e\n");
  assertEquals(columns(items, 12), "a     dddd\nbbb   e\ncc\n");
  assertEquals(columns(items, 1), "a\nbbb\ncc\ndddd\ne\n");
  assertEquals(columns([], 80), "");
});

Deno.test("formatBytes and formatDuration", () => {
  assertEquals([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(3 << 20)], [
    "0 B",
    "1023 B",
    "1.5 KB",
    "3.0 MB",
  ]);
  assertEquals([formatDuration(0), formatDuration(3_725_000), formatDuration(90_061_000)], [
    "00:00:00",
    "01:02:05",
    "1 day, 01:01:01",
  ]);
});

Deno.test("plainLineEnds turns CRLF into LF across chunk boundaries and keeps lone CRs", () => {
  const chunks: string[] = [];
  const write = plainLineEnds((bytes) => chunks.push(new TextDecoder().decode(bytes)));
  const encoder = new TextEncoder();
  for (const part of ["a\r", "\nb\r\n", "50%\r60%\r", "\n"]) write(encoder.encode(part));
  assertEquals(chunks.join(""), "a\nb\n50%\r60%\n");
});

Deno.test("painter colours only a terminal without NO_COLOR", () => {
  assertEquals(painter(recordingIo(), true)("directory", "lib/"), "\x1b[1;34mlib/\x1b[0m");
  assertEquals(painter(recordingIo(), false)("directory", "lib/"), "lib/");
  assertEquals(painter(recordingIo({ env: { NO_COLOR: "1" } }), true)("directory", "lib/"), "lib/");
});
