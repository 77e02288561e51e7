/** `upydev emu`: serves WebREPL until stopped, printing the address on one line. */
import { assert, assertEquals } from "./helpers/assert.ts";
import { serveEmulator } from "../lib/emulator/commands.ts";
import { recordingIo } from "../lib/ui/io.ts";
import type { ParsedArgs } from "../lib/cli/command.ts";
import { WireClient } from "./helpers/emulator_wire.ts";

function args(options: Record<string, string>): ParsedArgs {
  return { action: "emu", positionals: [], options };
}

Deno.test("emu: prints its address, serves WebREPL, stops when told (SIGINT in the CLI)", async () => {
  const io = recordingIo();
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => stop = resolve);
  const running = serveEmulator(args({ "--port": "0", "--password": "pw1234" }), io, () => stopped);
  while (!io.stdout.includes("\n")) await new Promise((resolve) => setTimeout(resolve, 10));
  const match = io.stdout.match(
    /^Emulated ESP32 serving WebREPL on ws:\/\/127\.0\.0\.1:(\d+) \(Ctrl-C to stop\)\n$/,
  );
  assert(match, io.stdout);
  const client = await WireClient.login(Number(match[1]), "pw1234");
  client.close();
  stop();
  assertEquals(await running, undefined);
});

Deno.test("emu: a missing or too long password is a usage error", async () => {
  const never = () => new Promise<void>(() => {});
  await serveEmulator(args({ "--port": "0" }), recordingIo(), never).then(
    () => assert(false, "should fail"),
    (error) => assertEquals([error.name, error.exitCode], ["UsageError", 2]),
  );
  await serveEmulator(args({ "--port": "0", "--password": "0123456789" }), recordingIo(), never).then(
    () => assert(false, "should fail"),
    (error) => assert(/1 to 9 characters/.test(error.message), error.message),
  );
  await serveEmulator(args({ "--port": "x", "--password": "pw" }), recordingIo(), never).then(
    () => assert(false, "should fail"),
    (error) => assertEquals(error.message, '--port must be a whole number from 0 to 65535 (got "x")'),
  );
});
