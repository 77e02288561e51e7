/**
 * The one way commands reach a device: resolve the target, open it (mutual TLS with the host's PKI for wss),
 * run, and always close.
 */
import type { CommandContext } from "../cli/command.ts";
import { type DeviceConnection, openDevice, type OpenDeviceOptions, type TlsCredentials } from "./connect.ts";
import type { DeviceTarget } from "./target.ts";
import type { Io } from "../ui/io.ts";

/** Loaded once per target: a shell reconnecting after a reset must not ask for the passphrase again. */
const loadedCredentials = new WeakMap<DeviceTarget, Promise<TlsCredentials>>();

/** The host's CA, certificate and decrypted key; the PKI is imported only when a wss link needs it. */
function hostTlsCredentials(configDir: string, io: Io, target: DeviceTarget): Promise<TlsCredentials> {
  let credentials = loadedCredentials.get(target);
  if (!credentials) {
    credentials = import("../pki/mod.ts").then(({ loadHostTlsCredentials }) =>
      loadHostTlsCredentials(configDir, io, target.passphrase)
    );
    loadedCredentials.set(target, credentials);
    credentials.catch(() => loadedCredentials.delete(target));
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
