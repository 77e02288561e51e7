/**
 * `deno task bench [--short] [--target NAME|ADDR [--password PASS[:PASSPHRASE]]] [--runs N]`: every benchmark
 * of the project, each in its own process so one's memory and JIT state never colour another's figures. Speed
 * and memory targets are checked here, never in unit tests.
 *
 * --short runs only the whole-command table (bench_commands.ts); --target, --password and --runs go to it, and
 * a --target skips the emulator-only benches.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    target: { type: "string" },
    password: { type: "string" },
    runs: { type: "string" },
  },
});
const forwarded = [
  ...(values.target === undefined ? [] : ["--target", values.target]),
  ...(values.password === undefined ? [] : ["--password", values.password]),
  ...(values.runs === undefined ? [] : ["--runs", values.runs]),
];
const BENCHES: [string, string[]][] = [["bench_commands.ts", forwarded]];
if (!values.short && values.target === undefined) {
  BENCHES.push(
    ["bench_webrepl.ts", []],
    ["bench_pki.ts", []],
    ["bench_dsync.ts", []],
    ["bench_groups.ts", []],
  );
}

let failed = 0;
for (const [bench, args] of BENCHES) {
  const path = new URL(`./${bench}`, import.meta.url).pathname;
  console.log(`== ${bench}`);
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, ...args],
    stdout: "inherit",
    stderr: "inherit",
  })
    .spawn().status;
  if (!status.success) {
    console.error(`${bench} failed (exit ${status.code})`);
    failed++;
  }
}
Deno.exit(failed === 0 ? 0 : 1);
