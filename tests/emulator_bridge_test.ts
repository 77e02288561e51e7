/** The synchronous Python → main-thread bridge and Worker plugins (what the TLS shims build on). */
import { assert, assertEquals } from "./helpers/assert.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import type { HostValue } from "../lib/emulator/protocol.ts";

const BIG = 1536 * 1024;

function bigPayload(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 13) & 0xff;
  return bytes;
}

function digest(bytes: Uint8Array): string {
  let sum = 0;
  for (const byte of bytes) sum = (sum * 31 + byte) % 1000003;
  return `${bytes.length}:${sum}`;
}

async function withPluginEmulator(body: (emu: Awaited<ReturnType<typeof startEmulator>>) => Promise<void>) {
  const emu = await startEmulator({
    password: "secret",
    port: 0,
    workerModules: [new URL("./helpers/emulator_bridge_plugin.ts", import.meta.url)],
    hostCalls: {
      upper: async (payload: HostValue) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return String(payload).toUpperCase();
      },
      big: (payload: HostValue) => bigPayload(payload as number),
      fail: () => {
        throw new Error("handler refused");
      },
    },
  });
  try {
    await body(emu);
  } finally {
    await emu.close();
  }
}

Deno.test("bridge: Python blocks on an async main-thread handler and gets its result", async () => {
  await withPluginEmulator(async (emu) => {
    assertEquals(await emu.runPython("import bridged\nprint(bridged.shout('abc'))"), {
      output: "ABC!\r\n",
      error: undefined,
    });
  });
});

Deno.test("bridge: a reply larger than the shared buffer arrives whole, in chunks", async () => {
  await withPluginEmulator(async (emu) => {
    const { output } = await emu.runPython(`import _bridge_test\nprint(_bridge_test.big_digest(${BIG}))`);
    assertEquals(output, `${digest(bigPayload(BIG))}\r\n`);
  });
});

Deno.test("bridge: a failing handler raises in Python with its message", async () => {
  await withPluginEmulator(async (emu) => {
    const { output } = await emu.runPython(
      "import bridged\ntry:\n    bridged.fail()\nexcept OSError as e:\n    print('caught', e)",
    );
    assertEquals(output, "caught handler refused\r\n");
  });
});

Deno.test("plugins: host messages reach the Worker, and plugins are installed again after a reset", async () => {
  await withPluginEmulator(async (emu) => {
    const received: string[] = [];
    let wake: () => void = () => {};
    const sink = {
      write: (bytes: Uint8Array) => {
        received.push(new TextDecoder().decode(bytes));
        wake();
      },
      drop: () => {},
    };
    emu.core.attachTerminal(sink);
    emu.core.postToWorker("hello");
    while (!received.join("").includes("host says hello")) {
      await new Promise<void>((resolve) => wake = resolve);
    }
    emu.core.detachTerminal(sink);

    const reasons: string[] = [];
    emu.core.onReboot((reason) => reasons.push(reason));
    await emu.runPython("x_before_reset = 1");
    emu.core.reset();
    await emu.core.ready;
    assertEquals(reasons, ["hard"]);
    const after = await emu.runPython(
      "import bridged\nprint(bridged.shout('z'), 'x_before_reset' in globals())",
    );
    assertEquals(after.output, "Z! False\r\n");
    assert(!emu.core.terminalAttached, "the reset left the terminal slot free");
  });
});
