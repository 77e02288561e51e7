/** `config`: storing a device; the group commands (gg, see, mkg, mgg, mksg) follow it in the table. */
import type { CommandSpec } from "../cli/command.ts";
import { UsageError, UserError } from "../cli/errors.ts";
import { DEVICE_OPTIONS } from "../cli/parse.ts";
import { parseAddress } from "./address.ts";
import { checkPassword } from "./password.ts";
import { groupCommands, registryOf } from "./group_commands.ts";
import { type DeviceEntry, type Scope, splitSecret } from "./registry.ts";
import { persistSeconds } from "../persist/kept.ts";

const config: CommandSpec = {
  name: "config",
  summary: "save a device's address and password (-gg: in the global group UPY_G)",
  usage: "config -t ADDR -p PASS[:PASSPHRASE] [-@ NAME] [-gg | -g] [--persist[=SECONDS]]   |   " +
    "config --remove -@ NAME [-gg]",
  description:
    "Without -gg the device becomes the default of this directory (./upydev_.config); -g makes it the\n" +
    "default everywhere. With -gg it joins the global group, reachable as ACTION@NAME or -@ NAME.\n" +
    "A PASSPHRASE after ':' is the host key's passphrase and makes the device use WebSecureREPL (wss).\n" +
    "With --persist, commands for the device keep its connection open in the background (as if each\n" +
    "had --persist); --persist=0 on a command, or UPYDEV_PERSIST=0, turns that off for the command.",
  options: [
    // The device options, minus -wss (the scheme of -t or a passphrase in -p decides) and -g (below).
    ...DEVICE_OPTIONS.filter((option) => ["-t", "-p"].includes(option.names[0])),
    { ...DEVICE_OPTIONS.find((option) => option.names[0] === "-@")!, help: "the device's name (one)" },
    { names: ["-gg"], kind: "flag", help: "save in the global group UPY_G" },
    { names: ["-g"], kind: "flag", help: "save as the global default device" },
    { names: ["--remove"], kind: "flag", help: "remove the named device from the group" },
    {
      ...DEVICE_OPTIONS.find((option) => option.names[0] === "--persist")!,
      help: "commands for this device keep a session open (idle SECONDS, default 300)",
    },
  ],
  positionals: { min: 0, max: 0 },
  device: false,
  async run(context) {
    const { options } = context.args;
    const registry = registryOf(context);
    const names = Array.isArray(options["-@"]) ? options["-@"] : [];
    if (names.length > 1) throw new UsageError("config takes one device name after -@");
    const name = names[0];
    const groupScope: Scope = options["-gg"] === true ? "global" : "local";
    if (options["--remove"] === true) {
      if (!name) throw new UsageError("config --remove needs -@ NAME");
      if (!await registry.removeFromGroup(name, groupScope)) {
        throw new UserError(`device '${name}' is not in ${registry.groupPath(groupScope)}`);
      }
      context.io.out(`Device ${name} removed from ${registry.groupPath(groupScope)}\n`);
      return;
    }
    const address = typeof options["-t"] === "string" ? options["-t"] : undefined;
    const secret = typeof options["-p"] === "string" ? options["-p"] : undefined;
    if (address === undefined) throw new UsageError("config needs -t ADDR");
    if (secret === undefined) throw new UsageError("config needs -p PASSWORD");
    parseAddress(address);
    const { password, passphrase } = splitSecret(secret);
    checkPassword(password);
    if (passphrase === "") throw new UsageError("empty passphrase after ':' in -p");
    const persist = persistSeconds(options["--persist"], () => undefined) || undefined;
    const entry: DeviceEntry = { name: name ?? "upydevice", address, password, passphrase, persist };
    if (options["-gg"] === true) {
      if (!name) throw new UsageError("config -gg needs -@ NAME");
      await registry.saveToGroup(entry, "global");
      context.io.out(`WebSocketDevice ${entry.name} settings saved in global group!\n`);
    } else {
      const path = await registry.saveDefault(entry, options["-g"] === true ? "global" : "local");
      context.io.out(`WebSocketDevice ${entry.name} settings saved in ${path}\n`);
    }
  },
};

export const configCommands: CommandSpec[] = [config, ...groupCommands];
