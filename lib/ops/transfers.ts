/**
 * Whole-file transfers between this computer and the device, with a progress bar, as `put`/`get` and the
 * shell's put/get run them. Device-side safety (temporary name, verification, rename) lives in DeviceFiles;
 * the local side is written through a temporary file and a rename too.
 */
import { basename, dirname, join, resolve } from "../local/paths.ts";
import { UserError } from "../cli/errors.ts";
import { writeFileAtomic } from "../config/files.ts";
import type { Io } from "../ui/io.ts";
import { ProgressBar } from "../ui/progress.ts";
import type { DeviceFiles } from "./files.ts";
import { normalizeRemotePath, remoteBasename } from "./paths.ts";

export interface TransferReport {
  from: string;
  to: string;
  bytes: number;
  ms: number;
}

/** Transfers shorter than this show no rate: connection set-up and verification would dominate it. */
const RATE_SHOWN_AFTER_MS = 1000;

export function describeTransfer(report: TransferReport): string {
  const rate = report.ms >= RATE_SHOWN_AFTER_MS
    ? `, ${(report.bytes / 1024 / (report.ms / 1000)).toFixed(1)} KB/s`
    : "";
  return `${report.from} -> ${report.to} (${report.bytes} bytes${rate})`;
}

export interface LocalFile {
  /** As the user gave it (relative to `io.cwd()`). */
  path: string;
  data: Uint8Array;
}

/** Reads a file to upload, before any connection is made, so a typo costs no device round trip. */
export async function readLocalFile(io: Io, path: string): Promise<LocalFile> {
  const resolved = resolve(io.cwd(), path);
  try {
    return { path, data: await Deno.readFile(resolved) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UserError(`no such local file: ${path}`);
    if (error instanceof Deno.errors.IsADirectory) throw new UserError(`${path} is a directory`);
    throw new UserError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Uploads a local file; a `remoteTarget` that is a device directory (or ends with '/') receives its name. */
export async function uploadFile(
  files: DeviceFiles,
  io: Io,
  { path: localPath, data }: LocalFile,
  remoteTarget: string,
  options: { inPlace?: boolean } = {},
): Promise<TransferReport> {
  const name = basename(localPath);
  const bar = new ProgressBar(io, `put ${name}`);
  const start = io.now();
  const target = await files.put(data, remoteTarget, {
    name,
    intoDirectory: remoteTarget.endsWith("/"),
    inPlace: options.inPlace,
    onProgress: (done, total) => bar.update(done, total),
  });
  bar.finish(data.length, data.length);
  return { from: localPath, to: target, bytes: data.length, ms: io.now() - start };
}

/** Downloads `remotePath`; a `localTarget` (relative to `localCwd`) that is a directory receives its name. */
export async function downloadFile(
  files: DeviceFiles,
  io: Io,
  remotePath: string,
  localTarget: string,
  localCwd = io.cwd(),
): Promise<TransferReport> {
  const remote = normalizeRemotePath(remotePath);
  const resolved = resolve(localCwd, localTarget);
  const local = await isLocalDirectory(resolved) ? join(localTarget, remoteBasename(remote)) : localTarget;
  const bar = new ProgressBar(io, `get ${remoteBasename(remote)}`);
  const start = io.now();
  const data = await files.get(remote, (done, total) => bar.update(done, total));
  bar.finish(data.length, data.length);
  await writeLocal(resolve(localCwd, local), data);
  return { from: remote, to: local, bytes: data.length, ms: io.now() - start };
}

async function isLocalDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** A failed download never leaves a partial file: temporary sibling, then rename. */
async function writeLocal(path: string, data: Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(path, data, { mode: 0o644 });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UserError(`local directory ${dirname(path)} does not exist`);
    }
    throw new UserError(`cannot write ${path}: ${(error as Error).message}`);
  }
}
