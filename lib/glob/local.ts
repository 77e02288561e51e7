/** Globs on this computer's paths (put, lls), with the same matcher and rules as on the device. */
import { join, resolve } from "../local/paths.ts";
import { expandWords, type TreeEntry } from "./expand.ts";
import type { GlobOptions } from "./pattern.ts";

/** `words` with each local pattern replaced by its matches, relative to `localCwd` as typed. */
export async function expandLocalPaths(
  localCwd: string,
  words: string[],
  options: GlobOptions = {},
): Promise<string[]> {
  return await expandWords(
    words,
    (requests) =>
      Promise.all(requests.map(({ base, depth }) => listLocalTree(resolve(localCwd, base || "."), depth))),
    options,
  );
}

/** Entries under `directory` relative to it, `depth` levels deep; null when it is not a readable directory. */
export async function listLocalTree(directory: string, depth: number): Promise<TreeEntry[] | null> {
  const entries: TreeEntry[] = [];
  const walk = async (dir: string, prefix: string, left: number) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = prefix + entry.name;
      const isDir = entry.isDirectory || (entry.isSymlink && await isDirectory(join(dir, entry.name)));
      entries.push({ path, isDir });
      // Symlinked directories are listed but not entered: a link loop must not hang the expansion.
      if (entry.isDirectory && left !== 1) await walk(join(dir, entry.name), `${path}/`, left - 1);
    }
  };
  try {
    await walk(directory, "", depth);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) return null;
    if (error instanceof Deno.errors.PermissionDenied) return entries.length > 0 ? entries : null;
    throw error;
  }
  return entries;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}
