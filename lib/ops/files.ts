/**
 * Device file operations, written once on top of exec (mpremote style): every operation is a small Python
 * program with its paths emitted as escaped string literals, answering in JSON. Bulk bytes go through a
 * FileTransfer (WA/WB when the name fits its 63 bytes, exec otherwise); existence, size and SHA-256 are
 * always checked through exec, because WA/WB reports no errors.
 */
import { UserError } from "../cli/errors.ts";
import { InterruptedError } from "../ui/io.ts";
import { ExecTransfer } from "../webrepl/exec_transfer.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import { DeviceExecError, type WebReplSession } from "../webrepl/session.ts";
import { type FileTransfer, type ProgressCallback, wawbNameFits, WaWbTransfer } from "../webrepl/transfer.ts";
import { normalizeRemotePath, remoteBasename, remoteDirname, remoteJoin } from "./paths.ts";
import {
  type Check,
  isBoolean,
  isNumber,
  isString,
  listOf,
  nullable,
  parseDeviceReply,
  tupleOf,
} from "./system.ts";

export interface RemoteStat {
  path: string;
  isDir: boolean;
  size: number;
}

export interface DeviceFilesOptions {
  /** Use exec for every transfer (firmware without WA/WB). */
  execTransferOnly?: boolean;
  /** GET pulls kept in flight over WA/WB. */
  getPipeline?: number;
  /** Ctrl-C: transfers stop at the next frame, clean up as far as the link allows, and throw InterruptedError. */
  signal?: AbortSignal;
}

export interface PutOptions {
  onProgress?: ProgressCallback;
  /** When the target is a device directory (or `intoDirectory` is set), the file goes in it under this name. */
  name?: string;
  /** The target names a directory even if it does not exist yet (it ended with '/'). */
  intoDirectory?: boolean;
  /** When the flash has no room for the new copy beside the old one, remove the old one first. */
  inPlace?: boolean;
}

/** What the first exec of a put learns: which target, its folder and old copy, the free space. */
interface PutPlan {
  target: string;
  parent: [boolean, number] | null;
  existing: [boolean, number] | null;
  blockSize: number;
  free: number;
}

export class DeviceFiles {
  readonly session: WebReplSession;
  readonly #wawb: WaWbTransfer;
  readonly #exec: FileTransfer;
  readonly #execOnly: boolean;
  readonly #options: DeviceFilesOptions;

  constructor(session: WebReplSession, options: DeviceFilesOptions = {}) {
    this.session = session;
    this.#options = options;
    this.#wawb = new WaWbTransfer(session, { getPipeline: options.getPipeline, signal: options.signal });
    this.#exec = new ExecTransfer(session, { signal: options.signal });
    this.#execOnly = options.execTransferOnly ?? false;
  }

  /** The same operations on the same session, with transfers that stop when `signal` aborts (one command's Ctrl-C). */
  withSignal(signal: AbortSignal): DeviceFiles {
    return new DeviceFiles(this.session, { ...this.#options, signal });
  }

  /** The transfer route for a path: WA/WB unless the name is over its 63-byte field. */
  transferFor(remotePath: string): FileTransfer {
    return !this.#execOnly && wawbNameFits(remotePath) ? this.#wawb : this.#exec;
  }

  async #json<T>(code: string, what: string, check: Check<T>): Promise<T> {
    return parseDeviceReply(await this.session.execText(`import json\n${code}`), what, check);
  }

  /** null when the path does not exist. */
  async stat(path: string): Promise<RemoteStat | null> {
    return (await this.statAll([path]))[0];
  }

  /** Several stats in one exec: each exec is a round trip to the device. */
  async statAll(paths: string[]): Promise<(RemoteStat | null)[]> {
    const targets = paths.map(normalizeRemotePath);
    const results = await this.#json(
      "import os,errno\nr=[]\n" +
        `for p in (${targets.map(pyStr).join(",")},):\n` +
        " try:\n  s=os.stat(p)\n  r.append([s[0]&0x4000!=0,s[6]])\n" +
        " except OSError as e:\n  if e.args[0]!=errno.ENOENT:raise\n  r.append(None)\nprint(json.dumps(r))",
      "stat",
      listOf(nullable(tupleOf<[boolean, number]>(isBoolean, isNumber))),
    );
    return results.map((result, i) =>
      result === null ? null : { path: targets[i], isDir: result[0], size: result[1] }
    );
  }

  /** Entries under a directory (the directory itself excluded), sorted by path; a file lists as itself. */
  async list(path: string, options: { recursive?: boolean } = {}): Promise<RemoteStat[]> {
    const target = normalizeRemotePath(path);
    const stat = await this.stat(target);
    if (stat === null) throw new UserError(`no such file or directory on the device: ${target}`);
    if (!stat.isDir) return [stat];
    // os.ilistdir yields (name, type, inode[, size]); the size is missing on POSIX-backed filesystems.
    const entries = await this.#json(
      "import os\nr=[]\ndef _l(p):\n for e in os.ilistdir(p):\n  f=(p if p!='/' else '')+'/'+e[0]\n" +
        "  d=e[1]&0x4000!=0\n  s=0 if d else (e[3] if len(e)>3 and e[3]>=0 else os.stat(f)[6])\n" +
        `  r.append([f,d,s])\n  if d and ${options.recursive ? "True" : "False"}:_l(f)\n` +
        `_l(${pyStr(target)})\nprint(json.dumps(r))`,
      "ls",
      listOf(tupleOf<[string, boolean, number]>(isString, isBoolean, isNumber)),
    );
    return entries
      .map(([entryPath, isDir, size]) => ({ path: entryPath, isDir, size }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** mkdir -p: creates missing parents; an existing directory is fine, an existing file is an error. */
  async mkdir(path: string): Promise<void> {
    const target = normalizeRemotePath(path);
    await this.execAbout(
      `import os\np=''\nfor c in ${
        pyStr(target)
      }.split('/'):\n if not c:continue\n p+='/'+c\n try:\n  os.mkdir(p)\n` +
        " except OSError as e:\n  if e.args[0]!=17:raise\n  if not os.stat(p)[0]&0x4000:raise OSError(20)",
      target,
    );
  }

  /** Removes a file, or a directory (only with `recursive`, or when empty). */
  async rm(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    const target = normalizeRemotePath(path);
    if (target === "/") throw new UserError("refusing to remove the device's root directory");
    const stat = await this.stat(target);
    if (stat === null) throw new UserError(`no such file or directory on the device: ${target}`);
    if (stat.isDir && !options.recursive) {
      const children = await this.list(target);
      if (children.length > 0) throw new UserError(`${target} is a directory that is not empty (use rm -r)`);
    }
    await this.execAbout(
      "import os\ndef _r(p):\n if os.stat(p)[0]&0x4000:\n  for e in list(os.ilistdir(p)):_r(p+'/'+e[0])\n" +
        `  os.rmdir(p)\n else:\n  os.remove(p)\n_r(${pyStr(target)})`,
      target,
    );
  }

  /** SHA-256 (hex) computed on the device. */
  async sha256(path: string): Promise<string> {
    const target = normalizeRemotePath(path);
    const [, digest] = await this.#sizeAndHash(target);
    return digest;
  }

  async #sizeAndHash(target: string): Promise<[number, string]> {
    return await this.#jsonFor(
      `import os,hashlib,binascii\nt=${pyStr(target)}\n${HASH_FILE_PY}print(json.dumps([s,x]))`,
      target,
      "sha256",
      tupleOf<[number, string]>(isNumber, isString),
    );
  }

  /**
   * Uploads `data` to `remotePath` safely: into a temporary name in the same directory, verified (size and
   * SHA-256 computed on the device), then renamed. A failure never leaves a partial file under the real name.
   * Two execs in all: one that finds the target, removes stale temporary files of interrupted runs and measures
   * the free space; one that verifies and renames. Returns the path written.
   */
  async put(data: Uint8Array, remotePath: string, options: PutOptions = {}): Promise<string> {
    const plan = await this.#planPut(data.length, normalizeRemotePath(remotePath), options);
    const { target } = plan;
    const dir = remoteDirname(target);
    if (plan.parent === null || !plan.parent[0]) {
      throw new UserError(`destination directory ${dir} does not exist on the device (create it with mkdir)`);
    }
    if (plan.existing?.[0]) throw new UserError(`${target} is a directory on the device`);
    checkRoom(plan, data.length);
    if (this.#options.signal?.aborted) throw new InterruptedError();
    const temporary = await temporaryNameFor(target);
    try {
      await this.transferFor(temporary).put(temporary, data, options.onProgress);
      if (this.#options.signal?.aborted) throw new InterruptedError();
      const expected = await sha256Hex(data);
      const [size, digest] = await this.#jsonFor(
        `import os,hashlib,binascii\nt=${pyStr(temporary)}\n${HASH_FILE_PY}` +
          `if s==${data.length} and x=='${expected}':\n try:\n  os.rename(t,${pyStr(target)})\n` +
          ` except OSError:\n  os.remove(${pyStr(target)})\n  os.rename(t,${pyStr(target)})\n` +
          "print(json.dumps([s,x]))",
        target,
        "put",
        tupleOf<[number, string]>(isNumber, isString),
      );
      if (size !== data.length || digest !== expected) {
        throw new UserError(
          size !== data.length
            ? `upload of ${target} failed: the device stored ${size} of ${data.length} bytes (flash full?)`
            : `upload of ${target} failed: SHA-256 on the device does not match (flash full or corrupted transfer?)`,
        );
      }
    } catch (error) {
      await this.removeQuietly(temporary);
      throw error;
    }
    return target;
  }

  async #planPut(size: number, target: string, options: PutOptions): Promise<PutPlan> {
    const inDirectory = options.name === undefined ? undefined : remoteJoin(target, options.name);
    const [index, parent, existing, blockSize, free] = await this.#jsonFor(
      "import os\ndef _s(p):\n try:\n  s=os.stat(p)\n  return [s[0]&0x4000!=0,s[6]]\n" +
        " except OSError as e:\n  if e.args[0]!=2:raise\n  return None\n" +
        `T=(${[target, inDirectory].filter((path) => path !== undefined).map(pyStr).join(",")},)\n` +
        `k=1 if len(T)>1 and (${options.intoDirectory ? "True" : "False"} or (_s(T[0]) or [0])[0]) else 0\n` +
        "t=T[k]\nd=t.rsplit('/',1)[0] or '/'\np=_s(d)\ne=_s(t)\nb=4096\nf=0\n" +
        "if p and p[0]:\n for n in os.listdir(d):\n" +
        `  if n.startswith('${TEMPORARY_PREFIX}'):\n   try:os.remove(d.rstrip('/')+'/'+n)\n   except OSError:pass\n` +
        " v=os.statvfs(d)\n b=v[0]\n f=v[0]*v[3]\n" +
        ` n=-(-${size}//b)*b\n` +
        ` if ${options.inPlace ? "True" : "False"} and e and not e[0] and n>f and n<=f+-(-e[1]//b)*b:\n` +
        "  os.remove(t)\n  e=None\n  v=os.statvfs(d)\n  f=v[0]*v[3]\n" +
        "print(json.dumps([k,p,e,b,f]))",
      inDirectory ?? target,
      "put",
      tupleOf<[number, PutPlan["parent"], PutPlan["existing"], number, number]>(
        isNumber,
        nullable(tupleOf<[boolean, number]>(isBoolean, isNumber)),
        nullable(tupleOf<[boolean, number]>(isBoolean, isNumber)),
        isNumber,
        isNumber,
      ),
    );
    const chosen = index === 1 && inDirectory !== undefined ? inDirectory : target;
    return { target: chosen, parent, existing, blockSize, free };
  }

  /**
   * Removes files as far as the link allows: the temporary copies of a failed or interrupted transfer. A name
   * left behind is harmless (the next put into that directory removes it).
   */
  async removeQuietly(...paths: string[]): Promise<void> {
    try {
      await this.session.exec(
        `import os\nfor p in (${
          paths.map(pyStr).join(",")
        },):\n try:\n  os.remove(p)\n except OSError:\n  pass`,
      );
    } catch {
      // The session may be gone (that may be why we are cleaning up).
    }
  }

  /** Downloads a file after checking that it exists; verifies the size received. */
  async get(remotePath: string, onProgress?: ProgressCallback): Promise<Uint8Array> {
    const target = normalizeRemotePath(remotePath);
    const stat = await this.stat(target);
    // A WA/WB GET of a missing file kills a real device's session, so never ask for one.
    if (stat === null) throw new UserError(`no such file on the device: ${target}`);
    if (stat.isDir) throw new UserError(`${target} is a directory on the device`);
    const data = await this.transferFor(target).get(target, stat.size, onProgress);
    if (data.length !== stat.size) {
      throw new UserError(`download of ${target} failed: received ${data.length} of ${stat.size} bytes`);
    }
    return data;
  }

  /** Renames on the device; a destination that is an existing directory receives the source's name. */
  async move(source: string, destination: string): Promise<string> {
    const from = normalizeRemotePath(source);
    const target = await this.#intoDirectory(from, normalizeRemotePath(destination));
    await this.execAbout(
      `import os\ntry:\n os.stat(${pyStr(target)})\n raise OSError(17)\nexcept OSError as e:\n` +
        ` if e.args[0]!=2:raise\nos.rename(${pyStr(from)},${pyStr(target)})`,
      `${from} -> ${target}`,
    );
    return target;
  }

  /**
   * Copies a file on the device (no bytes cross the link): into a temporary name, then renamed, so a full
   * flash never leaves half a copy under the real name.
   */
  async copy(source: string, destination: string): Promise<string> {
    const from = normalizeRemotePath(source);
    const target = await this.#intoDirectory(from, normalizeRemotePath(destination), "file");
    const temporary = await temporaryNameFor(target);
    try {
      await this.execAbout(
        "import os\nb=bytearray(1024)\nm=memoryview(b)\n" +
          `with open(${pyStr(from)},'rb') as s:\n with open(${pyStr(temporary)},'wb') as d:\n  while 1:\n` +
          "   n=s.readinto(b)\n   if not n:break\n   d.write(m[:n])\n" +
          `try:\n os.rename(${pyStr(temporary)},${pyStr(target)})\nexcept OSError:\n` +
          ` os.remove(${pyStr(target)})\n os.rename(${pyStr(temporary)},${pyStr(target)})`,
        `${from} -> ${target}`,
      );
    } catch (error) {
      await this.removeQuietly(temporary);
      throw error;
    }
    return target;
  }

  async #intoDirectory(source: string, destination: string, only?: "file"): Promise<string> {
    const [from, to] = await this.statAll([source, destination]);
    if (from === null) throw new UserError(`no such file or directory on the device: ${source}`);
    if (only === "file" && from.isDir) {
      throw new UserError(`${source} is a directory on the device (not copied)`);
    }
    if (to?.isDir) return remoteJoin(destination, remoteBasename(source));
    return destination;
  }

  /** Creates an empty file, or leaves an existing one as it is. */
  async touch(path: string): Promise<void> {
    const target = normalizeRemotePath(path);
    await this.execAbout(`open(${pyStr(target)},'ab').close()`, target);
  }

  /** Removes an empty directory. */
  async rmdir(path: string): Promise<void> {
    const target = normalizeRemotePath(path);
    const stat = await this.stat(target);
    if (stat === null) throw new UserError(`no such directory on the device: ${target}`);
    if (!stat.isDir) throw new UserError(`not a directory on the device: ${target}`);
    // ENOTEMPTY's number differs between ports (90 on ESP32, 39 on unix): name the case on every port.
    await this.execAbout(
      `import os\ntry:\n os.rmdir(${pyStr(target)})\nexcept OSError:\n` +
        ` if os.listdir(${pyStr(target)}):raise OSError(90)\n raise`,
      target,
    );
  }

  /**
   * The first `lines` lines of a file, read on the device so a large file never crosses the link; written
   * through sys.stdout.buffer, which the device does not cook, so the bytes arrive as stored.
   */
  async head(path: string, lines: number): Promise<Uint8Array> {
    const target = normalizeRemotePath(path);
    try {
      return await this.session.exec(
        `import sys\nwith open(${pyStr(target)},'rb') as f:\n for i in range(${lines}):\n` +
          "  l=f.readline()\n  if not l:break\n  sys.stdout.buffer.write(l)",
      );
    } catch (error) {
      throw mapDeviceError(error, target);
    }
  }

  /** Size and free space of the filesystem that holds `path`. */
  async filesystem(path = "/"): Promise<FilesystemUsage> {
    const target = normalizeRemotePath(path);
    const [blockSize, blocks, free] = await this.#jsonFor(
      `import os\ns=os.statvfs(${pyStr(target)})\nprint(json.dumps([s[0],s[2],s[3]]))`,
      target,
      "df",
      tupleOf<[number, number, number]>(isNumber, isNumber, isNumber),
    );
    return {
      path: target,
      total: blockSize * blocks,
      free: blockSize * free,
      used: blockSize * (blocks - free),
    };
  }

  /**
   * SHA-256 of files, or of every file under directories, in one exec that streams a line per file: the
   * cost is one round trip whatever the number of files.
   */
  async hashes(paths: string[], onHash?: (hash: FileHash) => void): Promise<FileHash[]> {
    const targets = paths.map(normalizeRemotePath);
    const found: FileHash[] = [];
    await this.execLines(
      `import os,json\n${PY_SHA256_FILE}def _h(p):\n` +
        " if os.stat(p)[0]&0x4000:\n  for e in os.ilistdir(p):_h((p if p!='/' else '')+'/'+e[0])\n  return\n" +
        " print(*_sha(p),json.dumps(p))\n" +
        `for p in (${targets.map(pyStr).join(",")},):_h(p)`,
      targets.join(" "),
      (line) => {
        const hash = parseHashLine(line);
        found.push(hash);
        onHash?.(hash);
      },
    );
    return found;
  }

  /** Runs code about `target`, handing each non-empty stdout line to `onLine` as it arrives. */
  async execLines(code: string, target: string, onLine: (line: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    const take = (text: string) => {
      pending += text;
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== "") onLine(line);
      }
    };
    try {
      await this.session.exec(code, { onStdout: (bytes) => take(decoder.decode(bytes, { stream: true })) });
    } catch (error) {
      throw mapDeviceError(error, target);
    }
    take("\n");
  }

  async #jsonFor<T>(code: string, target: string, what: string, check: Check<T>): Promise<T> {
    try {
      return await this.#json(code, what, check);
    } catch (error) {
      throw mapDeviceError(error, target);
    }
  }

  /** Runs code about `target`, with the device's errors named for it (ENOENT: no such file …). */
  async execAbout(code: string, target: string): Promise<void> {
    try {
      await this.session.exec(code);
    } catch (error) {
      throw mapDeviceError(error, target);
    }
  }
}

export interface FilesystemUsage {
  path: string;
  total: number;
  used: number;
  free: number;
}

export interface FileHash {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Python defining `_sha(p)`: the hex SHA-256 and the size of a file, read 1 KiB at a time so the heap use does
 * not grow with the file. Every program that hashes device files streams through this one loop.
 */
export const PY_SHA256_FILE = "import hashlib,binascii\nb=bytearray(1024)\nm=memoryview(b)\ndef _sha(p):\n" +
  " h=hashlib.sha256()\n n=0\n with open(p,'rb') as f:\n  while 1:\n   k=f.readinto(b)\n" +
  "   if not k:break\n   h.update(m[:k])\n   n+=k\n return binascii.hexlify(h.digest()).decode(),n\n";

/** `HEX SIZE "PATH"`: the path last and JSON-quoted, so any name survives. */
export function parseHashLine(line: string): FileHash {
  const match = /^([0-9a-f]{64}) (\d+) (".*")$/.exec(line);
  if (!match) {
    throw new UserError(`unexpected shasum line from the device: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return { sha256: match[1], size: Number(match[2]), path: parseDeviceReply(match[3], "shasum", isString) };
}

/** Sets `s` (size) and `x` (SHA-256 hex) of the file `t`, with the one hash loop. */
const HASH_FILE_PY = `${PY_SHA256_FILE}x,s=_sha(t)\n`;

/**
 * Refuses an upload the flash cannot hold before any byte is sent. The new copy is written beside the old one
 * (it replaces it only once verified), so a replacement needs room for both, unless `inPlace` removed the old.
 */
function checkRoom(plan: PutPlan, size: number): void {
  const roundUp = (bytes: number) => Math.ceil(bytes / plan.blockSize) * plan.blockSize;
  const need = roundUp(size);
  if (need <= plan.free) return;
  const old = plan.existing === null ? 0 : roundUp(plan.existing[1]);
  if (old > 0 && need <= plan.free + old) {
    throw new UserError(
      `device flash full for a safe replace of ${plan.target}: the new copy needs ${need} bytes beside the old ` +
        `one (${old} bytes) and ${plan.free} are free; 'put --in-place' removes the old copy first ` +
        "(it is lost if the upload then fails)",
    );
  }
  throw new UserError(`device flash full: ${plan.target} needs ${need} bytes and ${plan.free} are free`);
}

/** How every temporary upload name starts, so a sync can recognise (and clean up) what an interrupted one left. */
export const TEMPORARY_PREFIX = ".upytmp-";

/**
 * Short and derived from the target: it fits WA/WB's 63-byte name field even when the final name does not
 * (the rename has no such limit), and a retry reuses the same name instead of leaving another.
 */
export async function temporaryNameFor(target: string): Promise<string> {
  const dir = remoteDirname(target);
  const tag = (await sha256Hex(new TextEncoder().encode(target))).slice(0, 8);
  return `${dir === "/" ? "" : dir}/${TEMPORARY_PREFIX}${tag}`;
}

/** Turns common device OSErrors into messages naming the path. */
export function mapDeviceError(error: unknown, target: string): unknown {
  if (!(error instanceof DeviceExecError)) return error;
  switch (error.errnoName) {
    case "ENOENT":
      return new UserError(`no such file or directory on the device: ${target}`, { cause: error });
    case "EEXIST":
      return new UserError(`already exists on the device: ${target}`, { cause: error });
    case "ENOSPC":
      return new UserError(`device flash full while writing ${target}`, { cause: error });
    case "ENOTDIR":
      return new UserError(`not a directory on the device: ${target}`, { cause: error });
    case "EISDIR":
      return new UserError(`is a directory on the device: ${target}`, { cause: error });
    case "ENOTEMPTY":
      return new UserError(`directory not empty on the device: ${target}`, { cause: error });
    case "EROFS":
      return new UserError(`the device's filesystem is read-only: cannot write ${target}`, { cause: error });
    case "ENAMETOOLONG":
      return new UserError(`name too long for the device's filesystem: ${target}`, { cause: error });
    case "EACCES":
    case "EPERM":
      return new UserError(`permission denied on the device: ${target}`, { cause: error });
    default:
      return new UserError(`${error.message} (${target})`, { cause: error });
  }
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>)).toHex();
}
