/**
 * Recursive and multi-file transfers (`put -r`, `get -r`, `put 'src/*.py' /lib`): `cp -r`'s rules for where
 * things land, missing directories created on the target side, and the same verified, batched transfers as
 * dsync (lib/ops/trees.ts). Skips what dsync always skips (.git, __pycache__, temporary and config files).
 */
import { basename, join, resolve } from "node:path";
import { UserError } from "../cli/errors.ts";
import type { DeviceFiles } from "../ops/files.ts";
import { remoteBasename, remoteDirname, remoteJoin } from "../ops/paths.ts";
import { deviceTree, downloadKnownFile, makeDirectories, type TreeFile, uploadFiles } from "../ops/trees.ts";
import type { TransferReport } from "../ops/transfers.ts";
import type { Io } from "../ui/io.ts";
import { ProgressBar } from "../ui/progress.ts";
import { printable } from "../ui/terminal_text.ts";
import { ALWAYS_SKIPPED_DIRECTORIES, IgnoreRules } from "./ignore.ts";
import { localTree, readLocal, writeLocal } from "./local.ts";

/** A local file or directory to upload, read before any connection is made. */
export interface LocalSource {
  /** As the user typed it (or as its pattern expanded). */
  typed: string;
  /** Absolute. */
  path: string;
  isDir: boolean;
  /** A file's size; a directory's entries. */
  size: number;
  entries: TreeFile[];
}

export async function localSource(typed: string, path: string, recursive: boolean): Promise<LocalSource> {
  const stat = await Deno.stat(path).catch(() => null);
  if (stat === null) throw new UserError(`no such local file: ${typed}`);
  if (!stat.isDirectory) return { typed, path, isDir: false, size: stat.size, entries: [] };
  if (!recursive) throw new UserError(`${typed} is a directory (put -r copies directories)`);
  const tree = await localTree(path, new IgnoreRules([]));
  return { typed, path, isDir: true, size: 0, entries: tree.entries };
}

interface Transfer {
  from: string;
  to: string;
  size: number;
}

/**
 * Uploads several sources into the device directory `destination` (created with its parents). A single
 * directory source whose destination does not exist becomes it, as with `cp -r`.
 */
export async function putSources(
  files: DeviceFiles,
  io: Io,
  sources: LocalSource[],
  destination: string,
  print: (text: string) => void,
): Promise<TransferReport[]> {
  const existing = await files.stat(destination);
  if (existing && !existing.isDir) {
    throw new UserError(`put: ${printable(destination)} is not a directory on the device`);
  }
  const directories = ancestors(destination);
  const uploads: (Transfer & { read(): Promise<Uint8Array> })[] = [];
  for (const source of sources) {
    if (!source.isDir) {
      const to = remoteJoin(destination, basename(source.path));
      uploads.push({ from: source.typed, to, size: source.size, read: () => Deno.readFile(source.path) });
      continue;
    }
    const base = sources.length === 1 && existing === null
      ? destination
      : remoteJoin(destination, basename(source.path));
    directories.push(base);
    for (const entry of source.entries) {
      const to = remoteJoin(base, entry.path);
      if (entry.isDir) directories.push(to);
      else {
        uploads.push({
          from: join(source.typed, entry.path),
          to,
          size: entry.size,
          read: () => readLocal(source.path, entry.path),
        });
      }
    }
  }
  await makeDirectories(files, directories);
  const byTarget = new Map(uploads.map((upload) => [upload.to, upload]));
  return await transferAll(io, print, uploads, "put", async (onProgress, onDone) => {
    await uploadFiles(
      files,
      uploads.map((upload) => ({ target: upload.to, size: upload.size, read: upload.read })),
      {
        onProgress: (upload, done) => onProgress(byTarget.get(upload.target)!, done),
        onDone: (upload) => onDone(byTarget.get(upload.target)!),
      },
    );
  });
}

/**
 * Downloads several device files or directories into the local directory `destination` (as typed, against
 * `localCwd`; created with its parents); the same placement rules as putSources.
 */
export async function getSources(
  files: DeviceFiles,
  io: Io,
  sources: string[],
  localCwd: string,
  destination: string,
  recursive: boolean,
  print: (text: string) => void,
): Promise<TransferReport[]> {
  const stats = await files.statAll(sources);
  const existing = await Deno.stat(resolve(localCwd, destination)).catch(() => null);
  if (existing && !existing.isDirectory) throw new UserError(`get: ${destination} is not a local directory`);
  const downloads: Download[] = [];
  const directories = [destination];
  for (const [i, stat] of stats.entries()) {
    const source = sources[i];
    if (stat === null) throw new UserError(`no such file or directory on the device: ${printable(source)}`);
    if (!stat.isDir) {
      const entry = { path: remoteBasename(source), isDir: false, size: stat.size };
      downloads.push({
        from: source,
        root: remoteDirname(source),
        entry,
        to: join(destination, entry.path),
        size: entry.size,
      });
      continue;
    }
    if (!recursive) {
      throw new UserError(`${printable(source)} is a directory on the device (get -r copies directories)`);
    }
    const base = sources.length === 1 && existing === null
      ? destination
      : join(destination, remoteBasename(source));
    directories.push(base);
    const tree = await deviceTree(files, source, { skipNames: ALWAYS_SKIPPED_DIRECTORIES });
    const keep = new IgnoreRules([]);
    for (const entry of tree.entries.filter((entry) => !keep.ignores(entry.path, entry.isDir))) {
      if (entry.isDir) directories.push(join(base, entry.path));
      else {
        const from = remoteJoin(source, entry.path);
        downloads.push({ from, root: source, entry, to: join(base, entry.path), size: entry.size });
      }
    }
  }
  for (const dir of directories) await Deno.mkdir(resolve(localCwd, dir), { recursive: true });
  return await transferAll(io, print, downloads, "get", async (onProgress, onDone) => {
    for (const item of downloads) {
      const data = await downloadKnownFile(files, item.root, item.entry, (done) => onProgress(item, done));
      await writeLocal(resolve(localCwd, item.to), data);
      onDone(item);
    }
  });
}

/** A device file to fetch: where it is (its tree's root and its entry there) and where it goes, as shown. */
interface Download extends Transfer {
  root: string;
  entry: TreeFile;
}

/** Runs transfers under one progress bar over all their bytes, printing a line per file as it completes. */
async function transferAll<T extends Transfer>(
  io: Io,
  print: (text: string) => void,
  items: T[],
  verb: string,
  run: (onProgress: (item: T, done: number) => void, onDone: (item: T) => void) => Promise<void>,
): Promise<TransferReport[]> {
  const total = items.reduce((sum, item) => sum + item.size, 0);
  const bar = new ProgressBar(io, `${verb} 0/${items.length} files`);
  const reports: TransferReport[] = [];
  let doneBytes = 0;
  const start = io.now();
  await run(
    (_item, done) => bar.update(doneBytes + done, total),
    (item) => {
      doneBytes += item.size;
      reports.push({ from: item.from, to: item.to, bytes: item.size, ms: io.now() - start });
      bar.label = `${verb} ${reports.length}/${items.length} files`;
      bar.clear();
      print(`${printable(item.from)} -> ${printable(item.to)} (${item.size} bytes)\n`);
      bar.update(doneBytes, total);
    },
  );
  bar.finish(doneBytes, total);
  return reports;
}

/** `/a/b` → `/a`, `/a/b`: a destination is created with its parents. */
export function ancestors(root: string): string[] {
  const parts = root.split("/").filter((part) => part !== "");
  return parts.map((_, i) => "/" + parts.slice(0, i + 1).join("/"));
}
