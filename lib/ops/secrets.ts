/**
 * The host side of random WebREPL passwords (`rf_wrkey`), the same algorithm as device/upysecrets.py, whose
 * header is the reference. Over wss the host draws the password itself (`randomPassword`) and sends it inside
 * TLS. Over plain ws nothing secret may cross the link: the host sends a random token and a confirmation tag,
 * and both sides derive the password from a 32-byte secret they shared earlier over wss or USB.
 *
 *   tag      = hex(HMAC-SHA256(secret, "upysecrets confirm v1" + token))[:32]
 *   password = ALPHABET[b % 62] for each byte b < 248 of
 *              HMAC-SHA256(secret, "upysecrets wrkey v1" + token + [1]) + HMAC(… + [2]) + …, 9 characters
 * Only bytes below 248 (4 × 62) are used, so every character is equally likely: no modulo bias.
 */
import { hmac } from "npm:@noble/hashes@2.4.0/hmac.js";
import { sha256 } from "npm:@noble/hashes@2.4.0/sha2.js";
import { UserError } from "../cli/errors.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import type { WebReplSession } from "../webrepl/session.ts";
import { queryDevice } from "./system.ts";
import { scriptExec } from "./upyutils.ts";

export const PASSWORD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** The most the device keeps (`char webrepl_passwd[10]`). */
export const PASSWORD_LENGTH = 9;
export const SECRET_BYTES = 32;
export const TOKEN_BYTES = 16;
/** Bytes at or above this are skipped: 248 = 4 × 62. */
const UNBIASED_LIMIT = 256 - (256 % PASSWORD_ALPHABET.length);

const encoder = new TextEncoder();
const CONFIRM_LABEL = encoder.encode("upysecrets confirm v1");
const WRKEY_LABEL = encoder.encode("upysecrets wrkey v1");

/** Appends the alphabet characters that unbiased bytes of `bytes` select, up to `length`; returns the text. */
function takeUnbiased(text: string, bytes: Uint8Array, length: number): string {
  for (const byte of bytes) {
    if (text.length === length) break;
    if (byte < UNBIASED_LIMIT) text += PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length];
  }
  return text;
}

/** A password from the OS CSPRNG, for a device reached over wss. */
export function randomPassword(length = PASSWORD_LENGTH): string {
  let password = "";
  while (password.length < length) {
    password = takeUnbiased(password, crypto.getRandomValues(new Uint8Array(32)), length);
  }
  return password;
}

/** The password the device derives in `upysecrets.rf_wrkey(token, tag)`. */
export function derivePassword(secret: Uint8Array, token: Uint8Array, length = PASSWORD_LENGTH): string {
  let password = "";
  for (let block = 1; password.length < length; block++) {
    const message = new Uint8Array([...WRKEY_LABEL, ...token, block]);
    password = takeUnbiased(password, hmac(sha256, secret, message), length);
  }
  return password;
}

/** The tag that shows the device the host holds the same secret (32 hex digits). */
export function confirmTag(secret: Uint8Array, token: Uint8Array): string {
  return hmac(sha256, secret, new Uint8Array([...CONFIRM_LABEL, ...token])).toHex().slice(0, 32);
}

export function newSecret(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
}

export function newToken(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
}

/** The device's unique id (hex), which names the host's copy of the shared secret. */
export async function deviceUid(session: WebReplSession): Promise<string> {
  const { uid } = await queryDevice(
    session,
    "rf_wrkey",
    "import machine,binascii\nprint(json.dumps({'uid':binascii.hexlify(machine.unique_id()).decode()}))",
    { uid: "string" },
  );
  if (!/^[0-9a-f]{2,}$/.test(uid)) throw new UserError("the device has no machine.unique_id()");
  return uid;
}

/**
 * Over wss, in one exec: a fresh shared secret and then `password` go to the device inside TLS (upysecrets'
 * set_secret and set_password); returns the device's unique id. The id is read first, so any exception leaves
 * the password as it was.
 */
export async function setPasswordInsideTls(
  session: WebReplSession,
  password: string,
  secret: Uint8Array,
): Promise<string> {
  const text = await session.execText(scriptExec(
    "upysecrets.py",
    "import machine\nu=binascii.hexlify(machine.unique_id()).decode()\n" +
      `set_secret('${secret.toHex()}')\nset_password(${pyStr(password)})\nprint(u)`,
  ));
  const uid = text.trim();
  if (!/^[0-9a-f]{2,}$/.test(uid)) {
    throw new UserError(
      `unexpected answer from the device for rf_wrkey: ${JSON.stringify(uid.slice(0, 60))}`,
    );
  }
  return uid;
}

/** Over plain ws: only `token` and its tag cross the link; the device derives the password from the secret. */
export async function derivePasswordOnDevice(
  session: WebReplSession,
  secret: Uint8Array,
  token: Uint8Array,
): Promise<void> {
  const text = await session.execText(
    scriptExec("upysecrets.py", `rf_wrkey('${token.toHex()}','${confirmTag(secret, token)}')`),
  );
  if (text.trim() !== "WebREPL password changed") {
    throw new UserError(
      `unexpected answer from the device for rf_wrkey: ${JSON.stringify(text.slice(0, 60))}`,
    );
  }
}
