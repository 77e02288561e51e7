/** `upydev demo`. */
import type { CommandSpec } from "../cli/command.ts";

export function demoCommands(table: () => CommandSpec[]): CommandSpec[] {
  return [{
    name: "demo",
    summary: "the whole WebSecureREPL flow against an emulated ESP32, ending in an interactive shl",
    usage: "demo [--script]",
    description: "Runs, in a temporary home: config, update_upyutils, kg ssl CA -tfkey, kg ssl host,\n" +
      "kg ssl -tfkey, boot.py with wss_repl.start(ssl=True), a reset, then shl over wss.",
    options: [{ names: ["--script"], kind: "flag", help: "run a scripted shell session instead, then exit" }],
    positionals: { min: 0, max: 0 },
    device: false,
    run: async (context) => {
      // The demo serves an emulated device (node:tls and the PKI): loaded only when it runs.
      const { runDemo } = await import("./demo.ts");
      return await runDemo(context.io, { script: context.args.options["--script"] === true, table });
    },
  }];
}
