/**
 * Expanding words that hold patterns into the paths they match, the same way on the device and on this
 * computer: each pattern splits into a literal base (`/logs` of `/logs/*.txt`) and the rest; the lister reads
 * every base once, only as deep as the patterns need, and matching happens here. A word without glob
 * characters is passed through as typed (escapes removed), so a plain name never costs a listing.
 */
import { UserError } from "../cli/errors.ts";
import { printable } from "../ui/terminal_text.ts";
import { compileGlob, type Glob, type GlobOptions, globSegments, hasGlob, unescapeGlob } from "./pattern.ts";

/** An entry under a listed base: its path relative to the base (`sub/a.py`). */
export interface TreeEntry {
  path: string;
  isDir: boolean;
}

/** What to read: a base directory (as typed: relative or absolute) and how deep; Infinity for `**`. */
export interface TreeRequest {
  base: string;
  depth: number;
}

/** Lists every request's base; null for a base that is missing or not a directory. */
export type TreeLister = (requests: TreeRequest[]) => Promise<(TreeEntry[] | null)[]>;

interface Plan {
  pattern: string;
  base: string;
  depth: number;
  glob: Glob;
  /** The rest of the pattern taken literally: a name such as `file[1].txt` that exists is its own match. */
  literal: string;
}

function planOf(pattern: string, options: GlobOptions): Plan {
  const { absolute, segments, trailingSlash } = globSegments(pattern);
  const firstGlob = segments.findIndex(hasGlob);
  const baseSegments = segments.slice(0, firstGlob).map(unescapeGlob);
  const rest = segments.slice(firstGlob);
  const restPattern = rest.join("/") + (trailingSlash ? "/" : "");
  return {
    pattern,
    base: (absolute ? "/" : "") + baseSegments.join("/"),
    depth: rest.includes("**") ? Infinity : rest.length,
    glob: compileGlob(restPattern, options),
    literal: unescapeGlob(rest.join("/")),
  };
}

/**
 * Replaces each pattern in `words` by its matches, sorted, in the form typed (`lib/*.py` gives `lib/a.py`,
 * `/lib/*.py` gives `/lib/a.py`). A pattern with no match is a UserError: "no match: PATTERN".
 */
export async function expandWords(
  words: string[],
  list: TreeLister,
  options: GlobOptions = {},
): Promise<string[]> {
  const plans = new Map<number, Plan>();
  words.forEach((word, i) => {
    if (hasGlob(word)) plans.set(i, planOf(word, options));
  });
  if (plans.size === 0) return words.map(unescapeGlob);
  const depths = new Map<string, number>();
  for (const plan of plans.values()) depths.set(plan.base, Math.max(depths.get(plan.base) ?? 0, plan.depth));
  const requests = [...depths].map(([base, depth]) => ({ base, depth }));
  const listings = await list(requests);
  const listingOf = new Map(requests.map((request, i) => [request.base, listings[i]]));
  return words.flatMap((word, i) => {
    const plan = plans.get(i);
    if (!plan) return [unescapeGlob(word)];
    const entries = listingOf.get(plan.base) ?? [];
    let matches = entries
      .filter((entry) => (entry.isDir || !plan.glob.directoriesOnly) && plan.glob.test(entry.path))
      .map((entry) => entry.path);
    if (matches.length === 0 && entries.some((entry) => entry.path === plan.literal)) {
      matches = [plan.literal];
    }
    if (matches.length === 0) throw new UserError(`no match: ${printable(plan.pattern)}`);
    const suffix = plan.glob.directoriesOnly ? "/" : "";
    return matches.sort(byCodePoint).map((path) => joinBase(plan.base, path) + suffix);
  });
}

function joinBase(base: string, path: string): string {
  if (base === "") return path;
  return base.endsWith("/") ? base + path : `${base}/${path}`;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
