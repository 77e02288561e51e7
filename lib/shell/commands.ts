/** `shl` / `shell`: the interactive shell-repl on one device. */
import type { CommandSpec } from "../cli/command.ts";
import { openedDevice } from "../actions/action.ts";
import { withDevice } from "../device/use_device.ts";
import { readTextIfExists, writeFileAtomic } from "../config/files.ts";
import { Shell } from "./shell.ts";

/** upydev trims its history to this many lines. */
const HISTORY_LINES = 300;

const shl: CommandSpec = {
  name: "shl",
  aliases: ["shell"],
  summary: "interactive shell-repl on the device (wss when a passphrase is configured)",
  usage: "shl   |   shl@NAME",
  description:
    "Shell mode: every device action (ls, cat, put, get, rm, tree, df, ...) plus cd, pwd, lcd, lpwd, " +
    "help and exit; COMMAND -h shows one.\n" +
    "CTRL-s toggles to the device's REPL and back, CTRL-k lists the keys, CTRL-x or 'exit' leaves.",
  positionals: { min: 0, max: 0 },
  device: true,
  async run(context) {
    const historyPath = `${context.configDir}/shl_history`;
    const history = ((await readTextIfExists(historyPath)) ?? "").split("\n").filter(Boolean);
    const before = history.length;
    try {
      await withDevice(context, async (device, target) => {
        await new Shell(openedDevice(device, target), context.io, { name: target.name, history }).run();
      }, { inactivityMs: 30_000 });
    } finally {
      if (history.length !== before) {
        await Deno.mkdir(context.configDir, { recursive: true, mode: 0o700 });
        await writeFileAtomic(historyPath, history.slice(-HISTORY_LINES).join("\n") + "\n", { mode: 0o600 });
      }
    }
  },
};

export const shellCommands: CommandSpec[] = [shl];
