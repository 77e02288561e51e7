/**
 * The key store `<configDir>/pki/`: folder 0700, files 0600, every write atomic (temp file + rename), so a
 * crash or a wrong passphrase never leaves a half-written key. File names follow upydev's store.
 */
import { UserError } from "../cli/errors.ts";
import { ensureDir, fileError, writeFileAtomic } from "../config/files.ts";
import { readStoreFile } from "../hostkey/host_credentials.ts";
import { CA_CERT, hostCertName, hostIdFor, hostKeyName, pkiDir } from "../hostkey/names.ts";

export { CA_CERT, hostCertName, hostIdFor, hostKeyName };

export const CA_KEY = "ROOT_CA_key.pem";
/** The rotation slot: the previous CA, kept when a CA is replaced, swapped back by `kg ssl CA rotate`. */
export const PREVIOUS_CA_KEY = "~ROOT_CA_key.pem";
export const PREVIOUS_CA_CERT = "~ROOT_CA_cert.pem";

export const deviceCertName = (uid: string) => `SSL_certificate${uid}.pem`;
/** Names on the device (the seed's). */
export const deviceKeyDerName = (uid: string) => `SSL_key${uid}.der`;
export const deviceCertDerName = (uid: string) => `SSL_certificate${uid}.der`;

/** hex(machine.unique_id()): it becomes part of store and device file names, so nothing else is accepted. */
export const UNIQUE_ID_PATTERN = /^[0-9a-f]{2,64}$/;

/** The unique id as given by the user (`--uid`) or read from the device, checked by the one rule. */
export function checkUniqueId(uid: string, source: string): string {
  if (!UNIQUE_ID_PATTERN.test(uid)) {
    throw new UserError(
      `${source} is not a unique id (2 to 64 lowercase hex digits): '${uid.slice(0, 80)}'`,
      {
        exitCode: 2,
      },
    );
  }
  return uid;
}

export class PkiStore {
  readonly dir: string;
  readonly hostId: string;
  /** Who and where, for certificate subjects. */
  readonly user: string;
  readonly hostname: string;

  constructor(configDir: string, identity: { user: string; hostname: string }) {
    this.dir = pkiDir(configDir);
    this.user = identity.user;
    this.hostname = identity.hostname;
    this.hostId = hostIdFor(identity.user);
  }

  path(name: string): string {
    return `${this.dir}/${name}`;
  }

  async exists(name: string): Promise<boolean> {
    try {
      await Deno.lstat(this.path(name));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  /** Reads a store file; a missing one is a UserError that says which command creates it. */
  readText(name: string, createdBy: string): string {
    return readStoreFile(this.path(name), createdBy);
  }

  async ensureDir(): Promise<void> {
    try {
      await ensureDir(this.dir, 0o700);
    } catch (error) {
      throw asUserError(error, this.dir, "write");
    }
  }

  /** Writes several files so that each appears whole; all data is prepared by the caller before this runs. */
  async write(files: Record<string, string | Uint8Array>): Promise<void> {
    await this.ensureDir();
    for (const [name, data] of Object.entries(files)) await writeSecretFile(this.path(name), data);
  }

  async rename(from: string, to: string): Promise<void> {
    try {
      await Deno.rename(this.path(from), this.path(to));
    } catch (error) {
      throw asUserError(error, this.path(to), "write");
    }
  }

  async remove(name: string): Promise<void> {
    await Deno.remove(this.path(name));
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.dir)) if (entry.isFile) names.push(entry.name);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return names.sort();
  }
}

/** Secrets are written 0600 through a temp file and a rename; a failure names the file. */
export async function writeSecretFile(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(path, data, { mode: 0o600 });
  } catch (error) {
    throw asUserError(error, path, "write");
  }
}

/** The file system's own words when they are not one of the causes `fileError` names. */
function asUserError(error: unknown, path: string, doing: "read" | "write"): UserError {
  const mapped = fileError(error, path, doing);
  if (mapped instanceof UserError) return mapped;
  return new UserError(`cannot ${doing} ${path}: ${(error as Error).message}`, { cause: error });
}
