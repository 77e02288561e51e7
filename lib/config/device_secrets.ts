/**
 * The host's half of the secrets shared with devices for `rf_wrkey` over plain ws (lib/ops/secrets.ts): one
 * file per device, named after its unique id (which survives address changes), holding the 32-byte secret as
 * hex. They are keys: the directory is 0700 and each file 0600, written atomically.
 */
import { UserError } from "../cli/errors.ts";
import { SECRET_BYTES } from "../ops/secrets.ts";
import { ensureDir, readTextIfExists, writeFileAtomic } from "./files.ts";

export function deviceSecretPath(configDir: string, uid: string): string {
  return `${configDir}/upysecrets/${uid}.key`;
}

/** The secret shared with the device `uid`, or undefined when this host has none. */
export async function readDeviceSecret(configDir: string, uid: string): Promise<Uint8Array | undefined> {
  const path = deviceSecretPath(configDir, uid);
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  const hex = text.trim();
  if (!new RegExp(`^[0-9a-f]{${SECRET_BYTES * 2}}$`).test(hex)) {
    throw new UserError(`corrupt secret file ${path}: expected ${SECRET_BYTES * 2} hex digits`);
  }
  return Uint8Array.fromHex(hex);
}

export async function saveDeviceSecret(configDir: string, uid: string, secret: Uint8Array): Promise<string> {
  const path = deviceSecretPath(configDir, uid);
  await ensureDir(path.slice(0, path.lastIndexOf("/")));
  await writeFileAtomic(path, `${secret.toHex()}\n`, { mode: 0o600 });
  return path;
}
