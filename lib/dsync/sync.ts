/**
 * dsync: brings a device directory in line with a local one (or the reverse with `toHost`). Both trees are read
 * first (the device's in one exec, hashes included), the plan is made and checked (conflicts, names the device
 * cannot hold, free space), extras are listed and confirmed, and only then is anything changed. Transfers go
 * through temporary names and are verified before the rename, so an interrupted sync (Ctrl-C, a dropped link, a
 * full flash) leaves each file old or new, and running it again completes it.
 */
import { join } from "node:path";
import { UserError } from "../cli/errors.ts";
import type { DeviceFiles } from "../ops/files.ts";
import { remoteJoin } from "../ops/paths.ts";
import {
  BATCH_BYTES,
  deviceTree,
  downloadKnownFile,
  makeDirectories,
  refusedNames,
  removePaths,
  type TreeFile,
  uploadFiles,
} from "../ops/trees.ts";
import type { Io } from "../ui/io.ts";
import { ProgressBar } from "../ui/progress.ts";
import { printable } from "../ui/terminal_text.ts";
import { ancestors } from "./copy.ts";
import { ALWAYS_SKIPPED_DIRECTORIES, type IgnoreRules } from "./ignore.ts";
import { localSha256, localTree, readLocal, removeLocal, writeLocal } from "./local.ts";
import { planSync, type SyncPlan } from "./plan.ts";

export interface SyncRequest {
  /** Absolute local directory. */
  localRoot: string;
  /** Absolute device directory. */
  deviceRoot: string;
  /** Device to host (`-d`). */
  toHost: boolean;
  /** Delete target files that the source does not have (`-rf`). */
  deleteExtras: boolean;
  /** Show the plan, change nothing (`-n`). */
  dryRun: boolean;
  /** Deletions confirmed ahead (`--yes`). */
  confirmed: boolean;
  ignore: IgnoreRules;
}

export interface SyncReport {
  created: string[];
  changed: string[];
  deleted: string[];
  bytes: number;
  dryRun: boolean;
}

/**
 * Files under the device's root that its link depends on (boot.py, which usually starts the network and
 * WebREPL; the WebREPL password; the wss key, certificates and server): never deleted as extras, so
 * `dsync -rf` from a project folder cannot lock the user out.
 */
const LINK_FILES =
  /^(boot\.py|webrepl_cfg\.py|ssl_config\.py|ROOT_CA_cert\.pem|SSL_key[0-9a-f]*\.(der|pem)|SSL_certificate[0-9a-f]*\.(der|pem)|lib\/wss_repl\.py|lib\/wss_helper\.py)$/;

/** The device's secrets (WebREPL password, private key): `dsync -d` never copies them into a project folder. */
const SECRET_FILES = /^(webrepl_cfg\.py|SSL_key[0-9a-f]*\.(der|pem))$/;

/** LittleFS's and FAT's longest name, in bytes. */
const NAME_MAX_BYTES = 255;

export async function sync(
  files: DeviceFiles,
  io: Io,
  print: (text: string) => void,
  request: SyncRequest,
): Promise<SyncReport> {
  const { localRoot, deviceRoot, toHost, ignore } = request;
  const local = await localTree(localRoot, ignore);
  if (!toHost && !local.exists) throw new UserError(`no such local directory: ${localRoot}`);
  const device = await deviceTree(files, deviceRoot, { skipNames: ALWAYS_SKIPPED_DIRECTORIES });
  if (toHost && !device.exists) {
    throw new UserError(`no such directory on the device: ${printable(deviceRoot)}`);
  }
  const kept = deviceRoot !== "/" ? null : toHost ? SECRET_FILES : LINK_FILES;
  const deviceEntries = device.entries.filter((entry) =>
    !ignore.ignores(entry.path, entry.isDir) && !kept?.test(entry.path)
  );
  const [source, target] = toHost ? [deviceEntries, local.entries] : [local.entries, deviceEntries];
  const plan = await planSync(source, target, (entry) => localSha256(localRoot, entry));
  const deletions = request.deleteExtras ? plan.extras : [];
  if (!toHost) {
    await checkNames(files, plan, request.dryRun);
    checkSpace(plan, target, deletions, device);
  }
  if (request.dryRun) {
    for (const entry of plan.created) print(`new      ${printable(entry.path)}\n`);
    for (const entry of plan.changed) print(`changed  ${printable(entry.path)}\n`);
    for (const entry of deletions) print(`deleted  ${printable(entry.path)}\n`);
    const paths = (entries: TreeFile[]) => entries.map((entry) => entry.path);
    return {
      created: paths(plan.created),
      changed: paths(plan.changed),
      deleted: paths(deletions),
      bytes: plan.bytes,
      dryRun: true,
    };
  }
  if (deletions.length > 0) await confirmDeletions(io, print, request, deletions);
  const report: SyncReport = { created: [], changed: [], deleted: [], bytes: plan.bytes, dryRun: false };
  const removal = {
    files: deletions.map((entry) => entry.path),
    directories: request.deleteExtras ? plan.extraDirectories : [],
  };
  if (toHost) {
    await removeLocal(localRoot, removal);
    for (const dir of plan.newDirectories) await Deno.mkdir(join(localRoot, dir), { recursive: true });
  } else {
    await removePaths(files, {
      // What an interrupted sync left goes too: the temporary names of files sent but never committed.
      files: [...removal.files, ...device.leftovers].map((path) => remoteJoin(deviceRoot, path)),
      directories: removal.directories.map((path) => remoteJoin(deviceRoot, path)),
    });
    await makeDirectories(files, [
      ...(device.exists ? [] : ancestors(deviceRoot)),
      ...plan.newDirectories.map((path) => remoteJoin(deviceRoot, path)),
    ]);
  }
  for (const path of removal.files) {
    report.deleted.push(path);
    print(`deleted  ${printable(path)}\n`);
  }
  await transfer(files, io, print, request, plan, report);
  return report;
}

/**
 * Sends (or fetches) the plan's files under one progress bar over files and bytes, printing a line per file
 * once it is in place. Ctrl-C (wired once, in lib/actions/action.ts) stops the current file at its next frame;
 * the files sent before it are still committed.
 */
async function transfer(
  files: DeviceFiles,
  io: Io,
  print: (text: string) => void,
  { localRoot, deviceRoot, toHost }: SyncRequest,
  plan: SyncPlan,
  report: SyncReport,
): Promise<void> {
  const transfers = [...plan.created, ...plan.changed];
  const isNew = new Set(plan.created);
  const bar = new ProgressBar(io, `dsync 0/${transfers.length} files`);
  let doneBytes = 0;
  const progress = (done: number) => bar.update(doneBytes + done, plan.bytes);
  const finished = (entry: TreeFile) => {
    doneBytes += entry.size;
    (isNew.has(entry) ? report.created : report.changed).push(entry.path);
    bar.label = `dsync ${report.created.length + report.changed.length}/${transfers.length} files`;
    bar.clear();
    print(`${isNew.has(entry) ? "new    " : "changed"}  ${printable(entry.path)}\n`);
    progress(0);
  };
  try {
    if (toHost) {
      for (const entry of transfers) {
        const data = await downloadKnownFile(files, deviceRoot, entry, progress);
        await writeLocal(join(localRoot, entry.path), data);
        finished(entry);
      }
    } else {
      const byTarget = new Map(transfers.map((entry) => [remoteJoin(deviceRoot, entry.path), entry]));
      const uploads = [...byTarget].map(([target, entry]) => ({
        target,
        size: entry.size,
        read: () => readLocal(localRoot, entry.path),
      }));
      await uploadFiles(files, uploads, {
        onProgress: (_upload, done) => progress(done),
        onDone: (upload) => finished(byTarget.get(upload.target)!),
      });
    }
  } finally {
    bar.finish(doneBytes, plan.bytes);
  }
}

/** Names the device cannot hold, all named before anything changes. */
async function checkNames(files: DeviceFiles, plan: SyncPlan, dryRun: boolean): Promise<void> {
  const encoder = new TextEncoder();
  const paths = [...plan.newDirectories, ...plan.created.map((entry) => entry.path)];
  const names = new Set(paths.flatMap((path) => path.split("/")));
  const tooLong = paths.filter((path) =>
    path.split("/").some((name) => encoder.encode(name).length > NAME_MAX_BYTES)
  );
  if (tooLong.length > 0) {
    throw new UserError(
      `names over ${NAME_MAX_BYTES} bytes do not fit the device's filesystem: ${
        tooLong.map(printable).join(", ")
      }`,
    );
  }
  // The probe creates (and removes) a file: a dry run changes nothing, so it only shows the plan.
  if (dryRun) return;
  const refused = new Set(await refusedNames(files, [...names].filter((name) => /[^\x20-\x7e]/.test(name))));
  if (refused.size > 0) {
    const named = paths.filter((path) => path.split("/").some((name) => refused.has(name)));
    throw new UserError(
      `the device's filesystem refuses these names (non-ASCII): ${named.map(printable).join(", ")}`,
    );
  }
}

/**
 * Refuses a sync that cannot fit, before it starts. Counted in the filesystem's blocks (a file takes at
 * least one), with the temporary copies that sit beside the old files until a batch is committed.
 */
function checkSpace(
  plan: SyncPlan,
  target: TreeFile[],
  deletions: TreeFile[],
  device: { blockSize: number; freeBytes: number; totalBytes: number },
): void {
  const block = device.blockSize || 4096;
  const blocks = (size: number) => Math.max(1, Math.ceil(size / block)) * block;
  const old = new Map(target.map((entry) => [entry.path, entry.size]));
  const oldSizes = plan.changed.map((entry) => blocks(old.get(entry.path) ?? 0));
  const overlap = Math.min(
    oldSizes.reduce((sum, size) => sum + size, 0),
    BATCH_BYTES + Math.max(0, ...oldSizes),
  );
  const needed = plan.created.reduce((sum, entry) => sum + blocks(entry.size), 0) +
    plan.changed.reduce(
      (sum, entry) => sum + Math.max(0, blocks(entry.size) - blocks(old.get(entry.path) ?? 0)),
      0,
    ) +
    plan.newDirectories.length * block + overlap;
  const available = device.freeBytes + deletions.reduce((sum, entry) => sum + blocks(entry.size), 0);
  if (needed > available) {
    throw new UserError(
      `not enough space on the device: the sync needs ${needed} bytes (with temporary copies), ` +
        `${device.freeBytes} bytes are free of ${device.totalBytes}; nothing was changed`,
    );
  }
}

/** Lists what would be deleted; asks on a terminal, otherwise requires `--yes`. */
async function confirmDeletions(
  io: Io,
  print: (text: string) => void,
  request: SyncRequest,
  deletions: TreeFile[],
): Promise<void> {
  const where = request.toHost
    ? `in ${request.localRoot}`
    : `on the device in ${printable(request.deviceRoot)}`;
  print(`${deletions.length} files ${where} are not in the source and will be deleted:\n`);
  for (const entry of deletions) print(`  ${printable(entry.path)}\n`);
  if (request.confirmed) return;
  if (!io.stdinIsTerminal) {
    throw new UserError(
      "dsync -rf deletes files: confirm with --yes (no terminal to ask); nothing was changed",
    );
  }
  io.err("delete them? [y/N] ");
  // One read: a terminal in line mode delivers the whole answer; the shell's raw terminal delivers the key.
  const text = new TextDecoder().decode(await io.readStdin() ?? new Uint8Array());
  if (!/[\r\n]/.test(text)) io.err("\n");
  const answer = text.trim().toLowerCase();
  if (answer !== "y" && answer !== "yes") throw new UserError("dsync cancelled: nothing was changed");
}
