/** upydev: entry point. */
import { runCli } from "./lib/cli/run.ts";
import { commandTable } from "./lib/cli/table.ts";
import { processIo } from "./lib/ui/io.ts";

if (import.meta.main) {
  if (Deno.env.get("UPYDEV_KEPT_SERVE")) {
    // The background process of a kept session (lib/persist), started by upydev itself.
    const { serveKept } = await import("./lib/persist/server.ts");
    Deno.exit(await serveKept());
  }
  try {
    Deno.exit(await runCli(Deno.args, processIo(), commandTable()));
  } catch (error) {
    console.error("upydev: internal error (please report it):", error);
    Deno.exit(70);
  }
}
