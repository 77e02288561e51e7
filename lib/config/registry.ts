/**
 * The device registry, in upydev's own file shapes so existing upydev files keep working:
 * - `upydev_.config`: `{"addr": ADDR, "passwd": "PASS[:PASSPHRASE]", "name": NAME}` (legacy key `ip` read too),
 *   in the current directory (local) or the per-user config directory (global, `-g`);
 * - `UPY_G.config`: `{"NAME": [ADDR, "PASS[:PASSPHRASE]"], ...}`, the group of named devices, local copy first.
 * Both hold secrets: written 0600, atomically; a corrupt file is reported and never overwritten.
 */
import { UserError } from "../cli/errors.ts";
import { fileError, parentOf, readTextIfExists, withDirectoryLock, writeFileAtomic } from "./files.ts";
import { compileGlob, hasGlob } from "../glob/pattern.ts";
import { MAX_PERSIST_SECONDS } from "../persist/kept.ts";

export const DEFAULT_FILE = "upydev_.config";
export const GLOBAL_GROUP = "UPY_G";
export type Scope = "local" | "global";

export interface DeviceEntry {
  name: string;
  /** As the user typed it after -t (validated by parseAddress before it is stored). */
  address: string;
  password: string;
  passphrase?: string;
  /** Idle seconds of a kept session (--persist) that commands for this device open by default. */
  persist?: number;
}

export interface RegistryPaths {
  cwd: string;
  configDir: string;
}

/** upydev keeps password and passphrase in one field, split at the first ':'. */
export function splitSecret(secret: string): { password: string; passphrase?: string } {
  const colon = secret.indexOf(":");
  if (colon < 0) return { password: secret };
  return { password: secret.slice(0, colon), passphrase: secret.slice(colon + 1) };
}

export function joinSecret(entry: { password: string; passphrase?: string }): string {
  return entry.passphrase === undefined ? entry.password : `${entry.password}:${entry.passphrase}`;
}

export class Registry {
  constructor(readonly paths: RegistryPaths) {}

  groupPath(scope: Scope, group = GLOBAL_GROUP): string {
    return `${this.dir(scope)}/${group}.config`;
  }

  defaultPath(scope: Scope): string {
    return `${this.dir(scope)}/${DEFAULT_FILE}`;
  }

  /** The directory of a scope's config files. */
  dir(scope: Scope): string {
    return scope === "local" ? this.paths.cwd : this.paths.configDir;
  }

  async readGroup(scope: Scope, group = GLOBAL_GROUP): Promise<DeviceEntry[]> {
    const path = this.groupPath(scope, group);
    return Object.entries(await readGroupFile(path) ?? {}).map(([name, [address, secret, persist]]) => ({
      name,
      address,
      ...splitSecret(secret),
      ...(persist === undefined ? {} : { persist }),
    }));
  }

  /** Local group first, then the global one. */
  async findDevice(name: string): Promise<DeviceEntry> {
    for (const scope of ["local", "global"] as const) {
      const found = (await this.readGroup(scope)).find((entry) => entry.name === name);
      if (found) return found;
    }
    const known = await this.knownNames();
    const list = known.length
      ? `known devices: ${known.join(", ")}`
      : "no devices are registered (see 'upydev config')";
    throw new UserError(`unknown device '${name}': ${list}`);
  }

  /** Names matching a glob (`*`, `?`, `[…]`), local group first, each name once. */
  async matchDevices(pattern: string): Promise<DeviceEntry[]> {
    if (!hasGlob(pattern)) return [await this.findDevice(pattern)];
    const glob = compileGlob(pattern, { dot: true });
    const seen = new Set<string>();
    const matches: DeviceEntry[] = [];
    for (const scope of ["local", "global"] as const) {
      for (const entry of await this.readGroup(scope)) {
        if (glob.test(entry.name) && !seen.has(entry.name)) {
          seen.add(entry.name);
          matches.push(entry);
        }
      }
    }
    if (matches.length === 0) {
      const known = await this.knownNames();
      throw new UserError(
        `no device matches '${pattern}'${known.length ? `: known devices: ${known.join(", ")}` : ""}`,
      );
    }
    return matches;
  }

  async knownNames(): Promise<string[]> {
    const names = new Set<string>();
    for (const scope of ["local", "global"] as const) {
      for (const entry of await this.readGroup(scope)) names.add(entry.name);
    }
    return [...names];
  }

  /** Adds or replaces entries of a group file (created when missing). */
  async saveToGroup(
    entries: DeviceEntry | DeviceEntry[],
    scope: Scope,
    group = GLOBAL_GROUP,
  ): Promise<string> {
    const path = this.groupPath(scope, group);
    await withDirectoryLock(parentOf(path), async () => {
      const json: GroupFile = { ...await readGroupFile(path) };
      for (const entry of [entries].flat()) {
        // Defined, not assigned: a device named "__proto__" must stay an entry, not become the prototype.
        Object.defineProperty(json, entry.name, {
          value: groupValue(entry),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      await write(path, json);
    });
    return path;
  }

  /** Returns false when the name was not in that group. */
  async removeFromGroup(name: string, scope: Scope, group = GLOBAL_GROUP): Promise<boolean> {
    const path = this.groupPath(scope, group);
    return await withDirectoryLock(parentOf(path), async () => {
      const entries = await readGroupFile(path);
      if (entries === undefined || !Object.hasOwn(entries, name)) return false;
      delete entries[name];
      await write(path, entries);
      return true;
    });
  }

  async readDefault(scope: Scope): Promise<DeviceEntry | undefined> {
    const path = this.defaultPath(scope);
    const json = await readJson(path);
    if (json === undefined) return undefined;
    const address = isRecord(json) ? json.addr ?? json.ip : undefined;
    if (!isRecord(json) || typeof address !== "string" || typeof json.passwd !== "string") {
      throw corrupt(path, 'expected {"addr": ADDRESS, "passwd": PASSWORD, "name": NAME}');
    }
    const name = typeof json.name === "string" ? json.name : "upydevice";
    if (json.persist !== undefined && !isPersistSeconds(json.persist)) {
      throw corrupt(path, `"persist" must be whole seconds from 1 to ${MAX_PERSIST_SECONDS}`);
    }
    return {
      name,
      address,
      ...splitSecret(json.passwd),
      ...(json.persist === undefined ? {} : { persist: json.persist }),
    };
  }

  async saveDefault(entry: DeviceEntry, scope: Scope): Promise<string> {
    const path = this.defaultPath(scope);
    await withDirectoryLock(parentOf(path), async () => {
      // Reading first makes a corrupt file an error instead of silently replacing it.
      await this.readDefault(scope);
      await write(path, {
        addr: entry.address,
        passwd: joinSecret(entry),
        name: entry.name,
        ...(entry.persist === undefined ? {} : { persist: entry.persist }),
      });
    });
    return path;
  }

  /**
   * Gives every entry that `matches` selects, in the group and default files of both scopes, `password`
   * (rf_wrkey: a device's password changed, wherever it is registered). Returns the files changed.
   */
  async replacePassword(matches: (entry: DeviceEntry) => boolean, password: string): Promise<string[]> {
    const changed: string[] = [];
    for (const scope of ["local", "global"] as const) {
      const selected = (await this.readGroup(scope)).filter(matches);
      for (const entry of selected) await this.saveToGroup({ ...entry, password }, scope);
      if (selected.length > 0) changed.push(this.groupPath(scope));
      const fallback = await this.readDefault(scope);
      if (fallback && matches(fallback)) {
        await this.saveDefault({ ...fallback, password }, scope);
        changed.push(this.defaultPath(scope));
      }
    }
    return [...new Set(changed)];
  }
}

/** upydev's `[ADDRESS, PASSWORD]`, with our kept-session seconds as an optional third element. */
type GroupFile = Record<string, [string, string, number?]>;

function isPersistSeconds(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0 && (value as number) <= MAX_PERSIST_SECONDS;
}

function groupValue(entry: DeviceEntry): [string, string, number?] {
  const value: [string, string, number?] = [entry.address, joinSecret(entry)];
  if (entry.persist !== undefined) value.push(entry.persist);
  return value;
}

/** The group file checked entry by entry; undefined when it does not exist. */
async function readGroupFile(path: string): Promise<GroupFile | undefined> {
  const json = await readJson(path);
  if (json === undefined) return undefined;
  if (!isRecord(json)) throw corrupt(path, "expected an object of NAME: [ADDRESS, PASSWORD]");
  for (const [name, value] of Object.entries(json)) {
    if (
      !Array.isArray(value) || typeof value[0] !== "string" || typeof value[1] !== "string" ||
      (value.length > 2 && !(value.length === 3 && isPersistSeconds(value[2])))
    ) {
      throw corrupt(
        path,
        `entry '${name}' is not [ADDRESS, PASSWORD] or [ADDRESS, PASSWORD, PERSIST_SECONDS]`,
      );
    }
  }
  return json as GroupFile;
}

async function write(path: string, json: unknown): Promise<void> {
  try {
    await writeFileAtomic(path, JSON.stringify(json, null, 2) + "\n", { mode: 0o600 });
  } catch (error) {
    throw fileError(error, path, "write");
  }
}

/** Far above any real registry; a bigger file is damage, and is never read whole into memory. */
const MAX_CONFIG_BYTES = 1 << 20;

async function readJson(path: string): Promise<unknown> {
  let text: string | undefined;
  try {
    const size = await Deno.stat(path).then((info) => info.size, (error) => {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    });
    if (size === undefined) return undefined;
    if (size > MAX_CONFIG_BYTES) throw corrupt(path, `it is ${size} bytes, more than a config file's 1 MiB`);
    text = await readTextIfExists(path);
  } catch (error) {
    throw fileError(error, path, "read");
  }
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw corrupt(path, (error as Error).message);
  }
}

function corrupt(path: string, reason: string): UserError {
  return new UserError(`corrupt config file ${path}: ${reason} (fix or remove it; it was not changed)`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `$XDG_CONFIG_HOME/upydev`, else `~/.config/upydev`. */
export function userConfigDir(env: (name: string) => string | undefined): string {
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg) return `${xdg}/upydev`;
  const home = env("HOME") ?? env("USERPROFILE");
  if (!home) throw new UserError("cannot find the config directory: set HOME or XDG_CONFIG_HOME");
  return `${home}/.config/upydev`;
}

/** Shows that a secret is set without revealing it or its length. */
export function maskSecret(secret: string | undefined): string {
  if (secret === undefined || secret === "") return "(none)";
  return "******";
}
