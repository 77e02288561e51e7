/** `upydev disconnect [-@ NAME]`: ends the kept session of a device, or every one when no device is named. */
import type { CommandSpec } from "../cli/command.ts";
import { addressOf, listKept } from "./kept.ts";
import { stopKept } from "./start.ts";

export const disconnectCommand: CommandSpec = {
  name: "disconnect",
  summary: "end kept sessions (--persist): the named device's, or all of them",
  usage: "disconnect [-@ NAME | -t ADDR -p PASS]",
  positionals: { min: 0, max: 0 },
  device: true,
  async run(context) {
    const { args, io, configDir } = context;
    const named = args.atName !== undefined || args.options["-@"] !== undefined ||
      args.options["-t"] !== undefined;
    if (named) {
      const target = await context.resolveDevice();
      const label = target.name ?? target.host;
      const stopped = await stopKept(configDir, addressOf(target));
      io.out(`${label}: ${stopped ? "kept session ended" : "no kept session"}\n`);
      return;
    }
    const kept = await listKept(configDir);
    for (const info of kept) await stopKept(configDir, info.address);
    io.out(kept.length === 0 ? "no kept sessions\n" : `kept sessions ended: ${kept.length}\n`);
  },
};
