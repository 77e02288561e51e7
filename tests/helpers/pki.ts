/** Shared by tests/pki_*_test.ts: the openssl CLI as a checker, temp stores and a cheap KDF. */
import type { KdfParams } from "../../lib/hostkey/key_file.ts";
import { PkiStore } from "../../lib/pki/store.ts";

/** A cheap scrypt for tests that are not about the KDF (the real one costs ~50 ms per key). */
export const FAST_KDF: KdfParams = { kind: "scrypt", cost: 1024, blockSize: 8, parallelism: 1 };

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function openssl(
  args: string[],
  options: { cwd?: string; stdin?: string } = {},
): Promise<CommandResult> {
  const child = new Deno.Command("openssl", {
    args,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const result = await child.output();
  const decoder = new TextDecoder();
  return { code: result.code, stdout: decoder.decode(result.stdout), stderr: decoder.decode(result.stderr) };
}

/** Runs openssl and fails the test with its stderr when it does not succeed. */
export async function opensslOk(
  args: string[],
  options: { cwd?: string; stdin?: string } = {},
): Promise<string> {
  const result = await openssl(args, options);
  if (result.code !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "upydev_pki_test_" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

export function testStore(configDir: string, user = "carlo"): PkiStore {
  return new PkiStore(configDir, { user, hostname: "testhost" });
}

export const P256_GENPKEY = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
