/**
 * `rf_wrkey` (upydev's name): a new random WebREPL password, on the device and in the registry.
 *
 * Over wss the host draws it from the OS CSPRNG and sends it inside TLS, with a fresh shared secret for later
 * changes over ws. Over plain ws nothing secret may cross the link: the host sends a random token, and the
 * device derives the password from the secret shared earlier (lib/ops/secrets.ts, device/upysecrets.py).
 *
 * The registry is updated before the device, so the registry never holds a password the device has not been
 * asked to take; a device exception rolls it back. If the link drops while the device works, the outcome is
 * unknown: logging in with the new password, then with the previous one, tells which holds, and the message says
 * exactly that. Last, the new password is verified by logging in again (after closing the session: the device
 * takes one client at a time). Round trips: over wss one exec; over ws two (the unique id, then the token); then
 * one login.
 */
import { optionFlag } from "../cli/command.ts";
import { UserError } from "../cli/errors.ts";
import { parseAddress } from "../config/address.ts";
import { readDeviceSecret, saveDeviceSecret } from "../config/device_secrets.ts";
import { writeFileAtomic } from "../config/files.ts";
import { type DeviceEntry, Registry, userConfigDir } from "../config/registry.ts";
import { type DeviceTarget, targetPort } from "../device/target.ts";
import { connectTarget } from "../device/use_device.ts";
import {
  derivePassword,
  derivePasswordOnDevice,
  deviceUid,
  newSecret,
  newToken,
  randomPassword,
  setPasswordInsideTls,
} from "../ops/secrets.ts";
import type { Io } from "../ui/io.ts";
import { DeviceExecError } from "../webrepl/session.ts";
import type { DeviceAction } from "./action.ts";

/**
 * Registry entries for the device `target` reaches that still hold `password`: the same host, whatever the
 * port, since a device's ws and wss entries share its one WebREPL password.
 */
function registeredAs(target: DeviceTarget, password: string): (entry: DeviceEntry) => boolean {
  return (entry) => entry.password === password && parseAddress(entry.address).host === target.host;
}

type Login = "accepted" | "refused" | "unreachable";

/** How long a device may take to take a login again: an ESP32 that reset boots and rejoins its WLAN. */
const COME_BACK_MS = 5_000;
const RETRY_PAUSE_MS = 250;

/** Logs in with `password` and out again. */
async function tryLogin(io: Io, target: DeviceTarget, password: string): Promise<Login> {
  const configDir = userConfigDir(io.env);
  const deadline = io.now() + COME_BACK_MS;
  for (;;) {
    try {
      const connection = await connectTarget({ io, configDir }, { ...target, password });
      await connection.close();
      return "accepted";
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      // WebReplSession.login's message for "Access denied".
      if (error.message.startsWith("wrong WebREPL password")) return "refused";
      // Busy (our closed session may not have left the device yet), rebooting or rejoining the WLAN.
      if (io.now() >= deadline) return "unreachable";
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    }
  }
}

/** The device's answers that mean "nothing changed", in the words of this host. */
function refusal(error: DeviceExecError): UserError {
  const rerun = "run 'upydev rf_wrkey' once over wss to set a new one up";
  if (error.message.includes("no shared secret")) {
    return new UserError(`the device has no shared secret (/upysecrets.key): password unchanged; ${rerun}`, {
      cause: error,
    });
  }
  if (error.message.includes("secret differs")) {
    return new UserError(
      `the device's shared secret differs from this host's: password unchanged; ${rerun}`,
      {
        cause: error,
      },
    );
  }
  return new UserError(`the device refused the new password (${error.message}): password unchanged`, {
    cause: error,
  });
}

export const rfWrkey: DeviceAction = {
  name: "rf_wrkey",
  summary: "set a new random WebREPL password (9 characters) on the device and in the registry",
  usage: "rf_wrkey [--show]",
  description:
    "Over wss the password is sent inside TLS, with a fresh secret shared with the device for later\n" +
    "changes over ws. Over plain ws only a random token crosses the link: the device derives the password\n" +
    "from that secret (run rf_wrkey once over wss first). The host's copy is in\n" +
    "CONFIG/upysecrets/UNIQUE_ID.key (0600). The new password is checked by logging in again; over ws that\n" +
    "login sends it, as every WebREPL login does.",
  options: [{ names: ["--show"], kind: "flag", help: "print the new password" }],
  positionals: { min: 0, max: 0 },
  // It ends the session to log in again with the new password; the shell then reconnects with it.
  endsLink: true,
  async run({ args, io, device, out }) {
    const { session, target } = device;
    const configDir = userConfigDir(io.env);
    const registry = new Registry({ cwd: io.cwd(), configDir });
    const address = session.address;
    const show = optionFlag(args, "--show");
    const previous = target.password;
    const secure = device.info.kind === "tls";
    let password: string;
    /** Changes the device's password; over wss returns the device's unique id, for the new shared secret. */
    let change: () => Promise<string | undefined>;
    const freshSecret = secure ? newSecret() : undefined;
    if (freshSecret) {
      password = randomPassword();
      change = () => setPasswordInsideTls(session, password, freshSecret);
    } else {
      const deviceId = await deviceUid(session);
      const shared = await readDeviceSecret(configDir, deviceId);
      if (!shared) {
        throw new UserError(
          `this host shares no secret with the device ${deviceId}, which plain ws needs: ` +
            "run 'upydev rf_wrkey' once over wss to set one up",
        );
      }
      const token = newToken();
      password = derivePassword(shared, token);
      change = async () => {
        await derivePasswordOnDevice(session, shared, token);
        return undefined;
      };
    }
    const files = await registry.replacePassword(registeredAs(target, previous), password);
    if (files.length === 0 && !show) {
      throw new UserError(
        `${address} is not in the registry, so the new password would be kept nowhere: ` +
          "add --show to see it, or register the device first ('upydev config')",
      );
    }
    if (show) out.text(`new password: ${password}\n`);
    const rollBack = () => registry.replacePassword(registeredAs(target, password), previous);
    let uid: string | undefined;
    let dropped = false;
    try {
      uid = await change();
    } catch (error) {
      if (error instanceof DeviceExecError) {
        await rollBack();
        throw refusal(error);
      }
      // The link failed (dropped, or silent too long): the device may or may not have the new password.
      dropped = true;
    }
    // Without the device's reply its secret is unknown; a later change over ws then says to come back to wss.
    const secretFile = uid && freshSecret ? await saveDeviceSecret(configDir, uid, freshSecret) : undefined;
    await session.close();
    // From here the device should take the new password: a reconnection (the shell's) logs in with it.
    device.target = { ...target, password };
    const login = await tryLogin(io, target, password);
    if (login !== "accepted" && dropped) {
      if (login === "refused" && await tryLogin(io, target, previous) === "accepted") {
        await rollBack();
        device.target = target;
        throw new UserError(
          `the link to ${address} dropped before the device changed its WebREPL password: it still has the ` +
            "previous one, which the registry keeps; run rf_wrkey again",
        );
      }
      const saved = `${configDir}/rf_wrkey-previous-${target.host}-${targetPort(target)}`;
      await writeFileAtomic(saved, `${previous}\n`, { mode: 0o600 });
      throw new UserError(
        `the link to ${address} dropped while the device was changing its WebREPL password, and it takes no ` +
          `login now: ${
            files.length > 0 ? "the registry has" : "--show printed"
          } the new password; if the device ` +
          `refuses it once it answers, it kept the previous one, saved in ${saved}: put that back with ` +
          "'upydev config'",
      );
    }
    if (login !== "accepted") {
      throw new UserError(
        `logging in to ${address} with the new password failed (${login}): the device has it in ` +
          "webrepl_cfg.py, so it holds from the device's next reset at the latest, and the registry has it",
      );
    }
    out.text(
      `WebREPL password changed on ${address} (${
        secure ? "sent inside TLS" : "derived on the device: only a token crossed the link"
      })\n` +
        `verified: logged in again with the new password${
          dropped ? " (its reply to the change was lost)" : ""
        }\n` +
        (files.length > 0 ? `registry updated: ${files.join(", ")}\n` : "") +
        (secretFile ? `secret shared for changes over ws: ${secretFile}\n` : ""),
    );
    return {
      address,
      secure,
      verified: true,
      registry: files,
      secretFile,
      password: show ? password : undefined,
    };
  },
};

export const SECRET_ACTIONS: DeviceAction<unknown>[] = [rfWrkey];
