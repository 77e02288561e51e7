/**
 * `-tfkey`: sending certificates and the device key to the device, and reading its unique id.
 *
 * The device key exists only in memory on the host: it is put on the device, read back as a SHA-256 to verify
 * the transfer, and dropped. It is never written to the host's disk, so nothing secret is left to delete.
 * A private key is refused over plain ws:// (the WebREPL password is the only gate and the link is cleartext)
 * unless the user insists with --insecure-transfer.
 */
import { UserError } from "../cli/errors.ts";
import type { DeviceTarget } from "../device/target.ts";
import { sha256Hex } from "../ops/files.ts";
import type { Io } from "../ui/io.ts";
import { checkUniqueId } from "./store.ts";

/** What `kg ssl` needs from a device connection (a view of lib/device/connect.ts's `openDevice`). */
export interface KeyTransferLink {
  /** True when the link is wss (mutual TLS). */
  readonly secure: boolean;
  /** Runs Python on the device and returns its standard output; `inactivityMs` allows long silent work. */
  exec(code: string, options?: { inactivityMs?: number }): Promise<string>;
  put(remotePath: string, data: Uint8Array): Promise<void>;
  /** Hex SHA-256 of a device file. */
  sha256(remotePath: string): Promise<string>;
  close(): Promise<void>;
}

export type KeyTransferConnector = (
  target: DeviceTarget,
  io: Io,
  configDir: string,
) => Promise<KeyTransferLink>;

export const UNIQUE_ID_CODE = "import machine,binascii;print(binascii.hexlify(machine.unique_id()).decode())";

export async function readUniqueId(link: KeyTransferLink): Promise<string> {
  return checkUniqueId((await link.exec(UNIQUE_ID_CODE)).trim(), "the device's answer");
}

/** Refuses a private key over plain ws unless `insecure`, which earns a loud warning. */
export function checkKeyTransferAllowed(link: KeyTransferLink, insecure: boolean, io: Io): void {
  if (link.secure) return;
  if (!insecure) {
    throw new UserError(
      "refusing to send a private key over plain ws:// (cleartext); use wss, copy it by USB, or pass --insecure-transfer",
    );
  }
  io.err(
    "WARNING: sending the device's PRIVATE KEY over plain ws:// (cleartext): anyone on this network can copy it.\n",
  );
}

/** Puts each file and checks its SHA-256 on the device; a mismatch is a UserError naming the file. */
export async function putVerified(link: KeyTransferLink, files: [remotePath: string, data: Uint8Array][]) {
  for (const [remotePath, data] of files) {
    await link.put(remotePath, data);
    const expected = await sha256Hex(data);
    const actual = (await link.sha256(remotePath)).trim().toLowerCase();
    if (actual !== expected) {
      throw new UserError(`transfer of ${remotePath} failed: SHA-256 differs on the device`);
    }
  }
}
