/**
 * Certificate profiles for the CA, host and device (notes/deno-platform.md §5): they pass
 * `openssl verify -x509_strict` with the sslclient/sslserver purposes and are accepted by rustls and mbedtls.
 */
import * as x509 from "npm:@peculiar/x509@2.2.0";
import { UsageError, UserError } from "../cli/errors.ts";
import { type KeyPair, SIGNING } from "./keys.ts";

export type CertificateKind = "ca" | "host" | "device";

/** ESP32 firmware checks dates against an RTC that starts at 2000-01-01 until NTP sets it (device-tls.md). */
export const DEFAULT_NOT_BEFORE = new Date("2000-01-01T00:00:00Z");
export const DEFAULT_DAYS: Record<CertificateKind, number> = { ca: 3652, host: 730, device: 730 };
const DAY_MS = 86_400_000;

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

export interface ValidityOptions {
  /** Days from `now` to notAfter; defaults per kind (CA 10 years, host and device 2 years). */
  days?: number;
  notBefore?: Date;
  now?: Date;
}

/** The last instant X.509 can express (GeneralizedTime has four year digits, RFC 5280 §4.1.2.5). */
export const LAST_X509_TIME = new Date("9999-12-31T23:59:59Z");

export function validityFor(kind: CertificateKind, options: ValidityOptions = {}): Validity {
  const now = options.now ?? new Date();
  const days = options.days ?? DEFAULT_DAYS[kind];
  const notBefore = options.notBefore ?? DEFAULT_NOT_BEFORE;
  const notAfter = new Date(now.getTime() + days * DAY_MS);
  if (!(notAfter <= LAST_X509_TIME)) {
    const most = Math.floor((LAST_X509_TIME.getTime() - now.getTime()) / DAY_MS);
    throw new UsageError(
      `--days ${days} ends after 9999-12-31, the last date a certificate can hold (at most ${most} days from now)`,
    );
  }
  if (notAfter <= notBefore) throw new UsageError(`certificate would expire before it starts (${days} days)`);
  return { notBefore, notAfter };
}

/** Subject as ordered RDNs, e.g. [["O", "MicroPython"], ["CN", "esp_room1"]]; no DN-string escaping issues. */
export type Subject = [attribute: string, value: string][];

function jsonName(subject: Subject): x509.JsonName {
  return subject.map(([attribute, value]) => ({ [attribute]: [value] }));
}

/** 16 random bytes with the top bit cleared: a positive serial of maximal entropy (RFC 5280 §4.1.2.2). */
export function randomSerialHex(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  return bytes.toHex();
}

export interface CertificateAuthority {
  certificate: x509.X509Certificate;
  privateKey: CryptoKey;
}

export async function createCaCertificate(
  keys: KeyPair,
  subject: Subject,
  validity: Validity,
): Promise<x509.X509Certificate> {
  return await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name: jsonName(subject),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    signingAlgorithm: SIGNING,
    keys: { privateKey: keys.privateKey, publicKey: keys.publicKey },
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
}

export type SubjectAltName = { type: "ip" | "dns"; value: string };

export interface LeafRequest {
  kind: "host" | "device";
  subject: Subject;
  publicKey: CryptoKey;
  validity: Validity;
  /** Required for devices (rustls matches only SANs); optional for hosts. */
  altNames?: SubjectAltName[];
}

export async function issueLeafCertificate(
  ca: CertificateAuthority,
  request: LeafRequest,
): Promise<x509.X509Certificate> {
  // A CA imported from upydev has no SKI: derive the key id from its public key as RFC 5280 §4.2.1.2 (1) does.
  const caKeyId = ca.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ??
    (await x509.SubjectKeyIdentifierExtension.create(await ca.certificate.publicKey.export())).keyId;
  const usage = request.kind === "host" ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([usage]),
    await x509.SubjectKeyIdentifierExtension.create(request.publicKey),
    new x509.AuthorityKeyIdentifierExtension(caKeyId),
  ];
  if (request.altNames?.length) extensions.push(new x509.SubjectAlternativeNameExtension(request.altNames));
  return await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: jsonName(request.subject),
    issuer: ca.certificate.subjectName,
    notBefore: request.validity.notBefore,
    notAfter: request.validity.notAfter,
    signingAlgorithm: SIGNING,
    publicKey: request.publicKey,
    signingKey: ca.privateKey,
    extensions,
  });
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** An address or name as a SAN entry: IPs become iPAddress (rustls matches IPs only there), the rest dNSName. */
export function altNameFor(value: string): SubjectAltName {
  const bare = value.replace(/^\[|\]$/g, "");
  if (IPV4.test(bare) || (bare.includes(":") && /^[0-9a-fA-F:.]+$/.test(bare))) {
    return { type: "ip", value: bare };
  }
  if (!/^[A-Za-z0-9_*]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(value)) {
    throw new UsageError(`not an IP address or DNS name for a certificate: ${value}`);
  }
  return { type: "dns", value: value.toLowerCase() };
}

export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  sha256Fingerprint: string;
  notBefore: Date;
  notAfter: Date;
  daysLeft: number;
  altNames: string[];
}

export async function summarize(
  certificate: x509.X509Certificate,
  now = new Date(),
): Promise<CertificateSummary> {
  const fingerprint = new Uint8Array(await certificate.getThumbprint("SHA-256")).toHex().toUpperCase();
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    serialNumber: certificate.serialNumber,
    sha256Fingerprint: fingerprint.match(/../g)!.join(":"),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    daysLeft: Math.floor((certificate.notAfter.getTime() - now.getTime()) / DAY_MS),
    altNames: san ? san.names.items.map((name) => `${name.type === "ip" ? "IP" : "DNS"}:${name.value}`) : [],
  };
}

export function parseCertificatePem(pem: string, source: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch (error) {
    throw new UserError(`${source} is not a certificate: ${(error as Error).message.split("\n")[0]}`);
  }
}
