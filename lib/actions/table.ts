/** Every device action, in the order help lists them; the CLI and the shell both read this table. */
import type { CommandSpec } from "../cli/command.ts";
import { actionCommand, type ActionCommandDeps, type DeviceAction } from "./action.ts";
import { CODE_ACTIONS } from "./code_actions.ts";
import { DEVICE_STATE_ACTIONS } from "./device_actions.ts";
import { dsync } from "./dsync_action.ts";
import { FILE_ACTIONS } from "./file_actions.ts";
import { SECRET_ACTIONS } from "./secret_actions.ts";
import { SETUP_ACTIONS } from "./setup_actions.ts";

export const DEVICE_ACTIONS: DeviceAction<unknown>[] = [
  ...FILE_ACTIONS,
  dsync,
  ...CODE_ACTIONS,
  ...DEVICE_STATE_ACTIONS,
  ...SECRET_ACTIONS,
  ...SETUP_ACTIONS,
];

export function deviceActionCommands(deps: ActionCommandDeps = {}): CommandSpec[] {
  return DEVICE_ACTIONS.map((action) => actionCommand(action, deps));
}
