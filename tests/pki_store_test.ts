import "npm:reflect-metadata@0.2.2";
import { assertEquals, assertRejects } from "./helpers/assert.ts";
import { FAST_KDF, testStore, withTempDir } from "./helpers/pki.ts";
import { UserError } from "../lib/cli/errors.ts";
import { createCa, createHost, loadHostTlsCredentials } from "../lib/pki/authority.ts";
import { hostIdFor, writeSecretFile } from "../lib/pki/store.ts";
import { recordingIo } from "../lib/ui/io.ts";

Deno.test("host id is upydev's: first 10 hex characters of hex($USER)", () => {
  assertEquals(hostIdFor("carlo"), "6361726c6f");
  assertEquals(hostIdFor("carlos_garcia"), "6361726c6f");
  assertEquals(hostIdFor("al"), "616c");
});

Deno.test("atomic writes replace a file whole, leave no temp file and make it 0600", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/key.pem`;
    await Deno.writeTextFile(path, "old", { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    await writeSecretFile(path, "new contents");
    assertEquals(await Deno.readTextFile(path), "new contents");
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names, ["key.pem"]);
    await assertRejects(
      () => writeSecretFile(`${dir}/missing/x.pem`, "x"),
      UserError,
      `cannot write ${dir}/missing/x.pem`,
    );
  });
});

Deno.test("loadHostTlsCredentials: missing store, env passphrase, prompt text, wrong passphrase", async () => {
  await withTempDir(async (configDir) => {
    const io = recordingIo({ env: { USER: "carlo" } });
    await assertRejects(
      () => loadHostTlsCredentials(configDir, io, "x"),
      UserError,
      `${configDir}/pki/ROOT_CA_cert.pem not found; create it with \`upydev kg ssl CA\``,
    );
    const store = testStore(configDir);
    await createCa(store, { passphrase: "ca-pass", kdf: FAST_KDF });
    await assertRejects(
      () => loadHostTlsCredentials(configDir, io, "x"),
      UserError,
      "HOST_cert@6361726c6f.pem not found; create it with `upydev kg ssl host`",
    );
    await createHost(store, { caPassphrase: "ca-pass", passphrase: "host-pass", kdf: FAST_KDF });

    const fromEnv = await loadHostTlsCredentials(
      configDir,
      recordingIo({ env: { USER: "carlo", UPYDEV_PASSPHRASE: "host-pass" } }),
    );
    assertEquals(fromEnv.keyFileName, "HOST_key@6361726c6f.pem");

    const prompted = recordingIo({ env: { USER: "carlo" } });
    prompted.feed("host-pass\n");
    const credentials = await loadHostTlsCredentials(configDir, prompted);
    assertEquals(prompted.stderr, "Enter passphrase for key 'HOST_key@6361726c6f.pem': ");
    assertEquals(credentials.keyPem, fromEnv.keyPem);
    assertEquals(credentials.caPem, await Deno.readTextFile(`${configDir}/pki/ROOT_CA_cert.pem`));

    await assertRejects(
      () => loadHostTlsCredentials(configDir, io, "wrong"),
      UserError,
      `wrong passphrase for ${configDir}/pki/HOST_key@6361726c6f.pem`,
    );
  });
});
