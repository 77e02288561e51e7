/**
 * Device groups in upydev's file shape: `GROUP.config` is `{"NAME": [ADDR, "PASS[:PASSPHRASE]"], ...}`, like
 * `UPY_G.config`, in the current directory (local) or the per-user config directory (global); a local file
 * wins. And the selection grammar that reaches them: `-@ NAME...` with globs (`'esp*'`), brace ranges
 * (`dev{1..4}`, `{a,b}`), `gg` for the whole global group and group names; `-G GROUP` / `-GP GROUP`.
 */
import { UserError } from "../cli/errors.ts";
import { hasGlob } from "../glob/pattern.ts";
import { pathExists } from "./files.ts";
import { type DeviceEntry, GLOBAL_GROUP, Registry, type Scope } from "./registry.ts";

/** `-@ gg`: every device of the global group UPY_G. */
export const WHOLE_GLOBAL_GROUP = "gg";

/** Group names become file names: no paths, no dot files. */
const GROUP_NAME = /^[A-Za-z0-9_][\w.-]*$/;
/** A brace expression's inside: `1..4`, `01..10`, `a..d` or `a,b,c`. */
const BRACES = /\{([^{}]*)\}/;
/** Expansions one brace word may produce; a typo like `{1..99999}` stays an error, not a hang. */
const MAX_EXPANSION = 1024;

export function checkGroupName(name: string): string {
  if (!GROUP_NAME.test(name) || name === "upydev_") {
    throw new UserError(`invalid group name '${name}': letters, digits, '_', '-' and '.' only`, {
      exitCode: 2,
    });
  }
  return name;
}

/** `dev{1..3}` → dev1 dev2 dev3; `{a,b}x` → ax bx; numbers keep the width of a zero-padded start. */
export function expandBraces(word: string): string[] {
  const match = BRACES.exec(word);
  if (!match) return [word];
  const before = word.slice(0, match.index);
  const after = word.slice(match.index + match[0].length);
  const items = braceItems(match[1]);
  // Not a brace expression: kept as it is (as a shell keeps `{x}`), the rest still expands.
  if (!items) return expandBraces(after).map((rest) => before + match[0] + rest);
  const words = items.flatMap((item) => expandBraces(before + item + after));
  if (words.length > MAX_EXPANSION) {
    throw new UserError(`'${word}' expands to more than ${MAX_EXPANSION} names`, { exitCode: 2 });
  }
  return words;
}

function braceItems(inside: string): string[] | undefined {
  const numbers = /^(-?\d+)\.\.(-?\d+)$/.exec(inside);
  if (numbers) {
    const [from, to] = [Number(numbers[1]), Number(numbers[2])];
    if (Math.abs(to - from) >= MAX_EXPANSION) {
      throw new UserError(`'{${inside}}' expands to more than ${MAX_EXPANSION} names`, { exitCode: 2 });
    }
    const width = numbers[1].startsWith("0") ? numbers[1].length : 0;
    const step = from <= to ? 1 : -1;
    const items: string[] = [];
    for (let n = from; n !== to + step; n += step) items.push(String(n).padStart(width, "0"));
    return items;
  }
  const letters = /^([A-Za-z])\.\.([A-Za-z])$/.exec(inside);
  if (letters) {
    const [from, to] = [letters[1].charCodeAt(0), letters[2].charCodeAt(0)];
    const step = from <= to ? 1 : -1;
    const items: string[] = [];
    for (let code = from; code !== to + step; code += step) items.push(String.fromCharCode(code));
    return items;
  }
  return inside.includes(",") ? inside.split(",") : undefined;
}

export interface NamedGroup {
  name: string;
  scope: Scope;
  path: string;
  entries: DeviceEntry[];
}

/** A group file by name, local first; undefined when neither exists. */
export async function findGroup(registry: Registry, name: string): Promise<NamedGroup | undefined> {
  const group = name === WHOLE_GLOBAL_GROUP ? GLOBAL_GROUP : checkGroupName(name);
  if (group === GLOBAL_GROUP) {
    return {
      name: group,
      scope: "global",
      path: registry.groupPath("global"),
      entries: await wholeGlobalGroup(registry),
    };
  }
  for (const scope of ["local", "global"] as const) {
    const path = registry.groupPath(scope, group);
    if (await pathExists(path)) {
      return { name: group, scope, path, entries: await registry.readGroup(scope, group) };
    }
  }
  return undefined;
}

/** `-G GROUP`: the group must exist and have devices. */
export async function readNamedGroup(registry: Registry, name: string): Promise<NamedGroup> {
  const group = await findGroup(registry, name);
  if (!group) {
    const known = await groupNames(registry);
    throw new UserError(
      `unknown group '${name}': ${
        known.length ? `known groups: ${known.join(", ")}` : "no groups yet (see 'upydev mkg')"
      }`,
    );
  }
  if (group.entries.length === 0) throw new UserError(`group '${name}' has no devices (${group.path})`);
  return group;
}

/** UPY_G local and global, a local entry shadowing a global one of the same name. */
async function wholeGlobalGroup(registry: Registry): Promise<DeviceEntry[]> {
  const entries = [...await registry.readGroup("local"), ...await registry.readGroup("global")];
  return entries.filter((entry, i) => entries.findIndex((other) => other.name === entry.name) === i);
}

/** Group files of both scopes (UPY_G excluded), each name once. */
export async function groupNames(registry: Registry): Promise<string[]> {
  const names = new Set<string>();
  for (const scope of ["local", "global"] as const) {
    const dir = registry.dir(scope);
    try {
      for await (const entry of Deno.readDir(dir)) {
        const name = entry.name.replace(/\.config$/, "");
        if (entry.isFile && name !== entry.name && GROUP_NAME.test(name)) names.add(name);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  names.delete(GLOBAL_GROUP);
  names.delete("upydev_");
  return [...names].sort();
}

/**
 * The devices `-@ WORD...` names, in order, each once. A word is a glob over UPY_G's names, `gg`, a device
 * name, or else a group file's name; brace expressions expand first.
 */
export async function selectDevices(registry: Registry, words: string[]): Promise<DeviceEntry[]> {
  const selected = new Map<string, DeviceEntry>();
  for (const word of words.flatMap(expandBraces)) {
    for (const entry of await selectWord(registry, word)) {
      if (!selected.has(entry.name)) selected.set(entry.name, entry);
    }
  }
  return [...selected.values()];
}

async function selectWord(registry: Registry, word: string): Promise<DeviceEntry[]> {
  if (word === WHOLE_GLOBAL_GROUP) {
    const entries = await wholeGlobalGroup(registry);
    if (entries.length === 0) {
      throw new UserError("the global group UPY_G has no devices (see 'upydev config -gg')");
    }
    return entries;
  }
  if (hasGlob(word)) return await registry.matchDevices(word);
  if ((await registry.knownNames()).includes(word)) return [await registry.findDevice(word)];
  if (GROUP_NAME.test(word)) {
    const group = await findGroup(registry, word);
    if (group) return group.entries;
  }
  return [await registry.findDevice(word)];
}
