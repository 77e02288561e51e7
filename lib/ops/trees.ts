/**
 * Whole device trees in a few round trips, for dsync and recursive put/get. A round trip costs far more than
 * the device's work (44 ms on stock webrepl against about 50 ms to hash 1 MB), so: the whole tree is walked
 * and hashed in ONE exec that streams a line per entry; directories are created, extras removed and uploads
 * verified and renamed in one exec per batch. Each upload still goes through a temporary name, size and SHA-256
 * checked on the device before the rename, so a file is never partial under its real name.
 */
import { UserError } from "../cli/errors.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import type { ProgressCallback } from "../webrepl/transfer.ts";
import {
  type DeviceFiles,
  parseHashLine,
  PY_SHA256_FILE,
  sha256Hex,
  TEMPORARY_PREFIX,
  temporaryNameFor,
} from "./files.ts";
import { normalizeRemotePath, remoteBasename, remoteDirname, remoteJoin } from "./paths.ts";

/** A file or directory under a tree's root. */
export interface TreeFile {
  /** Relative to the root, `/`-separated: `lib/a.py`. */
  path: string;
  isDir: boolean;
  size: number;
  /** Hex SHA-256 of a file, when known. */
  sha256?: string;
}

export interface DeviceTree {
  root: string;
  /** False when the root does not exist (a sync then creates it). */
  exists: boolean;
  entries: TreeFile[];
  /** Temporary upload names an interrupted transfer left, relative to the root. */
  leftovers: string[];
  /** Of the filesystem holding the root (or `/` when the root does not exist yet). */
  blockSize: number;
  freeBytes: number;
  totalBytes: number;
}

/**
 * Every entry under `root` with the SHA-256 of every file, in one exec. Names in `skipNames` (`.git`,
 * `__pycache__`) are not entered, so their contents cost nothing.
 */
export async function deviceTree(
  files: DeviceFiles,
  root: string,
  options: { skipNames?: string[] } = {},
): Promise<DeviceTree> {
  const target = normalizeRemotePath(root);
  const skip = (options.skipNames ?? []).map(pyStr).join(",");
  const tree: DeviceTree = {
    root: target,
    exists: true,
    entries: [],
    leftovers: [],
    blockSize: 0,
    freeBytes: 0,
    totalBytes: 0,
  };
  const onLine = (line: string) => {
    const [kind, rest] = [line.slice(0, 2), line.slice(2)];
    if (kind === "f ") {
      const [blockSize, free, total] = rest.split(" ").map(Number);
      Object.assign(tree, { blockSize, freeBytes: blockSize * free, totalBytes: blockSize * total });
    } else if (line === "x") tree.exists = false;
    else if (kind === "d ") tree.entries.push({ path: JSON.parse(rest), isDir: true, size: 0 });
    else if (kind === "t ") tree.leftovers.push(JSON.parse(rest));
    else {
      const { path, size, sha256 } = parseHashLine(line);
      tree.entries.push({ path, isDir: false, size, sha256 });
    }
  };
  // `f` reports statvfs first (of `/` when the root is missing); `x` says the root is missing.
  await files.execLines(
    `import os,json\n${PY_SHA256_FILE}S=[${skip}]\ndef _w(p,r):\n for e in os.ilistdir(p):\n` +
      "  n=e[0]\n  if n in S:continue\n  f=(p if p!='/' else '')+'/'+n\n  q=json.dumps(r+n)\n" +
      `  if n.startswith(${pyStr(TEMPORARY_PREFIX)}):print('t',q)\n` +
      "  elif e[1]&0x4000:print('d',q);_w(f,r+n+'/')\n  else:print(*_sha(f),q)\n" +
      `R=${pyStr(target)}\ntry:\n d=os.stat(R)[0]&0x4000\nexcept OSError:\n d=None\n` +
      "s=os.statvfs(R if d is not None else '/')\nprint('f',s[0],s[3],s[2])\n" +
      "if d is None:print('x')\nelif not d:raise OSError(20)\nelse:_w(R,'')",
    target,
    onLine,
  );
  tree.entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return tree;
}

/** Creates directories (absolute, parents before children) in one exec; existing ones are fine. */
export async function makeDirectories(files: DeviceFiles, directories: string[]): Promise<void> {
  if (directories.length === 0) return;
  const targets = directories.map(normalizeRemotePath);
  await files.execAbout(
    `import os\nfor p in [${targets.map(pyStr).join(",")}]:\n try:os.mkdir(p)\n except OSError as e:\n` +
      "  if e.args[0]!=17 or not os.stat(p)[0]&0x4000:raise",
    targets.join(" "),
  );
}

/**
 * Removes files, then directories that are left empty (deepest first), in one exec. A directory that still
 * holds something (an ignored file) stays.
 */
export async function removePaths(
  files: DeviceFiles,
  paths: { files: string[]; directories: string[] },
): Promise<void> {
  if (paths.files.length + paths.directories.length === 0) return;
  const list = (items: string[]) => items.map(normalizeRemotePath).map(pyStr).join(",");
  const directories = [...paths.directories].sort((a, b) => b.length - a.length);
  await files.execAbout(
    `import os\nfor p in [${list(paths.files)}]:\n try:os.remove(p)\n except OSError as e:\n` +
      `  if e.args[0]!=2:raise\nfor p in [${list(directories)}]:\n try:os.rmdir(p)\n except OSError:pass`,
    [...paths.files, ...directories].join(" "),
  );
}

/** One file to upload: its absolute device path and where its bytes come from. */
export interface Upload {
  target: string;
  size: number;
  read(): Promise<Uint8Array>;
}

export interface UploadOptions {
  /** Bytes of the current file sent so far, and the file. */
  onProgress?(upload: Upload, done: number): void;
  /** Called once a file is verified and renamed into place. */
  onDone?(upload: Upload): void;
}

/** Files whose verification and rename share one exec: larger batches save round trips, smaller ones flash. */
const BATCH_FILES = 32;
export const BATCH_BYTES = 256 * 1024;

/**
 * Uploads files through their temporary names (WA/WB, or exec for long names) and commits them in batches:
 * one exec checks each temporary file's size and SHA-256 and renames it over the target. Returns the number of
 * files committed. Files sent before a failure or a Ctrl-C are still committed, as far as the link allows.
 */
export async function uploadFiles(
  files: DeviceFiles,
  uploads: Upload[],
  options: UploadOptions = {},
): Promise<number> {
  let batch: { upload: Upload; sha256: string }[] = [];
  let batchBytes = 0;
  let committed = 0;
  const commit = async () => {
    if (batch.length === 0) return;
    const done = batch;
    batch = [];
    batchBytes = 0;
    await commitBatch(files, done);
    for (const { upload } of done) options.onDone?.(upload);
    committed += done.length;
  };
  let failure: unknown;
  try {
    for (const upload of uploads) {
      const data = await upload.read();
      if (data.length !== upload.size) {
        throw new UserError(
          `${upload.target} changed during the sync (${data.length} bytes, not ${upload.size})`,
        );
      }
      const temporary = await temporaryNameFor(upload.target);
      const progress: ProgressCallback = (done) => options.onProgress?.(upload, done);
      try {
        await files.transferFor(temporary).put(temporary, data, progress);
      } catch (error) {
        await files.removeQuietly(temporary);
        throw error;
      }
      batch.push({ upload, sha256: await sha256Hex(data) });
      batchBytes += data.length;
      if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) await commit();
    }
  } catch (error) {
    failure = error;
  }
  // What was sent is committed even when a later file failed or the user stopped; the first error is the one
  // reported (over a dropped link the commit fails too, and says less).
  try {
    await commit();
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure;
  return committed;
}

async function commitBatch(
  files: DeviceFiles,
  batch: { upload: Upload; sha256: string }[],
): Promise<void> {
  // Code is the costly part of an exec (the raw-paste window is 128 bytes), so each row is short: names grouped
  // by directory, the temporary name derived on the device as temporaryNameFor does, the digest in base64.
  const byDirectory = new Map<string, string[]>();
  for (const { upload, sha256 } of batch) {
    const target = normalizeRemotePath(upload.target);
    const dir = remoteDirname(target);
    const digest = Uint8Array.fromHex(sha256).toBase64();
    const rows = byDirectory.get(dir) ?? byDirectory.set(dir, []).get(dir)!;
    rows.push(`(${pyStr(remoteBasename(target))},${upload.size},b'${digest}')`);
  }
  const groups = [...byDirectory].map(([dir, rows]) =>
    `(${pyStr(dir === "/" ? "" : dir)},[${rows.join(",")}])`
  );
  const failures: [string, number][] = [];
  await files.execLines(
    `import os,json\n${PY_SHA256_FILE}for d,r in [${groups.join(",")}]:\n for n,s,x in r:\n  p=d+'/'+n\n` +
      `  t=d+'/${TEMPORARY_PREFIX}'+binascii.hexlify(hashlib.sha256(p.encode()).digest()).decode()[:8]\n` +
      "  try:h,k=_sha(t)\n  except OSError:h,k='',-1\n" +
      "  if k!=s or binascii.unhexlify(h)!=binascii.a2b_base64(x):\n   try:os.remove(t)\n   except OSError:pass\n" +
      "   print(json.dumps([p,k]))\n   continue\n  try:os.rename(t,p)\n  except OSError:\n" +
      "   os.remove(p)\n   os.rename(t,p)",
    batch.map(({ upload }) => upload.target).join(" "),
    (line) => failures.push(JSON.parse(line)),
  );
  if (failures.length > 0) {
    const [path, stored] = failures[0];
    const expected = batch.find(({ upload }) => normalizeRemotePath(upload.target) === path)?.upload.size;
    throw new UserError(
      stored !== expected
        ? `upload of ${path} failed: the device stored ${
          Math.max(0, stored)
        } of ${expected} bytes (flash full?)`
        : `upload of ${path} failed: SHA-256 on the device does not match (flash full or corrupted transfer?)`,
    );
  }
}

/**
 * Downloads a file whose size and SHA-256 the tree walk reported: no stat round trip first, and the bytes are
 * checked against that hash, so a file that changed meanwhile is reported rather than saved half old.
 */
export async function downloadKnownFile(
  files: DeviceFiles,
  root: string,
  entry: TreeFile,
  onProgress?: ProgressCallback,
): Promise<Uint8Array> {
  const target = remoteJoin(root, entry.path);
  const data = await files.transferFor(target).get(target, entry.size, onProgress);
  if (data.length !== entry.size || (entry.sha256 && await sha256Hex(data) !== entry.sha256)) {
    throw new UserError(`${target} changed on the device during the transfer; run the command again`);
  }
  return data;
}

/**
 * The names among `names` (single path components) that the device's filesystem refuses, found by creating
 * and removing a temporary file with each name in `/`. Only non-ASCII names are worth asking about: FAT
 * without Unicode support refuses them, LittleFS takes any bytes.
 */
export async function refusedNames(files: DeviceFiles, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const refused: string[] = [];
  await files.execLines(
    `import os,json\nfor n in [${names.map(pyStr).join(",")}]:\n p='/${TEMPORARY_PREFIX}'+n\n` +
      " try:\n  open(p,'wb').close()\n  os.remove(p)\n except OSError:\n  print(json.dumps(n))",
    "/",
    (line) => refused.push(JSON.parse(line)),
  );
  return refused;
}
