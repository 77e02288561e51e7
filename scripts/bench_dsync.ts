/**
 * dsync against the emulated device, whole process (`deno run main.ts dsync …`), on a 100-file, 1 MB tree in
 * ten directories: the first sync (device emptied before each run) and a sync with nothing to do. The first
 * sync is set beside the bare WA/WB PUTs of the same files in one session, the floor it is bound by.
 *
 *   deno run -A scripts/bench_dsync.ts [--runs N]
 *
 * Target (issue 12): the no-change sync in at most 1 s, median of the runs; exit 1 when it is missed.
 */
import { parseArgs } from "node:util";
import { openDevice } from "../lib/device/connect.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { DeviceFiles } from "../lib/ops/files.ts";
import { WaWbTransfer } from "../lib/webrepl/transfer.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const runs = Math.max(1, Number(values.runs));
const PASSWORD = "bench";
const FILES = 100;
const TREE_BYTES = 1 << 20;
const NO_CHANGE_TARGET_MS = 1000;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** 100 files of about 10 KB in ten directories, two levels deep; Python-like text, so not all alike. */
async function makeTree(root: string): Promise<string[]> {
  const paths: string[] = [];
  const size = Math.floor(TREE_BYTES / FILES);
  for (let i = 0; i < FILES; i++) {
    const path = `pkg${i % 10}/${i % 3 === 0 ? "sub/" : ""}mod${i}.py`;
    await Deno.mkdir(`${root}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
    const line = `value_${i} = ${i * 7919} # ${"abcdefghij".repeat(i % 5 + 1)}\n`;
    await Deno.writeTextFile(`${root}/${path}`, line.repeat(Math.ceil(size / line.length)).slice(0, size));
    paths.push(path);
  }
  return paths;
}

const work = await Deno.makeTempDir({ prefix: "upydev-bench-dsync-" });
const emulator = await startEmulator({ port: 0, password: PASSWORD, flashSize: 8 << 20 });
const main = new URL("../main.ts", import.meta.url).pathname;

/** One whole `upydev dsync` process; its wall time in ms. */
async function dsync(expectLast: RegExp): Promise<number> {
  const start = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      main,
      "dsync",
      "tree",
      "--to",
      "/bench",
      "-t",
      `127.0.0.1:${emulator.port}`,
      "-p",
      PASSWORD,
    ],
    cwd: work,
    env: { XDG_CONFIG_HOME: `${work}/config`, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  const text = new TextDecoder().decode(output.stdout).trimEnd();
  const last = text.slice(text.lastIndexOf("\n") + 1);
  if (!output.success || !expectLast.test(last)) {
    throw new Error(
      `dsync failed (exit ${output.code}): ${last}\n${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return ms;
}

/** A short in-process session for set-up: emptying the device, and the bare PUT floor. */
async function withSession<T>(use: (files: DeviceFiles) => Promise<T>): Promise<T> {
  const device = await openDevice({
    host: "127.0.0.1",
    port: emulator.port,
    password: PASSWORD,
    secure: false,
  });
  try {
    return await use(new DeviceFiles(device.session));
  } finally {
    await device.close();
  }
}

const wipe = () =>
  withSession(async (files) => {
    if (await files.stat("/bench")) await files.rm("/bench", { recursive: true });
  });

try {
  const paths = await makeTree(`${work}/tree`);
  const firstSync: number[] = [];
  for (let i = 0; i < runs; i++) {
    await wipe();
    firstSync.push(await dsync(new RegExp(`^${FILES} new files, 0 files changed, 0 files deleted$`)));
  }
  const noChange: number[] = [];
  for (let i = 0; i < runs; i++) {
    noChange.push(await dsync(/^0 new files, 0 files changed, 0 files deleted$/));
  }
  await wipe();
  // The floor: the same bytes as bare WA/WB PUTs (no verification, no rename) in one open session.
  const floor = await withSession(async (files) => {
    await files.mkdir("/floor");
    const wawb = new WaWbTransfer(files.session);
    const start = performance.now();
    for (const [i, path] of paths.entries()) {
      await wawb.put(`/floor/f${i}`, await Deno.readFile(`${work}/tree/${path}`));
    }
    const ms = performance.now() - start;
    await files.rm("/floor", { recursive: true });
    return ms;
  });

  const row = (name: string, value: string) => console.log(`  ${name.padEnd(48)} ${value}`);
  const total = (await Promise.all(paths.map((path) => Deno.stat(`${work}/tree/${path}`)))).reduce(
    (sum, stat) => sum + stat.size,
    0,
  );
  console.log(`\ndsync, whole process, ${FILES} files / ${total} bytes, median of ${runs} runs`);
  const med = median(noChange);
  row(
    "no-change sync",
    `${med.toFixed(0).padStart(6)} ms  (target ≤ ${NO_CHANGE_TARGET_MS} ms: ${
      (med / NO_CHANGE_TARGET_MS).toFixed(2)
    }×)`,
  );
  const first = median(firstSync);
  row("first sync", `${first.toFixed(0).padStart(6)} ms`);
  row(
    "  bare WA/WB PUTs of the same files, in session",
    `${floor.toFixed(0).padStart(6)} ms  (first sync ${(first / floor).toFixed(2)}× that)`,
  );
  row("runs (no-change)", noChange.map((ms) => ms.toFixed(0)).join(" "));
  row("runs (first sync)", firstSync.map((ms) => ms.toFixed(0)).join(" "));
  if (med > NO_CHANGE_TARGET_MS) {
    console.error(`no-change dsync missed its target: ${med.toFixed(0)} ms > ${NO_CHANGE_TARGET_MS} ms`);
    Deno.exitCode = 1;
  }
} finally {
  await emulator.close();
  await Deno.remove(work, { recursive: true });
}
