/**
 * The device-side scripts shipped inside upydev (embedded at build time, so the single binary carries them)
 * and `update_upyutils`, which installs them into the device's /lib.
 *
 * Device round trips: one exec creates /lib when missing and hashes every named script already there; only
 * the scripts whose SHA-256 differs are uploaded (WA/WB, or exec for firmware without it) to temporary names;
 * a second exec checks all their sizes and hashes and only then renames them into place. So a device that is
 * up to date costs one exec, and each changed script one upload plus a share of the final exec.
 */
import { UserError } from "../cli/errors.ts";
import { type DeviceFiles, mapDeviceError, sha256Hex } from "./files.ts";
import { isBoolean, isNumber, isString, listOf, nullable, parseDeviceReply, tupleOf } from "./system.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import syncTool from "../../device/sync_tool.py" with { type: "text" };
import nanoglob from "../../device/nanoglob.py" with { type: "text" };
import shasum from "../../device/shasum.py" with { type: "text" };
import upylog from "../../device/upylog.py" with { type: "text" };
import upynotify from "../../device/upynotify.py" with { type: "text" };
import uping from "../../device/uping.py" with { type: "text" };
import upysh from "../../device/upysh.py" with { type: "text" };
import upysecrets from "../../device/upysecrets.py" with { type: "text" };
import upysh2 from "../../device/upysh2.py" with { type: "text" };
import wssRepl from "../../device/wss_repl.py" with { type: "text" };
import wssHelper from "../../device/wss_helper.py" with { type: "text" };

export interface DeviceScript {
  name: string;
  source: string;
  purpose: string;
}

export const DEVICE_SCRIPTS: DeviceScript[] = [
  { name: "sync_tool.py", source: syncTool, purpose: "bulk transfer inside the session, for get and dsync" },
  { name: "nanoglob.py", source: nanoglob, purpose: "glob(pattern, ...) with *, ? and **, and sizes" },
  { name: "shasum.py", source: shasum, purpose: "SHA-256 of files and trees, and a check mode" },
  { name: "upylog.py", source: upylog, purpose: "rotating file logger with levels (/upy.log, upydev log)" },
  { name: "upynotify.py", source: upynotify, purpose: "LED and buzzer patterns on a machine.Pin" },
  { name: "uping.py", source: uping, purpose: "ICMP echo (ping) from the device" },
  { name: "upysh.py", source: upysh, purpose: "ls, cd, pwd, cat, head, mkdir, rm, rmdir, mv, cp, touch" },
  { name: "upysecrets.py", source: upysecrets, purpose: "random WebREPL passwords (rf_wrkey)" },
  { name: "upysh2.py", source: upysh2, purpose: "tree, du, rmrf" },
  { name: "wss_repl.py", source: wssRepl, purpose: "WebSecureREPL server (wss_repl.start(ssl=True))" },
  { name: "wss_helper.py", source: wssHelper, purpose: "WebSocket handshake over TLS for wss_repl" },
];

export const DEVICE_LIB_DIR = "/lib";

/**
 * One exec that runs a device script and then `call` (Python using the script's names), for actions that must
 * work without the utilities installed. The embedded copy is sent even when the device has one, since an
 * installed copy may be another version than the one whose behaviour the action relies on. Whole-line comments
 * and blank lines are dropped (fewer bytes through the raw-paste window; the scripts have no multi-line
 * strings), and it runs in a namespace of its own, so the user's REPL globals stay as they were.
 */
export function scriptExec(name: string, call: string): string {
  const script = DEVICE_SCRIPTS.find((candidate) => candidate.name === name);
  if (!script) throw new Error(`no device script ${name}`);
  const code = script.source.split("\n").filter((line) => !/^\s*(#.*)?$/.test(line));
  return `exec(${pyStr([...code, call, ""].join("\n"))},{})`;
}
const encoder = new TextEncoder();

/** The scripts `names` designate (with or without `.py`), in DEVICE_SCRIPTS order; all of them for none. */
export function selectScripts(names: string[]): DeviceScript[] {
  if (names.length === 0) return DEVICE_SCRIPTS;
  const wanted = new Set<string>();
  for (const name of names) {
    const file = name.endsWith(".py") ? name : `${name}.py`;
    if (!DEVICE_SCRIPTS.some((script) => script.name === file)) {
      const valid = DEVICE_SCRIPTS.map((script) => script.name.slice(0, -3)).join(", ");
      throw new UserError(`unknown device script: ${name} (valid: ${valid})`);
    }
    wanted.add(file);
  }
  return DEVICE_SCRIPTS.filter((script) => wanted.has(script.name));
}

export type InstallStatus = "installed" | "updated" | "unchanged";

export interface InstallResult {
  /** Where the script lives on the device, e.g. /lib/upysh.py. */
  path: string;
  status: InstallStatus;
  bytes: number;
}

export interface InstallReport {
  /** True when /lib did not exist and was created. */
  createdLibDir: boolean;
  results: InstallResult[];
}

/** Installs `scripts` into /lib, skipping those whose SHA-256 on the device already matches. */
export async function installUpyutils(files: DeviceFiles, scripts: DeviceScript[]): Promise<InstallReport> {
  const uploads = await Promise.all(scripts.map(async (script) => {
    const data = encoder.encode(script.source);
    const path = `${DEVICE_LIB_DIR}/${script.name}`;
    // Named like DeviceFiles.put's temporary files, so a leftover from an interrupted run is reused.
    const temporary = `${DEVICE_LIB_DIR}/.upytmp-${(await sha256Hex(encoder.encode(path))).slice(0, 8)}`;
    return { path, data, temporary, digest: await sha256Hex(data) };
  }));
  const [createdLibDir, onDevice] = await deviceHashes(files, uploads.map((upload) => upload.path));
  const changed = uploads.filter((upload, i) => onDevice[i] !== upload.digest);
  if (changed.length > 0) {
    try {
      for (const upload of changed) {
        await files.transferFor(upload.temporary).put(upload.temporary, upload.data);
      }
      await verifyAndRename(files, changed);
    } catch (error) {
      await files.removeQuietly(...changed.map((upload) => upload.temporary));
      throw error;
    }
  }
  return {
    createdLibDir,
    results: uploads.map((upload, i) => ({
      path: upload.path,
      status: onDevice[i] === null ? "installed" : onDevice[i] === upload.digest ? "unchanged" : "updated",
      bytes: upload.data.length,
    })),
  };
}

/**
 * One exec: creates /lib when missing; the SHA-256 of each path, null for a file that is not there.
 * (DeviceFiles.hashes would hash everything else in /lib too, and fail where /lib is missing.)
 */
async function deviceHashes(
  files: DeviceFiles,
  paths: string[],
): Promise<[boolean, (string | null)[]]> {
  try {
    const text = await files.session.execText(
      "import os,hashlib,binascii,json\ntry:\n os.mkdir('/lib')\n c=True\nexcept OSError as e:\n" +
        " if e.args[0]!=17:raise\n c=False\n if not os.stat('/lib')[0]&0x4000:raise OSError(20)\n" +
        "b=bytearray(512)\nm=memoryview(b)\nr=[]\n" +
        `for p in (${
          paths.map(pyStr).join(",")
        },):\n try:\n  f=open(p,'rb')\n except OSError:\n  r.append(None)\n` +
        "  continue\n h=hashlib.sha256()\n with f:\n  while 1:\n   n=f.readinto(b)\n   if not n:break\n" +
        "   h.update(m[:n])\n r.append(binascii.hexlify(h.digest()).decode())\nprint(json.dumps([c,r]))",
    );
    return parseDeviceReply(
      text,
      "update_upyutils",
      tupleOf<[boolean, (string | null)[]]>(isBoolean, listOf(nullable(isString))),
    );
  } catch (error) {
    throw mapDeviceError(error, DEVICE_LIB_DIR);
  }
}

/**
 * One exec: checks every uploaded temporary file's size and SHA-256 (the device reports a failed WA/WB write as
 * success), then renames them all into place; if any is wrong, removes them all and renames none.
 */
async function verifyAndRename(
  files: DeviceFiles,
  uploads: { path: string; temporary: string; data: Uint8Array; digest: string }[],
): Promise<void> {
  const table = uploads.map((u) => `(${pyStr(u.temporary)},${pyStr(u.path)},${u.data.length},'${u.digest}')`);
  const text = await files.session.execText(
    "import os,hashlib,binascii,json\nb=bytearray(512)\nm=memoryview(b)\nbad=[]\n" +
      `F=(${table.join(",")},)\nfor t,p,s,d in F:\n h=hashlib.sha256()\n k=0\n with open(t,'rb') as f:\n` +
      "  while 1:\n   n=f.readinto(b)\n   if not n:break\n   h.update(m[:n])\n   k+=n\n" +
      " if k!=s or binascii.hexlify(h.digest()).decode()!=d:bad.append([p,k])\n" +
      "for t,p,s,d in F:\n if bad:\n  os.remove(t)\n  continue\n try:\n  os.rename(t,p)\n except OSError:\n" +
      "  os.remove(p)\n  os.rename(t,p)\nprint(json.dumps(bad))",
  );
  const bad = parseDeviceReply(
    text,
    "update_upyutils",
    listOf(tupleOf<[string, number]>(isString, isNumber)),
  );
  if (bad.length > 0) {
    const [path, stored] = bad[0];
    const expected = uploads.find((upload) => upload.path === path)!.data.length;
    throw new UserError(
      stored !== expected
        ? `upload of ${path} failed: the device stored ${stored} of ${expected} bytes (flash full?)`
        : `upload of ${path} failed: SHA-256 on the device does not match (flash full or corrupted transfer?)`,
    );
  }
}

/** One line per script, e.g. "installed  /lib/upysh.py  3415 bytes"; "created    /lib" first when it was made. */
export function formatInstallReport(report: InstallReport): string {
  const lines = report.createdLibDir ? [`${"created".padEnd(10)} ${DEVICE_LIB_DIR}`] : [];
  for (const result of report.results) {
    const size = result.status === "unchanged" ? "" : `  ${result.bytes} bytes`;
    lines.push(`${result.status.padEnd(10)} ${result.path}${size}`);
  }
  return lines.map((line) => `${line}\n`).join("");
}
