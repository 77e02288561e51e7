/**
 * The emulated device's wss mode: the emulator plus the shims that let the real device/wss_repl.py run in
 * it. Nothing here starts WebSecureREPL by itself: as on a device, the uploaded wss_repl.py does, from
 * boot.py or the REPL (`import wss_repl; wss_repl.start(ssl=True)`), reading its key, certificate and CA
 * from the emulated flash.
 */
import { DEVICE_LIB_DIR, DEVICE_SCRIPTS } from "../../ops/upyutils.ts";
import { pyStr } from "../../webrepl/python_literal.ts";
import { type EmulatedDevice, type EmulatorOptions, startEmulator } from "../emulator.ts";
import type { EmulatedDeviceCore } from "../device.ts";
import { serveWebReplTerminal } from "../webrepl_server.ts";
import type { HostValue } from "../protocol.ts";
import { NetHost } from "./net_host.ts";
import { type AcceptMessage, NET_HOST_CALL } from "./worker_plugin.ts";

const encoder = new TextEncoder();

/** The port wss_repl.start(ssl=True) listens on. */
export const WSS_DEVICE_PORT = 8833;

export interface WssEmulator extends EmulatedDevice {
  /** The 127.0.0.1 port serving a device port once the device code listens on it (wss: 8833). */
  whenListening(devicePort?: number): Promise<number>;
  /** The 127.0.0.1 port serving a device port now, if the device code listens on it. */
  listeningPort(devicePort?: number): number | undefined;
}

export interface WssEmulatorOptions extends EmulatorOptions {
  /** The 127.0.0.1 port that serves the device's wss port 8833; 0 (the default) lets the OS choose. */
  wssPort?: number;
}

/**
 * Starts an emulated device whose socket/tls/websocket/_webrepl/os.dupterm modules are backed by the host.
 * Its flash gets a webrepl_cfg.py holding `password` unless it has one.
 */
export async function startWssEmulator(options: WssEmulatorOptions): Promise<WssEmulator> {
  const log = options.log ?? (() => {});
  // Set by the first host call, which precedes every listen, accept and attach.
  let core: EmulatedDeviceCore | undefined;
  const net = new NetHost({
    acceptReady: (listener) => core?.postToWorker({ wssAccept: listener } satisfies AcceptMessage),
    attachWebRepl: (stream, nagle) => {
      serveWebReplTerminal(core!, stream, { log, tcp: { nagle } }).catch((error) => {
        log(`WebREPL session ended: ${(error as Error).message}`);
        stream.close();
      });
    },
    hostPort: (devicePort) => devicePort === WSS_DEVICE_PORT ? options.wssPort ?? 0 : 0,
  });
  const emulator = await startEmulator({
    ...options,
    workerModules: [...(options.workerModules ?? []), new URL("./worker_plugin.ts", import.meta.url)],
    hostCalls: {
      ...options.hostCalls,
      [NET_HOST_CALL]: (payload: HostValue, device: EmulatedDeviceCore) => {
        core = device;
        return net.handle(payload as string);
      },
    },
  });
  // A reset closes the device's sockets; boot.py then listens again on the same host port.
  emulator.core.onReboot(() => net.reset());
  // A device with WebREPL set up keeps its password in webrepl_cfg.py, where wss_repl.start() reads it.
  if (!emulator.core.flash.files.some(([path]) => path === "webrepl_cfg.py")) {
    try {
      await writeDeviceFile(
        emulator,
        "/webrepl_cfg.py",
        encoder.encode(`PASS = ${pyStr(options.password)}\n`),
      );
    } catch (error) {
      await emulator.close();
      throw error;
    }
  }
  return {
    ...emulator,
    get password() {
      return emulator.password;
    },
    whenListening: (devicePort = WSS_DEVICE_PORT) => net.whenListening(devicePort),
    listeningPort: (devicePort = WSS_DEVICE_PORT) => net.listeningPort(devicePort),
    async close() {
      await net.close();
      await emulator.close();
    },
  };
}

/** Writes a file onto the emulated flash (absolute device path), as an upload would. */
export async function writeDeviceFile(device: EmulatedDevice, path: string, data: Uint8Array): Promise<void> {
  const { error } = await device.runPython(
    `with open(${pyStr(path)}, "wb") as f:\n    f.write(bytes.fromhex("${data.toHex()}"))`,
  );
  if (error) throw new Error(`cannot write ${path} on the emulated device: ${error}`);
}

/** The device's PKI, as `kg ssl` makes it for the device and `-tfkey` installs it. */
export interface DevicePki {
  /** The device's 6-byte unique id, which names the key and certificate files; read from the device if absent. */
  uniqueId?: Uint8Array;
  deviceKeyDer: Uint8Array;
  deviceCertDer: Uint8Array;
  caPem: string;
}

/** Writes the files wss_repl.py reads, named after the device's unique id. */
export async function installDevicePki(device: EmulatedDevice, pki: DevicePki): Promise<void> {
  const uid = pki.uniqueId?.toHex() ?? await deviceUid(device);
  await writeDeviceFile(device, `/SSL_key${uid}.der`, pki.deviceKeyDer);
  await writeDeviceFile(device, `/SSL_certificate${uid}.der`, pki.deviceCertDer);
  await writeDeviceFile(device, "/ROOT_CA_cert.pem", encoder.encode(pki.caPem));
}

async function deviceUid(device: EmulatedDevice): Promise<string> {
  const { output, error } = await device.runPython(
    "import binascii, machine\nprint(binascii.hexlify(machine.unique_id()).decode())",
  );
  if (error) throw new Error(`cannot read the emulated device's unique id: ${error}`);
  return output.trim();
}

/** The DER inside a single-block PEM (certificate or PKCS#8 key). */
export function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END)[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.fromBase64(body);
}

export interface WssDeviceOptions extends EmulatorOptions {
  pki: DevicePki;
}

/**
 * A device set up as the seed guide leaves it: wss_repl.py and wss_helper.py in /lib, the PKI files in /,
 * webrepl_cfg.py with `password`, and a boot.py that starts WebSecureREPL; then reset, so boot.py starts it. Resolves with the
 * host port serving wss once the device's own script listens.
 */
export async function startWssDevice(
  options: WssDeviceOptions,
): Promise<{ device: WssEmulator; port: number }> {
  const device = await startWssEmulator(options);
  try {
    await device.runPython("import os\ntry:\n    os.mkdir('/lib')\nexcept OSError:\n    pass");
    for (const script of DEVICE_SCRIPTS) {
      await writeDeviceFile(device, `${DEVICE_LIB_DIR}/${script.name}`, encoder.encode(script.source));
    }
    await installDevicePki(device, options.pki);
    await writeDeviceFile(device, "/boot.py", encoder.encode("import wss_repl\nwss_repl.start(ssl=True)\n"));
    device.core.reset();
    return { device, port: await device.whenListening() };
  } catch (error) {
    await device.close();
    throw error;
  }
}
