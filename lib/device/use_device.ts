/**
 * The one way commands reach a device: resolve the target, open it (mutual TLS with the host's key and
 * certificates for wss), run, and always close. A kept session (lib/persist) for the device is used when one
 * runs, and started when `--persist[=SECONDS]` or UPYDEV_PERSIST asks for it.
 */
import type { CommandContext } from "../cli/command.ts";
import { type DeviceConnection, openDevice, type OpenDeviceOptions, type TlsCredentials } from "./connect.ts";
import type { DeviceTarget } from "./target.ts";
import type { Io } from "../ui/io.ts";
import { persistSeconds } from "../persist/kept.ts";
import { openKept, startKept } from "../persist/start.ts";

/**
 * Decrypted host credentials of this run, by config directory and passphrase: a group run over many wss
 * devices, or a shell that reconnects, asks for the passphrase once and decrypts the key once. Keyed by the
 * run's environment lookup, so they go with the run, and an Io derived from the run's (a shell action's, a
 * group member's) finds them too; a failure is not kept, so a mistyped passphrase can be typed again.
 */
const credentialsOfRun = new WeakMap<Io["env"], Map<string, Promise<TlsCredentials>>>();

/** The host's CA, certificate and decrypted key, loaded only when a wss link needs them. */
function hostTlsCredentials(configDir: string, io: Io, target: DeviceTarget): Promise<TlsCredentials> {
  const cache = credentialsOfRun.get(io.env) ?? new Map<string, Promise<TlsCredentials>>();
  credentialsOfRun.set(io.env, cache);
  const key = `${configDir}\0${target.passphrase ?? ""}`;
  let credentials = cache.get(key);
  if (!credentials) {
    credentials = import("../hostkey/host_credentials.ts").then(({ loadHostTlsCredentials }) =>
      loadHostTlsCredentials(configDir, io, target.passphrase)
    );
    cache.set(key, credentials);
    credentials.catch(() => cache.delete(key));
  }
  return credentials;
}

export interface ConnectTargetOptions extends Omit<OpenDeviceOptions, "tlsCredentials" | "kept"> {
  /** Idle seconds a new kept session holds the device for later commands; false: connect directly only. */
  persist?: number | false;
}

export async function connectTarget(
  context: Pick<CommandContext, "io" | "configDir">,
  target: DeviceTarget,
  options: ConnectTargetOptions = {},
): Promise<DeviceConnection> {
  const { persist, ...open } = options;
  if (persist !== false) {
    const kept = await openKept(context, target, open);
    if (kept) return kept;
    if (persist !== undefined) {
      await startKept(context, target, persist);
      const started = await openKept(context, target, open);
      if (started) return started;
    }
  }
  return await openDevice(target, {
    ...open,
    tlsCredentials: () => hostTlsCredentials(context.configDir, context.io, target),
  });
}

/**
 * Idle seconds of a kept session for `target`: `--persist[=SECONDS]`, else UPYDEV_PERSIST, else the registry's
 * setting for the device; undefined: none (`--persist=0` turns a registry setting off).
 */
export function requestedPersist(
  context: Pick<CommandContext, "args" | "io">,
  target: DeviceTarget,
): number | undefined {
  const asked = persistSeconds(context.args.options["--persist"], context.io.env);
  return asked === undefined ? target.persist : asked || undefined;
}

export async function withDevice<T>(
  context: CommandContext,
  use: (device: DeviceConnection, target: DeviceTarget) => Promise<T>,
  options: Omit<ConnectTargetOptions, "persist"> = {},
): Promise<T> {
  const target = await context.resolveDevice();
  const device = await connectTarget(context, target, {
    ...options,
    persist: requestedPersist(context, target),
  });
  try {
    return await use(device, target);
  } finally {
    await device.close();
  }
}
