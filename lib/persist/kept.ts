/**
 * Kept sessions (like SSH's ControlPersist): a background process holds one logged-in WebREPL connection and
 * later commands for the same device reach it through a local socket, skipping TLS, key decryption and login.
 *
 * Files, in `<configDir>/kept/` (0700): `<id>.sock` (0600), the socket; `<id>.json`, what `gg`/`see` show.
 * `<id>` comes from the device's scheme, host and port, so every tool of this user finds the one holding it.
 * A client sends a fingerprint of its target (address, passwords, and for wss the host key files' state) in the
 * upgrade request; a kept session that no longer matches ends itself, so a changed registry entry or host key
 * is never served by an old connection. The decrypted host key exists only in the background process's memory.
 */
import { UserError } from "../cli/errors.ts";
import type { DeviceTarget } from "../device/target.ts";
import { targetPort } from "../device/target.ts";
import { hostCredentialPaths } from "../hostkey/names.ts";
import { connStream } from "../transport/tcp.ts";
import type { ByteStream, TransportInfo } from "../transport/stream.ts";
import type { Io } from "../ui/io.ts";

export const PERSIST_ENV = "UPYDEV_PERSIST";
/** Idle seconds when `--persist` is given without a number. */
export const DEFAULT_PERSIST_SECONDS = 300;
/** The most idle seconds a kept session may be asked for (a day). */
export const MAX_PERSIST_SECONDS = 86_400;
/** The upgrade path that asks a kept session to end. */
export const DISCONNECT_PATH = "/disconnect";

export interface KeptInfo {
  pid: number;
  name?: string;
  address: string;
  scheme: "ws" | "wss";
  idleSeconds: number;
  /** The device link as the background process sees it (TLS details for `info`). */
  link: TransportInfo;
}

export const keptDir = (configDir: string) => `${configDir}/kept`;

/**
 * The idle seconds asked for by `--persist[=SECONDS]` or UPYDEV_PERSIST; 0 when one of them turns kept sessions
 * off (`--persist=0`), undefined when neither says anything (a registry setting may then decide).
 */
export function persistSeconds(
  option: unknown,
  env: (name: string) => string | undefined,
): number | undefined {
  const given = option === true
    ? String(DEFAULT_PERSIST_SECONDS)
    : typeof option === "string"
    ? option
    : env(PERSIST_ENV);
  if (given === undefined || given === "") return undefined;
  if (!/^\d+$/.test(given) || Number(given) > MAX_PERSIST_SECONDS) {
    throw new UserError(
      `--persist / ${PERSIST_ENV} must be whole seconds from 0 to ${MAX_PERSIST_SECONDS} (got "${given}")`,
    );
  }
  return Number(given);
}

export function addressOf(target: DeviceTarget): string {
  return `${target.secure ? "wss" : "ws"}://${target.host}:${targetPort(target)}`;
}

async function sha256Hex(text: string): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).toHex();
}

/** The files of the kept session for a device address (`addressOf`). */
export async function keptPaths(configDir: string, address: string) {
  const id = (await sha256Hex(address)).slice(0, 16);
  const dir = keptDir(configDir);
  return { dir, socket: `${dir}/${id}.sock`, info: `${dir}/${id}.json` };
}

/** What a kept session must still match to serve a command: the target and, for wss, the host key files. */
export async function targetFingerprint(configDir: string, io: Pick<Io, "env">, target: DeviceTarget) {
  const files = [];
  if (target.secure) {
    for (const path of hostCredentialPaths(configDir, io)) {
      const stat = await Deno.stat(path).catch(() => null);
      files.push([path, stat?.mtime?.getTime() ?? null, stat?.size ?? null]);
    }
  }
  const { name: _name, ...link } = target;
  return (await sha256Hex(JSON.stringify([link, files]))).slice(0, 32);
}

/** The kept session's stream for `address`, or undefined when none is running (a stale one is removed). */
export async function connectKept(configDir: string, address: string): Promise<ByteStream | undefined> {
  const paths = await keptPaths(configDir, address);
  const info = await readInfo(paths.info);
  if (!info) return undefined;
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: paths.socket });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.ConnectionRefused) {
      await removeQuietly(paths.socket, paths.info);
      return undefined;
    }
    throw error;
  }
  return connStream(conn, { ...info.link });
}

/** Every kept session that is still running, for `gg`/`see`. */
export async function listKept(configDir: string): Promise<KeptInfo[]> {
  const found: KeptInfo[] = [];
  try {
    for await (const entry of Deno.readDir(keptDir(configDir))) {
      if (!entry.name.endsWith(".json")) continue;
      const info = await readInfo(`${keptDir(configDir)}/${entry.name}`);
      if (info && processAlive(info.pid)) found.push(info);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found.sort((a, b) => (a.name ?? a.address).localeCompare(b.name ?? b.address));
}

export function describeKept(info: KeptInfo): string {
  return `${(info.name ?? "-").padEnd(16)} ${info.address.padEnd(24)} held by upydev (pid ${info.pid}, ` +
    `ends after ${info.idleSeconds} s idle; upydev disconnect${info.name ? ` -@ ${info.name}` : ""})`;
}

async function readInfo(path: string): Promise<KeptInfo | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as KeptInfo;
  } catch {
    return undefined;
  }
}

export function processAlive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

export async function removeQuietly(...paths: string[]): Promise<void> {
  for (const path of paths) await Deno.remove(path).catch(() => {});
}
