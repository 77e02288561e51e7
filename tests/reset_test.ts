/** `upydev reset`: the device reboots, runs boot.py again and drops the connection; upydev reports it. */
import { assertEquals } from "./helpers/assert.ts";
import { sandbox } from "./helpers/cli.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";

Deno.test("reset (soft and --hard) reboots the device, which runs boot.py again", async () => {
  const emu = await startEmulator({ password: "pw", port: 0 });
  const box = await sandbox();
  try {
    const device = ["-t", `127.0.0.1:${emu.port}`, "-p", "pw"];
    const boot = "with open('/boots', 'a') as f:\n    f.write('b')\n";
    await Deno.writeTextFile(`${box.cwd}/boot.py`, boot);
    assertEquals((await box.run("put", "boot.py", "/boot.py", ...device)).code, 0);

    const soft = await box.run("reset", ...device);
    assertEquals([soft.code, soft.stdout], [0, `soft reset: 127.0.0.1:${emu.port} closed the connection\n`]);
    const hard = await box.run("reset", "--hard", ...device);
    assertEquals([hard.code, hard.stdout], [0, `hard reset: 127.0.0.1:${emu.port} closed the connection\n`]);

    const boots = await box.run("exec", ...device, "print(open('/boots').read())");
    assertEquals(boots.stdout.trim(), "bb");
  } finally {
    await box.cleanup();
    await emu.close();
  }
});
