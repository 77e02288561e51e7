/**
 * Turns `ACTION@NAME`, `-@ NAME...`, `-G/-GP GROUP`, `-t/-p` and the config files into DeviceTargets.
 * Order: group > names (local group, then global) > `-t` > ./upydev_.config > global upydev_.config.
 */
import { optionString, type ParsedArgs } from "../cli/command.ts";
import { UsageError, UserError } from "../cli/errors.ts";
import type { DeviceTarget } from "../device/target.ts";
import { parseAddress } from "./address.ts";
import { readNamedGroup, selectDevices } from "./groups.ts";
import { type Registry, splitSecret } from "./registry.ts";

/**
 * What a command line selects. A `group` run (several `-@` words, a glob, a brace range, `gg`, a group name,
 * `-G`, `-GP`) reports per device even when it reaches one, so scripts see one shape; `one` is a single device.
 */
export interface Selection {
  kind: "one" | "group";
  targets: DeviceTarget[];
  /** How many devices run at once: 1 for `-G`, `--jobs N` (default 8) otherwise. */
  jobs: number;
}

export const DEFAULT_JOBS = 8;

export async function resolveSelection(args: ParsedArgs, registry: Registry): Promise<Selection> {
  const forceWss = args.options["-wss"] === true;
  const sequentialGroup = optionString(args, "-G");
  const parallelGroup = optionString(args, "-GP");
  if (sequentialGroup !== undefined && parallelGroup !== undefined) {
    throw new UsageError("give -G GROUP (one device after another) or -GP GROUP (in parallel), not both");
  }
  const jobsText = optionString(args, "--jobs");
  if (jobsText !== undefined && !/^[1-9]\d{0,3}$/.test(jobsText)) {
    throw new UsageError(`--jobs takes a number of devices from 1 to 9999, not '${jobsText}'`);
  }
  if (jobsText !== undefined && sequentialGroup !== undefined) {
    throw new UsageError("-G runs one device at a time; use -GP GROUP --jobs N to run N at once");
  }
  const jobs = sequentialGroup !== undefined ? 1 : Number(jobsText ?? DEFAULT_JOBS);
  const groupName = sequentialGroup ?? parallelGroup;
  const names = args.atName !== undefined ? [args.atName] : asList(args.options["-@"]);
  if (groupName !== undefined) {
    if (names.length > 0 || args.options["-t"] !== undefined) {
      throw new UsageError("-G/-GP GROUP selects the devices; it takes no -@ NAME or -t ADDR");
    }
    const { entries } = await readNamedGroup(registry, groupName);
    return { kind: "group", targets: entries.map((entry) => toTarget(entry, forceWss)), jobs };
  }
  if (names.length > 0) {
    const entries = await selectDevices(registry, names);
    const plainName = names.length === 1 && entries.length === 1 && entries[0].name === names[0];
    return {
      kind: plainName ? "one" : "group",
      targets: entries.map((entry) => toTarget(entry, forceWss)),
      jobs,
    };
  }
  return { kind: "one", targets: [await resolveUnnamed(args, registry, forceWss)], jobs };
}

async function resolveUnnamed(
  args: ParsedArgs,
  registry: Registry,
  forceWss: boolean,
): Promise<DeviceTarget> {
  const address = optionString(args, "-t");
  const secret = optionString(args, "-p");
  if (address !== undefined) {
    if (secret === undefined) throw new UsageError(`missing -p PASSWORD for device ${address}`);
    return toTarget({ name: undefined, address, ...splitSecret(secret) }, forceWss);
  }
  const scopes = args.options["-g"] === true ? ["global" as const] : ["local" as const, "global" as const];
  for (const scope of scopes) {
    const entry = await registry.readDefault(scope);
    if (entry) return toTarget(entry, forceWss);
  }
  throw new UserError(
    "no device given: use -t ADDR -p PASSWORD, -@ NAME, ACTION@NAME, or save one with 'upydev config -t ADDR -p PASSWORD'",
  );
}

export async function resolveDevice(args: ParsedArgs, registry: Registry): Promise<DeviceTarget> {
  const { targets } = await resolveSelection(args, registry);
  if (targets.length !== 1) {
    throw new UsageError(
      `'${args.action}' works on one device; '${
        targets.map((target) => target.name).join(" ")
      }' names ${targets.length}`,
    );
  }
  return targets[0];
}

function toTarget(
  entry: { name?: string; address: string; password: string; passphrase?: string; persist?: number },
  forceWss: boolean,
): DeviceTarget {
  const address = parseAddress(entry.address);
  const secure = address.scheme === "wss" ||
    (address.scheme !== "ws" && (forceWss || entry.passphrase !== undefined));
  if (address.scheme === "ws" && forceWss) {
    throw new UsageError(`-wss conflicts with the plain address ${entry.address}`);
  }
  return {
    name: entry.name,
    host: address.host,
    port: address.port,
    password: entry.password,
    passphrase: entry.passphrase,
    secure,
    persist: entry.persist,
  };
}

function asList(value: unknown): string[] {
  return Array.isArray(value) ? value : [];
}
