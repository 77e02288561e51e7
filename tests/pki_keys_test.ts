import { assert, assertEquals, assertRejects, assertStringIncludes } from "./helpers/assert.ts";
import { FAST_KDF, openssl, opensslOk, P256_GENPKEY, withTempDir } from "./helpers/pki.ts";
import { UserError } from "../lib/cli/errors.ts";
import {
  children,
  integer,
  octetString,
  oid,
  readInteger,
  readNode,
  readOid,
  readWhole,
  sequence,
  TAG,
} from "../lib/hostkey/der.ts";
import {
  decryptPrivateKey,
  DEFAULT_KDF,
  encryptPrivateKey,
  isEncryptedKeyFile,
  PBKDF2_ITERATIONS,
} from "../lib/hostkey/key_file.ts";
import { generateKeyPair, importPkcs8 } from "../lib/pki/keys.ts";
import { decodePemBlocks, encodePem } from "../lib/hostkey/pem.ts";

const PASS = "correct horse";

/** The public key OpenSSL derives from a key file, to compare with ours. */
async function opensslPublicKey(path: string, passphrase = PASS): Promise<string> {
  return await opensslOk(["pkey", "-in", path, "-passin", `pass:${passphrase}`, "-pubout"]);
}

async function ourPublicKeyPem(pkcs8: Uint8Array): Promise<string> {
  const pair = await importPkcs8(pkcs8, "test key");
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  return `-----BEGIN PUBLIC KEY-----\n${
    spki.toBase64().match(/.{1,64}/g)!.join("\n")
  }\n-----END PUBLIC KEY-----\n`;
}

Deno.test("DER: integers, OIDs and long lengths round-trip", () => {
  for (const value of [0, 1, 127, 128, 255, 256, 32768, 600_000]) {
    assertEquals(readInteger(readNode(integer(value))), value);
  }
  for (const dotted of ["1.2.840.113549.1.5.13", "1.3.6.1.4.1.11591.4.11", "2.16.840.1.101.3.4.1.42"]) {
    assertEquals(readOid(readNode(oid(dotted))), dotted);
  }
  const big = sequence(...Array.from({ length: 100 }, (_, i) => integer(i)));
  const node = readWhole(big, TAG.sequence);
  assertEquals(children(node).length, 100);
  assertEquals(big[1], 0x82, "lengths over 255 use two length bytes");
});

Deno.test("keys OpenSSL encrypted decrypt: genpkey -aes-256-cbc, pkcs8 -scrypt, PBKDF2 SHA-1/256/512, AES-128/256", async () => {
  await withTempDir(async (dir) => {
    await opensslOk([...P256_GENPKEY, "-out", `${dir}/plain.pem`]);
    const variants: [string, string[]][] = [
      ["genpkey", [...P256_GENPKEY, "-aes-256-cbc", "-pass", `pass:${PASS}`]],
      ["scrypt", ["pkcs8", "-topk8", "-in", `${dir}/plain.pem`, "-scrypt", "-passout", `pass:${PASS}`]],
      ["pbkdf2-sha256", [
        "pkcs8",
        "-topk8",
        "-in",
        `${dir}/plain.pem`,
        "-v2",
        "aes-256-cbc",
        "-passout",
        `pass:${PASS}`,
      ]],
      ["pbkdf2-sha1-aes128", [
        ...["pkcs8", "-topk8", "-in", `${dir}/plain.pem`, "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"],
        ...["-passout", `pass:${PASS}`],
      ]],
      ["pbkdf2-sha512", [
        ...["pkcs8", "-topk8", "-in", `${dir}/plain.pem`, "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512"],
        ...["-passout", `pass:${PASS}`],
      ]],
    ];
    for (const [name, args] of variants) {
      const path = `${dir}/${name}.pem`;
      await opensslOk([...args, "-out", path]);
      const text = await Deno.readTextFile(path);
      assert(isEncryptedKeyFile(text), name);
      const key = await decryptPrivateKey(text, PASS, path);
      assertEquals(key.format, "pkcs8-encrypted", name);
      assertEquals(await ourPublicKeyPem(key.pkcs8), await opensslPublicKey(path), name);
      await assertRejects(
        () => decryptPrivateKey(text, "wrong", path),
        UserError,
        `wrong passphrase for ${path}`,
      );
    }
  });
});

Deno.test("legacy Proc-Type: 4,ENCRYPTED EC keys (openssl ec -aes256 / -aes128) import", async () => {
  await withTempDir(async (dir) => {
    await opensslOk([...P256_GENPKEY, "-out", `${dir}/plain.pem`]);
    for (const cipher of ["-aes256", "-aes128"]) {
      const path = `${dir}/legacy${cipher}.pem`;
      await opensslOk(["ec", "-in", `${dir}/plain.pem`, cipher, "-passout", `pass:${PASS}`, "-out", path]);
      const text = await Deno.readTextFile(path);
      assertStringIncludes(text, "Proc-Type: 4,ENCRYPTED");
      const key = await decryptPrivateKey(text, PASS, path);
      assertEquals(key.format, "legacy-encrypted");
      assertEquals(await ourPublicKeyPem(key.pkcs8), await opensslPublicKey(path));
    }
  });
});

Deno.test("a wrong passphrase is always the one UserError, whether padding or DER parsing fails", async () => {
  await withTempDir(async (dir) => {
    await opensslOk([...P256_GENPKEY, "-out", `${dir}/plain.pem`]);
    // The legacy format is cheap to try, so enough wrong guesses get past the padding check (~1 in 256).
    await opensslOk([
      "ec",
      "-in",
      `${dir}/plain.pem`,
      "-aes256",
      "-passout",
      `pass:${PASS}`,
      "-out",
      `${dir}/k.pem`,
    ]);
    const text = await Deno.readTextFile(`${dir}/k.pem`);
    const messages = new Set<string>();
    for (let i = 0; i < 1500; i++) {
      try {
        await decryptPrivateKey(text, `guess ${i}`, "k.pem");
        messages.add("decrypted");
      } catch (error) {
        assert(error instanceof UserError, String(error));
        messages.add(error.message);
      }
    }
    assertEquals([...messages], ["wrong passphrase for k.pem"]);
  });
});

Deno.test("our key files: scrypt (default) and PBKDF2 600k both read by openssl pkey -passin and by us", async () => {
  await withTempDir(async (dir) => {
    const pair = await generateKeyPair();
    for (
      const [name, kdf] of [
        ["scrypt", DEFAULT_KDF],
        ["pbkdf2", { kind: "pbkdf2", iterations: PBKDF2_ITERATIONS, hash: "SHA-256" }],
      ] as const
    ) {
      const path = `${dir}/${name}.pem`;
      const pem = await encryptPrivateKey(pair.pkcs8, PASS, kdf);
      await Deno.writeTextFile(path, pem);
      assertEquals(await opensslPublicKey(path), await ourPublicKeyPem(pair.pkcs8));
      const back = await decryptPrivateKey(pem, PASS, path);
      assertEquals(back.pkcs8, pair.pkcs8);
      const wrong = await openssl(["pkey", "-in", path, "-passin", "pass:nope", "-noout"]);
      assert(wrong.code !== 0, "openssl rejects a wrong passphrase");
    }
    const parsed = await opensslOk(["asn1parse", "-in", `${dir}/scrypt.pem`]);
    assertStringIncludes(parsed, ":scrypt");
    assertStringIncludes(parsed, "INTEGER           :8000"); // N = 2^15
    assertStringIncludes(parsed, ":aes-256-cbc");
    const pbkdf2 = await opensslOk(["asn1parse", "-in", `${dir}/pbkdf2.pem`]);
    assertStringIncludes(pbkdf2, "INTEGER           :0927C0"); // 600000
    assertStringIncludes(pbkdf2, ":hmacWithSHA256");
  });
});

Deno.test("unencrypted PKCS#8 and SEC1 keys read as such; a file with no key is a UserError", async () => {
  await withTempDir(async (dir) => {
    await opensslOk([...P256_GENPKEY, "-out", `${dir}/p8.pem`]);
    await opensslOk(["ec", "-in", `${dir}/p8.pem`, "-out", `${dir}/sec1.pem`]);
    for (const name of ["p8", "sec1"]) {
      const key = await decryptPrivateKey(await Deno.readTextFile(`${dir}/${name}.pem`), "", name);
      assertEquals(key.format, "unencrypted");
      assertEquals(await ourPublicKeyPem(key.pkcs8), await opensslPublicKey(`${dir}/p8.pem`, ""));
    }
    await assertRejects(
      () => decryptPrivateKey("hello", PASS, "x.pem"),
      UserError,
      "no private key found in x.pem",
    );
  });
});

Deno.test("a cheap KDF still produces a valid PBES2 structure (the tests' FAST_KDF)", async () => {
  const pair = await generateKeyPair();
  const pem = await encryptPrivateKey(pair.pkcs8, PASS, FAST_KDF);
  const [block] = decodePemBlocks(pem);
  assertEquals(block.label, "ENCRYPTED PRIVATE KEY");
  const [algorithm] = children(readWhole(block.der, TAG.sequence));
  assertEquals(readOid(children(algorithm)[0]), "1.2.840.113549.1.5.13");
});

/** An `ENCRYPTED PRIVATE KEY` PEM with the given KDF algorithm and a ciphertext that is never reached. */
function crafted(kdfAlgorithm: Uint8Array): string {
  const aes256 = sequence(oid("2.16.840.1.101.3.4.1.42"), octetString(new Uint8Array(16)));
  const pbes2 = sequence(oid("1.2.840.113549.1.5.13"), sequence(kdfAlgorithm, aes256));
  return encodePem("ENCRYPTED PRIVATE KEY", sequence(pbes2, octetString(new Uint8Array(32))));
}

Deno.test("hostile KDF parameters in a key file are refused before any work", async () => {
  const salt = octetString(new Uint8Array(16));
  const pbkdf2 = (iterations: number) =>
    crafted(sequence(oid("1.2.840.113549.1.5.12"), sequence(salt, integer(iterations))));
  const started = performance.now();
  await assertRejects(
    () => decryptPrivateKey(pbkdf2(2_000_000_000), PASS, "evil.pem"),
    UserError,
    "evil.pem: 2000000000 PBKDF2 iterations is more than the 10000000 read; refusing",
  );
  assert(performance.now() - started < 1000, "refused without deriving");
  const scrypt = (n: number, r: number, p: number) =>
    crafted(sequence(oid("1.3.6.1.4.1.11591.4.11"), sequence(salt, integer(n), integer(r), integer(p))));
  await assertRejects(
    () => decryptPrivateKey(scrypt(1 << 30, 8, 1), PASS, "evil.pem"),
    UserError,
    "evil.pem: scrypt parameters need more than 256 MiB; refusing",
  );
  await assertRejects(
    () => decryptPrivateKey(scrypt(1000, 8, 1), PASS, "evil.pem"),
    UserError,
    "evil.pem: invalid scrypt parameters N=1000 r=8 p=1",
  );
  // At the bound it is only a wrong passphrase (bad padding), not a refusal.
  await assertRejects(
    () => decryptPrivateKey(pbkdf2(2048), PASS, "ok.pem"),
    UserError,
    "wrong passphrase for ok.pem",
  );
});
