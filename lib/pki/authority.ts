/**
 * PKI operations on the store: create the CA, the host and device certificates, sign a device CSR, import,
 * export, rotate, and load the host's TLS credentials. Every operation prepares all of its output (and checks
 * every passphrase) before it writes anything.
 */
import * as x509 from "npm:@peculiar/x509@2.2.0";
import { UserError } from "../cli/errors.ts";
import { pathExists } from "../config/files.ts";
import type { Io } from "../ui/io.ts";
import {
  altNameFor,
  type CertificateAuthority,
  createCaCertificate,
  issueLeafCertificate,
  parseCertificatePem,
  type Subject,
  type SubjectAltName,
  validityFor,
  type ValidityOptions,
} from "./certs.ts";
import { decryptPrivateKey, encryptPrivateKey, type KdfParams } from "../hostkey/key_file.ts";
import { generateKeyPair, importPkcs8, type KeyPair, sec1Der } from "./keys.ts";
import {
  CA_CERT,
  CA_KEY,
  deviceCertName,
  hostCertName,
  hostKeyName,
  PkiStore,
  PREVIOUS_CA_CERT,
  PREVIOUS_CA_KEY,
  writeSecretFile,
} from "./store.ts";
import { ROTATION_SWAP, storeUser } from "../hostkey/names.ts";

export { CA_PASSPHRASE_ENV, HOST_PASSPHRASE_ENV } from "./kg.ts";

/** The store of this user, named after `$USER` (`$USERNAME` on Windows) and this machine's host name. */
export function openPkiStore(configDir: string, io: Io): PkiStore {
  const user = storeUser(io);
  let hostname = "localhost";
  try {
    hostname = Deno.hostname();
  } catch {
    // Without --allow-sys the subject just says localhost; nothing depends on it.
  }
  return new PkiStore(configDir, { user, hostname });
}

interface KeyOutput {
  /** Passphrase for the new key's file. */
  passphrase: string;
  /** KDF for the new key's file; tests pass a cheap one. */
  kdf?: KdfParams;
}

export interface CreateCaOptions extends ValidityOptions, KeyOutput {
  /** Replace an existing CA (it moves to the rotation slot). Without it an existing CA is an error. */
  force?: boolean;
  subject?: Subject;
}

export async function createCa(store: PkiStore, options: CreateCaOptions): Promise<x509.X509Certificate> {
  const existing = await store.exists(CA_CERT) || await store.exists(CA_KEY);
  if (existing && !options.force) {
    throw new UserError(`a ROOT CA already exists in ${store.dir}; confirm or pass --force to replace it`);
  }
  const keys = await generateKeyPair();
  const subject = options.subject ?? [["O", "MicroPython"], ["OU", "upydev"], [
    "CN",
    `upydev ROOT CA ${store.user}@${store.hostname}`,
  ]];
  const certificate = await createCaCertificate(keys, subject, validityFor("ca", options));
  const keyPem = await encryptPrivateKey(keys.pkcs8, options.passphrase, options.kdf);
  if (existing) await keepPreviousCa(store);
  await store.write({ [CA_KEY]: keyPem, [CA_CERT]: certificate.toString("pem") + "\n" });
  return certificate;
}

/**
 * Moves the current CA into the rotation slot. What the slot held is archived under a dated name, never
 * overwritten: a second `--force` must not lose the original CA (its devices still trust it).
 */
async function keepPreviousCa(store: PkiStore, now = new Date()): Promise<void> {
  if (await store.exists(PREVIOUS_CA_KEY) || await store.exists(PREVIOUS_CA_CERT)) {
    const stamp = now.toISOString().replace(/[-:]|\.\d+/g, "");
    let suffix = `replaced-${stamp}`;
    for (let n = 2; await store.exists(archivedCaName(PREVIOUS_CA_CERT, suffix)); n++) {
      suffix = `replaced-${stamp}-${n}`;
    }
    for (const name of [PREVIOUS_CA_KEY, PREVIOUS_CA_CERT]) {
      if (await store.exists(name)) await store.rename(name, archivedCaName(name, suffix));
    }
  }
  if (await store.exists(CA_KEY)) await store.rename(CA_KEY, PREVIOUS_CA_KEY);
  if (await store.exists(CA_CERT)) await store.rename(CA_CERT, PREVIOUS_CA_CERT);
}

/** `~ROOT_CA_cert.pem` → `~ROOT_CA_cert.replaced-20261203T041500Z.pem`. */
export function archivedCaName(name: string, suffix: string): string {
  return name.replace(/\.pem$/, `.${suffix}.pem`);
}

/** The CA with its decrypted key; checks that the key belongs to the certificate and that it is a CA. */
export async function loadCa(store: PkiStore, caPassphrase: string): Promise<CertificateAuthority> {
  const certificate = parseCertificatePem(store.readText(CA_CERT, "kg ssl CA"), store.path(CA_CERT));
  const keyText = store.readText(CA_KEY, "kg ssl CA");
  const { pkcs8 } = await decryptPrivateKey(keyText, caPassphrase, store.path(CA_KEY));
  const keys = await importPkcs8(pkcs8, store.path(CA_KEY));
  await checkPair(certificate, keys, store.path(CA_CERT), store.path(CA_KEY));
  if (!certificate.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new UserError(`${store.path(CA_CERT)} is not a CA certificate`);
  }
  return { certificate, privateKey: keys.privateKey };
}

async function checkPair(
  certificate: x509.X509Certificate,
  keys: KeyPair,
  certSource: string,
  keySource: string,
) {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  if (new Uint8Array(certificate.publicKey.rawData).toHex() !== spki.toHex()) {
    throw new UserError(`${keySource} is not the key of ${certSource}`);
  }
}

export interface CreateHostOptions extends ValidityOptions, KeyOutput {
  caPassphrase: string;
  subject?: Subject;
}

/** Host client key and certificate, `HOST_key@<hostid>.pem` / `HOST_cert@<hostid>.pem`; replaces older ones. */
export async function createHost(store: PkiStore, options: CreateHostOptions): Promise<x509.X509Certificate> {
  const ca = await loadCa(store, options.caPassphrase);
  const keys = await generateKeyPair();
  const subject = options.subject ?? [["O", "MicroPython"], ["OU", "upydev host"], [
    "CN",
    `${store.user}@${store.hostname}`,
  ]];
  const certificate = await issueLeafCertificate(ca, {
    kind: "host",
    subject,
    publicKey: keys.publicKey,
    validity: validityFor("host", options),
  });
  const keyPem = await encryptPrivateKey(keys.pkcs8, options.passphrase, options.kdf);
  await store.write({
    [hostKeyName(store.hostId)]: keyPem,
    [hostCertName(store.hostId)]: certificate.toString("pem") + "\n",
  });
  return certificate;
}

export interface DeviceCertificateOptions extends ValidityOptions {
  /** Device name: the certificate's CN. */
  name: string;
  /** hex(machine.unique_id()); when given, the host keeps `SSL_certificate<uid>.pem`. */
  uid?: string;
  ips?: string[];
  dnsNames?: string[];
  caPassphrase: string;
}

export interface DeviceCredentials {
  /** SEC1 DER, unencrypted: goes to the device as `SSL_key<uid>.der` and is never stored on the host. */
  keyDer: Uint8Array;
  certDer: Uint8Array;
  certPem: string;
  certificate: x509.X509Certificate;
}

/** The SAN list for a device: every IP as iPAddress, every name as dNSName, duplicates dropped. */
export function deviceAltNames(ips: string[] = [], dnsNames: string[] = []): SubjectAltName[] {
  const names = [...ips, ...dnsNames].map(altNameFor);
  const unique = new Map(names.map((name) => [`${name.type}:${name.value}`, name]));
  if (unique.size === 0) {
    throw new UserError("a device certificate needs at least one IP address or DNS name");
  }
  return [...unique.values()];
}

function deviceSubject(name: string, uid?: string): Subject {
  return uid ? [["O", "MicroPython"], ["OU", uid], ["CN", name]] : [["O", "MicroPython"], ["CN", name]];
}

export async function issueDeviceCertificate(
  store: PkiStore,
  options: DeviceCertificateOptions,
): Promise<DeviceCredentials> {
  const altNames = deviceAltNames(options.ips, options.dnsNames);
  const ca = await loadCa(store, options.caPassphrase);
  const keys = await generateKeyPair();
  const certificate = await issueLeafCertificate(ca, {
    kind: "device",
    subject: deviceSubject(options.name, options.uid),
    publicKey: keys.publicKey,
    validity: validityFor("device", options),
    altNames,
  });
  const certPem = certificate.toString("pem") + "\n";
  if (options.uid) await store.write({ [deviceCertName(options.uid)]: certPem });
  return { keyDer: await sec1Der(keys), certDer: new Uint8Array(certificate.rawData), certPem, certificate };
}

export interface SignCsrOptions extends Omit<DeviceCertificateOptions, "caPassphrase"> {
  caPassphrase: string;
  /** PKCS#10 CSR, PEM or DER, made on the device; its key never leaves the device. */
  csr: string | Uint8Array;
}

/**
 * Signs a device CSR with our device profile. Only the CSR's public key is used: its subject and requested
 * extensions are ignored, so a device cannot ask for a CA or a clientAuth certificate.
 */
export async function signDeviceCsr(
  store: PkiStore,
  options: SignCsrOptions,
): Promise<{ certDer: Uint8Array; certPem: string }> {
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(
      typeof options.csr === "string" ? options.csr : new Uint8Array(options.csr),
    );
  } catch (error) {
    throw new UserError(`the device's CSR does not parse: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!await request.verify()) throw new UserError("the device's CSR signature does not verify");
  const publicKey = await request.publicKey.export({ name: "ECDSA", namedCurve: "P-256" }, ["verify"])
    .catch(() => Promise.reject(new UserError("the device's CSR key is not ECDSA P-256")));
  const altNames = deviceAltNames(options.ips, options.dnsNames);
  const ca = await loadCa(store, options.caPassphrase);
  const certificate = await issueLeafCertificate(ca, {
    kind: "device",
    subject: deviceSubject(options.name, options.uid),
    publicKey,
    validity: validityFor("device", options),
    altNames,
  });
  const certPem = certificate.toString("pem") + "\n";
  if (options.uid) await store.write({ [deviceCertName(options.uid)]: certPem });
  return { certDer: new Uint8Array(certificate.rawData), certPem };
}

export { type HostTlsCredentials, loadHostTlsCredentials } from "../hostkey/host_credentials.ts";

/**
 * The swap as six renames. The files present tell how many were done, so a rotation that stopped half-way
 * (Ctrl-C, a full disk) is finished by the next `kg ssl CA rotate`.
 */
const ROTATION_STEPS: [string, string][] = [
  [CA_KEY, CA_KEY + ROTATION_SWAP],
  [CA_CERT, CA_CERT + ROTATION_SWAP],
  [PREVIOUS_CA_KEY, CA_KEY],
  [PREVIOUS_CA_CERT, CA_CERT],
  [CA_KEY + ROTATION_SWAP, PREVIOUS_CA_KEY],
  [CA_CERT + ROTATION_SWAP, PREVIOUS_CA_CERT],
];

/** Swaps the current CA with the one in the rotation slot, or finishes a swap that was interrupted. */
export async function rotateCa(store: PkiStore): Promise<void> {
  const names = [...new Set(ROTATION_STEPS.flat())];
  const present = new Set<string>();
  for (const name of names) if (await store.exists(name)) present.add(name);
  // The files present after each number of renames, from a whole store; 0 and 6 look alike.
  const after = [new Set([CA_KEY, CA_CERT, PREVIOUS_CA_KEY, PREVIOUS_CA_CERT])];
  for (const [from, to] of ROTATION_STEPS) {
    const next = new Set(after.at(-1));
    next.delete(from);
    after.push(next.add(to));
  }
  const done = after.findIndex((expected) => names.every((name) => expected.has(name) === present.has(name)));
  if (done === -1) {
    const rotating = [...present].some((name) => name.endsWith(ROTATION_SWAP));
    if (!rotating && (!present.has(PREVIOUS_CA_CERT) || !present.has(PREVIOUS_CA_KEY))) {
      throw new UserError(`no previous CA in ${store.dir} to rotate to`);
    }
    throw new UserError(
      `the CA files in ${store.dir} are not a CA and a previous CA (${[...present].join(", ")}); ` +
        "nothing was changed",
    );
  }
  for (const [from, to] of ROTATION_STEPS.slice(done)) await store.rename(from, to);
}

/** Copies the CA certificate and its (still encrypted) key into `destination`, never over existing files. */
export async function exportCa(store: PkiStore, destination: string): Promise<string[]> {
  const written: string[] = [];
  const files = [[CA_CERT, store.readText(CA_CERT, "kg ssl CA")], [
    CA_KEY,
    store.readText(CA_KEY, "kg ssl CA"),
  ]];
  for (const [name] of files) {
    if (await pathExists(`${destination}/${name}`)) {
      throw new UserError(`${destination}/${name} already exists`);
    }
  }
  for (const [name, text] of files) {
    await writeSecretFile(`${destination}/${name}`, text);
    written.push(`${destination}/${name}`);
  }
  return written;
}

async function readUserFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new UserError(`cannot read ${path}: ${(error as Error).message.split(":")[0]}`);
  }
}

export interface AddCaOptions extends KeyOutput {
  certPath: string;
  keyPath: string;
  /** Passphrase of the key file being imported (empty for an unencrypted one). */
  sourcePassphrase: string;
  force?: boolean;
}

/**
 * Imports a CA certificate and key from files (another computer's CA: the seed's multi-host setup). The key is
 * re-encrypted in our format; an existing CA moves to the rotation slot only with `force`.
 */
export async function addCa(store: PkiStore, options: AddCaOptions): Promise<x509.X509Certificate> {
  const certificate = parseCertificatePem(await readUserFile(options.certPath), options.certPath);
  const { pkcs8 } = await decryptPrivateKey(
    await readUserFile(options.keyPath),
    options.sourcePassphrase,
    options.keyPath,
  );
  const keys = await importPkcs8(pkcs8, options.keyPath);
  await checkPair(certificate, keys, options.certPath, options.keyPath);
  if (!certificate.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new UserError(`${options.certPath} is not a CA certificate`);
  }
  const existing = await store.exists(CA_CERT) || await store.exists(CA_KEY);
  if (existing && !options.force) {
    throw new UserError(`a ROOT CA already exists in ${store.dir}; confirm or pass --force to replace it`);
  }
  const keyPem = await encryptPrivateKey(pkcs8, options.passphrase, options.kdf);
  if (existing) await keepPreviousCa(store);
  await store.write({ [CA_KEY]: keyPem, [CA_CERT]: certificate.toString("pem") + "\n" });
  return certificate;
}

export interface ImportOptions {
  /** Passphrase of upydev's ROOT CA key; the imported key keeps it. */
  caPassphrase: string;
  /** Passphrase of upydev's host key for this user; the imported key keeps it. */
  hostPassphrase?: string;
  force?: boolean;
  kdf?: KdfParams;
}

/**
 * Imports an upydev key store (its package folder): the CA, the host pair of this user and the device
 * certificates. Legacy `Proc-Type: 4,ENCRYPTED` keys are re-encrypted in our format.
 */
export async function importUpydevStore(
  store: PkiStore,
  sourceDir: string,
  options: ImportOptions,
): Promise<string[]> {
  const files: Record<string, string> = {};
  const caCert = `${sourceDir}/${CA_CERT}`;
  const caKey = `${sourceDir}/${CA_KEY}`;
  const caCertificate = parseCertificatePem(await readUserFile(caCert), caCert);
  const ca = await decryptPrivateKey(await readUserFile(caKey), options.caPassphrase, caKey);
  await checkPair(caCertificate, await importPkcs8(ca.pkcs8, caKey), caCert, caKey);
  files[CA_CERT] = caCertificate.toString("pem") + "\n";
  files[CA_KEY] = await encryptPrivateKey(ca.pkcs8, options.caPassphrase, options.kdf);

  const hostKey = `${sourceDir}/${hostKeyName(store.hostId)}`;
  const hostCert = `${sourceDir}/${hostCertName(store.hostId)}`;
  if (await pathExists(hostKey) && await pathExists(hostCert)) {
    if (options.hostPassphrase === undefined) throw new UserError(`${hostKey} needs its passphrase`);
    const host = await decryptPrivateKey(await readUserFile(hostKey), options.hostPassphrase, hostKey);
    const hostCertificate = parseCertificatePem(await readUserFile(hostCert), hostCert);
    await checkPair(hostCertificate, await importPkcs8(host.pkcs8, hostKey), hostCert, hostKey);
    files[hostCertName(store.hostId)] = hostCertificate.toString("pem") + "\n";
    files[hostKeyName(store.hostId)] = await encryptPrivateKey(
      host.pkcs8,
      options.hostPassphrase,
      options.kdf,
    );
  }
  for await (const entry of Deno.readDir(sourceDir)) {
    if (entry.isFile && /^SSL_certificate[0-9a-f]+\.pem$/.test(entry.name)) {
      const path = `${sourceDir}/${entry.name}`;
      files[entry.name] = parseCertificatePem(await readUserFile(path), path).toString("pem") + "\n";
    }
  }
  const existing = await store.exists(CA_CERT) || await store.exists(CA_KEY);
  if (existing && !options.force) {
    throw new UserError(`a ROOT CA already exists in ${store.dir}; confirm or pass --force to replace it`);
  }
  if (existing) await keepPreviousCa(store);
  await store.write(files);
  return Object.keys(files).sort();
}
