/**
 * The emulated flash as the main thread keeps it: an image the Worker boots from (so a restarted Worker keeps
 * the files), optionally mirrored to a host directory so the flash survives between runs.
 */
import { UserError } from "../cli/errors.ts";
import { ensureDir } from "../config/files.ts";
import { FRESH_BOOT_PY } from "./identity.ts";
import type { FlashImage } from "./protocol.ts";

export function freshFlash(): FlashImage {
  return { dirs: [], files: [["boot.py", new TextEncoder().encode(FRESH_BOOT_PY)]] };
}

export function flashBytes(image: FlashImage): number {
  return image.files.reduce((sum, [, data]) => sum + data.length, 0);
}

/** Reads a flash directory; a missing or empty one becomes a fresh flash (written back on the first save). */
export async function loadFlashDir(dir: string): Promise<FlashImage> {
  const image: FlashImage = { dirs: [], files: [] };
  try {
    await walk(dir, "", image);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return freshFlash();
    throw new UserError(`cannot read flash directory ${dir}: ${(error as Error).message}`);
  }
  return image.files.length === 0 && image.dirs.length === 0 ? freshFlash() : image;
}

async function walk(root: string, prefix: string, image: FlashImage): Promise<void> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(prefix ? `${root}/${prefix}` : root)) entries.push(entry);
  entries.sort((a, b) => a.name < b.name ? -1 : 1);
  for (const entry of entries) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) {
      image.dirs.push(path);
      await walk(root, path, image);
    } else if (entry.isFile) {
      image.files.push([path, await Deno.readFile(`${root}/${path}`)]);
    }
  }
}

/**
 * Makes `dir` hold exactly the image: writes every file, removes what the device deleted. The flash holds the
 * device's private key and `webrepl_cfg.py`, so files are 0600 and folders 0700, whatever the umask.
 */
export async function saveFlashDir(dir: string, image: FlashImage): Promise<void> {
  await ensureDir(dir);
  const onDisk: FlashImage = { dirs: [], files: [] };
  await walk(dir, "", onDisk);
  const keepFiles = new Set(image.files.map(([path]) => path));
  const keepDirs = new Set(image.dirs);
  for (const [path] of onDisk.files) {
    if (!keepFiles.has(path)) await Deno.remove(`${dir}/${path}`);
  }
  for (const path of onDisk.dirs.toReversed()) {
    if (!keepDirs.has(path)) await Deno.remove(`${dir}/${path}`, { recursive: true });
  }
  for (const path of image.dirs) await ensureDir(`${dir}/${path}`);
  const before = new Map(onDisk.files);
  for (const [path, data] of image.files) {
    const old = before.get(path);
    if (old && old.length === data.length && old.every((byte, i) => byte === data[i])) {
      await chmodPrivate(`${dir}/${path}`, 0o600);
      continue;
    }
    await Deno.writeFile(`${dir}/${path}`, data, { mode: 0o600 });
    await chmodPrivate(`${dir}/${path}`, 0o600);
  }
}

/** An existing file keeps its mode on write, and a new one's mode is filtered by the umask: set it exactly. */
async function chmodPrivate(path: string, mode: number): Promise<void> {
  if (Deno.build.os !== "windows") await Deno.chmod(path, mode);
}
