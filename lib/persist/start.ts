/**
 * The client side of kept sessions: reuse one if it is running, or start the background process (server.ts)
 * and hand it the passphrase through a pipe, so the decrypted key lives only in that process.
 */
import { basename, fromFileUrl } from "../local/paths.ts";
import { UserError } from "../cli/errors.ts";
import { type DeviceConnection, openDevice, type OpenDeviceOptions } from "../device/connect.ts";
import type { DeviceTarget } from "../device/target.ts";
import { HOST_PASSPHRASE_ENV, hostIdFor, hostKeyName, storeUser } from "../hostkey/names.ts";
import type { Io } from "../ui/io.ts";
import { readPassphrase } from "../ui/passphrase.ts";
import { addressOf, connectKept, DISCONNECT_PATH, keptPaths, targetFingerprint } from "./kept.ts";
import type { KeptRequest } from "./server.ts";

export const KEPT_SERVE_ENV = "UPYDEV_KEPT_SERVE";

interface Context {
  io: Io;
  configDir: string;
}

/** The device through its kept session, or undefined when none serves this target (then connect directly). */
export async function openKept(
  context: Context,
  target: DeviceTarget,
  options: OpenDeviceOptions,
): Promise<DeviceConnection | undefined> {
  const stream = await connectKept(context.configDir, addressOf(target));
  if (!stream) return undefined;
  const path = `/${await targetFingerprint(context.configDir, context.io, target)}`;
  try {
    return await openDevice(target, { ...options, kept: { stream, path } });
  } catch {
    // A kept session for an older target or host key ends itself and releases the device: connect anew.
    return undefined;
  }
}

/** Starts the background process holding `target` for `idleSeconds`; resolves once it serves. */
export async function startKept(context: Context, target: DeviceTarget, idleSeconds: number): Promise<void> {
  const { io, configDir } = context;
  const passphrase = !target.secure ? undefined : target.passphrase ?? io.env(HOST_PASSPHRASE_ENV) ??
    await readPassphrase(io, `Enter passphrase for key '${hostKeyName(hostIdFor(storeUser(io)))}': `);
  const request: KeptRequest = {
    configDir,
    target,
    passphrase,
    user: storeUser(io),
    idleSeconds,
    fingerprint: await targetFingerprint(configDir, io, target),
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: serverArgs(),
    env: { [KEPT_SERVE_ENV]: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  await writer.close();
  // The process keeps running: read its first line only, never to the end of the pipe.
  const reader = child.stdout.getReader();
  let stdout = "";
  while (!stdout.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += new TextDecoder().decode(value);
  }
  await reader.cancel();
  if (stdout !== "ready\n") {
    const stderr = (await new Response(child.stderr).text()).trim();
    await child.status;
    throw new UserError(stderr || `the kept session for ${target.name ?? target.host} did not start`);
  }
  await child.stderr.cancel();
  child.unref();
}

/** Ends the kept session holding the device at `address` (`addressOf`); false when there was none. */
export async function stopKept(configDir: string, address: string): Promise<boolean> {
  const stream = await connectKept(configDir, address);
  if (!stream) return false;
  try {
    await stream.write(new TextEncoder().encode(`GET ${DISCONNECT_PATH} HTTP/1.1\r\n\r\n`));
    while (await stream.read() !== null) {
      // the answer comes once the device is released
    }
  } finally {
    stream.close();
  }
  const { socket } = await keptPaths(configDir, address);
  for (let i = 0; i < 50 && await Deno.lstat(socket).then(() => true, () => false); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/**
 * The same program, as this process runs it: a compiled binary, a bundle (as its launcher runs it), or main.ts
 * under `deno run` with the project's deno.json. Never the caller's own deno.json.
 */
function serverArgs(): string[] {
  if (!/^deno(\.exe)?$/.test(basename(Deno.execPath()))) return [];
  if (!import.meta.url.endsWith("/lib/persist/start.ts")) {
    return ["run", "-A", "--quiet", "--no-config", "--no-lock", import.meta.url];
  }
  const config = new URL("../../deno.json", import.meta.url);
  return [
    "run",
    "-A",
    "--quiet",
    "--frozen",
    "--config",
    fromFileUrl(config),
    new URL("../../main.ts", import.meta.url).href,
  ];
}
