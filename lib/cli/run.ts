/**
 * Runs one command line: parse with the table, then execute. User mistakes end as one line on stderr and
 * their exit code; anything else is a bug and propagates with its stack.
 */
import type { CommandContext, CommandSpec } from "./command.ts";
import { oneLine, UserError } from "./errors.ts";
import { actionHelp, globalHelp } from "./help.ts";
import { parseCommandLine } from "./parse.ts";
import { VERSION, versionReport } from "./version.ts";
import type { Io } from "../ui/io.ts";
import { printable } from "../ui/terminal_text.ts";
import { Registry, userConfigDir } from "../config/registry.ts";
import { resolveDevice, resolveSelection } from "../config/resolve.ts";

export async function runCli(argv: string[], io: Io, table: CommandSpec[]): Promise<number> {
  try {
    const invocation = parseCommandLine(argv, table);
    if (invocation.kind === "help") {
      io.out(globalHelp(table, VERSION));
      return 0;
    }
    if (invocation.kind === "version") {
      io.out(versionReport());
      return 0;
    }
    const { spec, args } = invocation;
    if (invocation.help) {
      io.out(actionHelp(spec));
      return 0;
    }
    const configDir = userConfigDir(io.env);
    const registry = () => new Registry({ cwd: io.cwd(), configDir });
    const context: CommandContext = {
      args,
      io,
      configDir,
      resolveDevice: () => resolveDevice(args, registry()),
      resolveSelection: () => resolveSelection(args, registry()),
    };
    return (await spec.run(context)) ?? 0;
  } catch (error) {
    if (error instanceof UserError) {
      io.err(`upydev: ${printable(oneLine(error.message))}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
