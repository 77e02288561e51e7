/** upydev: entry point. */
import { runCli } from "./lib/cli/run.ts";
import { commandTable } from "./lib/cli/table.ts";
import { processIo } from "./lib/ui/io.ts";

if (import.meta.main) {
  try {
    Deno.exit(await runCli(Deno.args, processIo(), commandTable()));
  } catch (error) {
    console.error("upydev: internal error (please report it):", error);
    Deno.exit(70);
  }
}
