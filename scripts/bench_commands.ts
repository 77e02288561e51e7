/**
 * Whole commands as a user runs them: each figure is the median wall time of separate `upydev` processes
 * started through the installed entry point (scripts/upydev), printed next to the same work done inside one
 * session and the ratio to the target of issue 14.
 *
 *   deno run -A scripts/bench_commands.ts [--runs N] [--size BYTES] [--target NAME|ADDR [--password PASS]]
 *
 * Without --target it serves its own emulated ESP32 (ws, and wss from the device's wss_repl.py) in a temporary
 * home set up the way the demo does it. With --target it measures that device from the user's own registry
 * (NAME) or address (ADDR with --password PASS[:PASSPHRASE]); only the rows of the device's scheme are run.
 */
import { parseArgs } from "node:util";
import { runCli } from "../lib/cli/run.ts";
import { commandTable } from "../lib/cli/table.ts";
import { UserError } from "../lib/cli/errors.ts";
import { userConfigDir } from "../lib/config/registry.ts";
import { resolveDevice } from "../lib/config/resolve.ts";
import { Registry } from "../lib/config/registry.ts";
import { connectTarget } from "../lib/device/use_device.ts";
import type { DeviceTarget } from "../lib/device/target.ts";
import { startWssEmulator, type WssEmulator } from "../lib/emulator/shims/wss.ts";
import { DeviceFiles } from "../lib/ops/files.ts";
import { processIo, recordingIo } from "../lib/ui/io.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    size: { type: "string", default: String(1024 * 1024) },
    target: { type: "string" },
    password: { type: "string" },
  },
});
const RUNS = Math.max(1, Number(values.runs));
const SIZE = Number(values.size);
const ROOT = new URL("../", import.meta.url).pathname;
const ENTRY = `${ROOT}scripts/upydev`;
const BENCH_FILE = "/bench_1m.bin";

/** Targets of issue 14, in seconds. */
const TARGETS = { help: 0.12, exec: 0.35, kept: 0.15, putWss: 0.27, putWs: 0.35, get: 0.5 };

interface Device {
  /** What selects it on the command line. */
  select: string[];
  /** The same device for an in-process session. */
  target: DeviceTarget;
  scheme: "ws" | "wss";
}

interface Setting {
  env: Record<string, string>;
  cwd: string;
  configDir: string;
  devices: Device[];
  close(): Promise<void>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** One `upydev` process through the installed entry point; its wall time in seconds. */
async function timeCommand(setting: Setting, args: string[], extraEnv: Record<string, string> = {}) {
  const started = performance.now();
  const output = await new Deno.Command(ENTRY, {
    args,
    cwd: setting.cwd,
    env: { ...setting.env, ...extraEnv },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`upydev ${args.join(" ")} failed (exit ${output.code}): ${stderr}`);
  }
  return seconds;
}

async function medianOf(run: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await run());
  return median(times);
}

/** Milliseconds of `work` inside one open session (after a first exec, as a command would have done). */
async function inSession(setting: Setting, device: Device) {
  const io = recordingIo({ env: setting.env, cwd: setting.cwd });
  const connection = await connectTarget({ io, configDir: setting.configDir }, device.target);
  try {
    const files = new DeviceFiles(connection.session);
    await connection.session.exec("pass");
    const time = async (work: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await work();
        times.push(performance.now() - started);
      }
      return median(times) / 1000;
    };
    const data = randomBytes(SIZE);
    return {
      exec: await time(() => connection.session.exec("print(1)")),
      put: await time(() => files.put(data, BENCH_FILE)),
      get: await time(() => files.get(BENCH_FILE)),
    };
  } finally {
    await connection.close();
  }
}

function randomBytes(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65536) {
    crypto.getRandomValues(data.subarray(offset, Math.min(size, offset + 65536)));
  }
  return data;
}

const WEBREPL_PASSWORD = "bench";
const CA_PASSPHRASE = "bench CA passphrase";
const HOST_PASSPHRASE = "bench-host-passphrase";

/** The bench's own device: an emulated ESP32 serving ws and (from boot.py) wss, set up as the demo does. */
async function ownEmulator(): Promise<Setting> {
  const home = await Deno.makeTempDir({ prefix: "upydev-bench-" });
  const cwd = `${home}/project`;
  await Deno.mkdir(cwd);
  const env: Record<string, string> = {
    HOME: home,
    USER: Deno.env.get("USER") ?? "bench",
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    UPYDEV_CA_PASSPHRASE: CA_PASSPHRASE,
    UPYDEV_PASSPHRASE: HOST_PASSPHRASE,
    NO_COLOR: "1",
  };
  const io = recordingIo({ env, cwd });
  const table = commandTable();
  const run = async (...line: string[]) => {
    const code = await runCli(line, io, table);
    if (code !== 0) throw new Error(`setup step failed: upydev ${line.join(" ")}\n${io.stderr}`);
  };
  let emulator: WssEmulator | undefined;
  try {
    emulator = await startWssEmulator({ password: WEBREPL_PASSWORD, port: 0, flashSize: 4 * 1024 * 1024 });
    const ws = `127.0.0.1:${emulator.port}`;
    await run("config", "-t", ws, "-p", WEBREPL_PASSWORD, "-@", "bench_ws", "-gg");
    await run("update_upyutils", "-@", "bench_ws");
    await run("kg", "ssl", "CA", "-tfkey", "-@", "bench_ws");
    await run("kg", "ssl", "host");
    await run("kg", "ssl", "-tfkey", "-@", "bench_ws", "--insecure-transfer");
    await Deno.writeTextFile(`${cwd}/boot.py`, "import wss_repl\nwss_repl.start(ssl=True)\n");
    await run("put", "boot.py", "/boot.py", "-@", "bench_ws");
    await run("reset", "-@", "bench_ws");
    const wss = `127.0.0.1:${await emulator.whenListening()}`;
    await run("config", "-t", wss, "-p", `${WEBREPL_PASSWORD}:${HOST_PASSPHRASE}`, "-@", "bench_wss", "-gg");
    const registry = new Registry({ cwd, configDir: `${home}/.config/upydev` });
    const device = async (name: string, scheme: "ws" | "wss"): Promise<Device> => ({
      select: ["-@", name],
      target: await resolveDevice({ action: "bench", positionals: [], options: { "-@": [name] } }, registry),
      scheme,
    });
    const started = emulator;
    return {
      env,
      cwd,
      configDir: `${home}/.config/upydev`,
      devices: [await device("bench_wss", "wss"), await device("bench_ws", "ws")],
      close: async () => {
        await started.close();
        await Deno.remove(home, { recursive: true });
      },
    };
  } catch (error) {
    await emulator?.close();
    await Deno.remove(home, { recursive: true });
    throw error;
  }
}

/** A device of the user's: the real home and registry. */
async function userDevice(target: string, password: string | undefined): Promise<Setting> {
  const io = processIo();
  const cwd = Deno.cwd();
  const configDir = userConfigDir(io.env);
  const registry = new Registry({ cwd, configDir });
  const select = password === undefined ? ["-@", target] : ["-t", target, "-p", password];
  const options = password === undefined ? { "-@": [target] } : { "-t": target, "-p": password };
  const resolved = await resolveDevice({ action: "bench", positionals: [], options }, registry);
  return {
    env: Deno.env.toObject(),
    cwd,
    configDir,
    devices: [{ select, target: resolved, scheme: resolved.secure ? "wss" : "ws" }],
    close: () => Promise.resolve(),
  };
}

function row(label: string, seconds: number | undefined, target: number | undefined, session?: number) {
  const figure = seconds === undefined ? "-" : `${seconds.toFixed(3)} s`;
  const ratio = seconds === undefined || target === undefined
    ? ""
    : `${(seconds / target).toFixed(2)}x of ≤ ${target} s ${seconds <= target ? "met" : "MISSED"}`;
  const inside = session === undefined ? "" : `${(session * 1000).toFixed(1)} ms`;
  console.log(`  ${label.padEnd(40)} ${figure.padStart(9)}   ${inside.padStart(10)}   ${ratio}`);
}

const setting = values.target === undefined
  ? await ownEmulator()
  : await userDevice(values.target, values.password);
try {
  console.log(
    `whole-process medians of ${RUNS} runs through scripts/upydev; in-session medians of 3; ${SIZE} bytes`,
  );
  console.log(
    `  ${"command".padEnd(40)} ${"process".padStart(9)}   ${"in session".padStart(10)}   ratio to target`,
  );
  const emptyScript = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(emptyScript, "");
  const deno = `${ROOT}scripts/deno.sh`;
  const reference = await medianOf(async () => {
    const started = performance.now();
    await new Deno.Command(deno, { args: ["run", "-A", "--quiet", emptyScript] }).output();
    return (performance.now() - started) / 1000;
  });
  await Deno.remove(emptyScript);
  row("an empty Deno script (reference)", reference, undefined);
  row("upydev --help", await medianOf(() => timeCommand(setting, ["--help"])), TARGETS.help);
  const local = `${setting.cwd}/bench_1m.bin`;
  await Deno.writeFile(local, randomBytes(SIZE));
  for (const device of setting.devices) {
    const session = await inSession(setting, device);
    const secure = device.scheme === "wss";
    const cli = (...args: string[]) => [...args, ...device.select];
    row(
      `exec "print(1)" over ${device.scheme}`,
      await medianOf(() => timeCommand(setting, cli("exec", "print(1)"))),
      secure ? TARGETS.exec : undefined,
      session.exec,
    );
    const persist = { UPYDEV_PERSIST: "60" };
    await timeCommand(setting, cli("exec", "pass"), persist);
    try {
      row(
        `exec "print(1)", kept session (${device.scheme})`,
        await medianOf(() => timeCommand(setting, cli("exec", "print(1)"), persist)),
        TARGETS.kept,
        session.exec,
      );
    } finally {
      await timeCommand(setting, cli("disconnect"));
    }
    row(
      `verified PUT ${SIZE >> 10} KiB over ${device.scheme}`,
      await medianOf(() => timeCommand(setting, cli("put", "bench_1m.bin", BENCH_FILE))),
      secure ? TARGETS.putWss : TARGETS.putWs,
      session.put,
    );
    row(
      `GET ${SIZE >> 10} KiB over ${device.scheme}`,
      await medianOf(() => timeCommand(setting, cli("get", BENCH_FILE, "got.bin"))),
      TARGETS.get,
      session.get,
    );
    await timeCommand(setting, cli("rm", BENCH_FILE));
  }
} catch (error) {
  console.error(error instanceof UserError ? `bench: ${error.message}` : error);
  Deno.exitCode = 1;
} finally {
  await setting.close();
}
