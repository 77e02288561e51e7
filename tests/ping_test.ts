/**
 * `upydev ping HOST` through the real CLI against the emulated ESP32, over ws and over wss: the device runs the
 * uping code the command sends (nothing installed), the emulator's raw ICMP socket answers loopback and the
 * board itself, other addresses stay silent, names other than localhost do not resolve (no DNS), and with the
 * WLAN down there is no route. Round-trip times vary, so they are masked; everything else is exact.
 */
import { startWssEmulator, type WssEmulator } from "../lib/emulator/shims/wss.ts";
import { openedDevice } from "../lib/actions/action.ts";
import { openDevice } from "../lib/device/connect.ts";
import { Shell } from "../lib/shell/shell.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { assertEquals } from "./helpers/assert.ts";
import { type CliResult, sandbox } from "./helpers/cli.ts";
import { HOST_PASS, hostWithCa, WEBREPL_PASSWORD, wssDeviceFor } from "./helpers/wss.ts";

type Run = (...args: string[]) => Promise<CliResult>;

/** Round-trip times masked as "T". */
function masked(result: CliResult): CliResult {
  return { ...result, stdout: result.stdout.replace(/\d+\.\d{3}/g, "T") };
}

async function pingAgainst(t: Deno.TestContext, run: Run, device: WssEmulator) {
  await t.step("replies from loopback, each streamed, then the summary", async () => {
    assertEquals(masked(await run("ping", "127.0.0.1", "-c", "3", "-i", "0.05")), {
      code: 0,
      stdout: "PING 127.0.0.1 (127.0.0.1): 56 data bytes\n" +
        "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=T ms\n" +
        "64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=T ms\n" +
        "64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=T ms\n" +
        "--- 127.0.0.1 ping statistics ---\n" +
        "3 packets transmitted, 3 packets received, 0% packet loss\n" +
        "round-trip min/avg/max = T/T/T ms\n",
      stderr: "",
    });
  });

  await t.step("localhost resolves; the command leaves no names in the REPL's globals", async () => {
    assertEquals(masked(await run("ping", "localhost", "-c", "1")), {
      code: 0,
      stdout: "PING localhost (127.0.0.1): 56 data bytes\n" +
        "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=T ms\n" +
        "--- localhost ping statistics ---\n" +
        "1 packets transmitted, 1 packets received, 0% packet loss\n" +
        "round-trip min/avg/max = T/T/T ms\n",
      stderr: "",
    });
    assertEquals(
      (await run("exec", "print([n for n in ('ping','_reply','struct') if n in globals()])")).stdout,
      "[]\n",
    );
  });

  await t.step("an address that never answers: a timeout per request, then exit 1", async () => {
    assertEquals(await run("ping", "10.9.9.9", "-c", "2", "-i", "0.05", "-W", "0.2"), {
      code: 1,
      stdout: "PING 10.9.9.9 (10.9.9.9): 56 data bytes\n" +
        "Request timeout for icmp_seq=1\n" +
        "Request timeout for icmp_seq=2\n" +
        "--- 10.9.9.9 ping statistics ---\n" +
        "2 packets transmitted, 0 packets received, 100% packet loss\n",
      stderr: "upydev: no reply from 10.9.9.9\n",
    });
  });

  await t.step("an unknown host is one line", async () => {
    assertEquals(await run("ping", "no-such-host.example", "-c", "1"), {
      code: 1,
      stdout: "",
      stderr: "upydev: unknown host no-such-host.example: the device cannot resolve it\n",
    });
  });

  await t.step("with the WLAN down there is no route: one line", async () => {
    await device.runPython("import network\nnetwork.WLAN(network.STA_IF).active(False)");
    try {
      assertEquals(await run("ping", "10.9.9.9", "-c", "1"), {
        code: 1,
        stdout: "PING 10.9.9.9 (10.9.9.9): 56 data bytes\n",
        stderr: "upydev: the device has no route to 10.9.9.9: is its network up? (see 'upydev net')\n",
      });
    } finally {
      await device.runPython("import network\nnetwork.WLAN(network.STA_IF).active(True)");
    }
  });

  await t.step("bad options are usage errors, before any device round trip", async () => {
    assertEquals(await run("ping", "127.0.0.1", "-c", "0"), {
      code: 2,
      stdout: "",
      stderr: "upydev: -c takes a whole number from 1 up, not '0'\n",
    });
    assertEquals(await run("ping", "127.0.0.1", "-i", "soon"), {
      code: 2,
      stdout: "",
      stderr: "upydev: -i takes seconds, at least 0.01, not 'soon'\n",
    });
  });
}

Deno.test("ping over ws", async (t) => {
  const box = await sandbox();
  const device = await startWssEmulator({ password: "pw", port: 0 });
  const run: Run = (...args) => box.run(...args, "-t", `127.0.0.1:${device.port}`, "-p", "pw");
  try {
    await pingAgainst(t, run, device);
  } finally {
    await device.close();
    await box.cleanup();
  }
});

Deno.test("ping over wss", async (t) => {
  const box = await hostWithCa();
  const { device, port } = await wssDeviceFor(box);
  const run: Run = (...args) =>
    box.run(...args, "-t", `127.0.0.1:${port}`, "-p", `${WEBREPL_PASSWORD}:${HOST_PASS}`);
  try {
    await pingAgainst(t, run, device);
  } finally {
    await device.close();
    await box.cleanup();
  }
});

Deno.test("ping --help names its options", async () => {
  const box = await sandbox();
  try {
    const help = await box.run("ping", "--help");
    assertEquals(help.code, 0);
    for (const line of ["ping HOST [-c N] [-i SECONDS] [-W SECONDS]", "-c N", "-i SECONDS", "-W SECONDS"]) {
      assertEquals(help.stdout.includes(line), true, line);
    }
  } finally {
    await box.cleanup();
  }
});

Deno.test("ping in the shell: the same action, its lines ending in \\r\\n on the raw terminal", async () => {
  const device = await startWssEmulator({ password: "pw", port: 0 });
  try {
    const target = { name: "esp", host: "127.0.0.1", port: device.port, password: "pw", secure: false };
    const io = recordingIo();
    const running = new Shell(openedDevice(await openDevice(target), target), io, {
      name: "esp",
      history: [],
    }).run();
    const waitFor = async (text: string, from = 0) => {
      for (let waited = 0; !io.stdout.slice(from).includes(text); waited += 10) {
        if (waited > 15_000) throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(io.stdout)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await waitFor("esp32@esp:~ $ ");
    const start = io.stdout.length;
    io.feed("ping 127.0.0.1 -c 1\r");
    await waitFor("packet loss", start);
    await waitFor("esp32@esp:~ $ ", start);
    assertEquals(
      masked({ code: 0, stdout: io.stdout.slice(start), stderr: "" }).stdout.split("\r\n").slice(1, -1),
      [
        "PING 127.0.0.1 (127.0.0.1): 56 data bytes",
        "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=T ms",
        "--- 127.0.0.1 ping statistics ---",
        "1 packets transmitted, 1 packets received, 0% packet loss",
        "round-trip min/avg/max = T/T/T ms",
      ],
    );
    io.feed("\x18");
    await running;
  } finally {
    await device.close();
  }
});
