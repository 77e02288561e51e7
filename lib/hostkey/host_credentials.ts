/**
 * The host's TLS client credentials for wss, read from the key store `<configDir>/pki/` (lib/pki writes it).
 *
 * This sits below the connection layer and loads no X.509 library: node:tls takes the PEMs as they are, and the
 * host key needs only scrypt and AES to decrypt. The two checks that must happen before any TLS (the host
 * certificate's expiry, which the device's clock may not notice, and that the key belongs to the certificate)
 * use node:crypto, which node:tls has loaded already.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { UserError } from "../cli/errors.ts";
import { fileError } from "../config/files.ts";
import type { Io } from "../ui/io.ts";
import { readPassphrase } from "../ui/passphrase.ts";
import { decryptPrivateKey } from "./key_file.ts";
import {
  HOST_PASSPHRASE_ENV,
  hostCertName,
  hostCredentialPaths,
  hostIdFor,
  hostKeyName,
  ROTATION_SWAP,
  storeUser,
} from "./names.ts";
import { encodePem } from "./pem.ts";

export interface HostTlsCredentials {
  /** The ROOT CA certificate that device certificates must chain to. */
  caPem: string;
  certPem: string;
  /** Unencrypted PKCS#8 PEM: in memory only. */
  keyPem: string;
  /** e.g. `HOST_key@6361726c6f.pem`, for the prompt `Enter passphrase for key '<keyFileName>':`. */
  keyFileName: string;
}

/**
 * The passphrase comes from the caller (registry), else `UPYDEV_PASSPHRASE`, else a hidden prompt
 * `Enter passphrase for key 'HOST_key@<id>.pem': `.
 */
export async function loadHostTlsCredentials(
  configDir: string,
  io: Io,
  passphrase?: string,
): Promise<HostTlsCredentials> {
  const [caPath, certPath, keyPath] = hostCredentialPaths(configDir, io);
  const hostId = hostIdFor(storeUser(io));
  const keyFileName = hostKeyName(hostId);
  const caPem = readStoreFile(caPath, "kg ssl CA");
  // Checked here: TLS would take an empty or damaged CA file as "the device is not signed by your CA".
  if (caPem.trim() === "") {
    throw new UserError(
      `your CA certificate ${caPath} is empty; restore it, or make a new CA with \`upydev kg ssl CA\``,
    );
  }
  try {
    new X509Certificate(caPem);
  } catch (error) {
    throw new UserError(
      `your CA certificate ${caPath} is not a certificate: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  const certPem = readStoreFile(certPath, "kg ssl host");
  const keyText = readStoreFile(keyPath, "kg ssl host");
  const secret = passphrase ?? io.env(HOST_PASSPHRASE_ENV) ??
    await readPassphrase(io, `Enter passphrase for key '${keyFileName}': `);
  let hostCert: X509Certificate;
  try {
    hostCert = new X509Certificate(certPem);
  } catch (error) {
    throw new UserError(`${certPath} is not a certificate: ${(error as Error).message.split("\n")[0]}`);
  }
  // The device's clock may not notice an expired certificate (it starts in 2000); this computer's does.
  const notAfter = hostCert.validToDate;
  if (notAfter.getTime() < Date.now()) {
    throw new UserError(
      `host certificate ${hostCertName(hostId)} expired on ${notAfter.toISOString().slice(0, 10)}; ` +
        "renew it with `upydev kg ssl host`",
    );
  }
  const { pkcs8 } = await decryptPrivateKey(keyText, secret, keyPath);
  const keyPem = encodePem("PRIVATE KEY", pkcs8);
  let matches: boolean;
  try {
    matches = hostCert.checkPrivateKey(createPrivateKey(keyPem));
  } catch (error) {
    throw new UserError(`${keyPath} is not an ECDSA P-256 private key`, { cause: error });
  }
  if (!matches) throw new UserError(`${keyFileName} is not the key of ${hostCertName(hostId)}`);
  return { caPem, certPem, keyPem, keyFileName };
}

function rotationStopped(path: string): boolean {
  try {
    return Deno.lstatSync(path + ROTATION_SWAP).isFile;
  } catch {
    return false;
  }
}

/**
 * Reads a store file; a missing one is a UserError that says which command creates it. Synchronous: the files
 * are small, and on the connect path nothing else (node:tls loading) may run before scrypt has started.
 */
export function readStoreFile(path: string, createdBy: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      if (rotationStopped(path)) {
        throw new UserError(
          `${path} is missing: a CA rotation stopped half-way; finish it with \`upydev kg ssl CA rotate\``,
        );
      }
      throw new UserError(`${path} not found; create it with \`upydev ${createdBy}\``);
    }
    const mapped = fileError(error, path, "read");
    throw mapped instanceof UserError
      ? mapped
      : new UserError(`cannot read ${path}: ${(error as Error).message}`);
  }
}
