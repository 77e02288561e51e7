/**
 * Glob patterns on `/`-separated paths, compiled once and matched many times: `*` (any run of characters
 * within a segment), `?` (one character), `[…]` (a class: ranges, `!` or `^` negation, `]` first is literal),
 * and `**` as a whole segment (zero or more segments). A backslash makes the next glob character literal, so a
 * name such as `a*b` is still reachable (`a\*b`).
 *
 * As in a POSIX shell, a wildcard does not match a name's leading `.` unless the pattern segment starts with
 * `.` or `dot` is set, and `**` does not enter dot directories: `rm *` leaves `.config` alone.
 */

/** The characters that make a word a pattern (when not escaped). */
const GLOB_CHARS = new Set(["*", "?", "["]);
/** Characters a backslash escapes; before anything else a backslash is itself. */
const ESCAPABLE = new Set(["*", "?", "[", "]", "\\"]);

export interface GlobOptions {
  /** Let wildcards match names starting with `.`. */
  dot?: boolean;
}

/** A compiled pattern. */
export interface Glob {
  readonly pattern: string;
  /** True when `path` (segments separated by `/`, no empty segments) matches the whole pattern. */
  test(path: string): boolean;
  /** The pattern ends with `/`: only directories match. */
  readonly directoriesOnly: boolean;
}

type Segment = { kind: "globstar" } | { kind: "name"; regexp: RegExp };

/** True when `word` has an unescaped `*`, `?` or `[`. */
export function hasGlob(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    if (word[i] === "\\" && ESCAPABLE.has(word[i + 1])) i++;
    else if (GLOB_CHARS.has(word[i])) return true;
  }
  return false;
}

/** The literal a pattern without glob characters stands for: escapes removed. */
export function unescapeGlob(word: string): string {
  let out = "";
  for (let i = 0; i < word.length; i++) {
    if (word[i] === "\\" && ESCAPABLE.has(word[i + 1])) i++;
    out += word[i];
  }
  return out;
}

/**
 * Splits a pattern at `/`, keeping escapes within segments; empty and `.` segments go (`a//./b` is `a/b`),
 * a leading `/` stays as the `absolute` flag.
 */
export function globSegments(
  pattern: string,
): { absolute: boolean; segments: string[]; trailingSlash: boolean } {
  return {
    absolute: pattern.startsWith("/"),
    segments: pattern.split("/").filter((segment) => segment !== "" && segment !== "."),
    trailingSlash: pattern.length > 1 && pattern.endsWith("/"),
  };
}

export function compileGlob(pattern: string, options: GlobOptions = {}): Glob {
  const dot = options.dot ?? false;
  const { segments: parts, trailingSlash } = globSegments(pattern);
  const segments: Segment[] = parts.map((part) =>
    part === "**" ? { kind: "globstar" } : { kind: "name", regexp: segmentRegExp(part, dot) }
  );
  return {
    pattern,
    directoriesOnly: trailingSlash,
    test: (path) => matchSegments(segments, path.split("/").filter((part) => part !== ""), dot),
  };
}

function matchSegments(segments: Segment[], names: string[], dot: boolean): boolean {
  // Positions in `names` each pattern prefix can reach; `**` spreads a position over every later one.
  let reachable = new Set([0]);
  for (const segment of segments) {
    const next = new Set<number>();
    for (const at of reachable) {
      if (segment.kind === "globstar") {
        next.add(at);
        for (let i = at; i < names.length && (dot || !names[i].startsWith(".")); i++) next.add(i + 1);
      } else if (at < names.length && segment.regexp.test(names[at])) {
        next.add(at + 1);
      }
    }
    if (next.size === 0) return false;
    reachable = next;
  }
  return reachable.has(names.length);
}

/** One segment as an anchored RegExp. */
function segmentRegExp(segment: string, dot: boolean): RegExp {
  const chars = [...segment];
  let source = "";
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i];
    if (char === "\\" && ESCAPABLE.has(chars[i + 1])) {
      source += escapeRegExp(chars[++i]);
    } else if (char === "*") {
      source += "[^/]*";
      while (chars[i + 1] === "*") i++;
    } else if (char === "?") {
      source += "[^/]";
    } else if (char === "[") {
      const bracket = parseBracket(chars, i);
      if (bracket) {
        source += bracket.source;
        i = bracket.end;
      } else {
        source += "\\[";
      }
    } else {
      source += escapeRegExp(char);
    }
  }
  // A wildcard never supplies a leading dot; a literal one in the pattern does.
  const guard = !dot && !segment.startsWith(".") && !segment.startsWith("\\.") ? "(?!\\.)" : "";
  return new RegExp(`^${guard}(?:${source})$`, "u");
}

/** `[…]` starting at `start`; undefined when it does not close, so the `[` is literal. */
function parseBracket(chars: string[], start: number): { source: string; end: number } | undefined {
  let i = start + 1;
  const negate = chars[i] === "!" || chars[i] === "^";
  if (negate) i++;
  const members: string[] = [];
  let first = true;
  while (i < chars.length) {
    let char = chars[i];
    if (char === "]" && !first) {
      const body = members.join("");
      if (body === "") return { source: negate ? "[^/]" : "(?!)", end: i };
      return { source: negate ? `[^/${body}]` : `[${body}]`, end: i };
    }
    first = false;
    if (char === "/") return undefined;
    if (char === "\\" && i + 1 < chars.length) char = chars[++i];
    if (chars[i + 1] === "-" && i + 2 < chars.length && chars[i + 2] !== "]") {
      let high = chars[i + 2];
      i += 2;
      if (high === "\\" && i + 1 < chars.length) high = chars[++i];
      if (high === "/") return undefined;
      // A reversed range matches nothing, as in a shell (a RegExp would refuse it).
      if (char.codePointAt(0)! <= high.codePointAt(0)!) {
        members.push(`${escapeClassChar(char)}-${escapeClassChar(high)}`);
      }
    } else {
      members.push(escapeClassChar(char));
    }
    i++;
  }
  return undefined;
}

function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

function escapeClassChar(char: string): string {
  return /[\\\]\[^-]/.test(char) ? `\\${char}` : char;
}
