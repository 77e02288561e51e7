/**
 * Safe file writes for secrets and configuration: a temp file in the same directory, fsync, then rename, so a
 * crash or a full disk never leaves a half-written config or key under the real name. Read-modify-write cycles
 * of several processes are serialised by a lock file, and every file-system failure becomes one line that names
 * the path and the cause.
 */
import { UserError } from "../cli/errors.ts";

export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: { mode?: number } = {},
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const dir = parentOf(path);
  const slash = path.lastIndexOf("/");
  const temp = `${dir}/.${path.slice(slash + 1)}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const mode = options.mode ?? 0o600;
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode });
    try {
      let offset = 0;
      while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
      await file.sync();
    } finally {
      file.close();
    }
    // createNew's mode is filtered by the umask; secrets must be exactly `mode`.
    if (Deno.build.os !== "windows") await Deno.chmod(temp, mode);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/** Creates a directory (and parents) and sets its mode exactly, e.g. 0700 for key stores. */
/** True when something (even a dangling link) is at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

export async function ensureDir(path: string, mode = 0o700): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode });
  if (Deno.build.os !== "windows") await Deno.chmod(path, mode);
}

/** Reads a text file, or undefined when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** The lock file's name: hidden, and never a config file name. */
export const LOCK_FILE = ".upydev.lock";

/**
 * Runs `body` while holding an exclusive lock on `dir` (created 0700 if missing), so concurrent read-modify-write
 * cycles of its files (ten `upydev config -gg` at once) follow one another instead of losing updates. The lock
 * is advisory (flock): every writer of the directory's files must take it.
 */
export async function withDirectoryLock<T>(dir: string, body: () => Promise<T>): Promise<T> {
  const lockPath = `${dir}/${LOCK_FILE}`;
  let lock: Deno.FsFile;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    lock = await Deno.open(lockPath, { read: true, write: true, create: true, mode: 0o600 });
  } catch (error) {
    throw fileError(error, lockPath, "write");
  }
  try {
    await lock.lock(true);
    return await body();
  } finally {
    lock.close(); // closing releases the lock
  }
}

/**
 * One line naming the path and the cause of a file-system failure (a config dir that is a file, a config file
 * that is a directory, a read-only store); errors that are not the file system's pass through unchanged.
 */
export function fileError(error: unknown, path: string, doing: "read" | "write"): unknown {
  if (error instanceof UserError || !(error instanceof Error)) return error;
  const cause = fileErrorCause(error, path);
  if (cause === undefined) return error;
  return new UserError(`cannot ${doing} ${path}: ${cause}`, { cause: error });
}

function fileErrorCause(error: Error, path: string): string | undefined {
  if (error instanceof Deno.errors.PermissionDenied) {
    return "permission denied (is it or its folder read-only?)";
  }
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory, not a file";
  if (error instanceof Deno.errors.NotADirectory || error instanceof Deno.errors.AlreadyExists) {
    return `a part of ${parentOf(path)} is a file, not a directory`;
  }
  if (error instanceof Deno.errors.NotFound) return "no such file or directory";
  if (error.name === "ReadOnlyFileSystem" || /read-only file system/i.test(error.message)) {
    return "the file system is read-only";
  }
  if (/no space left/i.test(error.message)) return "no space left on the disk";
  if (error instanceof Deno.errors.NotCapable) return error.message;
  return undefined;
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
}
