/** `config`, `gg` and `see`: storing and listing devices. */
import type { CommandContext, CommandSpec } from "../cli/command.ts";
import { UsageError, UserError } from "../cli/errors.ts";
import { DEVICE_OPTIONS } from "../cli/parse.ts";
import { MAX_PASSWORD_LENGTH } from "../webrepl/session.ts";
import { parseAddress } from "./address.ts";
import { type DeviceEntry, maskSecret, Registry, type Scope, splitSecret } from "./registry.ts";
import { describeKept, listKept } from "../persist/kept.ts";

export function registryOf(context: CommandContext): Registry {
  return new Registry({ cwd: context.io.cwd(), configDir: context.configDir });
}

const config: CommandSpec = {
  name: "config",
  summary: "save a device's address and password (-gg: in the global group UPY_G)",
  usage: "config -t ADDR -p PASS[:PASSPHRASE] [-@ NAME] [-gg | -g]   |   config --remove -@ NAME [-gg]",
  description:
    "Without -gg the device becomes the default of this directory (./upydev_.config); -g makes it the\n" +
    "default everywhere. With -gg it joins the global group, reachable as ACTION@NAME or -@ NAME.\n" +
    "A PASSPHRASE after ':' is the host key's passphrase and makes the device use WebSecureREPL (wss).",
  options: [
    // The device options, minus -wss (the scheme of -t or a passphrase in -p decides) and -g (below).
    ...DEVICE_OPTIONS.filter((option) => ["-t", "-p"].includes(option.names[0])),
    { ...DEVICE_OPTIONS.find((option) => option.names[0] === "-@")!, help: "the device's name (one)" },
    { names: ["-gg"], kind: "flag", help: "save in the global group UPY_G" },
    { names: ["-g"], kind: "flag", help: "save as the global default device" },
    { names: ["--remove"], kind: "flag", help: "remove the named device from the group" },
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
    if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
      throw new UsageError(
        `the WebREPL password must have 1 to ${MAX_PASSWORD_LENGTH} characters (the device ignores the rest)`,
      );
    }
    if (passphrase === "") throw new UsageError("empty passphrase after ':' in -p");
    const entry: DeviceEntry = { name: name ?? "upydevice", address, password, passphrase };
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

function describe(entry: DeviceEntry): string {
  const secure = entry.passphrase !== undefined || entry.address.startsWith("wss://");
  return `${entry.name.padEnd(16)} ${entry.address.padEnd(24)} password ${maskSecret(entry.password)}` +
    `  passphrase ${maskSecret(entry.passphrase)}  ${secure ? "wss" : "ws"}`;
}

const gg: CommandSpec = {
  name: "gg",
  summary: "list the devices of the global group UPY_G (and of ./UPY_G.config)",
  usage: "gg",
  positionals: { min: 0, max: 0 },
  device: false,
  async run(context) {
    const registry = registryOf(context);
    let listed = 0;
    for (const scope of ["local", "global"] as const) {
      const entries = await registry.readGroup(scope);
      if (entries.length === 0 && scope === "local") continue;
      context.io.out(
        `${scope === "global" ? "GLOBAL" : "LOCAL"} group UPY_G: ${registry.groupPath(scope)}\n`,
      );
      for (const entry of entries) context.io.out(`  ${describe(entry)}\n`);
      listed += entries.length;
    }
    if (listed === 0) {
      context.io.out("No devices yet: add one with 'upydev config -t ADDR -p PASSWORD -@ NAME -gg'\n");
    }
    await showKept(context.io, context.configDir);
  },
};

const see: CommandSpec = {
  name: "see",
  summary: "show registered devices by name (* wildcards)",
  usage: "see NAME...",
  positionals: { min: 1, max: Infinity },
  device: false,
  async run(context) {
    const registry = registryOf(context);
    for (const pattern of context.args.positionals) {
      for (const entry of await registry.matchDevices(pattern)) context.io.out(`${describe(entry)}\n`);
    }
    await showKept(context.io, context.configDir);
  },
};

/** WebREPL serves one client: devices held by a kept session (--persist) are busy for every other tool. */
async function showKept(io: CommandContext["io"], configDir: string): Promise<void> {
  const kept = await listKept(configDir);
  if (kept.length > 0) {
    io.out(`Held by kept sessions:\n${kept.map((info) => `  ${describeKept(info)}\n`).join("")}`);
  }
}

export const configCommands: CommandSpec[] = [config, gg, see];
