/**
 * Groups of devices: `gg` and `see` list them; `mkg`, `mgg` and `mksg` write group files in upydev's shape
 * (lib/config/groups.ts). `gg` and `see` take `--json`: devices as data, secrets never included.
 */
import { type CommandContext, type CommandSpec, optionFlag, optionString } from "../cli/command.ts";
import { UsageError, UserError } from "../cli/errors.ts";
import { JSON_OPTION } from "../cli/parse.ts";
import { jsonDocument } from "../groups/report.ts";
import { describeKept, listKept } from "../persist/kept.ts";
import { compileGlob, hasGlob } from "../glob/pattern.ts";
import { printable } from "../ui/terminal_text.ts";
import { parseAddress } from "./address.ts";
import { checkPassword } from "./password.ts";
import { checkGroupName, expandBraces, findGroup, readNamedGroup, selectDevices } from "./groups.ts";
import { type DeviceEntry, maskSecret, Registry, type Scope, splitSecret } from "./registry.ts";

export function registryOf(context: Pick<CommandContext, "io" | "configDir">): Registry {
  return new Registry({ cwd: context.io.cwd(), configDir: context.configDir });
}

/** A device as `--json` shows it: where it is and how it is reached, no password or passphrase. */
export interface DeviceJson {
  name: string;
  address: string;
  link: "ws" | "wss";
  passphraseStored: boolean;
  /** Idle seconds of the kept session commands open for it (`config --persist`), when set. */
  persist?: number;
}

function isSecure(entry: DeviceEntry): boolean {
  return entry.passphrase !== undefined || entry.address.startsWith("wss://");
}

function deviceJson(entry: DeviceEntry): DeviceJson {
  return {
    name: entry.name,
    address: entry.address,
    link: isSecure(entry) ? "wss" : "ws",
    passphraseStored: entry.passphrase !== undefined,
    persist: entry.persist,
  };
}

function describe(entry: DeviceEntry): string {
  return `${printable(entry.name).padEnd(16)} ${printable(entry.address).padEnd(24)} ` +
    `password ${maskSecret(entry.password)}  passphrase ${maskSecret(entry.passphrase)}  ` +
    (isSecure(entry) ? "wss" : "ws") + (entry.persist === undefined ? "" : `  kept ${entry.persist} s`);
}

const SCOPE_OPTION = {
  names: ["-g"],
  kind: "flag" as const,
  help: "the global group file (config directory)",
};

const gg: CommandSpec = {
  name: "gg",
  summary: "list the devices of the global group UPY_G (and of ./UPY_G.config)",
  usage: "gg [--json]",
  description: '--json: {"groups": [{"scope": "local"|"global", "path", "devices": [DEVICE...]}]}.',
  options: [JSON_OPTION],
  positionals: { min: 0, max: 0 },
  device: false,
  async run(context) {
    const registry = registryOf(context);
    const groups = [];
    for (const scope of ["local", "global"] as const) {
      const entries = await registry.readGroup(scope);
      if (entries.length === 0 && scope === "local") continue;
      groups.push({ scope, path: registry.groupPath(scope), entries });
    }
    if (optionFlag(context.args, "--json")) {
      context.io.out(jsonDocument({
        groups: groups.map(({ entries, ...group }) => ({ ...group, devices: entries.map(deviceJson) })),
      }));
      return;
    }
    for (const { scope, path, entries } of groups) {
      context.io.out(`${scope === "global" ? "GLOBAL" : "LOCAL"} group UPY_G: ${path}\n`);
      for (const entry of entries) context.io.out(`  ${describe(entry)}\n`);
    }
    if (groups.every((group) => group.entries.length === 0)) {
      context.io.out("No devices yet: add one with 'upydev config -t ADDR -p PASSWORD -@ NAME -gg'\n");
    }
    await showKept(context.io, context.configDir);
  },
};

const see: CommandSpec = {
  name: "see",
  summary: "show devices by name, glob, range or group (what -@ would select)",
  usage: "see NAME|GROUP... [--json]",
  description: "Words as after -@: names, globs ('esp*'), ranges (dev{1..4}), gg (all of UPY_G), groups.\n" +
    '--json: {"devices": [{"name", "address", "link": "ws"|"wss", "passphraseStored", "persist"?}]}.',
  options: [JSON_OPTION],
  positionals: { min: 1, max: Infinity },
  device: false,
  async run(context) {
    const registry = registryOf(context);
    const words = context.args.positionals;
    if (optionFlag(context.args, "--json")) {
      context.io.out(jsonDocument({ devices: (await selectDevices(registry, words)).map(deviceJson) }));
      return;
    }
    for (const word of words) {
      const isDevice = hasGlob(word) || (await registry.knownNames()).includes(word);
      const group = isDevice || word.includes("{") ? undefined : await findGroup(registry, word);
      if (group) context.io.out(`group ${printable(group.name)}: ${group.path}\n`);
      const entries = group?.entries ?? await selectDevices(registry, [word]);
      for (const entry of entries) context.io.out(`${group ? "  " : ""}${describe(entry)}\n`);
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

/** `NAME ADDR PASS[:PASSPHRASE]` triplets, each checked as `config` checks one device. */
function deviceTriplets(words: string[], option: string): DeviceEntry[] {
  if (words.length === 0 || words.length % 3 !== 0) {
    throw new UsageError(`${option} takes NAME ADDR PASSWORD for each device (${words.length} words given)`);
  }
  const entries: DeviceEntry[] = [];
  for (let i = 0; i < words.length; i += 3) {
    const [name, address, secret] = words.slice(i, i + 3);
    if (!/^[\w.-]+$/.test(name)) {
      throw new UsageError(`invalid device name '${name}': letters, digits, '_', '-' and '.' only`);
    }
    parseAddress(address);
    const { password, passphrase } = splitSecret(secret);
    checkPassword(password);
    if (passphrase === "") throw new UsageError(`empty passphrase after ':' for ${name}`);
    entries.push({ name, address, password, passphrase });
  }
  return entries;
}

function listOption(context: CommandContext, name: string): string[] {
  const value = context.args.options[name];
  return Array.isArray(value) ? value : [];
}

const mkg: CommandSpec = {
  name: "mkg",
  summary: "make a group of devices (GROUP.config; -g: in the config directory)",
  usage: "mkg GROUP -devs NAME ADDR PASS[:PASSPHRASE]... [-g]",
  description: "Run a command on the group with -G GROUP (one device after another) or -GP GROUP (in\n" +
    "parallel), or name it after -@ with other devices.",
  options: [
    {
      names: ["-devs"],
      kind: "list",
      valueName: "NAME ADDR PASS",
      help: "the devices: name, address and password of each",
    },
    SCOPE_OPTION,
  ],
  positionals: { min: 1, max: 1 },
  device: false,
  async run(context) {
    const group = checkGroupName(context.args.positionals[0]);
    const scope: Scope = optionFlag(context.args, "-g") ? "global" : "local";
    const entries = deviceTriplets(listOption(context, "-devs"), "-devs");
    const registry = registryOf(context);
    const existing = await findGroup(registry, group);
    if (existing?.scope === scope || group === "UPY_G" || group === "gg") {
      throw new UserError(
        `group ${group} already exists (${
          existing?.path ?? registry.groupPath(scope)
        }): change it with 'upydev mgg'`,
      );
    }
    const path = await registry.saveToGroup(entries, scope, group);
    context.io.out(`Group ${group} with ${entries.map((entry) => entry.name).join(", ")} saved in ${path}\n`);
  },
};

const mgg: CommandSpec = {
  name: "mgg",
  summary: "manage a group: -add devices to it, -rm devices from it",
  usage: "mgg -G GROUP [-add NAME ADDR PASS[:PASSPHRASE]...] [-rm NAME...]",
  options: [
    { names: ["-G"], kind: "value", valueName: "GROUP", help: "the group to change" },
    { names: ["-add"], kind: "list", valueName: "NAME ADDR PASS", help: "devices to add (or update)" },
    { names: ["-rm"], kind: "list", valueName: "NAME", help: "devices to remove" },
  ],
  positionals: { min: 0, max: 0 },
  device: false,
  async run(context) {
    const name = optionString(context.args, "-G");
    if (name === undefined) throw new UsageError("mgg needs -G GROUP");
    const added = context.args.options["-add"] === undefined
      ? []
      : deviceTriplets(listOption(context, "-add"), "-add");
    const removed = listOption(context, "-rm");
    if (added.length === 0 && removed.length === 0) throw new UsageError("mgg needs -add or -rm");
    const registry = registryOf(context);
    const group = await findGroup(registry, name);
    if (!group || group.name === "UPY_G") {
      throw new UserError(`unknown group '${name}': make it with 'upydev mkg ${name} -devs ...'`);
    }
    const missing = removed.filter((device) => !group.entries.some((entry) => entry.name === device));
    if (missing.length > 0) {
      throw new UserError(`not in group ${name}: ${missing.join(", ")} (${group.path})`);
    }
    if (added.length > 0) await registry.saveToGroup(added, group.scope, group.name);
    for (const device of removed) await registry.removeFromGroup(device, group.scope, group.name);
    const changes = [
      ...added.map((entry) => `added ${entry.name}`),
      ...removed.map((device) => `removed ${device}`),
    ];
    context.io.out(`Group ${name} (${group.path}): ${changes.join(", ")}\n`);
  },
};

const mksg: CommandSpec = {
  name: "mksg",
  summary: "make a subgroup: some devices of a group as a new group",
  usage: "mksg -G GROUP -sg SUBGROUP -devs NAME... [-g]",
  description: "NAMEs may be globs ('esp*') or ranges (dev{1..4}) over the group's devices.",
  options: [
    { names: ["-G"], kind: "value", valueName: "GROUP", help: "the group to take devices from" },
    { names: ["-sg"], kind: "value", valueName: "SUBGROUP", help: "the new group" },
    { names: ["-devs"], kind: "list", valueName: "NAME", help: "devices of GROUP to put in it" },
    SCOPE_OPTION,
  ],
  positionals: { min: 0, max: 0 },
  device: false,
  async run(context) {
    const from = optionString(context.args, "-G");
    const to = optionString(context.args, "-sg");
    const words = listOption(context, "-devs");
    if (from === undefined || to === undefined || words.length === 0) {
      throw new UsageError("usage: upydev mksg -G GROUP -sg SUBGROUP -devs NAME...");
    }
    checkGroupName(to);
    const registry = registryOf(context);
    const group = await readNamedGroup(registry, from);
    const chosen: DeviceEntry[] = [];
    for (const word of words.flatMap(expandBraces)) {
      const glob = compileGlob(word, { dot: true });
      const matches = group.entries.filter((entry) => glob.test(entry.name));
      if (matches.length === 0) throw new UserError(`no device of group ${from} matches '${word}'`);
      for (const entry of matches) if (!chosen.includes(entry)) chosen.push(entry);
    }
    const scope: Scope = optionFlag(context.args, "-g") ? "global" : group.scope;
    if ((await findGroup(registry, to))?.scope === scope) {
      throw new UserError(`group ${to} already exists: change it with 'upydev mgg'`);
    }
    const path = await registry.saveToGroup(chosen, scope, to);
    context.io.out(`Group ${to} with ${chosen.map((entry) => entry.name).join(", ")} saved in ${path}\n`);
  },
};

export const groupCommands: CommandSpec[] = [gg, see, mkg, mgg, mksg];
