/** Device paths: absolute, `/`-separated, no `.`/`..`/empty segments. The device's cwd is `/`. */

export function normalizeRemotePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

export function remoteDirname(path: string): string {
  const normalized = normalizeRemotePath(path);
  const slash = normalized.lastIndexOf("/");
  return slash <= 0 ? "/" : normalized.slice(0, slash);
}

export function remoteBasename(path: string): string {
  const normalized = normalizeRemotePath(path);
  return normalized.slice(normalized.lastIndexOf("/") + 1);
}

export function remoteJoin(dir: string, name: string): string {
  return normalizeRemotePath(`${dir}/${name}`);
}
