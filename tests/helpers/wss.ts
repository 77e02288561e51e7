/** A host with its PKI (lib/pki) and an emulated device serving WebSecureREPL from its own wss_repl.py. */
import "npm:reflect-metadata@0.2.2";
import { type Sandbox, sandbox } from "./cli.ts";
import { FAST_KDF } from "./pki.ts";
import {
  createCa,
  createHost,
  issueDeviceCertificate,
  openPkiStore,
  type PkiStore,
} from "../../lib/pki/mod.ts";
import { startWssDevice, type WssEmulator } from "../../lib/emulator/shims/wss.ts";
import { recordingIo } from "../../lib/ui/io.ts";

export const CA_PASS = "ca passphrase";
export const HOST_PASS = "host-pass";
export const WEBREPL_PASSWORD = "wsspw";
export const DEVICE_UID = Uint8Array.of(0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56);

export function storeOf(box: Sandbox): PkiStore {
  return openPkiStore(box.configDir, recordingIo({ env: box.env }));
}

/** A sandboxed home with a ROOT CA and a host certificate. */
export async function hostWithCa(): Promise<Sandbox> {
  const box = await sandbox();
  const store = storeOf(box);
  await createCa(store, { passphrase: CA_PASS, kdf: FAST_KDF });
  await createHost(store, { caPassphrase: CA_PASS, passphrase: HOST_PASS, kdf: FAST_KDF });
  return box;
}

/** A device whose certificate (for `ips`) is signed by `caBox`'s CA, serving wss from boot.py. */
export async function wssDeviceFor(
  caBox: Sandbox,
  ips = ["127.0.0.1"],
): Promise<{ device: WssEmulator; port: number }> {
  const issued = await issueDeviceCertificate(storeOf(caBox), {
    name: "esp_e2e",
    uid: DEVICE_UID.toHex(),
    ips,
    caPassphrase: CA_PASS,
  });
  return await startWssDevice({
    password: WEBREPL_PASSWORD,
    port: 0,
    uniqueId: DEVICE_UID,
    pki: {
      uniqueId: DEVICE_UID,
      deviceKeyDer: issued.keyDer,
      deviceCertDer: issued.certDer,
      caPem: await Deno.readTextFile(`${caBox.configDir}/pki/ROOT_CA_cert.pem`),
    },
  });
}
