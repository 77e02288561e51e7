/** `shl` / `shell`: the interactive shell-repl on one device. */
import type { CommandSpec } from "../cli/command.ts";
import { openedDevice } from "../actions/action.ts";
import { connectTarget } from "../device/use_device.ts";
import type { DeviceTarget } from "../device/target.ts";
import { readTextIfExists, writeFileAtomic } from "../config/files.ts";
import { KEYBINDINGS } from "./header.ts";
import { Shell } from "./shell.ts";
import { shellHelp } from "./shell_commands.ts";

/** upydev trims its history to this many lines. */
const HISTORY_LINES = 300;

const shl: CommandSpec = {
  name: "shl",
  aliases: ["shell"],
  summary: "interactive shell-repl on the device (wss when a passphrase is configured)",
  usage: "shl   |   shl@NAME",
  description: `${shellHelp()}\n${KEYBINDINGS.join("\n")}\n\nHistory: ${HISTORY_LINES} lines in the config ` +
    "directory (shl_history).",
  positionals: { min: 0, max: 0 },
  device: true,
  async run(context) {
    const historyPath = `${context.configDir}/shl_history`;
    const history = ((await readTextIfExists(historyPath)) ?? "").split("\n").filter(Boolean);
    const before = history.length;
    const target = await context.resolveDevice();
    const connect = async (to: DeviceTarget) =>
      openedDevice(await connectTarget(context, to, { inactivityMs: 30_000 }), to);
    const shell = new Shell(await connect(target), context.io, {
      name: target.name,
      history,
      reconnect: connect,
    });
    try {
      await shell.run();
    } finally {
      await shell.device.session.close();
      if (history.length !== before) {
        await Deno.mkdir(context.configDir, { recursive: true, mode: 0o700 });
        await writeFileAtomic(historyPath, history.slice(-HISTORY_LINES).join("\n") + "\n", { mode: 0o600 });
      }
    }
  },
};

export const shellCommands: CommandSpec[] = [shl];
