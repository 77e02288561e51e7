/**
 * The computer's side of a sync: a directory walked into the same entries the device's walk gives, and the
 * file operations a sync needs there. Files are hashed only when asked (sizes are compared first), and written
 * through a temporary sibling and a rename, so an interrupted sync leaves each file old or new.
 */
import { join } from "node:path";
import { UserError } from "../cli/errors.ts";
import { writeFileAtomic } from "../config/files.ts";
import { sha256Hex } from "../ops/files.ts";
import type { TreeFile } from "../ops/trees.ts";
import type { IgnoreRules } from "./ignore.ts";

export interface LocalTree {
  root: string;
  exists: boolean;
  entries: TreeFile[];
}

/** Every entry under `root` that `ignore` keeps, sorted by path; symbolic links are followed once. */
export async function localTree(root: string, ignore: IgnoreRules): Promise<LocalTree> {
  const entries: TreeFile[] = [];
  const seen = new Set<string>();
  const walk = async (dir: string, prefix: string) => {
    // A link back up the tree would loop: each real directory is entered once.
    const real = await Deno.realPath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    for await (const item of Deno.readDir(dir)) {
      const path = prefix + item.name;
      const full = join(dir, item.name);
      const stat = item.isSymlink ? await Deno.stat(full).catch(() => null) : null;
      const isDir = stat ? stat.isDirectory : item.isDirectory;
      if ((item.isSymlink && !stat) || ignore.ignores(path, isDir)) continue;
      if (isDir) {
        entries.push({ path, isDir: true, size: 0 });
        await walk(full, `${path}/`);
      } else if (stat?.isFile ?? item.isFile) {
        entries.push({ path, isDir: false, size: (stat ?? await Deno.stat(full)).size });
      }
    }
  };
  try {
    const stat = await Deno.stat(root);
    if (!stat.isDirectory) throw new UserError(`${root} is not a directory`);
    await walk(root, "");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { root, exists: false, entries: [] };
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot read ${root}: ${(error as Error).message}`);
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { root, exists: true, entries };
}

export async function readLocal(root: string, path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(join(root, path));
  } catch (error) {
    throw new UserError(`cannot read ${join(root, path)}: ${(error as Error).message}`);
  }
}

export async function localSha256(root: string, entry: TreeFile): Promise<string> {
  return entry.sha256 ??= await sha256Hex(await readLocal(root, entry.path));
}

/** Writes a file through a temporary sibling and a rename, creating missing parents. */
export async function writeLocal(full: string, data: Uint8Array): Promise<void> {
  try {
    await Deno.mkdir(join(full, ".."), { recursive: true });
    await writeFileAtomic(full, data, { mode: 0o644 });
  } catch (error) {
    throw new UserError(`cannot write ${full}: ${(error as Error).message}`);
  }
}

/** Removes files, then the directories left empty (deepest first); a directory still holding something stays. */
export async function removeLocal(
  root: string,
  paths: { files: string[]; directories: string[] },
): Promise<void> {
  for (const path of paths.files) {
    await Deno.remove(join(root, path)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new UserError(`cannot remove ${join(root, path)}: ${(error as Error).message}`);
      }
    });
  }
  for (const path of [...paths.directories].sort((a, b) => b.length - a.length)) {
    await Deno.remove(join(root, path)).catch(() => {});
  }
}
