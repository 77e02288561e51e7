/**
 * What a sync must do, from the source and target trees: sizes first, and SHA-256 only for files whose sizes
 * match (the device's hashes come with its walk; local files are hashed on demand). Pure data: nothing here
 * touches either side.
 */
import { UserError } from "../cli/errors.ts";
import type { TreeFile } from "../ops/trees.ts";
import { printable } from "../ui/terminal_text.ts";

export interface SyncPlan {
  /** Source files missing on the target. */
  created: TreeFile[];
  /** Source files that differ from the target's. */
  changed: TreeFile[];
  /** Target files missing from the source (deleted only with -rf). */
  extras: TreeFile[];
  /** Source directories missing on the target, parents first. */
  newDirectories: string[];
  /** Target directories missing from the source. */
  extraDirectories: string[];
  /** Bytes to transfer. */
  bytes: number;
}

export async function planSync(
  source: TreeFile[],
  target: TreeFile[],
  /** The SHA-256 of an entry that came without one (a local file). */
  hash: (entry: TreeFile, side: "source" | "target") => Promise<string>,
): Promise<SyncPlan> {
  const onTarget = new Map(target.map((entry) => [entry.path, entry]));
  const inSource = new Set(source.map((entry) => entry.path));
  const plan: SyncPlan = {
    created: [],
    changed: [],
    extras: [],
    newDirectories: [],
    extraDirectories: [],
    bytes: 0,
  };
  const conflicts: string[] = [];
  for (const entry of source) {
    const other = onTarget.get(entry.path);
    if (other && other.isDir !== entry.isDir) conflicts.push(entry.path);
    else if (entry.isDir) {
      if (!other) plan.newDirectories.push(entry.path);
    } else if (!other) plan.created.push(entry);
    else if (
      other.size !== entry.size ||
      (entry.sha256 ?? await hash(entry, "source")) !== (other.sha256 ?? await hash(other, "target"))
    ) {
      plan.changed.push(entry);
    }
  }
  if (conflicts.length > 0) {
    throw new UserError(
      `a file on one side is a directory on the other (rename or remove it first): ${
        conflicts.map(printable).join(", ")
      }`,
    );
  }
  for (const entry of target) {
    if (inSource.has(entry.path)) continue;
    if (entry.isDir) plan.extraDirectories.push(entry.path);
    else plan.extras.push(entry);
  }
  plan.bytes = [...plan.created, ...plan.changed].reduce((sum, entry) => sum + entry.size, 0);
  return plan;
}

/** `N new files, M files changed, K files deleted`: upydev's summary line, word for word. */
export function summaryLine(created: number, changed: number, deleted: number): string {
  return `${created} new files, ${changed} files changed, ${deleted} files deleted`;
}
