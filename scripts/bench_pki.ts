/**
 * PKI timings: key generation + certificate signing for the CA, host and device (no KDF), and the key-file
 * KDFs on their own. Run: ./scripts/deno.sh run -A scripts/bench_pki.ts [rounds]
 */
import "npm:reflect-metadata@0.2.2";
import { createCaCertificate, issueLeafCertificate, validityFor } from "../lib/pki/certs.ts";
import { DEFAULT_KDF, deriveKey, type KdfParams, PBKDF2_ITERATIONS } from "../lib/hostkey/key_file.ts";
import { generateKeyPair } from "../lib/pki/keys.ts";
import { onboardKeyCode } from "../lib/pki/onboard.ts";
import { loadMicroPython } from "npm:@micropython/micropython-webassembly-pyscript@1.27.0";

const rounds = Number(Deno.args[0] ?? 20);

async function time(label: string, count: number, body: () => Promise<unknown>): Promise<void> {
  await body(); // warm-up: JIT, WASM instantiation
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await body();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  console.log(
    `${label.padEnd(52)} median ${median.toFixed(2).padStart(8)} ms   min ${
      samples[0].toFixed(2).padStart(8)
    } ms` +
      `   (${count} runs)`,
  );
}

const caKeys = await generateKeyPair();
const caCertificate = await createCaCertificate(caKeys, [["CN", "bench CA"]], validityFor("ca"));
const ca = { certificate: caCertificate, privateKey: caKeys.privateKey };

await time("P-256 key generation", rounds, generateKeyPair);
await time("CA: key + self-signed certificate", rounds, async () => {
  const keys = await generateKeyPair();
  await createCaCertificate(keys, [["CN", "bench CA"]], validityFor("ca"));
});
for (const kind of ["host", "device"] as const) {
  await time(`${kind}: key + CA-signed certificate`, rounds, async () => {
    const keys = await generateKeyPair();
    await issueLeafCertificate(ca, {
      kind,
      subject: [["CN", `bench ${kind}`]],
      publicKey: keys.publicKey,
      validity: validityFor(kind),
      altNames: kind === "device" ? [{ type: "ip", value: "192.168.1.40" }] : undefined,
    });
  });
}

const salt = crypto.getRandomValues(new Uint8Array(16));
const kdfs: [string, KdfParams][] = [
  ["KDF scrypt N=2^15 r=7 p=1 (what we write)", DEFAULT_KDF],
  ["KDF scrypt N=2^14 r=8 p=1 (openssl -scrypt)", {
    kind: "scrypt",
    cost: 1 << 14,
    blockSize: 8,
    parallelism: 1,
  }],
  [`KDF PBKDF2-HMAC-SHA256 ${PBKDF2_ITERATIONS} iterations`, {
    kind: "pbkdf2",
    iterations: PBKDF2_ITERATIONS,
    hash: "SHA-256",
  }],
];
for (const [label, kdf] of kdfs) {
  await time(label, Math.max(3, Math.floor(rounds / 2)), () => deriveKey("bench passphrase", salt, kdf, 32));
}

// The on-device path (kg ssl --onboard) in MicroPython's WebAssembly port; an ESP32 is far slower than this.
const micropython = await loadMicroPython({ stdout: () => {}, heapsize: 4 << 20 });
micropython.runPython(
  [
    "import sys,os",
    "class _OS: pass",
    "for _n in dir(os):",
    " if not _n.startswith('__'): setattr(_OS,_n,getattr(os,_n))",
    "import random",
    "_OS.urandom=lambda n: bytes(random.getrandbits(8) for _ in range(n))", // timing only: not a secure source
    "sys.modules['os']=_OS",
  ].join("\n"),
);
await time("on-device key + CSR, pure Python (MicroPython wasm)", 5, () => {
  micropython.runPython(onboardKeyCode("/bench_key.der", "bench"));
  return Promise.resolve();
});
