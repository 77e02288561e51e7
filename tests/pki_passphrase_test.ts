import { assertEquals, assertRejects } from "./helpers/assert.ts";
import { UserError } from "../lib/cli/errors.ts";
import { type RecordingIo, recordingIo } from "../lib/ui/io.ts";
import { readConfirmation, readNewPassphrase, readPassphrase } from "../lib/ui/passphrase.ts";

/** A terminal Io that records raw-mode switches. */
function terminal(): RecordingIo & { rawModes: boolean[] } {
  const io = recordingIo({ stdinIsTerminal: true });
  const rawModes: boolean[] = [];
  return Object.assign(io, { rawModes, setRaw: (raw: boolean) => void rawModes.push(raw) });
}

Deno.test("hidden input: raw mode on and off, no echo, Backspace edits, Enter ends", async () => {
  const io = terminal();
  io.feed("ab\x7fc");
  io.feed("d\r");
  assertEquals(await readPassphrase(io, "Passphrase: "), "acd");
  assertEquals(io.rawModes, [true, false]);
  assertEquals(io.stderr, "Passphrase: \n");
  assertEquals(io.stdout, "");
});

Deno.test("hidden input: Backspace removes a whole UTF-8 character", async () => {
  const io = terminal();
  io.feed("xé\x7f\x08ñ\n");
  assertEquals(await readPassphrase(io, "> "), "ñ");
});

Deno.test("hidden input: Ctrl-C cancels with exit code 130 and leaves raw mode", async () => {
  const io = terminal();
  io.feed("secr\x03");
  const error = await assertRejects(() => readPassphrase(io, "> "), UserError, "cancelled");
  assertEquals((error as UserError).exitCode, 130);
  assertEquals(io.rawModes, [true, false]);
});

Deno.test("hidden input: Ctrl-D ends a typed passphrase and cancels an empty one", async () => {
  const typed = terminal();
  typed.feed("abc\x04");
  assertEquals(await readPassphrase(typed, "> "), "abc");
  const empty = terminal();
  empty.feed("\x04");
  assertEquals(
    ((await assertRejects(() => readPassphrase(empty, "> "), UserError)) as UserError).exitCode,
    130,
  );
});

Deno.test("piped input: one line per prompt, even when both lines arrive in one chunk", async () => {
  const io = recordingIo();
  io.feed("first pass\r\nsecond pass\n");
  assertEquals(await readPassphrase(io, "1: "), "first pass");
  assertEquals(await readPassphrase(io, "2: "), "second pass");
  io.endInput();
  await assertRejects(() => readPassphrase(io, "3: "), UserError, "standard input ended");
});

Deno.test("a new passphrase is asked twice, must match and have 4 characters", async () => {
  const ok = recordingIo();
  ok.feed("hunter22\nhunter22\n");
  assertEquals(await readNewPassphrase(ok, "HOST key"), "hunter22");
  assertEquals(ok.stderr, "Enter new passphrase for HOST key: Verify passphrase for HOST key: ");
  const mismatch = recordingIo();
  mismatch.feed("hunter22\nhunter23\n");
  await assertRejects(() => readNewPassphrase(mismatch, "HOST key"), UserError, "do not match");
  const short = recordingIo();
  short.feed("abc\n");
  await assertRejects(() => readNewPassphrase(short, "HOST key"), UserError, "shorter than 4");
});

Deno.test("confirmation: y/yes is yes, anything else no", async () => {
  for (const [answer, expected] of [["y\n", true], ["YES\n", true], ["n\n", false], ["\n", false]] as const) {
    const io = recordingIo();
    io.feed(answer);
    assertEquals(await readConfirmation(io, "sure? "), expected);
  }
});
