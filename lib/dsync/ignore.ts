/**
 * What a sync leaves alone, in gitignore's terms: a pattern without a `/` matches a name at any depth, one with a
 * `/` is anchored at the sync root, a trailing `/` matches directories only, `!` takes a path back, the last
 * matching rule wins, and an ignored directory hides everything under it. Rules come from `.upyignore` in the
 * local root and from `-i`. Some names are always ignored, whatever the rules say: version control and
 * bytecode caches, the tool's own temporary files, and the registry files that hold WebREPL passwords.
 */
import { join } from "node:path";
import { UserError } from "../cli/errors.ts";
import { DEFAULT_FILE, GLOBAL_GROUP } from "../config/registry.ts";
import { compileGlob, type Glob } from "../glob/pattern.ts";
import { TEMPORARY_PREFIX } from "../ops/files.ts";

export const IGNORE_FILE = ".upyignore";

/** Directories never entered on either side. */
export const ALWAYS_SKIPPED_DIRECTORIES = [".git", "__pycache__"];

/** Names never synced: cached/VCS directories, temporary uploads and writes, registry files with secrets. */
function alwaysIgnored(name: string): boolean {
  return ALWAYS_SKIPPED_DIRECTORIES.includes(name) || name.startsWith(TEMPORARY_PREFIX) ||
    /^\..+\.[0-9a-f]{8}\.tmp$/.test(name) || name === DEFAULT_FILE || name === `${GLOBAL_GROUP}.config`;
}

interface Rule {
  glob: Glob;
  negated: boolean;
  directoriesOnly: boolean;
}

export class IgnoreRules {
  readonly #rules: Rule[];
  /** The patterns as given, for the plan's header. */
  readonly patterns: string[];

  constructor(patterns: string[]) {
    this.patterns = patterns.map((line) => line.trim()).filter((line) =>
      line !== "" && !line.startsWith("#")
    );
    this.#rules = this.patterns.map(compileRule);
  }

  /** The rules of `.upyignore` in `localRoot` (when there is one) followed by `extra`. */
  static async load(localRoot: string, extra: string[] = []): Promise<IgnoreRules> {
    let text = "";
    try {
      text = await Deno.readTextFile(join(localRoot, IGNORE_FILE));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new UserError(`cannot read ${join(localRoot, IGNORE_FILE)}: ${(error as Error).message}`);
      }
    }
    return new IgnoreRules([...text.split(/\r?\n/), ...extra]);
  }

  /** True when `path` (relative to the root, `/`-separated) or a directory above it is ignored. */
  ignores(path: string, isDir: boolean): boolean {
    const parts = path.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const last = i === parts.length;
      if (alwaysIgnored(parts[i - 1])) return true;
      if (this.#matches(parts.slice(0, i).join("/"), last ? isDir : true)) return true;
    }
    return false;
  }

  #matches(path: string, isDir: boolean): boolean {
    let ignored = false;
    for (const rule of this.#rules) {
      if (rule.directoriesOnly && !isDir) continue;
      if (rule.glob.test(path)) ignored = !rule.negated;
    }
    return ignored;
  }
}

function compileRule(line: string): Rule {
  const negated = line.startsWith("!");
  let pattern = negated ? line.slice(1) : line;
  if (pattern.startsWith("\\#") || pattern.startsWith("\\!")) pattern = pattern.slice(1);
  const directoriesOnly = pattern.endsWith("/");
  pattern = pattern.replace(/\/+$/, "");
  // No slash left: the name at any depth. A slash anywhere: anchored at the root.
  const anchored = pattern.includes("/");
  pattern = pattern.replace(/^\/+/, "");
  const glob = compileGlob(anchored ? pattern : `**/${pattern}`, { dot: true });
  return { glob, negated, directoriesOnly };
}
