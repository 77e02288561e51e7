/** The command table: every action, in the order `upydev --help` lists them. */
import type { CommandSpec } from "./command.ts";
import { configCommands } from "../config/commands.ts";

export function commandTable(): CommandSpec[] {
  return [...configCommands];
}
