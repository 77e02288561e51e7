/**
 * Group runs: the wall time of one whole `exec` (connect, login, run, close) on one emulated device, against
 * the same on three devices in parallel (`-@ e1 e2 e3`) and one after another (`--jobs 1`). The CLI runs
 * in-process, the emulators run in this process's Workers: on a small machine the devices compete with the
 * host for the CPU, which real boards do not.
 *
 *   deno run -A scripts/bench_groups.ts [--runs N]
 */
import "npm:reflect-metadata@0.2.2";
import { parseArgs } from "node:util";
import { runCli } from "../lib/cli/run.ts";
import { commandTable } from "../lib/cli/table.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { recordingIo } from "../lib/ui/io.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "15" } } });
const runs = Number(values.runs);

const home = await Deno.makeTempDir({ prefix: "upydev-bench-groups-" });
const env = { HOME: home, USER: "bench" };
const emulators = await Promise.all(
  [1, 2, 3].map((n) =>
    startEmulator({ port: 0, password: "bench", uniqueId: Uint8Array.of(0x24, 0x0a, 0xc4, 0, 0, n) })
  ),
);

async function upydev(...argv: string[]): Promise<void> {
  const io = recordingIo({ env, cwd: home });
  const code = await runCli(argv, io, commandTable());
  if (code !== 0) throw new Error(`upydev ${argv.join(" ")} failed (${code}): ${io.stderr}`);
}

async function medianMs(argv: string[]): Promise<number> {
  await upydev(...argv); // warm-up: module loading, JIT, the device's first import
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await upydev(...argv);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

try {
  for (const [i, emulator] of emulators.entries()) {
    await upydev("config", "-t", `127.0.0.1:${emulator.port}`, "-p", "bench", "-@", `e${i + 1}`, "-gg");
  }
  const code = "print(1)";
  const one = await medianMs(["exec", code, "-@", "e1"]);
  const parallel = await medianMs(["exec", code, "-@", "e1", "e2", "e3"]);
  const sequential = await medianMs(["exec", code, "-@", "e1", "e2", "e3", "--jobs", "1"]);
  console.log(`exec "${code}", whole command over loopback ws, median of ${runs} runs:`);
  console.log(`  1 device                ${one.toFixed(1).padStart(7)} ms`);
  console.log(
    `  3 devices in parallel   ${parallel.toFixed(1).padStart(7)} ms  (${
      (parallel / one).toFixed(2)
    }x one device)`,
  );
  console.log(
    `  3 devices, --jobs 1     ${sequential.toFixed(1).padStart(7)} ms  (${
      (sequential / one).toFixed(2)
    }x one device)`,
  );
} finally {
  await Promise.all(emulators.map((emulator) => emulator.close()));
  await Deno.remove(home, { recursive: true });
}
