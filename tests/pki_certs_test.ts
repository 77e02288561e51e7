import "npm:reflect-metadata@0.2.2";
import * as x509 from "npm:@peculiar/x509@2.2.0";
import { assert, assertEquals, assertMatch, assertRejects, assertStringIncludes } from "./helpers/assert.ts";
import { FAST_KDF, openssl, opensslOk, P256_GENPKEY, testStore, withTempDir } from "./helpers/pki.ts";
import { createCa, createHost, issueDeviceCertificate, signDeviceCsr } from "../lib/pki/authority.ts";
import { altNameFor, randomSerialHex, validityFor } from "../lib/pki/certs.ts";
import { UserError } from "../lib/cli/errors.ts";
import { CA_CERT, CA_KEY, hostCertName, hostKeyName } from "../lib/pki/store.ts";

const CA_PASS = "ca-secret";
const HOST_PASS = "host-secret";

async function pki(dir: string) {
  const store = testStore(`${dir}/config`);
  await createCa(store, { passphrase: CA_PASS, kdf: FAST_KDF });
  await createHost(store, { caPassphrase: CA_PASS, passphrase: HOST_PASS, kdf: FAST_KDF });
  const device = await issueDeviceCertificate(store, {
    name: "esp_room1",
    uid: "30aea4233564",
    ips: ["192.168.1.40"],
    dnsNames: ["esp_room1.local"],
    caPassphrase: CA_PASS,
  });
  await Deno.writeTextFile(`${dir}/device.pem`, device.certPem);
  await Deno.writeFile(`${dir}/device_key.der`, device.keyDer);
  return { store, device, ca: store.path(CA_CERT), host: store.path(hostCertName(store.hostId)) };
}

const verify = (ca: string, cert: string, ...extra: string[]) =>
  openssl(["verify", "-x509_strict", "-CAfile", ca, ...extra, cert]);

Deno.test("CA, host and device certificates pass openssl verify -x509_strict for their purposes", async () => {
  await withTempDir(async (dir) => {
    const { ca, host } = await pki(dir);
    const device = `${dir}/device.pem`;
    for (
      const [cert, args] of [
        [ca, []],
        [host, ["-purpose", "sslclient"]],
        [device, ["-purpose", "sslserver", "-verify_ip", "192.168.1.40"]],
        [device, ["-purpose", "sslserver", "-verify_hostname", "esp_room1.local"]],
      ] as const
    ) {
      const result = await verify(ca, cert, ...args);
      assertEquals(result.code, 0, `${cert} ${args.join(" ")}: ${result.stderr}`);
      assertStringIncludes(result.stdout, ": OK");
    }
  });
});

Deno.test("purposes and names are enforced: host is not a server, device is not a client, wrong IP/name fail", async () => {
  await withTempDir(async (dir) => {
    const { ca, host } = await pki(dir);
    const device = `${dir}/device.pem`;
    for (
      const [cert, args, error] of [
        [host, ["-purpose", "sslserver"], "unsuitable certificate purpose"],
        [device, ["-purpose", "sslclient"], "unsuitable certificate purpose"],
        [device, ["-verify_ip", "192.168.1.41"], "IP address mismatch"],
        [device, ["-verify_hostname", "other.local"], "hostname mismatch"],
      ] as const
    ) {
      const result = await verify(ca, cert, ...args);
      assert(result.code !== 0, `${cert} ${args.join(" ")} should fail`);
      assertStringIncludes(result.stdout + result.stderr, error);
    }
  });
});

Deno.test("certificate profiles carry exactly the extensions of the design", async () => {
  await withTempDir(async (dir) => {
    const { ca, host } = await pki(dir);
    const caText = await opensslOk(["x509", "-in", ca, "-noout", "-text"]);
    assertMatch(caText, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assertMatch(caText, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    assertStringIncludes(caText, "X509v3 Subject Key Identifier");
    assertStringIncludes(caText, "Not Before: Jan  1 00:00:00 2000 GMT");

    const hostText = await opensslOk(["x509", "-in", host, "-noout", "-text"]);
    assertMatch(hostText, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assertMatch(hostText, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assertMatch(hostText, /X509v3 Extended Key Usage: \s+TLS Web Client Authentication\n/);
    assertStringIncludes(hostText, "X509v3 Authority Key Identifier");
    assertStringIncludes(hostText, "X509v3 Subject Key Identifier");

    const deviceText = await opensslOk(["x509", "-in", `${dir}/device.pem`, "-noout", "-text"]);
    assertMatch(deviceText, /X509v3 Extended Key Usage: \s+TLS Web Server Authentication\n/);
    assertMatch(
      deviceText,
      /X509v3 Subject Alternative Name: \s+IP Address:192.168.1.40, DNS:esp_room1.local\n/,
    );
    assertMatch(deviceText, /Subject: O = MicroPython, OU = 30aea4233564, CN = esp_room1\n/);

    const caSubject = await opensslOk(["x509", "-in", ca, "-noout", "-subject"]);
    const hostSubject = await opensslOk(["x509", "-in", host, "-noout", "-subject"]);
    assert(caSubject !== hostSubject, "the host certificate has its own subject");
    assertStringIncludes(hostSubject, "CN = carlo@testhost");
  });
});

Deno.test("validity: notBefore 2000-01-01, CA 10 years, host/device 2 years, overridable", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const ca = validityFor("ca", { now });
  assertEquals(ca.notBefore.toISOString(), "2000-01-01T00:00:00.000Z");
  assertEquals(ca.notAfter.toISOString(), "2036-01-01T00:00:00.000Z");
  assertEquals(validityFor("host", { now }).notAfter.toISOString(), "2028-01-01T00:00:00.000Z");
  assertEquals(validityFor("device", { now, days: 10 }).notAfter.toISOString(), "2026-01-11T00:00:00.000Z");
  const custom = validityFor("device", { now, notBefore: new Date("2025-06-01T00:00:00Z") });
  assertEquals(custom.notBefore.toISOString(), "2025-06-01T00:00:00.000Z");
});

Deno.test("serials are 16 bytes with the top bit cleared", async () => {
  for (let i = 0; i < 64; i++) {
    const serial = randomSerialHex();
    assertEquals(serial.length, 32);
    assert(parseInt(serial.slice(0, 2), 16) < 0x80);
  }
  await withTempDir(async (dir) => {
    const { ca } = await pki(dir);
    const cert = new x509.X509Certificate(await Deno.readTextFile(ca));
    assert(cert.serialNumber.length <= 32 && cert.serialNumber.length >= 30, cert.serialNumber);
  });
});

Deno.test("SAN entries: IPs become iPAddress, names dNSName, junk is refused", () => {
  assertEquals(altNameFor("192.168.4.1"), { type: "ip", value: "192.168.4.1" });
  assertEquals(altNameFor("fe80::1"), { type: "ip", value: "fe80::1" });
  assertEquals(altNameFor("ESP_Room1.local"), { type: "dns", value: "esp_room1.local" });
  let refused = false;
  try {
    altNameFor("wss://192.168.1.40:8833");
  } catch (error) {
    refused = error instanceof UserError;
  }
  assert(refused, "a URL is not a SAN");
});

Deno.test("keys at rest: CA and host keys decrypt with openssl pkey -passin, and the device key is SEC1 P-256", async () => {
  await withTempDir(async (dir) => {
    const { store } = await pki(dir);
    for (const [name, passphrase] of [[CA_KEY, CA_PASS], [hostKeyName(store.hostId), HOST_PASS]]) {
      const text = await Deno.readTextFile(store.path(name));
      assert(text.startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----"), name);
      const out = await opensslOk([
        "pkey",
        "-in",
        store.path(name),
        "-passin",
        `pass:${passphrase}`,
        "-noout",
        "-text",
      ]);
      assertStringIncludes(out, "NIST CURVE: P-256");
      const wrong = await openssl(["pkey", "-in", store.path(name), "-passin", "pass:nope", "-noout"]);
      assert(wrong.code !== 0);
    }
    const keyText = await opensslOk([
      "ec",
      "-inform",
      "DER",
      "-in",
      `${dir}/device_key.der`,
      "-check",
      "-noout",
    ]);
    assertEquals(keyText, "");
    const keyPub = await opensslOk(["pkey", "-inform", "DER", "-in", `${dir}/device_key.der`, "-pubout"]);
    const certPub = await opensslOk(["x509", "-in", `${dir}/device.pem`, "-noout", "-pubkey"]);
    assertEquals(keyPub, certPub);
  });
});

Deno.test("a device CSR made elsewhere is signed with the device profile; its own subject and extensions are ignored", async () => {
  await withTempDir(async (dir) => {
    const { store } = await pki(dir);
    await opensslOk([...P256_GENPKEY, "-out", `${dir}/dev.key`]);
    await opensslOk([
      ...[
        "req",
        "-new",
        "-key",
        `${dir}/dev.key`,
        "-subj",
        "/CN=evil",
        "-addext",
        "basicConstraints=CA:TRUE",
      ],
      ...["-out", `${dir}/dev.csr`],
    ]);
    const { certPem } = await signDeviceCsr(store, {
      csr: await Deno.readTextFile(`${dir}/dev.csr`),
      name: "esp_csr",
      ips: ["10.0.0.7"],
      caPassphrase: CA_PASS,
    });
    await Deno.writeTextFile(`${dir}/csr_cert.pem`, certPem);
    const result = await verify(
      store.path(CA_CERT),
      `${dir}/csr_cert.pem`,
      "-purpose",
      "sslserver",
      "-verify_ip",
      "10.0.0.7",
    );
    assertEquals(result.code, 0, result.stderr);
    const text = await opensslOk(["x509", "-in", `${dir}/csr_cert.pem`, "-noout", "-text"]);
    assertStringIncludes(text, "CN = esp_csr");
    assertMatch(text, /CA:FALSE/);
    const keyPub = await opensslOk(["pkey", "-in", `${dir}/dev.key`, "-pubout"]);
    assertEquals(keyPub, await opensslOk(["x509", "-in", `${dir}/csr_cert.pem`, "-noout", "-pubkey"]));

    await Deno.writeTextFile(
      `${dir}/bad.csr`,
      (await Deno.readTextFile(`${dir}/dev.csr`)).replace(/A/g, "B"),
    );
    await assertRejects(
      () =>
        signDeviceCsr(store, {
          csr: Deno.readTextFileSync(`${dir}/bad.csr`),
          name: "x",
          ips: ["10.0.0.7"],
          caPassphrase: CA_PASS,
        }),
      UserError,
      "CSR",
    );
  });
});

Deno.test("a device certificate needs a SAN, and the CA passphrase must be right", async () => {
  await withTempDir(async (dir) => {
    const { store } = await pki(dir);
    await assertRejects(
      () => issueDeviceCertificate(store, { name: "x", caPassphrase: CA_PASS }),
      UserError,
      "at least one IP address or DNS name",
    );
    await assertRejects(
      () => issueDeviceCertificate(store, { name: "x", ips: ["10.0.0.1"], caPassphrase: "wrong" }),
      UserError,
      `wrong passphrase for ${store.path(CA_KEY)}`,
    );
  });
});
