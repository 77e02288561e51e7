/**
 * `deno task bench`: every benchmark of the project, each in its own process so one's memory and JIT state
 * never colour another's figures. Speed and memory targets are checked here, never in unit tests.
 */
const BENCHES = ["bench_webrepl.ts", "bench_pki.ts", "bench_dsync.ts", "bench_groups.ts"];

let failed = 0;
for (const bench of BENCHES) {
  const path = new URL(`./${bench}`, import.meta.url).pathname;
  console.log(`== ${bench}`);
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path],
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
