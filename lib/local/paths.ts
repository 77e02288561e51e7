/**
 * Paths on this computer, without node:path: the first node: module a process loads costs it about 25 ms
 * (Deno starts its Node compatibility layer), and every command resolves local paths. Only what upydev needs,
 * with node:path's results: POSIX rules; on Windows also `\`, drive letters and UNC roots, written back with
 * `\`. Device paths are lib/ops/paths.ts.
 */
const WINDOWS = Deno.build.os === "windows";
const SEP = WINDOWS ? "\\" : "/";
const SEPARATORS = WINDOWS ? /[\\/]+/ : /\/+/;

/** The root of `path` ("/", "C:\", "\\server\share\", or on Windows a bare "\"), "" when it is relative. */
function rootOf(path: string): string {
  if (!WINDOWS) return path.startsWith("/") ? "/" : "";
  const root = /^[\\/]{2}[^\\/]+[\\/]+[^\\/]+(?:[\\/]|$)/.exec(path) ?? /^[a-zA-Z]:[\\/]/.exec(path) ??
    /^[\\/]/.exec(path);
  return root ? root[0] : "";
}

/** The local path of a `file:` URL. */
export function fromFileUrl(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  return WINDOWS ? normalize(url.host ? `\\\\${url.host}${path}` : path.slice(1)) : path;
}

export function isAbsolute(path: string): boolean {
  return rootOf(path) !== "";
}

/** `.` and `..` resolved and separators collapsed; a trailing separator stays, as in node:path. */
export function normalize(path: string): string {
  const trailing = path.length > rootOf(path).length && SEPARATORS.test(path.at(-1)!);
  const body = collapse(path);
  return trailing && !body.endsWith(SEP) ? `${body}${SEP}` : body;
}

/** `.` and `..` resolved, separators collapsed, no trailing separator (except a root). */
function collapse(path: string): string {
  const root = rootOf(path);
  const segments: string[] = [];
  for (const segment of path.slice(root.length).split(SEPARATORS)) {
    if (segment === "" || segment === ".") continue;
    if (segment === ".." && segments.length > 0 && segments.at(-1) !== "..") segments.pop();
    else if (segment !== ".." || root === "") segments.push(segment);
  }
  const head = root.replace(SEPARATORS, SEP).replace(/[\\/]+$/, SEP);
  return head + segments.join(SEP) || ".";
}

export function join(...parts: string[]): string {
  return normalize(parts.filter((part) => part !== "").join(SEP));
}

/** `path` against the absolute directory `from` (a Windows root-relative path keeps `from`'s drive). */
export function resolve(from: string, path: string): string {
  if (!isAbsolute(path)) return collapse(`${from}${SEP}${path}`);
  if (WINDOWS && /^[\\/](?![\\/])/.test(path)) return collapse(rootOf(from).slice(0, 2) + path);
  return collapse(path);
}

function trimTrailing(path: string): string {
  const root = rootOf(path);
  let end = path.length;
  while (end > root.length && /[\\/]/.test(path[end - 1]) && (WINDOWS || path[end - 1] === "/")) end--;
  return path.slice(0, end);
}

export function basename(path: string): string {
  const trimmed = trimTrailing(path);
  if (trimmed === rootOf(path)) return "";
  const parts = trimmed.split(SEPARATORS);
  return parts[parts.length - 1];
}

export function dirname(path: string): string {
  const trimmed = trimTrailing(path);
  const root = rootOf(trimmed);
  if (trimmed === root) return root || ".";
  const cut = Math.max(trimmed.lastIndexOf("/"), WINDOWS ? trimmed.lastIndexOf("\\") : -1);
  if (cut < 0) return ".";
  if (cut < root.length) return root;
  return trimmed.slice(0, cut) || root;
}
