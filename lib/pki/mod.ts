/**
 * The PKI's public surface for the rest of upydev (the wss connection, `shl`, the demo, tests).
 *
 *   loadHostTlsCredentials(configDir: string, io: Io, passphrase?: string): Promise<HostTlsCredentials>
 *     → { caPem, certPem, keyPem /* unencrypted PKCS#8 PEM, memory only *\/, keyFileName /* HOST_key@<id>.pem *\/ }
 *     Passphrase: the argument (registry PASSWORD:PASSPHRASE), else $UPYDEV_PASSPHRASE, else the hidden prompt
 *     "Enter passphrase for key 'HOST_key@<id>.pem': ". Missing files and a wrong passphrase are UserErrors.
 *
 *   openPkiStore(configDir: string, io: Io): PkiStore                 the store `<configDir>/pki/` of $USER
 *   createCa(store, { passphrase, force?, days?, notBefore?, now?, subject?, kdf? }): Promise<X509Certificate>
 *   createHost(store, { caPassphrase, passphrase, days?, notBefore?, now?, subject?, kdf? }): Promise<X509Certificate>
 *   issueDeviceCertificate(store, { name, uid?, ips?, dnsNames?, caPassphrase, days?, notBefore?, now? })
 *     → Promise<{ keyDer /* SEC1 *\/, certDer, certPem, certificate }>      (writes SSL_certificate<uid>.pem if uid)
 *   signDeviceCsr(store, { csr, name, uid?, ips?, dnsNames?, caPassphrase, ... }) → Promise<{ certDer, certPem }>
 *   loadCa(store, caPassphrase): Promise<{ certificate, privateKey }>
 *   certificateProblem(certDer | undefined, caPem, "client" | "server", now?): Promise<string | null>
 *     a peer certificate's problem in words (for the emulated device's logs), null when acceptable
 *
 * Store file names: ROOT_CA_key.pem, ROOT_CA_cert.pem, ~ROOT_CA_* (previous CA), HOST_key@<hostid>.pem,
 * HOST_cert@<hostid>.pem, SSL_certificate<uid>.pem; on the device SSL_key<uid>.der, SSL_certificate<uid>.der,
 * ROOT_CA_cert.pem. See lib/pki/README.md.
 */
export {
  CA_PASSPHRASE_ENV,
  createCa,
  createHost,
  HOST_PASSPHRASE_ENV,
  type HostTlsCredentials,
  issueDeviceCertificate,
  loadCa,
  loadHostTlsCredentials,
  openPkiStore,
  signDeviceCsr,
} from "./authority.ts";
export { DEFAULT_NOT_BEFORE, type ValidityOptions } from "./certs.ts";
export { encodePem } from "../hostkey/pem.ts";
export {
  CA_CERT,
  deviceCertDerName,
  deviceCertName,
  deviceKeyDerName,
  hostCertName,
  hostKeyName,
  PkiStore,
} from "./store.ts";
export { certificateProblem } from "./verify.ts";
