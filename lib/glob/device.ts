/**
 * Globs on device paths: every base the patterns need is listed in ONE exec, only as deep as they reach,
 * and matched here. The device prints one JSON line per entry rather than one big list, so a large tree
 * never has to fit in its heap at once.
 */
import { UserError } from "../cli/errors.ts";
import { normalizeRemotePath, remoteJoin } from "../ops/paths.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import type { WebReplSession } from "../webrepl/session.ts";
import { expandWords, type TreeEntry, type TreeRequest } from "./expand.ts";
import type { GlobOptions } from "./pattern.ts";

/** What device expansion needs: a session and the directory relative patterns start from. */
export interface DeviceGlobContext {
  device: { session: WebReplSession };
  cwd: string;
}

/** `words` with each device pattern replaced by its matches; see expandWords. */
export async function expandDevicePaths(
  context: DeviceGlobContext,
  words: string[],
  options: GlobOptions = {},
): Promise<string[]> {
  return await expandWords(
    words,
    (requests) => listDeviceTrees(context.device.session, context.cwd, requests),
    options,
  );
}

/** Entries under each base (relative to it), depth-limited; null for a base that cannot be listed. */
export async function listDeviceTrees(
  session: WebReplSession,
  cwd: string,
  requests: TreeRequest[],
): Promise<(TreeEntry[] | null)[]> {
  const bases = requests.map(({ base, depth }, i) => {
    const absolute = base.startsWith("/") ? normalizeRemotePath(base) : remoteJoin(cwd, base);
    return `(${i},${pyStr(absolute)},${Number.isFinite(depth) ? depth : -1})`;
  });
  const text = await session.execText(
    "import os,json\ndef _w(i,p,r,d):\n for e in os.ilistdir(p):\n  n=r+e[0]\n  s=e[1]&0x4000!=0\n" +
      "  print(json.dumps([i,n,s]))\n  if s and d!=1:_w(i,(p if p!='/' else '')+'/'+e[0],n+'/',d-1)\n" +
      `for i,b,d in (${bases.join(",")},):\n try:\n  _w(i,b,'',d)\n except OSError:\n` +
      "  print(json.dumps([i,None,0]))",
  );
  const listings: (TreeEntry[] | null)[] = requests.map(() => []);
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const [index, path, isDir] = parseLine(line);
    if (path === null) listings[index] = null;
    else listings[index]?.push({ path, isDir });
  }
  return listings;
}

function parseLine(line: string): [number, string | null, boolean] {
  try {
    const value = JSON.parse(line);
    if (
      Array.isArray(value) && typeof value[0] === "number" &&
      (typeof value[1] === "string" || value[1] === null)
    ) {
      return [value[0], value[1], value[2] === true];
    }
  } catch {
    // Reported below with the line.
  }
  throw new UserError(`unexpected listing line from the device: ${JSON.stringify(line.slice(0, 80))}`);
}
