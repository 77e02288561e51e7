/** Throwaway ECDSA P-256 test PKI made with the openssl CLI (the real PKI is lib/pki's job). */
import { opensslOk, P256_GENPKEY } from "./pki.ts";

export interface TestPki {
  dir: string;
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** A client cert signed by an unrelated CA. */
  strangerCertPem: string;
  strangerKeyPem: string;
  /** A server cert whose only SAN is DNS:esp.local (no IP SAN). */
  dnsOnlyServerCertPem: string;
  dnsOnlyServerKeyPem: string;
  remove(): Promise<void>;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await opensslOk(args, { cwd: dir });
}

async function ca(dir: string, name: string): Promise<void> {
  await openssl(dir, ...P256_GENPKEY, "-out", `${name}.key`);
  await openssl(
    dir,
    ...["req", "-x509", "-new", "-key", `${name}.key`, "-sha256", "-days", "30", "-subj", `/CN=${name}`],
    ...[
      "-addext",
      "basicConstraints=critical,CA:TRUE,pathlen:0",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    ...["-out", `${name}.pem`],
  );
}

async function leaf(dir: string, name: string, caName: string, extensions: string): Promise<void> {
  await openssl(dir, ...P256_GENPKEY, "-out", `${name}.key`);
  await openssl(dir, "req", "-new", "-key", `${name}.key`, "-subj", `/CN=${name}`, "-out", `${name}.csr`);
  await Deno.writeTextFile(`${dir}/${name}.ext`, extensions);
  await openssl(
    dir,
    ...["x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.pem`, "-CAkey", `${caName}.key`],
    ...["-CAcreateserial", "-days", "30", "-sha256", "-extfile", `${name}.ext`, "-out", `${name}.pem`],
  );
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "upydev-test-pki-" });
  const leafBase = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n";
  await ca(dir, "ca");
  await ca(dir, "other-ca");
  await leaf(
    dir,
    "server",
    "ca",
    `${leafBase}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:esp.local\n`,
  );
  await leaf(dir, "dnsonly", "ca", `${leafBase}extendedKeyUsage=serverAuth\nsubjectAltName=DNS:esp.local\n`);
  await leaf(dir, "client", "ca", `${leafBase}extendedKeyUsage=clientAuth\n`);
  await leaf(dir, "stranger", "other-ca", `${leafBase}extendedKeyUsage=clientAuth\n`);
  const read = (file: string) => Deno.readTextFileSync(`${dir}/${file}`);
  return {
    dir,
    caPem: read("ca.pem"),
    serverCertPem: read("server.pem"),
    serverKeyPem: read("server.key"),
    clientCertPem: read("client.pem"),
    clientKeyPem: read("client.key"),
    strangerCertPem: read("stranger.pem"),
    strangerKeyPem: read("stranger.key"),
    dnsOnlyServerCertPem: read("dnsonly.pem"),
    dnsOnlyServerKeyPem: read("dnsonly.key"),
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}
