/**
 * Where the host's key store lives and what its files are called (upydev's names). A leaf module: the command
 * table reads the environment variable's name from here without loading any crypto.
 */
import type { Io } from "../ui/io.ts";

export const HOST_PASSPHRASE_ENV = "UPYDEV_PASSPHRASE";
export const CA_CERT = "ROOT_CA_cert.pem";
/** Suffix of a CA file that `kg ssl CA rotate` has moved aside and not yet into the rotation slot. */
export const ROTATION_SWAP = ".rotate";
export const hostKeyName = (hostId: string) => `HOST_key@${hostId}.pem`;
export const hostCertName = (hostId: string) => `HOST_cert@${hostId}.pem`;
export const pkiDir = (configDir: string) => `${configDir}/pki`;

/** upydev's host id: the first 10 hex characters of hex($USER), e.g. "carlo" → 6361726c6f. */
export function hostIdFor(user: string): string {
  return new TextEncoder().encode(user).toHex().slice(0, 10);
}

/** The user the store is named after: `$USER` (`$USERNAME` on Windows). */
export function storeUser(io: Pick<Io, "env">): string {
  return io.env("USER") ?? io.env("USERNAME") ?? "user";
}

/** The CA certificate, host certificate and host key a wss connection reads, in that order. */
export function hostCredentialPaths(configDir: string, io: Pick<Io, "env">): string[] {
  const hostId = hostIdFor(storeUser(io));
  return [CA_CERT, hostCertName(hostId), hostKeyName(hostId)].map((name) => `${pkiDir(configDir)}/${name}`);
}
