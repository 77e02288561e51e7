/**
 * Private keys at rest: PKCS#8 EncryptedPrivateKeyInfo with PBES2, readable by `openssl pkey`.
 *
 * We write scrypt + AES-256-CBC. scrypt is memory-hard; N=2^15, r=7, p=1 uses 28 MiB, the most that OpenSSL 3.0
 * accepts by default (its scrypt `maxmem` is 32 MiB, and N=2^15 with r=8 needs 32 MiB + 2 KiB, so
 * `openssl pkey` refuses it). We read scrypt and PBKDF2 (HMAC-SHA-1/256/384/512) with AES-128/256-CBC, as
 * `openssl genpkey -aes-256-cbc` and `openssl pkcs8 -topk8 [-scrypt | -v2 aes-256-cbc]` write them, and import
 * the legacy `Proc-Type: 4,ENCRYPTED` EC PEM that upydev wrote (EVP_BytesToKey with MD5), which we never write.
 */
import { scrypt } from "node:crypto";
import { UserError } from "../cli/errors.ts";
import {
  children,
  DerError,
  expectTag,
  integer,
  nullValue,
  octetString,
  oid,
  readInteger,
  readOid,
  readWhole,
  sequence,
  TAG,
} from "./der.ts";
import { decodePemBlocks, encodePem } from "./pem.ts";
import { concatBytes } from "../bytes/bytes.ts";

const OID_PBES2 = "1.2.840.113549.1.5.13";
const OID_PBKDF2 = "1.2.840.113549.1.5.12";
const OID_SCRYPT = "1.3.6.1.4.1.11591.4.11";
const PRF_HASHES: Record<string, string> = {
  "1.2.840.113549.2.7": "SHA-1",
  "1.2.840.113549.2.9": "SHA-256",
  "1.2.840.113549.2.10": "SHA-384",
  "1.2.840.113549.2.11": "SHA-512",
};
const OID_HMAC_SHA256 = "1.2.840.113549.2.9";
const CIPHER_KEY_BYTES: Record<string, number> = {
  "2.16.840.1.101.3.4.1.2": 16, // aes128-CBC
  "2.16.840.1.101.3.4.1.42": 32, // aes256-CBC
};
const OID_AES256_CBC = "2.16.840.1.101.3.4.1.42";
const LEGACY_CIPHER_KEY_BYTES: Record<string, number> = { "AES-128-CBC": 16, "AES-256-CBC": 32 };
/** Refuse to read scrypt parameters that would need more memory than this (a hostile file could ask for GiBs). */
const SCRYPT_READ_MAX_BYTES = 256 * 1024 * 1024;
/**
 * Refuse to read PBKDF2 iteration counts above this (a hostile file could ask for CPU-minutes): 16x the 600,000
 * we write, about 2 s of HMAC-SHA-256 here, and 4,700x what OpenSSL writes by default (2,048).
 */
export const PBKDF2_READ_MAX_ITERATIONS = 10_000_000;
const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const OID_PRIME256V1 = "1.2.840.10045.3.1.7";

export type KdfParams =
  | { kind: "scrypt"; cost: number; blockSize: number; parallelism: number }
  | { kind: "pbkdf2"; iterations: number; hash: "SHA-256" | "SHA-512" };

/** What we write: see the module comment for why these numbers. */
export const DEFAULT_KDF: KdfParams = { kind: "scrypt", cost: 1 << 15, blockSize: 7, parallelism: 1 };
/** OWASP's 2023 floor for PBKDF2-HMAC-SHA256, used when PBKDF2 is asked for. */
export const PBKDF2_ITERATIONS = 600_000;

export type KeyFileFormat = "pkcs8-encrypted" | "legacy-encrypted" | "unencrypted";

export interface DecryptedKey {
  /** Unencrypted PKCS#8 DER. */
  pkcs8: Uint8Array;
  format: KeyFileFormat;
}

export async function deriveKey(
  passphrase: string,
  salt: Uint8Array,
  kdf: KdfParams,
  keyBytes: number,
): Promise<Uint8Array> {
  const password = new TextEncoder().encode(passphrase);
  if (kdf.kind === "scrypt") {
    // Native scrypt (half the time of a WebAssembly one), and on another thread: it runs on every wss
    // connection, and meanwhile the main thread loads and prepares node:tls (lib/device/connect.ts).
    const options = {
      N: kdf.cost,
      r: kdf.blockSize,
      p: kdf.parallelism,
      maxmem: SCRYPT_READ_MAX_BYTES + 1024 * 1024,
    };
    const derived = await new Promise<Uint8Array>((resolve, reject) =>
      scrypt(password, salt, keyBytes, options, (error, key) => error ? reject(error) : resolve(key))
    );
    return new Uint8Array(derived.buffer, derived.byteOffset, derived.byteLength);
  }
  const base = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: kdf.hash, salt: new Uint8Array(salt), iterations: kdf.iterations },
    base,
    keyBytes * 8,
  );
  return new Uint8Array(bits);
}

/** Encrypts a PKCS#8 DER private key into an `ENCRYPTED PRIVATE KEY` PEM. */
export async function encryptPrivateKey(
  pkcs8: Uint8Array,
  passphrase: string,
  kdf: KdfParams = DEFAULT_KDF,
): Promise<string> {
  if (kdf.kind === "pbkdf2" && kdf.iterations < PBKDF2_ITERATIONS) {
    throw new Error(`refusing to write a key with only ${kdf.iterations} PBKDF2 iterations`);
  }
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(16));
  const key = await deriveKey(passphrase, salt, kdf, 32);
  const aes = await crypto.subtle.importKey("raw", new Uint8Array(key), "AES-CBC", false, ["encrypt"]);
  const encrypted = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv }, aes, new Uint8Array(pkcs8)),
  );
  const kdfAlgorithm = kdf.kind === "scrypt"
    ? sequence(
      oid(OID_SCRYPT),
      sequence(
        octetString(salt),
        integer(kdf.cost),
        integer(kdf.blockSize),
        integer(kdf.parallelism),
        integer(32),
      ),
    )
    : sequence(
      oid(OID_PBKDF2),
      sequence(
        octetString(salt),
        integer(kdf.iterations),
        integer(32),
        sequence(oid(kdf.hash === "SHA-256" ? OID_HMAC_SHA256 : "1.2.840.113549.2.11"), nullValue()),
      ),
    );
  const der = sequence(
    sequence(oid(OID_PBES2), sequence(kdfAlgorithm, sequence(oid(OID_AES256_CBC), octetString(iv)))),
    octetString(encrypted),
  );
  return encodePem("ENCRYPTED PRIVATE KEY", der);
}

/** True when the key file needs a passphrase. */
export function isEncryptedKeyFile(text: string): boolean {
  return decodePemBlocks(text).some((block) =>
    block.label === "ENCRYPTED PRIVATE KEY" ||
    (block.label === "EC PRIVATE KEY" && "DEK-Info" in block.headers)
  );
}

/**
 * Reads a private key PEM: our PKCS#8 PBES2, the legacy encrypted EC PEM, or an unencrypted key.
 * A wrong passphrase, whether it shows as bad padding or as garbage DER, is one UserError naming `source`.
 */
export async function decryptPrivateKey(
  text: string,
  passphrase: string,
  source: string,
): Promise<DecryptedKey> {
  const block = decodePemBlocks(text).find((candidate) =>
    ["ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"].includes(candidate.label)
  );
  if (!block) throw new UserError(`no private key found in ${source}`);
  const wrongPassphrase = (cause: unknown) => new UserError(`wrong passphrase for ${source}`, { cause });
  if (block.label === "PRIVATE KEY") return { pkcs8: checkPkcs8(block.der, source), format: "unencrypted" };
  if (block.label === "EC PRIVATE KEY") {
    const dekInfo = block.headers["DEK-Info"];
    if (!dekInfo) return { pkcs8: pkcs8FromSec1(checkSec1(block.der, source)), format: "unencrypted" };
    const [cipherName, ivHex] = dekInfo.split(",");
    const keyBytes = LEGACY_CIPHER_KEY_BYTES[cipherName];
    if (!keyBytes) throw new UserError(`${source}: unsupported legacy key cipher ${cipherName}`);
    const iv = Uint8Array.fromHex(ivHex.trim());
    const key = await evpBytesToKey(new TextEncoder().encode(passphrase), iv.subarray(0, 8), keyBytes);
    const sec1 = await aesCbcDecrypt(key, iv, block.der).catch((error) =>
      Promise.reject(wrongPassphrase(error))
    );
    try {
      return { pkcs8: pkcs8FromSec1(checkSec1(sec1, source)), format: "legacy-encrypted" };
    } catch (error) {
      throw wrongPassphrase(error);
    }
  }
  const { salt, kdf, cipherOid, iv, encrypted } = parseEncryptedPrivateKeyInfo(block.der, source);
  const keyBytes = CIPHER_KEY_BYTES[cipherOid];
  if (!keyBytes) {
    throw new UserError(`${source}: unsupported key cipher ${cipherOid} (AES-128/256-CBC are read)`);
  }
  const key = await deriveKey(passphrase, salt, kdf, keyBytes);
  const pkcs8 = await aesCbcDecrypt(key, iv, encrypted).catch((error) =>
    Promise.reject(wrongPassphrase(error))
  );
  try {
    return { pkcs8: checkPkcs8(pkcs8, source), format: "pkcs8-encrypted" };
  } catch (error) {
    throw wrongPassphrase(error);
  }
}

function parseEncryptedPrivateKeyInfo(der: Uint8Array, source: string) {
  try {
    const [algorithm, encryptedData] = children(readWhole(der, TAG.sequence));
    const [schemeOid, schemeParams] = children(expectTag(algorithm, TAG.sequence));
    const scheme = readOid(schemeOid);
    if (scheme !== OID_PBES2) {
      throw new UserError(`${source}: unsupported key encryption ${scheme} (PBES2 is read)`);
    }
    const [kdfAlgorithm, cipherAlgorithm] = children(expectTag(schemeParams, TAG.sequence));
    const [kdfOid, kdfParams] = children(expectTag(kdfAlgorithm, TAG.sequence));
    const [cipherOidNode, ivNode] = children(expectTag(cipherAlgorithm, TAG.sequence));
    const { salt, kdf } = parseKdf(readOid(kdfOid), children(expectTag(kdfParams, TAG.sequence)), source);
    return {
      salt,
      kdf,
      cipherOid: readOid(cipherOidNode),
      iv: expectTag(ivNode, TAG.octetString).content,
      encrypted: expectTag(encryptedData, TAG.octetString).content,
    };
  } catch (error) {
    if (error instanceof DerError) throw new UserError(`${source} is not a valid encrypted private key`);
    throw error;
  }
}

function parseKdf(kdfOid: string, params: ReturnType<typeof children>, source: string) {
  const salt = expectTag(params[0], TAG.octetString).content;
  if (kdfOid === OID_SCRYPT) {
    const kdf: KdfParams = {
      kind: "scrypt",
      cost: readInteger(params[1]),
      blockSize: readInteger(params[2]),
      parallelism: readInteger(params[3]),
    };
    if (128 * kdf.blockSize * (kdf.cost + kdf.parallelism + 2) > SCRYPT_READ_MAX_BYTES) {
      throw new UserError(`${source}: scrypt parameters need more than 256 MiB; refusing`);
    }
    const powerOfTwo = kdf.cost > 1 && (kdf.cost & (kdf.cost - 1)) === 0;
    if (!powerOfTwo || kdf.blockSize < 1 || kdf.parallelism < 1) {
      throw new UserError(
        `${source}: invalid scrypt parameters N=${kdf.cost} r=${kdf.blockSize} p=${kdf.parallelism}`,
      );
    }
    return { salt, kdf };
  }
  if (kdfOid !== OID_PBKDF2) throw new UserError(`${source}: unsupported key derivation ${kdfOid}`);
  const iterations = readInteger(params[1]);
  if (iterations > PBKDF2_READ_MAX_ITERATIONS) {
    throw new UserError(
      `${source}: ${iterations} PBKDF2 iterations is more than the ${PBKDF2_READ_MAX_ITERATIONS} read; refusing`,
    );
  }
  // keyLength is optional, so the PRF is whichever trailing element is a SEQUENCE (default HMAC-SHA-1).
  const prf = params.slice(2).find((node) => node.tag === TAG.sequence);
  const prfOid = prf ? readOid(children(prf)[0]) : "1.2.840.113549.2.7";
  const hash = PRF_HASHES[prfOid];
  if (!hash) throw new UserError(`${source}: unsupported PBKDF2 hash ${prfOid}`);
  return { salt, kdf: { kind: "pbkdf2", iterations, hash } as KdfParams };
}

async function aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const aes = await crypto.subtle.importKey("raw", new Uint8Array(key), "AES-CBC", false, ["decrypt"]);
  return new Uint8Array(
    await crypto.subtle.decrypt({ name: "AES-CBC", iv: new Uint8Array(iv) }, aes, new Uint8Array(data)),
  );
}

/** Wraps a SEC1 `ECPrivateKey` (from a legacy `EC PRIVATE KEY` PEM) as PKCS#8. */
function pkcs8FromSec1(sec1: Uint8Array): Uint8Array {
  return sequence(integer(0), sequence(oid(OID_EC_PUBLIC_KEY), oid(OID_PRIME256V1)), octetString(sec1));
}

/** OpenSSL's EVP_BytesToKey with MD5 and one round: the legacy PEM key derivation. */
async function evpBytesToKey(password: Uint8Array, salt: Uint8Array, keyBytes: number): Promise<Uint8Array> {
  // Only imported keys use it: the wss connect path does not load the MD5 package.
  const { md5 } = await import("npm:@noble/hashes@2.4.0/legacy.js");
  const blocks: Uint8Array[] = [];
  let previous = new Uint8Array(0);
  while (blocks.length * 16 < keyBytes) {
    previous = md5(concatBytes([previous, password, salt]));
    blocks.push(previous);
  }
  return concatBytes(blocks).subarray(0, keyBytes);
}

/** PKCS#8 shape check: SEQ { INTEGER version, SEQ { OID, ... }, OCTET STRING }. */
function checkPkcs8(der: Uint8Array, source: string): Uint8Array {
  try {
    const [version, algorithm, key] = children(readWhole(der, TAG.sequence));
    readInteger(version);
    readOid(children(expectTag(algorithm, TAG.sequence))[0]);
    expectTag(key, TAG.octetString);
    return der;
  } catch (error) {
    if (error instanceof DerError) throw new UserError(`${source} does not hold a PKCS#8 private key`);
    throw error;
  }
}

/** SEC1 shape check: SEQ { INTEGER 1, OCTET STRING privateKey, ... }. */
function checkSec1(der: Uint8Array, source: string): Uint8Array {
  try {
    const [version, scalar] = children(readWhole(der, TAG.sequence));
    if (readInteger(version) !== 1) throw new DerError("SEC1 version is not 1");
    expectTag(scalar, TAG.octetString);
    return der;
  } catch (error) {
    if (error instanceof DerError) throw new UserError(`${source} does not hold an EC private key`);
    throw error;
  }
}
