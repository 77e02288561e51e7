/**
 * WebREPL throughput and latency against the emulated device, over loopback and through a loopback proxy that
 * delays every chunk by 5 ms each way (a WiFi-like 10 ms round trip).
 *
 *   deno run -A scripts/bench_webrepl.ts [--size BYTES] [--runs N]
 */
import { parseArgs } from "node:util";
import { openDevice } from "../lib/device/connect.ts";
import { DeviceFiles } from "../lib/ops/files.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { ExecTransfer } from "../lib/webrepl/exec_transfer.ts";
import { WaWbTransfer } from "../lib/webrepl/transfer.ts";
import { WebReplSession } from "../lib/webrepl/session.ts";
import { connectTcp } from "../lib/transport/tcp.ts";
import { WsClient } from "../lib/ws/client.ts";

const { values } = parseArgs({
  options: { size: { type: "string", default: String(256 * 1024) }, runs: { type: "string", default: "20" } },
});
const size = Number(values.size);
const runs = Number(values.runs);
const PASSWORD = "bench";

/** Forwards TCP both ways, delivering each chunk `delayMs` after it was read, in order. */
function delayProxy(upstreamPort: number, delayMs: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  const pump = async (from: Deno.Conn, to: Deno.Conn) => {
    const queue: { at: number; bytes: Uint8Array }[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const sender = (async () => {
      while (true) {
        while (queue.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
        if (queue.length === 0) break;
        const { at, bytes } = queue.shift()!;
        const wait = at - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        try {
          for (let offset = 0; offset < bytes.length;) offset += await to.write(bytes.subarray(offset));
        } catch {
          break;
        }
      }
      try {
        to.closeWrite();
      } catch {
        // already closed
      }
    })();
    const buffer = new Uint8Array(65536);
    try {
      while (true) {
        const count = await from.read(buffer);
        if (count === null) break;
        queue.push({ at: performance.now() + delayMs, bytes: buffer.slice(0, count) });
        wake?.();
      }
    } catch {
      // a reset ends the pump like an EOF
    }
    ended = true;
    wake?.();
    await sender;
  };
  const serving = (async () => {
    for await (const client of listener) {
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      connections.push(client, upstream);
      Promise.all([pump(client, upstream), pump(upstream, client)]).finally(() => {
        for (const conn of [client, upstream]) {
          try {
            conn.close();
          } catch {
            // closed by the other pump
          }
        }
      });
    }
  })();
  return {
    port: listener.addr.port,
    async close() {
      listener.close();
      await serving.catch(() => {});
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function measure(label: string, port: number): Promise<void> {
  const device = await openDevice(
    { host: "127.0.0.1", port, password: PASSWORD, secure: false },
  );
  const files = new DeviceFiles(device.session);
  try {
    const session = device.session;
    await session.exec("pass"); // enter the raw REPL, probe raw-paste
    const latencies: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await session.exec("print(1)");
      latencies.push(performance.now() - start);
    }
    const data = new Uint8Array(size);
    for (let offset = 0; offset < size; offset += 65536) {
      crypto.getRandomValues(data.subarray(offset, Math.min(size, offset + 65536)));
    }
    const wawb = new WaWbTransfer(session);
    const kbps = (bytes: number, ms: number) => (bytes / 1024 / (ms / 1000)).toFixed(1).padStart(8);
    const timed = async (run: () => Promise<unknown>) => {
      const start = performance.now();
      await run();
      return performance.now() - start;
    };
    console.log(`\n${label} (${size} bytes, ${device.info.kind})`);
    const rows = { push: ([name, value]: [string, string]) => console.log(`  ${name.padEnd(42)} ${value}`) };
    rows.push(["exec print(1) round trip (median)", `${median(latencies).toFixed(2).padStart(8)} ms`]);
    rows.push(["WA/WB PUT", `${kbps(size, await timed(() => wawb.put("bench.bin", data)))} KB/s`]);
    for (const pipeline of [1, 4, 16, 64]) {
      const transfer = new WaWbTransfer(session, { getPipeline: pipeline });
      rows.push([
        `WA/WB GET, ${pipeline} pull(s) in flight`,
        `${kbps(size, await timed(() => transfer.get("bench.bin", size)))} KB/s`,
      ]);
    }
    rows.push([
      "verified put (temp + SHA-256 + rename)",
      `${kbps(size, await timed(() => files.put(data, "/bench2.bin")))} KB/s`,
    ]);
    const exec = new ExecTransfer(session);
    rows.push([
      "exec GET (base64 stream)",
      `${kbps(size, await timed(() => exec.get("bench.bin", size)))} KB/s`,
    ]);
    await session.exec("import os\nos.remove('bench.bin')\nos.remove('bench2.bin')");
  } finally {
    await device.close();
  }
}

/** GET as the real-firmware figures were taken (no ACK pings), next to those figures. */
async function compareWithFirmware(port: number): Promise<void> {
  const stream = await connectTcp("127.0.0.1", port, { timeoutMs: 10_000 });
  const session = await WebReplSession.login(await WsClient.connect(stream, { ackPokes: false }), PASSWORD);
  try {
    // 1 MiB, so that the first round's delayed ACK does not dominate, as in the firmware's figures.
    const data = new Uint8Array(1 << 20);
    for (let offset = 0; offset < data.length; offset += 65536) {
      crypto.getRandomValues(data.subarray(offset, offset + 65536));
    }
    // One pull in flight waits out the ACK stall per chunk: 8 KiB is enough to see it.
    await new WaWbTransfer(session).put("small.bin", data.subarray(0, 8192));
    await new WaWbTransfer(session).put("big.bin", data);
    console.log("\nloopback, no ACK pings (how the real-firmware figures were taken)");
    for (const [pipeline, real] of [[1, 5.7], [16, 3901], [64, 4710]]) {
      const [file, bytes] = pipeline === 1 ? ["small.bin", 8192] : ["big.bin", data.length];
      const transfer = new WaWbTransfer(session, { getPipeline: pipeline });
      const start = performance.now();
      await transfer.get(file, bytes);
      const rate = bytes / 1024 / ((performance.now() - start) / 1000);
      console.log(
        `  ${`WA/WB GET, ${pipeline} pull(s) in flight`.padEnd(42)} ${rate.toFixed(1).padStart(8)} KB/s` +
          `   real firmware ${real} KB/s: ${(rate / real).toFixed(2)}x`,
      );
    }
    await session.exec("import os\nos.remove('small.bin')\nos.remove('big.bin')");
  } finally {
    await session.close();
  }
}

const emulator = await startEmulator({ port: 0, password: PASSWORD });
try {
  await measure("loopback", emulator.port);
  await compareWithFirmware(emulator.port);
  const proxy = delayProxy(emulator.port, 5);
  try {
    await measure("loopback + 5 ms each way", proxy.port);
  } finally {
    await proxy.close();
  }
} finally {
  await emulator.close();
}
