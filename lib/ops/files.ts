/**
 * Device file operations, written once on top of exec (mpremote style): every operation is a small Python
 * program with its paths emitted as escaped string literals, answering in JSON. Bulk bytes go through a
 * FileTransfer (WA/WB when the name fits its 63 bytes, exec otherwise); existence, size and SHA-256 are
 * always checked through exec, because WA/WB reports no errors.
 */
import { UserError } from "../cli/errors.ts";
import { ExecTransfer } from "../webrepl/exec_transfer.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import { DeviceExecError, type WebReplSession } from "../webrepl/session.ts";
import { type FileTransfer, type ProgressCallback, wawbNameFits, WaWbTransfer } from "../webrepl/transfer.ts";
import { normalizeRemotePath, remoteDirname } from "./paths.ts";

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
}

export class DeviceFiles {
  readonly session: WebReplSession;
  readonly #wawb: FileTransfer;
  readonly #exec: FileTransfer;
  readonly #execOnly: boolean;

  constructor(session: WebReplSession, options: DeviceFilesOptions = {}) {
    this.session = session;
    this.#wawb = new WaWbTransfer(session, { getPipeline: options.getPipeline });
    this.#exec = new ExecTransfer(session);
    this.#execOnly = options.execTransferOnly ?? false;
  }

  /** The transfer route for a path: WA/WB unless the name is over its 63-byte field. */
  transferFor(remotePath: string): FileTransfer {
    return !this.#execOnly && wawbNameFits(remotePath) ? this.#wawb : this.#exec;
  }

  async #json<T>(code: string): Promise<T> {
    const text = await this.session.execText(`import json\n${code}`);
    return JSON.parse(text.trim()) as T;
  }

  /** null when the path does not exist. */
  async stat(path: string): Promise<RemoteStat | null> {
    return (await this.#statAll([path]))[0];
  }

  /** Several stats in one exec: each exec is a round trip to the device. */
  async #statAll(paths: string[]): Promise<(RemoteStat | null)[]> {
    const targets = paths.map(normalizeRemotePath);
    const results = await this.#json<([boolean, number] | null)[]>(
      "import os,errno\nr=[]\n" +
        `for p in (${targets.map(pyStr).join(",")},):\n` +
        " try:\n  s=os.stat(p)\n  r.append([s[0]&0x4000!=0,s[6]])\n" +
        " except OSError as e:\n  if e.args[0]!=errno.ENOENT:raise\n  r.append(None)\nprint(json.dumps(r))",
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
    const entries = await this.#json<[string, boolean, number][]>(
      "import os\nr=[]\ndef _l(p):\n for e in os.ilistdir(p):\n  f=(p if p!='/' else '')+'/'+e[0]\n" +
        "  d=e[1]&0x4000!=0\n  s=0 if d else (e[3] if len(e)>3 and e[3]>=0 else os.stat(f)[6])\n" +
        `  r.append([f,d,s])\n  if d and ${options.recursive ? "True" : "False"}:_l(f)\n` +
        `_l(${pyStr(target)})\nprint(json.dumps(r))`,
    );
    return entries
      .map(([entryPath, isDir, size]) => ({ path: entryPath, isDir, size }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** mkdir -p: creates missing parents; an existing directory is fine, an existing file is an error. */
  async mkdir(path: string): Promise<void> {
    const target = normalizeRemotePath(path);
    await this.#run(
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
    await this.#run(
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
    return await this.#jsonFor<[number, string]>(
      "import os,hashlib,binascii\nh=hashlib.sha256()\nb=bytearray(1024)\nm=memoryview(b)\n" +
        `with open(${
          pyStr(target)
        },'rb') as f:\n while 1:\n  n=f.readinto(b)\n  if not n:break\n  h.update(m[:n])\n` +
        `print(json.dumps([os.stat(${pyStr(target)})[6],binascii.hexlify(h.digest()).decode()]))`,
      target,
    );
  }

  /**
   * Uploads `data` to `remotePath` safely: into a temporary name in the same directory, verified (size and
   * SHA-256 computed on the device), then renamed. A failure never leaves a partial file under the real name.
   */
  async put(data: Uint8Array, remotePath: string, onProgress?: ProgressCallback): Promise<void> {
    const target = normalizeRemotePath(remotePath);
    const dir = remoteDirname(target);
    const [parent, existing] = await this.#statAll([dir, target]);
    if (parent === null || !parent.isDir) {
      throw new UserError(`destination directory ${dir} does not exist on the device (create it with mkdir)`);
    }
    if (existing?.isDir) throw new UserError(`${target} is a directory on the device`);
    // Short and derived from the target: it fits WA/WB's 63-byte name field even when the final name does
    // not (the rename has no such limit), and a retry reuses the same name instead of leaving another.
    const tag = (await sha256Hex(new TextEncoder().encode(target))).slice(0, 8);
    const temporary = `${dir === "/" ? "" : dir}/.upytmp-${tag}`;
    try {
      await this.transferFor(temporary).put(temporary, data, onProgress);
      const [size, digest] = await this.#sizeAndHash(temporary);
      const expected = await sha256Hex(data);
      if (size !== data.length || digest !== expected) {
        throw new UserError(
          size !== data.length
            ? `upload of ${target} failed: the device stored ${size} of ${data.length} bytes (flash full?)`
            : `upload of ${target} failed: SHA-256 on the device does not match (flash full or corrupted transfer?)`,
        );
      }
      await this.#run(
        `import os\ntry:\n os.rename(${pyStr(temporary)},${pyStr(target)})\nexcept OSError:\n` +
          ` os.remove(${pyStr(target)})\n os.rename(${pyStr(temporary)},${pyStr(target)})`,
        target,
      );
    } catch (error) {
      await this.#removeQuietly(temporary);
      throw error;
    }
  }

  async #removeQuietly(path: string): Promise<void> {
    try {
      await this.session.exec(`import os\ntry:\n os.remove(${pyStr(path)})\nexcept OSError:\n pass`);
    } catch {
      // The session may be gone (that may be why we are cleaning up); the temporary name is harmless.
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

  async #jsonFor<T>(code: string, target: string): Promise<T> {
    try {
      return await this.#json<T>(code);
    } catch (error) {
      throw mapDeviceError(error, target);
    }
  }

  async #run(code: string, target: string): Promise<void> {
    try {
      await this.session.exec(code);
    } catch (error) {
      throw mapDeviceError(error, target);
    }
  }
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
    default:
      return new UserError(`${error.message} (${target})`, { cause: error });
  }
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>)).toHex();
}
