/**
 * ECDSA P-256 key pairs through WebCrypto. The private key's portable form is its PKCS#8 DER; the device gets
 * SEC1 DER (what upydev wrote, and what mbedtls parses on every port).
 */
import { UserError } from "../cli/errors.ts";
import { encode, integer, octetString, oid, sequence } from "../hostkey/der.ts";
import { concatBytes } from "../bytes/bytes.ts";

export const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
export const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;

const OID_PRIME256V1 = "1.2.840.10045.3.1.7";

export interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Unencrypted PKCS#8 DER of the private key: keep in memory, write only encrypted (or to a device). */
  pkcs8: Uint8Array;
}

export async function generateKeyPair(): Promise<KeyPair> {
  const pair = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, pkcs8 };
}

/** Imports a PKCS#8 P-256 private key and derives its public key. `source` names the key in errors. */
export async function importPkcs8(pkcs8: Uint8Array, source: string): Promise<KeyPair> {
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey("pkcs8", new Uint8Array(pkcs8), ALGORITHM, true, ["sign"]);
  } catch (error) {
    throw new UserError(`${source} is not an ECDSA P-256 private key`, { cause: error });
  }
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
    ALGORITHM,
    true,
    ["verify"],
  );
  return { privateKey, publicKey, pkcs8: new Uint8Array(pkcs8) };
}

/** SEC1 `ECPrivateKey` DER with curve parameters and public key, as `openssl ec -outform DER` writes it. */
export async function sec1Der(pair: KeyPair): Promise<Uint8Array> {
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const scalar = Uint8Array.fromBase64(jwk.d!, { alphabet: "base64url" });
  const point = concatBytes([
    Uint8Array.of(4),
    Uint8Array.fromBase64(jwk.x!, { alphabet: "base64url" }),
    Uint8Array.fromBase64(jwk.y!, { alphabet: "base64url" }),
  ]);
  return sequence(
    integer(1),
    octetString(scalar),
    encode(0xa0, oid(OID_PRIME256V1)),
    encode(0xa1, encode(0x03, concatBytes([Uint8Array.of(0), point]))),
  );
}

/** SHA-256 over the public key's SubjectPublicKeyInfo: matches a key to a certificate. */
export async function publicKeyFingerprint(publicKey: CryptoKey): Promise<string> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  return new Uint8Array(await crypto.subtle.digest("SHA-256", spki)).toHex();
}
