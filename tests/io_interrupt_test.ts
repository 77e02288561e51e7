import { assertEquals } from "./helpers/assert.ts";
import { InterruptedError, recordingIo } from "../lib/ui/io.ts";

Deno.test("io: Ctrl-C reaches every registered handler until it is removed", () => {
  const io = recordingIo();
  const calls: string[] = [];
  const removeFirst = io.onInterrupt(() => calls.push("first"));
  const removeSecond = io.onInterrupt(() => calls.push("second"));
  io.interrupt();
  removeFirst();
  io.interrupt();
  removeSecond();
  removeSecond();
  io.interrupt();
  assertEquals(calls, ["first", "second", "second"]);
});

Deno.test("io: an interrupted command ends with one line and exit code 130", () => {
  const error = new InterruptedError();
  assertEquals([error.message, error.exitCode], ["interrupted", 130]);
});
