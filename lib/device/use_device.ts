/**
 * The one way commands reach a device: resolve the target, open it (mutual TLS with the host's key and
 * certificates for wss), run, and always close.
 */
import type { CommandContext } from "../cli/command.ts";
import { type DeviceConnection, openDevice, type OpenDeviceOptions, type TlsCredentials } from "./connect.ts";
import type { DeviceTarget } from "./target.ts";
import type { Io } from "../ui/io.ts";

/** The host's CA, certificate and decrypted key, loaded only when a wss link needs them. */
async function hostTlsCredentials(
  configDir: string,
  io: Io,
  target: DeviceTarget,
): Promise<TlsCredentials> {
  const { loadHostTlsCredentials } = await import("../hostkey/host_credentials.ts");
  return await loadHostTlsCredentials(configDir, io, target.passphrase);
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
