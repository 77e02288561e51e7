/**
 * The one rule for WebREPL passwords, shared by `config` (before saving) and the session (before logging in).
 * The device keeps the password in `char webrepl_passwd[10]`, so the limit is in bytes, not characters:
 * "ééééé" is 5 characters but 10 bytes. Deno decodes a non-UTF-8 argument into U+FFFD, which would silently
 * become a different password, so such text is refused instead of guessed at.
 */
import { UserError } from "../cli/errors.ts";

/** Bytes the device keeps (its buffer of 10 with the terminator). */
export const MAX_PASSWORD_BYTES = 9;

const encoder = new TextEncoder();

export function checkPassword(password: string): void {
  if (!password.isWellFormed() || password.includes("\uFFFD")) {
    throw new UserError("the WebREPL password has bytes that are not valid UTF-8 text", { exitCode: 2 });
  }
  const bytes = encoder.encode(password).length;
  if (bytes === 0 || bytes > MAX_PASSWORD_BYTES) {
    throw new UserError(
      `the WebREPL password must be 1 to ${MAX_PASSWORD_BYTES} bytes in UTF-8 (the device keeps at most ` +
        `${MAX_PASSWORD_BYTES}); this one is ${bytes} bytes`,
      { exitCode: 2 },
    );
  }
}
