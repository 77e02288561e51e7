/**
 * Says why a peer certificate is not acceptable, in words. TLS stacks report rejections coarsely (Deno's node:tls
 * says UNABLE_TO_VERIFY_LEAF_SIGNATURE for an expired certificate or one for the wrong purpose; a MicroPython
 * device just closes), so the emulated device, the tests and the host's TLS error mapping use this to name the
 * real cause next to the stack's verdict.
 */
import * as x509 from "npm:@peculiar/x509@2.2.0";

export type PeerRole = "client" | "server";

interface Problem {
  /** `untrusted`: not signed by the CA, which the stacks already say; anything else they misreport. */
  kind: "untrusted" | "unreadable" | "dates" | "purpose";
  text: string;
}

/** null when `certDer` chains to `caPem`, is within its dates at `now` and allows `role`; else the reason. */
export async function certificateProblem(
  certDer: Uint8Array | undefined,
  caPem: string,
  role: PeerRole,
  now = new Date(),
): Promise<string | null> {
  return (await findProblem(certDer, caPem, role, now))?.text ?? null;
}

/**
 * The cause of a rejection that a TLS stack reported as a chain failure, when it is something else (dates,
 * purpose, an unreadable certificate), phrased about the peer ("device certificate expired on …"); null when the
 * chain really is the problem or nothing is wrong.
 */
export async function misreportedProblem(
  certDer: Uint8Array,
  caPem: string,
  role: PeerRole,
  peer: string,
  now = new Date(),
): Promise<string | null> {
  const problem = await findProblem(certDer, caPem, role, now);
  if (!problem || problem.kind === "untrusted") return null;
  return problem.text.startsWith("certificate ") ? `${peer} ${problem.text}` : problem.text;
}

async function findProblem(
  certDer: Uint8Array | undefined,
  caPem: string,
  role: PeerRole,
  now: Date,
): Promise<Problem | null> {
  if (!certDer || certDer.length === 0) return { kind: "untrusted", text: "no certificate was presented" };
  let certificate: x509.X509Certificate;
  let ca: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(new Uint8Array(certDer));
  } catch {
    return { kind: "unreadable", text: "certificate cannot be parsed" };
  }
  try {
    ca = new x509.X509Certificate(caPem);
  } catch {
    return { kind: "unreadable", text: "the trusted CA certificate cannot be parsed" };
  }
  const signedByCa = certificate.issuer === ca.subject &&
    await certificate.verify({ publicKey: ca.publicKey, signatureOnly: true });
  if (!signedByCa) {
    return {
      kind: "untrusted",
      text: `certificate "${certificate.subject}" is not signed by the trusted CA "${ca.subject}"`,
    };
  }
  if (now < certificate.notBefore) {
    return { kind: "dates", text: `certificate is not valid before ${certificate.notBefore.toISOString()}` };
  }
  if (now > certificate.notAfter) {
    return { kind: "dates", text: `certificate expired on ${certificate.notAfter.toISOString()}` };
  }
  if (now > ca.notAfter) {
    return { kind: "dates", text: `the CA certificate expired on ${ca.notAfter.toISOString()}` };
  }
  const wanted = role === "client" ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth;
  const usages = certificate.getExtension(x509.ExtendedKeyUsageExtension)?.usages;
  if (usages && !usages.includes(wanted)) {
    return { kind: "purpose", text: `certificate is not for TLS ${role} authentication` };
  }
  return null;
}
