/**
 * Turns `ACTION@NAME`, `-@ NAME...`, `-t/-p` and the config files into DeviceTargets.
 * Order: names (local group, then global) > `-t` > ./upydev_.config > global upydev_.config.
 */
import type { ParsedArgs } from "../cli/command.ts";
import { UsageError, UserError } from "../cli/errors.ts";
import type { DeviceTarget } from "../device/target.ts";
import { parseAddress } from "./address.ts";
import { type DeviceEntry, Registry, splitSecret } from "./registry.ts";

export async function resolveDevices(args: ParsedArgs, registry: Registry): Promise<DeviceTarget[]> {
  const forceWss = args.options["-wss"] === true;
  const names = args.atName !== undefined ? [args.atName] : asList(args.options["-@"]);
  const address = typeof args.options["-t"] === "string" ? args.options["-t"] : undefined;
  const secret = typeof args.options["-p"] === "string" ? args.options["-p"] : undefined;
  if (names.length > 0) {
    const entries: DeviceEntry[] = [];
    for (const name of names) entries.push(...await registry.matchDevices(name));
    return entries.map((entry) => toTarget(entry, forceWss));
  }
  if (address !== undefined) {
    if (secret === undefined) throw new UsageError(`missing -p PASSWORD for device ${address}`);
    return [toTarget({ name: undefined, address, ...splitSecret(secret) }, forceWss)];
  }
  const scopes = args.options["-g"] === true ? ["global" as const] : ["local" as const, "global" as const];
  for (const scope of scopes) {
    const entry = await registry.readDefault(scope);
    if (entry) return [toTarget(entry, forceWss)];
  }
  throw new UserError(
    "no device given: use -t ADDR -p PASSWORD, -@ NAME, ACTION@NAME, or save one with 'upydev config -t ADDR -p PASSWORD'",
  );
}

export async function resolveDevice(args: ParsedArgs, registry: Registry): Promise<DeviceTarget> {
  const targets = await resolveDevices(args, registry);
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
  entry: { name?: string; address: string; password: string; passphrase?: string },
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
  };
}

function asList(value: unknown): string[] {
  return Array.isArray(value) ? value : [];
}
