/** The command table: every action, in the order `upydev --help` lists them. */
import type { CommandSpec } from "./command.ts";
import { configCommands } from "../config/commands.ts";
import { deviceActionCommands } from "../actions/table.ts";
import { shellCommands } from "../shell/commands.ts";
import { kgCommandSpec } from "../pki/kg.ts";
import { emulatorCommands } from "../emulator/commands.ts";
import { demoCommands } from "../demo/commands.ts";
import { disconnectCommand } from "../persist/commands.ts";

export function commandTable(): CommandSpec[] {
  return [
    ...configCommands,
    ...shellCommands,
    disconnectCommand,
    ...deviceActionCommands(),
    kgCommandSpec,
    ...emulatorCommands,
    ...demoCommands(commandTable),
  ];
}
