/**
 * The one way commands reach a device: resolve the target, open it (mutual TLS with the host's PKI for wss),
 * run, and always close.
 */
import type { CommandContext } from "../cli/command.ts";
import { type DeviceConnection, openDevice, type OpenDeviceOptions, type TlsCredentials } from "./connect.ts";
import type { DeviceTarget } from "./target.ts";
import type { Io } from "../ui/io.ts";

/**
 * Decrypted host credentials of this run, by config directory and passphrase: a group run over many wss
 * devices asks for the passphrase once and decrypts the key once. Keyed by the run's Io, so they go with it;
 * a failure is not kept, so a mistyped passphrase can be typed again.
 */
const credentialsOfRun = new WeakMap<Io, Map<string, Promise<TlsCredentials>>>();

/** The host's CA, certificate and decrypted key; the PKI is imported only when a wss link needs it. */
function hostTlsCredentials(configDir: string, io: Io, target: DeviceTarget): Promise<TlsCredentials> {
  const cache = credentialsOfRun.get(io) ?? new Map<string, Promise<TlsCredentials>>();
  credentialsOfRun.set(io, cache);
  const key = `${configDir}\0${target.passphrase ?? ""}`;
  let credentials = cache.get(key);
  if (!credentials) {
    credentials = import("../pki/mod.ts").then(({ loadHostTlsCredentials }) =>
      loadHostTlsCredentials(configDir, io, target.passphrase)
    );
    cache.set(key, credentials);
    credentials.catch(() => cache.delete(key));
  }
  return credentials;
}

export async function connectTarget(
  context: Pick<CommandContext, "io" | "configDir">,
  target: DeviceTarget,
  options: Omit<OpenDeviceOptions, "tlsCredentials"> = {},
): Promise<DeviceConnection> {
  return await openDevice(target, {
    ...options,
    tlsCredentials: () => hostTlsCredentials(context.configDir, context.io, target),
  });
}

export async function withDevice<T>(
  context: CommandContext,
  use: (device: DeviceConnection, target: DeviceTarget) => Promise<T>,
  options: Omit<OpenDeviceOptions, "tlsCredentials"> = {},
): Promise<T> {
  const target = await context.resolveDevice();
  const device = await connectTarget(context, target, options);
  try {
    return await use(device, target);
  } finally {
    await device.close();
  }
}
