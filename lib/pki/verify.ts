/**
 * Says why a peer certificate is not acceptable, in words. TLS stacks report rejections coarsely (Deno's node:tls
 * says UNABLE_TO_VERIFY_LEAF_SIGNATURE for an expired certificate; a MicroPython device just closes), so the
 * emulated device and the tests use this to log a clear reason next to the stack's verdict.
 */
import * as x509 from "npm:@peculiar/x509@2.2.0";

export type PeerRole = "client" | "server";

/** null when `certDer` chains to `caPem`, is within its dates at `now` and allows `role`; else the reason. */
export async function certificateProblem(
  certDer: Uint8Array | undefined,
  caPem: string,
  role: PeerRole,
  now = new Date(),
): Promise<string | null> {
  if (!certDer || certDer.length === 0) return "no certificate was presented";
  const certificate = new x509.X509Certificate(new Uint8Array(certDer));
  const ca = new x509.X509Certificate(caPem);
  const signedByCa = certificate.issuer === ca.subject &&
    await certificate.verify({ publicKey: ca.publicKey, signatureOnly: true });
  if (!signedByCa) {
    return `certificate "${certificate.subject}" is not signed by the trusted CA "${ca.subject}"`;
  }
  if (now < certificate.notBefore) {
    return `certificate is not valid before ${certificate.notBefore.toISOString()}`;
  }
  if (now > certificate.notAfter) return `certificate expired on ${certificate.notAfter.toISOString()}`;
  if (now > ca.notAfter) return `the CA certificate expired on ${ca.notAfter.toISOString()}`;
  const wanted = role === "client" ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth;
  const usages = certificate.getExtension(x509.ExtendedKeyUsageExtension)?.usages;
  if (usages && !usages.includes(wanted)) return `certificate is not for TLS ${role} authentication`;
  return null;
}
